import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
// Not node:crypto's: this module also runs in the dashboard (trial decryption in the browser), and
// @noble/hashes draws from globalThis.crypto.getRandomValues, which Node 20 and browsers both have.
import { randomBytes } from '@noble/hashes/utils.js';
import { bech32m } from '@scure/base';
import { addressFromPublicKey } from '../crypto/address.js';
import { domainBytes } from '../crypto/hash.js';
import { verifySignature, type Signer } from '../crypto/ed25519.js';
import { concatBytes, fromHexStrict, toHex, utf8 } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';
import { headerBytes, messageHash, MSG_DOMAIN, type Envelope, type MessageKind } from './envelope.js';
import { MSG_ERRORS } from './errors.js';
import type { MessagingParams } from './params.js';
import { mintStamp } from './stamp.js';

/**
 * End-to-end encryption of messages. A sealed message is encrypted to the recipient's X25519
 * messaging key with a fresh ephemeral key (ephemeral-static ECDH), the key derived by HKDF-SHA256
 * and the content encrypted with XChaCha20-Poly1305 (random 24-byte nonce; the envelope header is
 * the associated data, so the expiry cannot be changed). The payload is
 *
 *   ephemeral public key (32) || nonce (24) || ciphertext with tag
 *
 * — nothing in it names the recipient; only the holder of the matching secret key can open it, so
 * clients try every message with their keys (trial decryption). The plaintext is padded to a
 * power of two of at least 512 bytes, so sizes say little about content, and a signed message
 * with a reply key cannot be told from an anonymous one by its length.
 *
 * A broadcast is readable by all and signed with the sender's Ed25519 account key; its payload is
 * the canonical JSON of the content. A sealed message may carry the same signature inside the
 * ciphertext (bound to the recipient's key), or none at all (anonymous sender).
 */

export const MSG_ADDRESS_PREFIX = 'gridmsg';
const KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
/** Smallest padded plaintext: a signed message with a reply key and a short text fits, so it looks like an anonymous one. */
const PAD_MIN = 512;
const NO_RECIPIENT = new Uint8Array(KEY_BYTES);

export interface MessagingKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateMessagingKey(): MessagingKeyPair {
  const secretKey = randomBytes(KEY_BYTES);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function messagingKeyFromSecret(secretKey: Uint8Array): MessagingKeyPair {
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** "gridmsg1…": bech32m of the X25519 public key (typos are caught by the checksum). */
export function messagingAddress(publicKey: Uint8Array): string {
  return bech32m.encode(MSG_ADDRESS_PREFIX, bech32m.toWords(publicKey));
}

export function parseMessagingAddress(address: string): Uint8Array {
  try {
    const decoded = bech32m.decode(address as `${string}1${string}`);
    const key = bech32m.fromWords(decoded.words);
    if (decoded.prefix === MSG_ADDRESS_PREFIX && key.length === KEY_BYTES && address === address.toLowerCase()) return key;
  } catch {
    /* reported below */
  }
  throw MSG_ERRORS.MSG_ADDRESS_INVALID(`${JSON.stringify(address)} is not a gridmsg1… messaging address`);
}

/** What a message says once opened. */
export interface MessageContent {
  text: string;
  /** A messaging address to answer to (e.g. a per-trade key). */
  replyTo?: string;
}

interface SignedContent extends MessageContent {
  from?: { publicKey: string; signature: string };
}

export interface OpenedMessage extends MessageContent {
  hash: string;
  kind: MessageKind;
  expiresAt: number;
  /** The sender's account address, when the content is signed (always for broadcasts). */
  from?: string;
}

type Header = Pick<Envelope, 'kind' | 'expiresAt' | 'ttl'>;

function contentOnly(c: MessageContent): MessageContent {
  return c.replyTo === undefined ? { text: c.text } : { text: c.text, replyTo: c.replyTo };
}

/** What a sender signs: the recipient key (zeros for a broadcast), the header, the content. */
function signBytes(recipient: Uint8Array, header: Header, content: MessageContent): Uint8Array {
  return domainBytes(MSG_DOMAIN.sign, concatBytes(recipient, headerBytes(header), canonicalBytes(contentOnly(content))));
}

function signContent(content: MessageContent, signer: Signer | undefined, recipient: Uint8Array, header: Header): SignedContent {
  const plain = contentOnly(content);
  if (!signer) return plain;
  return { ...plain, from: { publicKey: toHex(signer.publicKey), signature: toHex(signer.sign(signBytes(recipient, header, plain))) } };
}

/** The signer's address if the signature is valid; throws MSG_BAD_SIGNATURE otherwise. */
function checkSignature(content: SignedContent, recipient: Uint8Array, header: Header): string | undefined {
  if (content.from === undefined) return undefined;
  const publicKey = fromHexStrict(content.from.publicKey, 32);
  const signature = fromHexStrict(content.from.signature, 64);
  if (!publicKey || !signature || !verifySignature(publicKey, signBytes(recipient, header, content), signature)) throw MSG_ERRORS.MSG_BAD_SIGNATURE('the sender signature does not verify');
  return addressFromPublicKey(publicKey);
}

function parseContent(bytes: Uint8Array): SignedContent {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw MSG_ERRORS.MSG_MALFORMED('message content is not JSON');
  }
  const v = value as Record<string, unknown>;
  const fromOk = v?.from === undefined || (typeof v.from === 'object' && v.from !== null && typeof (v.from as Record<string, unknown>).publicKey === 'string' && typeof (v.from as Record<string, unknown>).signature === 'string');
  if (typeof v !== 'object' || v === null || typeof v.text !== 'string' || (v.replyTo !== undefined && typeof v.replyTo !== 'string') || !fromOk) throw MSG_ERRORS.MSG_MALFORMED('message content must be {text, replyTo?, from?}');
  return v as unknown as SignedContent;
}

/** Length prefix, content, zeros up to the next power of two (at least PAD_MIN). */
function pad(content: Uint8Array): Uint8Array {
  let total = PAD_MIN;
  while (total < content.length + 4) total *= 2;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, content.length);
  out.set(content, 4);
  return out;
}

