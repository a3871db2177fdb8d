import { bn254 } from '@noble/curves/bn254.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../util/bytes.js';
import { E } from './errors.js';

/** BN254 base field modulus p: coordinates of curve points are below it. */
export const BASE_FIELD_MODULUS: bigint = bn254.fields.Fp.ORDER;
/** BN254 scalar field modulus r: circuit signals, public inputs and Poseidon values are below it. */
export const SCALAR_FIELD_MODULUS: bigint = bn254.fields.Fr.ORDER;

// 77 digits is the length of both moduli; the bound check below does the exact comparison.
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,76})$/;

/**
 * Parses a canonical decimal string (no sign, no leading zeros, no whitespace) below `modulus`;
 * undefined otherwise. One value has exactly one accepted spelling, so encodings cannot be malleated.
 */
export function parseCanonicalDecimal(value: unknown, modulus: bigint): bigint | undefined {
  if (typeof value !== 'string' || !CANONICAL_DECIMAL.test(value)) return undefined;
  const n = BigInt(value);
  return n < modulus ? n : undefined;
}

/** True for a bigint in [0, r). */
export function isScalarFieldElement(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value < SCALAR_FIELD_MODULUS;
}

/** Returns the value if it is in [0, r), else throws ZK_FIELD_ELEMENT_INVALID naming `what`. */
export function assertScalarFieldElement(value: unknown, what: string): bigint {
  if (!isScalarFieldElement(value)) throw E.ZK_FIELD_ELEMENT_INVALID(`${what} must be an integer in [0, r)`);
  return value;
}

/**
 * Maps bytes to a scalar field element: SHA-256("domain" || 0x00 || data) with its 3 top bits cleared,
 * i.e. a 253-bit number, always below r (r > 2^253) and so never reduced. Used to bind ledger
 * identifiers (event ids, account addresses) into proofs as public inputs.
 */
export function hashToField(domain: string, data: Uint8Array): bigint {
  const digest = sha256(concatBytes(utf8(domain), new Uint8Array([0]), data));
  let n = 0n;
  for (const byte of digest) n = (n << 8n) | BigInt(byte);
  return n >> 3n;
}
