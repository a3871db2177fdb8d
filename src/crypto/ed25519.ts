import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { LRUCache } from 'lru-cache';

/**
 * The one Ed25519 signature-validity rule of GridLedger (DESIGN.md §2). Every node applies exactly
 * this, so two nodes can never disagree on whether a signature is valid:
 *  1. public key: 32 bytes, canonical encoding (y < p, no "negative zero" x), a point on the curve,
 *     not of small order (checked once per key with @noble/curves, then the KeyObject is cached);
 *  2. signature: 64 bytes; R canonical (y < p) and not one of the small-order points; S < L;
 *  3. the cofactorless equation [S]B = R + [k]A as OpenSSL (node:crypto) checks it.
 * Rules 1–2 are explicit byte checks so they do not depend on the OpenSSL version.
 */

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** Canonical encodings of the 8 points of small order (the torsion subgroup). */
const SMALL_ORDER_HEX = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
];
const SMALL_ORDER = new Set(SMALL_ORDER_HEX);
export const SMALL_ORDER_POINTS: readonly string[] = SMALL_ORDER_HEX;

function leToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** y < p and not (x = 0 with the sign bit set), i.e. the encoding a correct encoder produces. */
export function isCanonicalPointEncoding(enc: Uint8Array): boolean {
  if (enc.length !== 32) return false;
  const sign = enc[31]! >> 7;
  const yBytes = Uint8Array.from(enc);
  yBytes[31] = yBytes[31]! & 0x7f;
  const y = leToBigint(yBytes);
  if (y >= P) return false;
  // x = 0 exactly for y = 1 and y = p - 1; there the sign bit must be 0.
  if (sign === 1 && (y === 1n || y === P - 1n)) return false;
  return true;
}

export function isSmallOrderEncoding(enc: Uint8Array): boolean {
  return SMALL_ORDER.has(Buffer.from(enc).toString('hex'));
}

export function isCanonicalScalar(s: Uint8Array): boolean {
  return s.length === 32 && leToBigint(s) < L;
}

export type PublicKeyCheck = { ok: true } | { ok: false; reason: 'length' | 'non-canonical' | 'not-on-curve' | 'small-order' };

export function checkPublicKey(pk: Uint8Array): PublicKeyCheck {
  if (pk.length !== 32) return { ok: false, reason: 'length' };
  if (!isCanonicalPointEncoding(pk)) return { ok: false, reason: 'non-canonical' };
  let point;
  try {
    point = ed25519.Point.fromHex(Buffer.from(pk).toString('hex'));
  } catch {
    return { ok: false, reason: 'not-on-curve' };
  }
  if (point.isSmallOrder() || isSmallOrderEncoding(pk)) return { ok: false, reason: 'small-order' };
  return { ok: true };
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A key that failed the validity rule (lru-cache stores no null). */
const INVALID_KEY = Symbol('invalid key');

/**
 * Cache of checked public keys → KeyObject (or INVALID_KEY); importing a key costs as much as a
 * verify. Least recently used keys go first, at most KEY_CACHE_LIMIT: a KeyObject holds native
 * (OpenSSL) memory besides its heap handle, and the former 100,000-entry Map, cleared only when
 * full, let random keys (fuzzing, or a peer relaying garbage) pin that much (issue 9). 10,000 covers
 * the active senders of a large community between blocks.
 */
export const KEY_CACHE_LIMIT = 10_000;
const keyCache = new LRUCache<string, KeyObject | typeof INVALID_KEY>({ maxSize: KEY_CACHE_LIMIT, sizeCalculation: () => 1 });

/** Public keys in the cache (for /metrics and the bound's test). */
export function cachedPublicKeys(): number {
  return keyCache.size;
}

function publicKeyObject(pk: Uint8Array): KeyObject | null {
  const id = Buffer.from(pk).toString('hex');
  const cached = keyCache.get(id);
  if (cached !== undefined) return cached === INVALID_KEY ? null : cached;
  const key = checkPublicKey(pk).ok ? createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pk]), format: 'der', type: 'spki' }) : null;
  keyCache.set(id, key ?? INVALID_KEY);
  return key;
}

/** Applies the full validity rule. Never throws on malformed input: it answers false. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32, 64);
  if (!isCanonicalPointEncoding(r) || isSmallOrderEncoding(r) || !isCanonicalScalar(s)) return false;
  const key = publicKeyObject(publicKey);
  if (!key) return false;
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

export interface KeyPair {
  /** 32-byte seed (RFC 8032 private key). */
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const secret = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return { secretKey: new Uint8Array(secret), publicKey: new Uint8Array(pub) };
}

export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  return { secretKey: Uint8Array.from(seed), publicKey: publicKeyOf(privateKeyOf(seed)) };
}

/** The private key object of a 32-byte seed (parsing it derives the public key: ~0.3 ms, so done once per key). */
function privateKeyOf(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed has 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyOf(priv: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
}

/** A signer keeps its private KeyObject so repeated signing does not re-import the key. */
export class Signer {
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;
  constructor(secretKey: Uint8Array) {
    this.#key = privateKeyOf(secretKey);
    this.publicKey = publicKeyOf(this.#key);
  }
  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, this.#key));
  }
}