function unpad(padded: Uint8Array): Uint8Array {
  const length = padded.length >= 4 ? new DataView(padded.buffer, padded.byteOffset).getUint32(0) : -1;
  if (length < 0 || length > padded.length - 4) throw MSG_ERRORS.MSG_MALFORMED('bad padding');
  return padded.subarray(4, 4 + length);
}

function sealKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  return hkdf(nobleSha256, shared, concatBytes(ephemeral, recipient), utf8(MSG_DOMAIN.seal), KEY_BYTES);
}

export interface ComposeOptions {
  content: MessageContent;
  ttl: number;
  /** Unix seconds (the client's clock). */
  now: number;
  /** Sign the content with this account key (always for broadcasts; optional for sealed messages). */
  signer?: Signer;
}

/** Encrypts content to a recipient's messaging public key; the stamp is still to be minted. */
export function composeSealed(recipient: Uint8Array, o: ComposeOptions): Omit<Envelope, 'stamp'> {
  const header: Header = { kind: 'sealed', expiresAt: o.now + o.ttl, ttl: o.ttl };
  const plaintext = pad(canonicalBytes(signContent(o.content, o.signer, recipient, header)));
  const ephemeral = generateMessagingKey();
  const key = sealKey(x25519.getSharedSecret(ephemeral.secretKey, recipient), ephemeral.publicKey, recipient);
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = xchacha20poly1305(key, nonce, headerBytes(header)).encrypt(plaintext);
  return { ...header, payload: concatBytes(ephemeral.publicKey, nonce, ciphertext) };
}

/** A broadcast: signed content in clear. */
export function composeBroadcast(o: ComposeOptions & { signer: Signer }): Omit<Envelope, 'stamp'> {
  const header: Header = { kind: 'broadcast', expiresAt: o.now + o.ttl, ttl: o.ttl };
  return { ...header, payload: canonicalBytes(signContent(o.content, o.signer, NO_RECIPIENT, header)) };
}

/** Composes and stamps in one step (the stamp costs about W(size, ttl) hashes: see params.ts). */
export function stamped(unstamped: Omit<Envelope, 'stamp'>, params: Pick<MessagingParams, 'referenceTrials'>): Envelope {
  return { ...unstamped, stamp: mintStamp(unstamped, params).stamp };
}

/**
 * Trial decryption: the opened message if `secretKey` is its recipient, else null (wrong key and
 * damaged ciphertext look the same: the AEAD tag fails). A bad inner signature throws.
 */
export function openSealed(env: Envelope, secretKey: Uint8Array): OpenedMessage | null {
  if (env.kind !== 'sealed' || env.payload.length < KEY_BYTES + NONCE_BYTES + TAG_BYTES) return null;
  const ephemeral = env.payload.subarray(0, KEY_BYTES);
  const nonce = env.payload.subarray(KEY_BYTES, KEY_BYTES + NONCE_BYTES);
  const recipient = x25519.getPublicKey(secretKey);
  let plaintext: Uint8Array;
  try {
    const key = sealKey(x25519.getSharedSecret(secretKey, ephemeral), ephemeral, recipient);
    plaintext = xchacha20poly1305(key, nonce, headerBytes(env)).decrypt(env.payload.subarray(KEY_BYTES + NONCE_BYTES));
  } catch {
    return null;
  }
  const content = parseContent(unpad(plaintext));
  const from = checkSignature(content, recipient, env);
  return opened(env, content, from);
}

/** Opens a broadcast, checking its signature (throws MSG_BAD_SIGNATURE or MSG_MALFORMED). */
export function openBroadcast(env: Envelope): OpenedMessage {
  if (env.kind !== 'broadcast') throw MSG_ERRORS.MSG_MALFORMED('not a broadcast');
  const content = parseContent(env.payload);
  if (content.from === undefined) throw MSG_ERRORS.MSG_BAD_SIGNATURE('a broadcast must be signed by its sender');
  return opened(env, content, checkSignature(content, NO_RECIPIENT, env));
}

function opened(env: Envelope, content: SignedContent, from: string | undefined): OpenedMessage {
  const out: OpenedMessage = { hash: messageHash(env), kind: env.kind, expiresAt: env.expiresAt, text: content.text };
  if (content.replyTo !== undefined) out.replyTo = content.replyTo;
  if (from !== undefined) out.from = from;
  return out;
}

/** Every message of `envelopes` that one of `secretKeys` opens, and every valid broadcast. */
export function trialDecrypt(envelopes: readonly Envelope[], secretKeys: readonly Uint8Array[]): OpenedMessage[] {
  const out: OpenedMessage[] = [];
  for (const env of envelopes) {
    if (env.kind === 'broadcast') {
      try {
        out.push(openBroadcast(env));
      } catch {
        /* nodes drop bad broadcasts; a damaged one is skipped */
      }
      continue;
    }
    for (const key of secretKeys) {
      const m = safeOpen(env, key);
      if (m) {
        out.push(m);
        break;
      }
    }
  }
  return out;
}

function safeOpen(env: Envelope, key: Uint8Array): OpenedMessage | null {
  try {
    return openSealed(env, key);
  } catch {
    return null;
  }
}
