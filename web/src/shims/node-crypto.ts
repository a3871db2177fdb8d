import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer';

/**
 * `node:crypto` for the browser build (vite.config.ts aliases it here). The shared code the
 * dashboard imports — route definitions, transaction sign bytes and hashes, addresses — needs only
 * SHA-256/512 hashing; the node keeps node:crypto. Randomness is not here: shared code that needs it
 * (messaging keys, nonces and stamps) takes it from @noble/hashes' randomBytes (getRandomValues). Signing in the page uses @noble/curves directly
 * (deterministic Ed25519, so signatures equal the CLI's). The statement verifier checks commit
 * signatures: `createPublicKey` (SPKI DER, as src/crypto/ed25519.ts builds it) and `verify` run on
 * @noble/curves with strict RFC 8032 encodings (zip215 off); src/crypto/ed25519.ts has already
 * refused non-canonical and small-order R, S and keys before it calls verify. Anything else fails loudly.
 */

interface Hash {
  create(): { update(data: Uint8Array): unknown; digest(): Uint8Array };
}
const HASHES: Record<string, Hash> = { sha256, sha512 };

export function createHash(algorithm: string) {
  const fn = HASHES[algorithm.toLowerCase()];
  if (!fn) throw new Error(`hash ${algorithm} is not available in the browser build`);
  const h = fn.create();
  const api = {
    update(data: Uint8Array | string) {
      h.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return api;
    },
    digest(encoding?: 'hex' | 'binary') {
      const out = Buffer.from(h.digest());
      return encoding === undefined ? out : out.toString(encoding);
    },
  };
  return api;
}

/**
 * Node's one-shot `crypto.hash` (the messaging stamp's loop, src/messaging/stamp.ts, mints and checks with it;
 * src/crypto/hash.ts takes digests as 'binary' strings, one char per byte).
 */
export function hash(algorithm: string, data: Uint8Array | string, outputEncoding: 'hex' | 'binary' | 'buffer' = 'hex') {
  return createHash(algorithm).update(data).digest(outputEncoding === 'buffer' ? undefined : outputEncoding);
}

function unavailable(name: string): never {
  throw new Error(`node:crypto ${name} is not available in the browser build`);
}

export const createPrivateKey = () => unavailable('createPrivateKey');
/** The 12-byte SPKI DER prefix of an Ed25519 public key (RFC 8410). */
const SPKI_PREFIX_HEX = '302a300506032b6570032100';

interface BrowserPublicKey {
  ed25519: Uint8Array;
}

export function createPublicKey(input: { key: Uint8Array; format: string; type: string }): BrowserPublicKey {
  const der = Buffer.from(input.key);
  if (input.format !== 'der' || input.type !== 'spki' || der.length !== 44 || der.subarray(0, 12).toString('hex') !== SPKI_PREFIX_HEX) return unavailable('createPublicKey (only Ed25519 SPKI DER)');
  return { ed25519: new Uint8Array(der.subarray(12)) };
}
export const generateKeyPairSync = () => unavailable('generateKeyPairSync');
export const sign = () => unavailable('sign');
export function verify(algorithm: null, message: Uint8Array, key: BrowserPublicKey, signature: Uint8Array): boolean {
  if (algorithm !== null || !key?.ed25519) return unavailable('verify (only Ed25519)');
  return ed25519.verify(signature, message, key.ed25519, { zip215: false });
}
export const createHmac = () => unavailable('createHmac');
export const randomBytes = () => unavailable('randomBytes');
export const timingSafeEqual = () => unavailable('timingSafeEqual');
export type KeyObject = never;
export default { createHash, hash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, createHmac, randomBytes, timingSafeEqual };
