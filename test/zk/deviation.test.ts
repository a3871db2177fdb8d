import { bn254 } from '@noble/curves/bn254.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absoluteDeviation, DEVIATION_MAX_WH, deviationCommitment, deviationPublicInputs, eventIdToField } from '../../src/zk/circuits.js';
import { encodeProof, parseProof, proofFromSnarkjs, proofToSnarkjs, type Groth16Proof } from '../../src/zk/encoding.js';
import { BASE_FIELD_MODULUS, SCALAR_FIELD_MODULUS } from '../../src/zk/field.js';
import { closeProver, proveCircuit, proveDeviation, randomFieldElement, type ProofBundle } from '../../src/zk/prove.js';
import { bothVerdicts, coordinateAt, nobleVerdict, PROOF_COORDINATES, snarkjsAccepts, withCoordinate } from './helpers.js';

const P = BASE_FIELD_MODULUS;
const R = SCALAR_FIELD_MODULUS;
const EVENT = eventIdToField('event-42');
const salt = randomFieldElement();

// requested 5 000 Wh, measured 5 300 Wh: deviation 300 (measured above requested).
const witness = { value: 5300n, salt, requested: 5000n, eventId: EVENT, intervalIndex: 7n };
let valid: ProofBundle;

beforeAll(async () => {
  valid = await proveDeviation(witness);
});
afterAll(closeProver);

/** Raw circuit inputs for an attack attempt: every signal given explicitly. */
function rawInput(o: Partial<Record<'commitment' | 'requested' | 'deviation' | 'eventId' | 'intervalIndex' | 'value' | 'salt', bigint>>) {
  const value = o.value ?? witness.value;
  return {
    commitment: o.commitment ?? deviationCommitment(value, witness.salt),
    requested: o.requested ?? witness.requested,
    deviation: o.deviation ?? absoluteDeviation(witness.requested, value),
    eventId: o.eventId ?? EVENT,
    intervalIndex: o.intervalIndex ?? 7n,
    value,
    salt: o.salt ?? witness.salt,
  };
}

function publicInputs(o: Partial<Parameters<typeof deviationPublicInputs>[0]> = {}): string[] {
  return deviationPublicInputs({ commitment: deviationCommitment(witness.value, salt), requested: 5000n, deviation: 300n, eventId: EVENT, intervalIndex: 7n, ...o });
}

/** A point on the G2 twist curve that is not in the prime-order subgroup. */
function g2PointOutsideSubgroup(): [[string, string], [string, string]] {
  const { Fp2 } = bn254.fields;
  const b = bn254.G2.Point.CURVE().b;
  for (let i = 1n; ; i++) {
    const x = Fp2.fromBigTuple([i, 1n]);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
    let y;
    try {
      y = Fp2.sqrt(rhs);
    } catch {
      continue;
    }
    const point = bn254.G2.Point.fromAffine({ x, y });
    if (!point.isTorsionFree()) return [[x.c0.toString(), x.c1.toString()], [y.c0.toString(), y.c1.toString()]];
  }
}

describe('deviation circuit: valid proofs', () => {
  it('the prover returns the public inputs the ledger rebuilds from its own state', () => {
    expect(valid.publicInputs).toEqual(publicInputs());
  });

  it('verifies with the noble verifier and with snarkjs', async () => {
    expect(await bothVerdicts('deviation', valid.proof, valid.publicInputs)).toEqual(['valid', true]);
  });

  it('measured below requested, equal, and at the top of the range also prove correctly', async () => {
    for (const [value, requested] of [[4000n, 5000n], [5000n, 5000n], [DEVIATION_MAX_WH, 0n]] as const) {
      const bundle = await proveDeviation({ ...witness, value, requested });
      expect(bundle.publicInputs[2]).toBe((requested > value ? requested - value : value - requested).toString());
      expect(await bothVerdicts('deviation', bundle.proof, bundle.publicInputs)).toEqual(['valid', true]);
    }
  });

  it('concurrent proofs in one process each prove their own inputs', async () => {
    const values = [1000n, 2000n, 3000n, 4000n];
    const bundles = await Promise.all(values.map((value, i) => proveDeviation({ ...witness, value, intervalIndex: BigInt(i) })));
    bundles.forEach((b, i) => {
      expect(b.publicInputs).toEqual(publicInputs({ commitment: deviationCommitment(values[i]!, salt), deviation: 5000n - values[i]!, intervalIndex: BigInt(i) }));
      expect(nobleVerdict('deviation', b.proof, b.publicInputs)).toBe('valid');
    });
  });
});

