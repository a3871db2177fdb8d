import { sha256, domainBytes } from '../crypto/hash.js';
import { concatBytes, fromHexStrict, toHex } from '../util/bytes.js';
import { MSG_ERRORS } from './errors.js';
import type { MessagingParams } from './params.js';

/**
 * The message envelope: what every node stores and relays. It names no sender and no recipient:
 * a kind (sealed to one key, or a signed broadcast), an expiry with its TTL, the proof-of-work
 * stamp, and the payload bytes. On the wire (P2P and API) it is JSON with hex and base64 fields.
 */
export type MessageKind = 'sealed' | 'broadcast';

export interface Envelope {
  kind: MessageKind;
  /** Unix seconds after which no node keeps or relays the message. */
  expiresAt: number;
  /** Seconds the message lives: created at expiresAt − ttl. The stamp pays for this TTL. */
  ttl: number;
  /** The stamp: an 8-byte nonce. */
  stamp: Uint8Array;
  payload: Uint8Array;
}

export interface WireEnvelope {
  v: 1;
  kind: MessageKind;
  expiresAt: number;
  ttl: number;
  /** 16 hex digits. */
  stamp: string;
  /** Standard base64 with padding. */
  payload: string;
}

export const ENVELOPE_VERSION = 1;
export const STAMP_BYTES = 8;
const WIRE_KEYS = ['expiresAt', 'kind', 'payload', 'stamp', 'ttl', 'v'];
const KIND_BYTE: Record<MessageKind, number> = { sealed: 1, broadcast: 2 };
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const MSG_DOMAIN = {
  content: 'GRIDLEDGER/MSG/V1',
  stamp: 'GRIDLEDGER/MSG-STAMP/V1',
  seal: 'GRIDLEDGER/MSG-SEAL/V1',
  sign: 'GRIDLEDGER/MSG-SIGN/V1',
} as const;

/** Version, kind, expiry and TTL as bytes: bound into the content hash and, for sealed messages, the AEAD. */
export function headerBytes(env: Pick<Envelope, 'kind' | 'expiresAt' | 'ttl'>): Uint8Array {
  const out = new Uint8Array(14);
  const view = new DataView(out.buffer);
  out[0] = ENVELOPE_VERSION;
  out[1] = KIND_BYTE[env.kind];
  view.setBigUint64(2, BigInt(env.expiresAt));
  view.setUint32(10, env.ttl);
  return out;
}

/**
 * The message's hash: SHA-256 over the header and payload, without the stamp. Nodes deduplicate
 * by it (a second stamp on the same content is the same message) and the stamp commits to it.
 */
export function contentDigest(env: Pick<Envelope, 'kind' | 'expiresAt' | 'ttl' | 'payload'>): Uint8Array {
  return sha256(domainBytes(MSG_DOMAIN.content, concatBytes(headerBytes(env), env.payload)));
}

export function messageHash(env: Envelope): string {
  return toHex(contentDigest(env));
}

export function toWire(env: Envelope): WireEnvelope {
  return { v: 1, kind: env.kind, expiresAt: env.expiresAt, ttl: env.ttl, stamp: toHex(env.stamp), payload: Buffer.from(env.payload).toString('base64') };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Parses a wire envelope strictly (exact keys, canonical hex and base64, integer fields in range),
 * so one message has exactly one encoding. Size and time rules are checked by `checkEnvelope`.
 */
export function fromWire(value: unknown, params: Pick<MessagingParams, 'maxPayloadBytes'>): Envelope {
  if (!isPlainObject(value)) throw MSG_ERRORS.MSG_MALFORMED('a message envelope is a JSON object');
  const keys = Object.keys(value).sort();
  if (keys.length !== WIRE_KEYS.length || keys.some((k, i) => k !== WIRE_KEYS[i])) throw MSG_ERRORS.MSG_MALFORMED(`a message envelope has exactly the fields ${WIRE_KEYS.join(', ')}`);
  const { v, kind, expiresAt, ttl, stamp, payload } = value;
  if (v !== ENVELOPE_VERSION) throw MSG_ERRORS.MSG_MALFORMED(`unknown envelope version ${String(v)}`);
  if (kind !== 'sealed' && kind !== 'broadcast') throw MSG_ERRORS.MSG_MALFORMED('kind must be "sealed" or "broadcast"');
  if (!Number.isSafeInteger(expiresAt) || (expiresAt as number) < 0) throw MSG_ERRORS.MSG_MALFORMED('expiresAt must be whole unix seconds');
  if (!Number.isSafeInteger(ttl) || (ttl as number) < 0 || (ttl as number) > 0xffffffff) throw MSG_ERRORS.MSG_MALFORMED('ttl must be whole seconds');
  const stampBytes = typeof stamp === 'string' && stamp === stamp.toLowerCase() ? fromHexStrict(stamp, STAMP_BYTES) : undefined;
  if (!stampBytes) throw MSG_ERRORS.MSG_MALFORMED(`stamp must be ${STAMP_BYTES * 2} lowercase hex digits`);
  if (typeof payload !== 'string' || !BASE64_RE.test(payload)) throw MSG_ERRORS.MSG_MALFORMED('payload must be standard base64');
  // Checked on the encoded length first, so an oversized payload is never decoded.
  if (payload.length > Math.ceil(params.maxPayloadBytes / 3) * 4) throw MSG_ERRORS.MSG_TOO_LARGE(`payload exceeds ${params.maxPayloadBytes} bytes`);
  const bytes = new Uint8Array(Buffer.from(payload, 'base64'));
  if (bytes.length > params.maxPayloadBytes) throw MSG_ERRORS.MSG_TOO_LARGE(`payload of ${bytes.length} bytes exceeds ${params.maxPayloadBytes}`);
  return { kind, expiresAt: expiresAt as number, ttl: ttl as number, stamp: stampBytes, payload: bytes };
}

/** Size on the wire (for rate limits and the store's byte budget). */
export function envelopeBytes(env: Envelope): number {
  return env.payload.length + 64;
}
