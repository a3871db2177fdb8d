import * as snarkjs from 'snarkjs';
import { loadSnarkjsVerifyingKey, loadVerifyingKey, type CircuitName } from '../../src/zk/artifacts.js';
import { proofToSnarkjs, type Groth16Proof } from '../../src/zk/encoding.js';
import { LedgerError } from '../../src/util/errors.js';
import { prepareVerifyingKey, verifyGroth16, type PreparedVerifyingKey } from '../../src/zk/verify.js';

const prepared = new Map<CircuitName, PreparedVerifyingKey>();

export function preparedKey(circuit: CircuitName): PreparedVerifyingKey {
  let vk = prepared.get(circuit);
  if (!vk) {
    vk = prepareVerifyingKey(loadVerifyingKey(circuit));
    prepared.set(circuit, vk);
  }
  return vk;
}

/** The noble verifier's verdict: 'valid', 'invalid' (false) or the error code it throws. */
export function nobleVerdict(circuit: CircuitName, proof: unknown, publicInputs: unknown): string {
  try {
    return verifyGroth16(preparedKey(circuit), proof, publicInputs) ? 'valid' : 'invalid';
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
}

/** snarkjs.groth16.verify as the reference; a throw counts as a rejection. */
export async function snarkjsAccepts(circuit: CircuitName, proof: Groth16Proof, publicInputs: unknown): Promise<boolean> {
  try {
    return await snarkjs.groth16.verify(loadSnarkjsVerifyingKey(circuit), publicInputs, proofToSnarkjs(proof));
  } catch {
    return false;
  }
}

/** Both verifiers on one case: [noble verdict, snarkjs accepts]. */
export async function bothVerdicts(circuit: CircuitName, proof: Groth16Proof, publicInputs: string[]): Promise<[string, boolean]> {
  return [nobleVerdict(circuit, proof, publicInputs), await snarkjsAccepts(circuit, proof, publicInputs)];
}

/** A deep copy of a proof with one coordinate replaced. */
export function withCoordinate(proof: Groth16Proof, path: readonly number[], value: string): Groth16Proof {
  const copy = JSON.parse(JSON.stringify(proof)) as Groth16Proof;
  const [field, ...rest] = path as [number, ...number[]];
  let target: any = [copy.a, copy.b, copy.c][field];
  for (const i of rest.slice(0, -1)) target = target[i];
  target[rest[rest.length - 1]!] = value;
  return copy;
}

/** The 8 coordinates of a proof as [label, path] (field 0 = a, 1 = b, 2 = c). */
export const PROOF_COORDINATES: [string, number[]][] = [
  ['a.x', [0, 0]],
  ['a.y', [0, 1]],
  ['b.x.c0', [1, 0, 0]],
  ['b.x.c1', [1, 0, 1]],
  ['b.y.c0', [1, 1, 0]],
  ['b.y.c1', [1, 1, 1]],
  ['c.x', [2, 0]],
  ['c.y', [2, 1]],
];

export function coordinateAt(proof: Groth16Proof, path: readonly number[]): string {
  let target: any = [proof.a, proof.b, proof.c][path[0]!];
  for (const i of path.slice(1)) target = target[i];
  return target as string;
}
