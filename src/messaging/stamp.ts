import { randomBytes } from '@noble/hashes/utils.js';
import { hash as nodeHash } from 'node:crypto';
import { concatBytes, utf8 } from '../util/bytes.js';
import { contentDigest, MSG_DOMAIN, STAMP_BYTES, type Envelope } from './envelope.js';
import { MSG_ERRORS } from './errors.js';
import { stampTarget, stampWork, type MessagingParams } from './params.js';

/**
 * Hashcash stamps. stampHash = SHA-256(utf8("GRIDLEDGER/MSG-STAMP/V1") || 0x00 || nonce(8) ||
 * contentDigest); the stamp is valid when the first 8 bytes of stampHash, big-endian, are at most
 * floor((2^64 − 1) / W(size, ttl)) (params.ts), i.e. W trials are expected. The digest commits to
 * the header and payload, so a stamp made for one message is worthless for any other.
 *
 * Written here rather than taken from a library: the hashcash packages on npm use their own string
 * formats and leading-zero-bit targets, which double the work per step; we need a target that
 * grows smoothly with size and TTL. The loop is a few lines over node:crypto's one-shot SHA-256
 * (in the dashboard's build, web/src/shims/node-crypto.ts answers it with @noble/hashes, so the page
 * mints stamps with this same code; the start nonce comes from getRandomValues in both).
 */

const PREFIX = concatBytes(utf8(MSG_DOMAIN.stamp), new Uint8Array([0]));

/** The bytes hashed for a stamp: domain prefix, nonce slot, content digest. */
function stampInput(digest: Uint8Array): Buffer {
  const buf = Buffer.alloc(PREFIX.length + STAMP_BYTES + digest.length);
  buf.set(PREFIX, 0);
  buf.set(digest, PREFIX.length + STAMP_BYTES);
  return buf;
}

function meetsTarget(input: Buffer, targetHi: number, targetLo: number): boolean {
  const h = nodeHash('sha256', input, 'buffer');
  const hi = h.readUInt32BE(0);
  return hi < targetHi || (hi === targetHi && h.readUInt32BE(4) <= targetLo);
}

function splitTarget(target: bigint): [number, number] {
  return [Number(target >> 32n), Number(target & 0xffffffffn)];
}

export function stampTargetFor(env: Pick<Envelope, 'payload' | 'ttl'>, params: Pick<MessagingParams, 'referenceTrials'>): bigint {
  return stampTarget(stampWork(env.payload.length, env.ttl, params));
}

export function stampValid(env: Envelope, params: Pick<MessagingParams, 'referenceTrials'>): boolean {
  const input = stampInput(contentDigest(env));
  input.set(env.stamp, PREFIX.length);
  const [hi, lo] = splitTarget(stampTargetFor(env, params));
  return meetsTarget(input, hi, lo);
}

export interface MintResult {
  stamp: Uint8Array;
  trials: number;
}

/**
 * Searches a stamp for the message (its stamp field is ignored): counts up from a random 8-byte
 * nonce until the hash meets the target. Synchronous, one core; `maxTrials` bounds the search.
 */
export function mintStamp(env: Omit<Envelope, 'stamp'>, params: Pick<MessagingParams, 'referenceTrials'>, options: { maxTrials?: number } = {}): MintResult {
  const input = stampInput(contentDigest(env));
  const [hi, lo] = splitTarget(stampTargetFor(env, params));
  const at = PREFIX.length;
  input.set(randomBytes(STAMP_BYTES), at);
  // The nonce is a 64-bit big-endian counter kept as two 32-bit halves (fast to write in the loop).
  let high = input.readUInt32BE(at);
  let low = input.readUInt32BE(at + 4);
  const maxTrials = options.maxTrials ?? Number.MAX_SAFE_INTEGER;
  for (let trials = 1; trials <= maxTrials; trials++) {
    if (meetsTarget(input, hi, lo)) return { stamp: new Uint8Array(input.subarray(at, at + STAMP_BYTES)), trials };
    low = (low + 1) >>> 0;
    if (low === 0) input.writeUInt32BE((high = (high + 1) >>> 0), at);
    input.writeUInt32BE(low, at + 4);
  }
  throw MSG_ERRORS.MSG_STAMP_GAVE_UP(`no stamp within ${maxTrials} trials`);
}