describe('deviation circuit: wrong statements are rejected by both verifiers', () => {
  const cases: [string, () => string[]][] = [
    ['a wrong deviation (299)', () => publicInputs({ deviation: 299n })],
    ['a wrong deviation (0)', () => publicInputs({ deviation: 0n })],
    ['another interval', () => publicInputs({ intervalIndex: 8n })],
    ['another event', () => publicInputs({ eventId: eventIdToField('event-43') })],
    ['a different commitment', () => publicInputs({ commitment: deviationCommitment(5000n, salt) })],
    ['another requested value', () => publicInputs({ requested: 5001n })],
  ];
  for (const [label, inputs] of cases) {
    it(label, async () => {
      expect(await bothVerdicts('deviation', valid.proof, inputs())).toEqual(['invalid', false]);
    });
  }

  it('a deviation proof under the membership key (same number of public inputs)', async () => {
    expect(nobleVerdict('membership', valid.proof, valid.publicInputs)).toBe('invalid');
    expect(await snarkjsAccepts('membership', valid.proof, valid.publicInputs)).toBe(false);
  });
});

describe('deviation circuit: tampered proofs', () => {
  for (const [label, path] of PROOF_COORDINATES) {
    it(`each single tampered coordinate: ${label} + 1`, async () => {
      const tampered = withCoordinate(valid.proof, path, ((BigInt(coordinateAt(valid.proof, path)) + 1n) % P).toString());
      const [noble, snark] = await bothVerdicts('deviation', tampered, valid.publicInputs);
      // Off the curve → malformed (the message is rejected); otherwise a failed pairing.
      expect(['ZK_PROOF_MALFORMED', 'invalid']).toContain(noble);
      expect(snark).toBe(false);
    });
  }

  it('valid curve points that are not the proof (negated A, B or C) fail the pairing in both', async () => {
    const neg = (y: string) => (P - BigInt(y)).toString();
    const variants: Groth16Proof[] = [
      { ...valid.proof, a: [valid.proof.a[0], neg(valid.proof.a[1])] },
      { ...valid.proof, b: [valid.proof.b[0], [neg(valid.proof.b[1][0]), neg(valid.proof.b[1][1])]] },
      { ...valid.proof, c: [valid.proof.c[0], neg(valid.proof.c[1])] },
      { ...valid.proof, a: valid.proof.c, c: valid.proof.a },
    ];
    for (const v of variants) expect(await bothVerdicts('deviation', v, valid.publicInputs)).toEqual(['invalid', false]);
  });

  it('a B on the twist but outside the prime-order subgroup is refused by both', async () => {
    const bad = { ...valid.proof, b: g2PointOutsideSubgroup() };
    expect(await bothVerdicts('deviation', bad, valid.publicInputs)).toEqual(['ZK_PROOF_MALFORMED', false]);
  });

  it('the identity point and non-canonical coordinates are malformed for the noble verifier', () => {
    const a = valid.proof.a;
    const malformed: unknown[] = [
      { ...valid.proof, a: ['0', '0'] },
      { ...valid.proof, c: ['0', '0'] },
      { ...valid.proof, b: [['0', '0'], ['0', '0']] },
      { ...valid.proof, a: [(BigInt(a[0]) + P).toString(), a[1]] }, // x + p: the same point spelled differently
      { ...valid.proof, a: [`0${a[0]}`, a[1]] },
      { ...valid.proof, a: [BigInt(a[0]), a[1]] },
      { ...valid.proof, a: [a[0]] },
      { ...valid.proof, extra: 1 },
      { a: valid.proof.a, b: valid.proof.b },
      proofToSnarkjs(valid.proof),
      null,
      'proof',
    ];
    for (const m of malformed) expect(nobleVerdict('deviation', m, valid.publicInputs), JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe('ZK_PROOF_MALFORMED');
  });
});

describe('deviation circuit: public inputs', () => {
  it('a public input ≥ r (even ≡ the right one mod r) is refused by both', async () => {
    const aliased = [...valid.publicInputs];
    aliased[2] = (300n + R).toString();
    expect(await bothVerdicts('deviation', valid.proof, aliased)).toEqual(['ZK_PUBLIC_INPUTS_MALFORMED', false]);
    const atModulus = [...valid.publicInputs];
    atModulus[4] = R.toString();
    expect(await bothVerdicts('deviation', valid.proof, atModulus)).toEqual(['ZK_PUBLIC_INPUTS_MALFORMED', false]);
  });

  it('wrong count or non-canonical spellings are malformed for the noble verifier', () => {
    const bad: unknown[] = [valid.publicInputs.slice(0, 4), [...valid.publicInputs, '0'], valid.publicInputs.map((v, i) => (i === 1 ? `0${v}` : v)), valid.publicInputs.map((v, i) => (i === 1 ? Number(v) : v)), '5000'];
    for (const inputs of bad) expect(nobleVerdict('deviation', valid.proof, inputs)).toBe('ZK_PUBLIC_INPUTS_MALFORMED');
  });
});

describe('deviation circuit: statements that cannot be proved', () => {
  const noWitness = expect.objectContaining({ code: 'ZK_WITNESS_FAILED' });

  it('a false deviation has no witness', async () => {
    await expect(proveCircuit('deviation', rawInput({ deviation: 299n }))).rejects.toThrow(noWitness);
    await expect(proveCircuit('deviation', rawInput({ deviation: R - 300n }))).rejects.toThrow(noWitness); // −300 in the field
  });

  it('the wrap-around attempt (value = r − 1 ≡ −1, "deviation" 1 from requested 0) has no witness', async () => {
    await expect(proveCircuit('deviation', rawInput({ value: R - 1n, requested: 0n, deviation: 1n }))).rejects.toThrow(noWitness);
    // value = r − 1000 ≡ −1000 with requested 4 000: requested − value ≡ 5 000 in the field.
    await expect(proveCircuit('deviation', rawInput({ value: R - 1000n, requested: 4000n, deviation: 5000n }))).rejects.toThrow(noWitness);
    await expect(proveCircuit('deviation', rawInput({ value: R - 1000n, requested: 4000n, deviation: R - 5000n }))).rejects.toThrow(noWitness);
  });

  it('a value, requested value or deviation of 2^40 or more has no witness', async () => {
    const over = DEVIATION_MAX_WH + 1n;
    await expect(proveCircuit('deviation', rawInput({ value: over, requested: over, deviation: 0n }))).rejects.toThrow(noWitness);
    await expect(proveCircuit('deviation', rawInput({ value: 0n, requested: over, deviation: over }))).rejects.toThrow(noWitness);
    await expect(proveDeviation({ ...witness, value: over, requested: over })).rejects.toThrow(noWitness);
  });

  it('a commitment to another value has no witness', async () => {
    await expect(proveCircuit('deviation', rawInput({ commitment: deviationCommitment(5000n, salt) }))).rejects.toThrow(noWitness);
  });

  it('inputs outside the field are refused before the witness calculator could reduce them', async () => {
    const invalid = expect.objectContaining({ code: 'ZK_FIELD_ELEMENT_INVALID' });
    await expect(proveDeviation({ ...witness, value: witness.value + R })).rejects.toThrow(invalid);
    // intervalIndex 7 + r would be read as 7 by the witness calculator: refused instead.
    await expect(proveCircuit('deviation', rawInput({ intervalIndex: 7n + R }))).rejects.toThrow(invalid);
  });
});

describe('proof encoding', () => {
  it('the canonical JSON is sorted, compact and round-trips; snarkjs form converts both ways', () => {
    const text = encodeProof(valid.proof);
    expect(text.startsWith('{"a":["')).toBe(true);
    expect(text).not.toMatch(/\s/);
    expect(parseProof(JSON.parse(text))).toEqual(valid.proof);
    expect(proofFromSnarkjs(proofToSnarkjs(valid.proof))).toEqual(valid.proof);
    expect(() => proofFromSnarkjs({ ...proofToSnarkjs(valid.proof), pi_a: [...valid.proof.a, '2'] })).toThrow(expect.objectContaining({ code: 'ZK_PROOF_MALFORMED' }));
  });
});
