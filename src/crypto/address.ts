import { bech32m } from '@scure/base';
import { sha256 } from './hash.js';

export const ADDRESS_PREFIX = 'grid';

/** Address = bech32m("grid", first 20 bytes of SHA-256(public key)). */
export function addressFromPublicKey(publicKey: Uint8Array): string {
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(sha256(publicKey).subarray(0, 20)));
}

/** True for a well-formed lowercase GridLedger address (checksum, prefix, 20-byte payload). */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value !== value.toLowerCase()) return false;
  try {
    const decoded = bech32m.decode(value as `${string}1${string}`);
    return decoded.prefix === ADDRESS_PREFIX && bech32m.fromWords(decoded.words).length === 20;
  } catch {
    return false;
  }
}
