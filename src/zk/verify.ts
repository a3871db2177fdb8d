import { bn254 } from '@noble/curves/bn254.js';
import { E } from './errors.js';
import { parseProof, parseVerifyingKey, verifyingKeyId, type G1Json, type G2Json, type Groth16VerifyingKey } from './encoding.js';
import { SCALAR_FIELD_MODULUS, parseCanonicalDecimal } from './field.js';

/**
 * Synchronous Groth16 verifier over BN254 for the state machine (block execution is synchronous
 * and deterministic; snarkjs's verify is asynchronous). Built on @noble/curves' bn254 pairing; it
 * gives the same answer as snarkjs.groth16.verify (cross-checked in test/zk) with stricter input
 * rules, and only pure big-integer arithmetic, so every node agrees.
 *
 * Outcomes: a proof or public inputs that are not canonical throw (ZK_PROOF_MALFORMED,
 * ZK_PUBLIC_INPUTS_MALFORMED: the message is malformed and is rejected); a well-formed proof that
 * fails the pairing equation returns false (a committed outcome, e.g. a forfeited deposit).
 */

type G1Point = InstanceType<typeof bn254.G1.Point>;
type G2Point = InstanceType<typeof bn254.G2.Point>;
type Fp12 = ReturnType<typeof bn254.pairing>;
type LinePrecomputes = ReturnType<typeof bn254.utils.calcPairingPrecomputes>;

const { Fp2, Fp12 } = bn254.fields;
type Fail = (message: string) => Error;

/** A verifying key decoded once and made ready for fast verification (cache it per key id). */
export interface PreparedVerifyingKey {
  readonly id: string;
  readonly nPublic: number;
  readonly key: Groth16VerifyingKey;
  /** e(−alpha, beta) = e(alpha, beta)^−1, fixed per key. */
  readonly alphaBetaInverse: Fp12;
  readonly gammaLines: LinePrecomputes;
  readonly deltaLines: LinePrecomputes;
  readonly ic: readonly G1Point[];
}

/** Valid G1 point, not the identity (on the curve; G1 has cofactor 1, so in the subgroup). */
function g1Point([x, y]: G1Json, what: string, fail: Fail): G1Point {
  try {
    const p = bn254.G1.Point.fromAffine({ x: BigInt(x), y: BigInt(y) });
    if (p.is0()) throw new Error('identity');
    p.assertValidity();
    return p;
  } catch {
    throw fail(`${what} is not a valid non-identity G1 point`);
  }
}

/** Valid G2 point: on the twist, in the prime-order subgroup (noble checks it), not the identity. */
function g2Point([[x0, x1], [y0, y1]]: G2Json, what: string, fail: Fail): G2Point {
  try {
    const p = bn254.G2.Point.fromAffine({ x: Fp2.fromBigTuple([BigInt(x0), BigInt(x1)]), y: Fp2.fromBigTuple([BigInt(y0), BigInt(y1)]) });
    if (p.is0()) throw new Error('identity');
    p.assertValidity();
    return p;
  } catch {
    throw fail(`${what} is not a valid non-identity G2 point in the prime-order subgroup`);
  }
}

/** Decodes and checks a verifying key (registered form) once; costs one pairing and two line tables. */
export function prepareVerifyingKey(value: unknown): PreparedVerifyingKey {
  const key = parseVerifyingKey(value);
  const fail = E.ZK_VERIFYING_KEY_INVALID;
  const alpha = g1Point(key.alpha, 'alpha', fail);
  const beta = g2Point(key.beta, 'beta', fail);
  const gamma = g2Point(key.gamma, 'gamma', fail);
  const delta = g2Point(key.delta, 'delta', fail);
  // Window tables make the per-verification multiplications by public inputs cheaper.
  const ic = key.ic.map((p, i) => g1Point(p, `ic[${i}]`, fail).precompute(8, false));
  return {
    id: verifyingKeyId(key),
    nPublic: key.ic.length - 1,
    key,
    alphaBetaInverse: bn254.pairing(alpha.negate(), beta),
    gammaLines: bn254.utils.calcPairingPrecomputes(gamma),
    deltaLines: bn254.utils.calcPairingPrecomputes(delta),
    ic,
  };
}

/** Public inputs: exactly nPublic canonical decimal strings, each below r (never reduced). */
export function parsePublicInputs(value: unknown, nPublic: number): bigint[] {
  if (!Array.isArray(value) || value.length !== nPublic) throw E.ZK_PUBLIC_INPUTS_MALFORMED(`expected an array of ${nPublic} public inputs`);
  return value.map((v, i) => {
    const n = parseCanonicalDecimal(v, SCALAR_FIELD_MODULUS);
    if (n === undefined) throw E.ZK_PUBLIC_INPUTS_MALFORMED(`public input ${i} must be a canonical decimal string below the scalar field modulus`);
    return n;
  });
}

/**
 * Checks e(A, B) = e(alpha, beta) · e(vk_x, gamma) · e(C, delta) with
 * vk_x = IC[0] + Σ input_i · IC[i+1], as one batch of three Miller loops and one final
 * exponentiation: e(−A, B) · e(vk_x, gamma) · e(C, delta) = e(alpha, beta)^−1 (fixed per key).
 */
export function verifyGroth16(vk: PreparedVerifyingKey, proof: unknown, publicInputs: unknown): boolean {
  const parsed = parseProof(proof);
  const inputs = parsePublicInputs(publicInputs, vk.nPublic);
  const a = g1Point(parsed.a, 'proof.a', E.ZK_PROOF_MALFORMED);
  const b = g2Point(parsed.b, 'proof.b', E.ZK_PROOF_MALFORMED);
  const c = g1Point(parsed.c, 'proof.c', E.ZK_PROOF_MALFORMED);
  let vkx = vk.ic[0]!;
  inputs.forEach((s, i) => {
    vkx = vkx.add(vk.ic[i + 1]!.multiplyUnsafe(s));
  });
  const negA = a.negate().toAffine();
  const cAffine = c.toAffine();
  const loops: [LinePrecomputes, bigint, bigint][] = [
    [bn254.utils.calcPairingPrecomputes(b), negA.x, negA.y],
    [vk.deltaLines, cAffine.x, cAffine.y],
  ];
  // e(O, gamma) = 1: an identity vk_x contributes nothing (noble's pairing refuses the identity).
  if (!vkx.is0()) {
    const x = vkx.toAffine();
    loops.push([vk.gammaLines, x.x, x.y]);
  }
  return Fp12.eql(Fp12.finalExponentiate(bn254.millerLoopBatch(loops)), vk.alphaBetaInverse);
}
