import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviationCommitment, eventIdToField, identityCommitment, membershipNullifier, signalHashForAddress, externalNullifier } from '../../src/zk/circuits.js';
import { SCALAR_FIELD_MODULUS, hashToField, parseCanonicalDecimal } from '../../src/zk/field.js';
import { poseidonHash } from '../../src/zk/poseidon.js';
import { utf8 } from '../../src/util/bytes.js';

const R = SCALAR_FIELD_MODULUS;

describe('Poseidon (circomlib parameters)', () => {
  // Published circomlibjs test vectors; agreement with the compiled circuits themselves is shown in
  // deviation.test.ts and membership.test.ts (proofs only exist if the circuit computes the same hash).
  it('matches circomlib vectors for 1 and 2 inputs', () => {
    expect(poseidonHash([1n])).toBe(18586133768512220936620570745912940619677854269274689475585506675881198879027n);
    expect(poseidonHash([1n, 2n])).toBe(7853200120776062878684798364095072458815029376092732009249414926327459813530n);
    expect(poseidonHash([0n, 0n])).toBe(14744269619966411208579211824598458697587494354926760081771325075741142829156n);
  });

  it('refuses inputs outside [0, r) instead of reducing them', () => {
    for (const bad of [R, R + 1n, -1n]) expect(() => poseidonHash([bad, 0n])).toThrow(expect.objectContaining({ code: 'ZK_FIELD_ELEMENT_INVALID' }));
    expect(() => poseidonHash([R - 1n, 0n])).not.toThrow();
  });

  it('domain helpers are the documented compositions', () => {
    expect(deviationCommitment(5n, 7n)).toBe(poseidonHash([5n, 7n]));
    expect(identityCommitment(9n)).toBe(poseidonHash([9n]));
    expect(externalNullifier(3n, 1n)).toBe(poseidonHash([3n, 1n]));
    expect(membershipNullifier(9n, 3n, 1n)).toBe(poseidonHash([9n, poseidonHash([3n, 1n])]));
  });
});

describe('hashToField', () => {
  it('is a 253-bit value below r, domain-separated', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        const v = hashToField('D', data);
        expect(v >= 0n && v < 1n << 253n && v < R).toBe(true);
        expect(hashToField('E', data)).not.toBe(v);
      }),
    );
    expect(eventIdToField('ev-1')).toBe(hashToField('GRIDLEDGER/ZK/EVENT/V1', utf8('ev-1')));
    expect(signalHashForAddress('grid1abc')).not.toBe(hashToField('GRIDLEDGER/ZK/EVENT/V1', utf8('grid1abc')));
  });
});

describe('canonical decimals', () => {
  it('accepts exactly one spelling per value below the modulus', () => {
    expect(parseCanonicalDecimal('0', R)).toBe(0n);
    expect(parseCanonicalDecimal((R - 1n).toString(), R)).toBe(R - 1n);
    for (const bad of [R.toString(), '01', '+1', '-1', ' 1', '1 ', '0x1', '1e3', '', '١', 1, 1n, null]) expect(parseCanonicalDecimal(bad, R), String(bad)).toBeUndefined();
  });
});
