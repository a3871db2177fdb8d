import { createRequire } from 'node:module';
import { assertScalarFieldElement } from './field.js';

type PoseidonFn = (inputs: readonly bigint[]) => bigint;

/**
 * poseidon-lite builds its round constants when it is loaded (~60 ms), so it is loaded on the first
 * hash rather than by every process that imports a ZK module (each CLI call does, through the
 * modules' rules). It is a CommonJS package, so it loads synchronously here.
 */
let loaded: { poseidon1: PoseidonFn; poseidon2: PoseidonFn } | undefined;
function poseidonLite(): { poseidon1: PoseidonFn; poseidon2: PoseidonFn } {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    loaded = { poseidon1: (require('poseidon-lite/poseidon1') as { poseidon1: PoseidonFn }).poseidon1, poseidon2: (require('poseidon-lite/poseidon2') as { poseidon2: PoseidonFn }).poseidon2 };
  }
  return loaded;
}

/**
 * Poseidon over the BN254 scalar field with circomlib's parameters (x^5 S-box, 8 full rounds,
 * t = inputs + 1, circomlib's round constants), the hash the circuits use. Implemented by
 * `poseidon-lite` (MIT, no dependencies; matches circomlib and is checked against the compiled
 * circuit in test/zk). poseidon-lite silently reduces inputs modulo r; we refuse them instead so
 * two spellings of one value cannot both be accepted.
 */
export function poseidonHash(inputs: readonly bigint[]): bigint {
  const checked = inputs.map((v, i) => assertScalarFieldElement(v, `poseidon input ${i}`));
  if (checked.length === 1) return poseidonLite().poseidon1(checked);
  if (checked.length === 2) return poseidonLite().poseidon2(checked);
  // The circuits use only arities 1 and 2; widen here if a circuit ever needs more.
  throw new RangeError(`poseidonHash supports 1 or 2 inputs, got ${checked.length}`);
}
