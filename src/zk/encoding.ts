import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8 } from '../util/bytes.js';
import { canonicalJson } from '../util/canonical.js';
import { E } from './errors.js';
import { BASE_FIELD_MODULUS, parseCanonicalDecimal } from './field.js';

/**
 * JSON forms of Groth16 proofs and verifying keys over BN254. Coordinates are canonical decimal
 * strings below p, points affine; a G2 coordinate is an Fp2 element [c0, c1] (snarkjs's order,
 * c0 the real part). With canonicalJson these have exactly one encoding per value, so a
 * transaction carrying a proof has one hash.
 */
export type G1Json = [string, string];
export type G2Json = [[string, string], [string, string]];

export interface Groth16Proof {
  a: G1Json;
  b: G2Json;
  c: G1Json;
}

export interface Groth16VerifyingKey {
  protocol: 'groth16';
  curve: 'bn254';
  alpha: G1Json;
  beta: G2Json;
  gamma: G2Json;
  delta: G2Json;
  /** IC[0] plus one point per public input. */
  ic: G1Json[];
}

/** snarkjs's proof object (projective with z = 1). */
export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

type Fail = (message: string) => Error;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Checks that `value` is a plain object with exactly `keys` (no more, no fewer). */
function exactObject(value: unknown, keys: readonly string[], what: string, fail: Fail): Record<string, unknown> {
  if (!isPlainObject(value)) throw fail(`${what} must be an object`);
  const actual = Object.keys(value).sort();
  const expected = [...keys].sort();
  if (actual.length !== expected.length || actual.some((k, i) => k !== expected[i])) throw fail(`${what} must have exactly the fields ${expected.join(', ')}`);
  return value;
}

function array(value: unknown, length: number, what: string, fail: Fail): unknown[] {
  if (!Array.isArray(value) || value.length !== length) throw fail(`${what} must be an array of ${length}`);
  return value;
}

function coordinate(value: unknown, what: string, fail: Fail): string {
  if (parseCanonicalDecimal(value, BASE_FIELD_MODULUS) === undefined) throw fail(`${what} must be a canonical decimal string below the base field modulus`);
  return value as string;
}

function g1Json(value: unknown, what: string, fail: Fail): G1Json {
  const [x, y] = array(value, 2, what, fail);
  return [coordinate(x, `${what}.x`, fail), coordinate(y, `${what}.y`, fail)];
}

function fp2Json(value: unknown, what: string, fail: Fail): [string, string] {
  const [c0, c1] = array(value, 2, what, fail);
  return [coordinate(c0, `${what}.c0`, fail), coordinate(c1, `${what}.c1`, fail)];
}

function g2Json(value: unknown, what: string, fail: Fail): G2Json {
  const [x, y] = array(value, 2, what, fail);
  return [fp2Json(x, `${what}.x`, fail), fp2Json(y, `${what}.y`, fail)];
}

/**
 * Parses the transaction form of a proof: exact shape, canonical coordinates below p. Whether the
 * points are valid curve points is checked when verifying (verify.ts), still as ZK_PROOF_MALFORMED.
 */
export function parseProof(value: unknown): Groth16Proof {
  const o = exactObject(value, ['a', 'b', 'c'], 'proof', E.ZK_PROOF_MALFORMED);
  return { a: g1Json(o.a, 'proof.a', E.ZK_PROOF_MALFORMED), b: g2Json(o.b, 'proof.b', E.ZK_PROOF_MALFORMED), c: g1Json(o.c, 'proof.c', E.ZK_PROOF_MALFORMED) };
}

/** The one byte-exact JSON text of a proof (for transactions and hashes). */
export function encodeProof(proof: Groth16Proof): string {
  return canonicalJson(parseProof(proof));
}

/** Affine G1 point from snarkjs's [x, y, "1"]; the identity ([0, 1, 0]) and other z are refused. */
function g1FromProjective(value: unknown, what: string, fail: Fail): G1Json {
  const [x, y, z] = array(value, 3, what, fail);
  if (z !== '1') throw fail(`${what} must be affine (z = "1")`);
  return g1Json([x, y], what, fail);
}

