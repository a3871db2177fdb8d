import { sha256 } from '../crypto/hash.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import type { LedgerError } from '../util/errors.js';

/**
 * Byte helpers for Bitcoin data. Bitcoin shows hashes (txid, block hash, Merkle root) byte-reversed
 * ("display order", as in RPC answers and explorers) while hashing them in "internal order". This
 * library takes and returns display-order hex everywhere and converts at the edges, so a value read
 * from bitcoind or Esplora can be passed on unchanged.
 */

/** SHA-256 applied twice: Bitcoin's txid, block hash and Merkle node hash. */
export function sha256d(...parts: Uint8Array[]): Uint8Array {
  return sha256(sha256(...parts));
}

export function reversed(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes).reverse();
}

/** Internal-order hash bytes → display-order hex. */
export function toDisplayHex(internal: Uint8Array): string {
  return toHex(reversed(internal));
}

/** Display-order hex (64 lowercase hex digits) → internal-order bytes; `fail` builds the caller's typed error. */
export function fromDisplayHex(hex: string, fail: (message: string) => LedgerError, what: string): Uint8Array {
  return reversed(hash32(hex, fail, what));
}

/** 32 bytes from 64 lowercase hex digits, or the caller's typed error. */
export function hash32(hex: string, fail: (message: string) => LedgerError, what: string): Uint8Array {
  const bytes = fromHexStrict(hex, 32);
  if (!bytes) throw fail(`${what} must be 32 bytes as 64 lowercase hex digits, got ${JSON.stringify(String(hex).slice(0, 80))}`);
  return bytes;
}

export function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
