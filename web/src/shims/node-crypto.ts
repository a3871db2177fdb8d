import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer';

/**
 * `node:crypto` for the browser build (vite.config.ts aliases it here). The shared code the
 * dashboard imports — route definitions, transaction sign bytes and hashes, addresses — needs only
 * SHA-256/512 hashing; the node keeps node:crypto. Signing in the page uses @noble/curves directly
 * (deterministic Ed25519, so signatures equal the CLI's). Anything else fails loudly.
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
    digest(encoding?: 'hex') {
      const out = Buffer.from(h.digest());
      return encoding === 'hex' ? out.toString('hex') : out;
    },
  };
  return api;
}

function unavailable(name: string): never {
  throw new Error(`node:crypto ${name} is not available in the browser build`);
}

export const createPrivateKey = () => unavailable('createPrivateKey');
export const createPublicKey = () => unavailable('createPublicKey');
export const generateKeyPairSync = () => unavailable('generateKeyPairSync');
export const sign = () => unavailable('sign');
export const verify = () => unavailable('verify');
export const createHmac = () => unavailable('createHmac');
export const randomBytes = () => unavailable('randomBytes');
export const timingSafeEqual = () => unavailable('timingSafeEqual');
export type KeyObject = never;
export default { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, createHmac, randomBytes, timingSafeEqual };
