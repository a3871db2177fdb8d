import { poseidon1 } from 'poseidon-lite/poseidon1';
import { poseidon2 } from 'poseidon-lite/poseidon2';
import { assertScalarFieldElement } from './field.js';

/**
 * Poseidon over the BN254 scalar field with circomlib's parameters (x^5 S-box, 8 full rounds,
 * t = inputs + 1, circomlib's round constants), the hash the circuits use. Implemented by
 * `poseidon-lite` (MIT, no dependencies; matches circomlib and is checked against the compiled
 * circuit in test/zk). poseidon-lite silently reduces inputs modulo r; we refuse them instead so
 * two spellings of one value cannot both be accepted.
 */
export function poseidonHash(inputs: readonly bigint[]): bigint {
  const checked = inputs.map((v, i) => assertScalarFieldElement(v, `poseidon input ${i}`));
  if (checked.length === 1) return poseidon1(checked);
  if (checked.length === 2) return poseidon2(checked);
  // The circuits use only arities 1 and 2; widen here if a circuit ever needs more.
  throw new RangeError(`poseidonHash supports 1 or 2 inputs, got ${checked.length}`);
}
