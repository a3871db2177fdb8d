import { bech32m } from '@scure/base';
import { sha256 } from './hash.js';

export const ADDRESS_PREFIX = 'grid';

/** Address = bech32m("grid", first 20 bytes of SHA-256(public key)). */
export function addressFromPublicKey(publicKey: Uint8Array): string {
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(sha256(publicKey).subarray(0, 20)));
}

/**
 * Addresses recently found well formed. The same addresses are checked again and again — a sender in
 * each of its transactions, at admission and again in its block — and a bech32m decode with its
 * checksum costs ~5 µs. Bounded (emptied when full); it only ever answers what the decode would.
 */
const knownAddresses = new Set<string>();
export const KNOWN_ADDRESSES_MAX = 16_384;

/** True for a well-formed lowercase GridLedger address (checksum, prefix, 20-byte payload). */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (knownAddresses.has(value)) return true;
  if (!decodesAsAddress(value)) return false;
  if (knownAddresses.size >= KNOWN_ADDRESSES_MAX) knownAddresses.clear();
  knownAddresses.add(value);
  return true;
}

/** How many addresses the cache holds (for tests of its bound). */
export function knownAddressCount(): number {
  return knownAddresses.size;
}

function decodesAsAddress(value: string): boolean {
  if (value !== value.toLowerCase()) return false;
  try {
    const decoded = bech32m.decode(value as `${string}1${string}`);
    return decoded.prefix === ADDRESS_PREFIX && bech32m.fromWords(decoded.words).length === 20;
  } catch {
    return false;
  }
}
