import { defineErrors } from '../util/errors.js';

/** Error codes of the zero-knowledge toolchain (circuits, prover, Groth16 verifier, Poseidon tree). */
export const E = defineErrors('zk', {
  ZK_PROOF_MALFORMED: { meaning: 'the proof is not a canonical BN254 Groth16 proof: shape, decimal strings below p, points on the curve, in the prime-order subgroup and not the identity' },
  ZK_PUBLIC_INPUTS_MALFORMED: { meaning: 'public inputs are not canonical decimal strings below the scalar field modulus, or not as many as the verifying key expects' },
  ZK_VERIFYING_KEY_INVALID: { meaning: 'the verifying key is not a canonical BN254 Groth16 key (shape, canonical coordinates, valid non-identity points)' },
  ZK_FIELD_ELEMENT_INVALID: { meaning: 'a value is not a canonical element of the BN254 scalar field (integer in [0, r))' },
  ZK_WITNESS_FAILED: { meaning: 'the inputs do not satisfy the circuit (e.g. a value outside its range), so no proof can be made' },
  ZK_PROVE_FAILED: { status: 500, meaning: 'the prover failed for a reason other than unsatisfied inputs' },
  ZK_ARTIFACT_MISMATCH: { status: 500, meaning: 'a circuit artifact (wasm, zkey, vkey) does not match the SHA-256 recorded in zk/artifacts/SHA256SUMS' },
  ZK_TREE_FULL: { meaning: 'the Poseidon Merkle tree has no free leaf left' },
  ZK_TREE_INDEX_INVALID: { meaning: 'a leaf index outside the Poseidon Merkle tree' },
});