function g2FromProjective(value: unknown, what: string, fail: Fail): G2Json {
  const [x, y, z] = array(value, 3, what, fail);
  const [z0, z1] = array(z, 2, `${what}.z`, fail);
  if (z0 !== '1' || z1 !== '0') throw fail(`${what} must be affine (z = ["1", "0"])`);
  return g2Json([x, y], what, fail);
}

/** Converts snarkjs's proof object (groth16.prove / fullProve output) to the transaction form. */
export function proofFromSnarkjs(proof: unknown): Groth16Proof {
  const fail = E.ZK_PROOF_MALFORMED;
  if (!isPlainObject(proof) || proof.protocol !== 'groth16' || proof.curve !== 'bn128') throw fail('not a snarkjs groth16 proof over bn128');
  return { a: g1FromProjective(proof.pi_a, 'pi_a', fail), b: g2FromProjective(proof.pi_b, 'pi_b', fail), c: g1FromProjective(proof.pi_c, 'pi_c', fail) };
}

/** The snarkjs form, for snarkjs.groth16.verify (tests, tools). */
export function proofToSnarkjs(proof: Groth16Proof): SnarkjsProof {
  return { pi_a: [...proof.a, '1'], pi_b: [[...proof.b[0]], [...proof.b[1]], ['1', '0']], pi_c: [...proof.c, '1'], protocol: 'groth16', curve: 'bn128' };
}

/** Parses the registered (ledger) form of a verifying key: exact shape, canonical coordinates. */
export function parseVerifyingKey(value: unknown): Groth16VerifyingKey {
  const fail = E.ZK_VERIFYING_KEY_INVALID;
  const o = exactObject(value, ['protocol', 'curve', 'alpha', 'beta', 'gamma', 'delta', 'ic'], 'verifying key', fail);
  if (o.protocol !== 'groth16' || o.curve !== 'bn254') throw fail('verifying key must be protocol "groth16" on curve "bn254"');
  if (!Array.isArray(o.ic) || o.ic.length < 2 || o.ic.length > 65) throw fail('verifying key ic must hold 2..65 points (1..64 public inputs)');
  return {
    protocol: 'groth16',
    curve: 'bn254',
    alpha: g1Json(o.alpha, 'alpha', fail),
    beta: g2Json(o.beta, 'beta', fail),
    gamma: g2Json(o.gamma, 'gamma', fail),
    delta: g2Json(o.delta, 'delta', fail),
    ic: o.ic.map((p, i) => g1Json(p, `ic[${i}]`, fail)),
  };
}

/** Converts snarkjs's vkey.json (zKey.exportVerificationKey) to the registered form. */
export function verifyingKeyFromSnarkjs(vkey: unknown): Groth16VerifyingKey {
  const fail = E.ZK_VERIFYING_KEY_INVALID;
  if (!isPlainObject(vkey) || vkey.protocol !== 'groth16' || vkey.curve !== 'bn128') throw fail('not a snarkjs groth16 verifying key over bn128');
  if (!Array.isArray(vkey.IC) || vkey.IC.length !== Number(vkey.nPublic) + 1) throw fail('IC must hold nPublic + 1 points');
  return parseVerifyingKey({
    protocol: 'groth16',
    curve: 'bn254',
    alpha: g1FromProjective(vkey.vk_alpha_1, 'vk_alpha_1', fail),
    beta: g2FromProjective(vkey.vk_beta_2, 'vk_beta_2', fail),
    gamma: g2FromProjective(vkey.vk_gamma_2, 'vk_gamma_2', fail),
    delta: g2FromProjective(vkey.vk_delta_2, 'vk_delta_2', fail),
    ic: vkey.IC.map((p: unknown, i: number) => g1FromProjective(p, `IC[${i}]`, fail)),
  });
}

/** Stable id of a verifying key: hex SHA-256 of a domain tag and its canonical JSON. */
export function verifyingKeyId(vk: Groth16VerifyingKey): string {
  return toHex(sha256(concatBytes(utf8('GRIDLEDGER/ZK/VK/V1'), new Uint8Array([0]), utf8(canonicalJson(parseVerifyingKey(vk))))));
}
