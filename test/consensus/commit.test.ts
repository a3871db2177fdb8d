import { describe, it, expect } from 'vitest';
import { verifyCommit, verifyEvidence, makeEvidence } from '../../src/consensus/index.js';
import { CHAIN, HASH_A, HASH_B, makeCommit, signVote, testKey, testKeys, valsetOf } from './helpers.js';

const keys = testKeys(4, 'c');
const set = valsetOf(keys);

describe('verifyCommit', () => {
  it('accepts precommits of more than 2/3 of the power and reports the signed power', () => {
    const result = verifyCommit(makeCommit(keys.slice(0, 3), 5, 1, HASH_A), set, CHAIN, { height: 5, blockHash: HASH_A });
    expect(result).toEqual({ ok: true, signedPower: 30n });
  });

  it('rejects exactly 2/3 of the power: insufficient-power', () => {
    const keys6 = testKeys(6, 'c6');
    const r = verifyCommit(makeCommit(keys6.slice(0, 4), 5, 0, HASH_A), valsetOf(keys6), CHAIN);
    expect(r).toMatchObject({ ok: false, reason: 'insufficient-power' });
  });

  it('rejects a signer outside the set: unknown-validator', () => {
    const outsider = testKey('outsider');
    const r = verifyCommit(makeCommit([...keys.slice(0, 3), outsider], 5, 0, HASH_A), set, CHAIN);
    expect(r).toMatchObject({ ok: false, reason: 'unknown-validator' });
  });

  it('rejects a validator counted twice: duplicate-validator', () => {
    const c = makeCommit(keys.slice(0, 2), 5, 0, HASH_A);
    const r = verifyCommit({ ...c, signatures: [...c.signatures, c.signatures[0]!] }, set, CHAIN);
    expect(r).toMatchObject({ ok: false, reason: 'duplicate-validator' });
  });

  it('rejects a signature over other data: bad-signature', () => {
    const c = makeCommit(keys.slice(0, 3), 5, 0, HASH_A);
    const forged = { ...c, signatures: c.signatures.map((s, i) => (i === 1 ? { ...s, timestamp: s.timestamp + 1 } : s)) };
    expect(verifyCommit(forged, set, CHAIN)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyCommit({ ...c, blockHash: HASH_B }, set, CHAIN)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyCommit(c, set, 'other-chain')).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects malformed input without throwing: malformed', () => {
    expect(verifyCommit({ height: 0, round: 0, blockHash: HASH_A, signatures: [] }, set, CHAIN)).toMatchObject({ reason: 'malformed' });
    expect(verifyCommit({ height: 1, round: 0, blockHash: 'xyz', signatures: [] }, set, CHAIN)).toMatchObject({ reason: 'malformed' });
    expect(verifyCommit(null as never, set, CHAIN)).toMatchObject({ reason: 'malformed' });
    const c = makeCommit(keys.slice(0, 3), 5, 0, HASH_A);
    expect(verifyCommit({ ...c, signatures: [{ ...c.signatures[0]!, signature: 'zz' }] }, set, CHAIN)).toMatchObject({ reason: 'malformed' });
  });

  it('rejects a commit for another height or block than expected', () => {
    const c = makeCommit(keys, 5, 0, HASH_A);
    expect(verifyCommit(c, set, CHAIN, { height: 6 })).toMatchObject({ ok: false, reason: 'wrong-height' });
    expect(verifyCommit(c, set, CHAIN, { blockHash: HASH_B })).toMatchObject({ ok: false, reason: 'wrong-block' });
  });
});

describe('duplicate-vote evidence', () => {
  const a = signVote(keys[0]!, { type: 'prevote', height: 3, round: 1, blockHash: HASH_A, timestamp: 1 });
  const b = signVote(keys[0]!, { type: 'prevote', height: 3, round: 1, blockHash: HASH_B, timestamp: 2 });

  it('accepts two signed conflicting votes, in canonical order', () => {
    expect(makeEvidence(b, a)).toEqual(makeEvidence(a, b));
    expect(verifyEvidence(makeEvidence(a, b), set, CHAIN)).toEqual({ ok: true });
  });

  it('rejects non-conflicting, unsigned, foreign and unknown-signer evidence', () => {
    expect(verifyEvidence({ kind: 'duplicate-vote', voteA: a, voteB: a }, set, CHAIN)).toMatchObject({ reason: 'not-conflicting' });
    const later = signVote(keys[0]!, { type: 'prevote', height: 3, round: 2, blockHash: HASH_B, timestamp: 2 });
    expect(verifyEvidence({ kind: 'duplicate-vote', voteA: a, voteB: later }, set, CHAIN)).toMatchObject({ reason: 'not-conflicting' });
    expect(verifyEvidence(makeEvidence(a, { ...b, timestamp: 3 }), set, CHAIN)).toMatchObject({ reason: 'bad-signature' });
    expect(verifyEvidence(makeEvidence(a, b), set, 'other')).toMatchObject({ reason: 'wrong-chain' });
    const o = testKey('outsider-ev');
    const oa = signVote(o, { type: 'prevote', height: 3, round: 1, blockHash: HASH_A, timestamp: 1 });
    const ob = signVote(o, { type: 'prevote', height: 3, round: 1, blockHash: null, timestamp: 1 });
    expect(verifyEvidence(makeEvidence(oa, ob), set, CHAIN)).toMatchObject({ reason: 'unknown-validator' });
  });
});
