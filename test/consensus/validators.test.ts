import { describe, it, expect } from 'vitest';
import { ProposerSchedule, ValidatorSet, validatorSetHash } from '../../src/consensus/index.js';
import { floorDiv, hasOneThird, hasTwoThirds } from '../../src/consensus/intmath.js';
import { testKeys, validatorsOf } from './helpers.js';

describe('proposer selection (CometBFT proposer priority)', () => {
  it('reproduces CometBFT TestProposerSelection1 (foo 1000, bar 300, baz 330; 99 heights)', () => {
    const [bar, baz, foo] = testKeys(3, 'sel'); // sorted by address, so the names keep CometBFT's byte order
    const names = new Map([[foo!.address, 'foo'], [bar!.address, 'bar'], [baz!.address, 'baz']]);
    let set = ValidatorSet.genesis([
      { address: foo!.address, pubKey: foo!.pubKey, power: 1000n },
      { address: bar!.address, pubKey: bar!.pubKey, power: 300n },
      { address: baz!.address, pubKey: baz!.pubKey, power: 330n },
    ]);
    const seen: string[] = [];
    for (let i = 0; i < 99; i++) {
      seen.push(names.get(set.proposer.address)!);
      set = set.incremented(1);
    }
    const expected =
      'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo';
    expect(seen.join(' ')).toBe(expected);
  });

  it('gives equal powers strict round robin in address order', () => {
    const keys = testKeys(4, 'rr');
    let set = ValidatorSet.genesis(validatorsOf(keys));
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      order.push(set.proposer.address);
      set = set.nextHeight();
    }
    const addrs = keys.map((k) => k.address);
    expect(order).toEqual([...addrs, ...addrs]);
  });

  it('selects each validator in proportion to its power over a full cycle', () => {
    const keys = testKeys(3, 'prop');
    const powers = [1n, 2n, 7n];
    const schedule = new ProposerSchedule(ValidatorSet.genesis(validatorsOf(keys, powers)));
    const counts = new Map<string, number>();
    for (let r = 0; r < 1000; r++) counts.set(schedule.proposerAt(r), (counts.get(schedule.proposerAt(r)) ?? 0) + 1);
    expect(keys.map((k) => counts.get(k.address))).toEqual([100, 200, 700]);
  });

  it('computes round proposers independently of the order rounds are asked for', () => {
    const keys = testKeys(5, 'ord');
    const set = ValidatorSet.genesis(validatorsOf(keys, [3n, 1n, 4n, 1n, 5n]));
    const forward = new ProposerSchedule(set);
    const jumped = new ProposerSchedule(set);
    const far = jumped.proposerAt(37);
    const seq = Array.from({ length: 38 }, (_, r) => forward.proposerAt(r));
    expect(seq[37]).toBe(far);
    expect(jumped.proposerAt(3)).toBe(seq[3]);
    expect(seq[0]).toBe(set.proposer.address);
  });

  it('lets a newcomer wait behind existing validators and survives a JSON round trip', () => {
    const keys = testKeys(4, 'upd');
    const set = ValidatorSet.genesis(validatorsOf(keys.slice(0, 3)));
    const [newcomer] = validatorsOf([keys[3]!], [10n]);
    const next = set.nextHeight([newcomer!]);
    expect(next.size).toBe(4);
    expect(next.proposer.address).not.toBe(newcomer!.address);
    const removed = next.nextHeight([{ ...newcomer!, power: 0n }]);
    expect(removed.has(newcomer!.address)).toBe(false);
    const copy = ValidatorSet.fromJSON(JSON.parse(JSON.stringify(next)).$valset);
    expect(copy.priorities).toEqual(next.priorities);
    expect(copy.proposer.address).toBe(next.proposer.address);
    expect(copy.hash()).toBe(next.hash());
  });

  it('rejects invalid validator sets with a specific code', () => {
    const keys = testKeys(2, 'bad');
    const [a, b] = validatorsOf(keys);
    expect(() => ValidatorSet.genesis([])).toThrow(expect.objectContaining({ code: 'VALSET_EMPTY' }));
    expect(() => ValidatorSet.genesis([{ ...a!, power: 0n }])).toThrow(expect.objectContaining({ code: 'VALSET_INVALID' }));
    expect(() => ValidatorSet.genesis([{ ...a!, pubKey: b!.pubKey }])).toThrow(/does not match its public key/);
    expect(() => ValidatorSet.genesis([a!, a!])).toThrow(/listed twice/);
  });

  it('hashes the set independently of input order and of priorities, but not of power', () => {
    const vals = validatorsOf(testKeys(3, 'hash'));
    const reversed = [...vals].reverse();
    expect(validatorSetHash(reversed)).toBe(validatorSetHash(vals));
    expect(ValidatorSet.genesis(vals).nextHeight().hash()).toBe(validatorSetHash(vals));
    expect(validatorSetHash([{ ...vals[0]!, power: 11n }, ...vals.slice(1)])).not.toBe(validatorSetHash(vals));
    expect(validatorSetHash(vals)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('quorum arithmetic (bigint)', () => {
  it('needs strictly more than two thirds', () => {
    expect(hasTwoThirds(3n, 4n)).toBe(true);
    expect(hasTwoThirds(2n, 3n)).toBe(false); // exactly 2/3 is not a quorum
    expect(hasTwoThirds(67n, 100n)).toBe(true);
    expect(hasTwoThirds(66n, 100n)).toBe(false);
    expect(hasTwoThirds(5n, 7n)).toBe(true);
    expect(hasTwoThirds(4n, 7n)).toBe(false);
  });

  it('needs strictly more than one third for a round skip', () => {
    expect(hasOneThird(2n, 4n)).toBe(true);
    expect(hasOneThird(1n, 3n)).toBe(false);
    expect(hasOneThird(3n, 7n)).toBe(true);
    expect(hasOneThird(2n, 7n)).toBe(false);
  });

  it('stays exact beyond 2^53', () => {
    const total = 3n * 2n ** 80n;
    expect(hasTwoThirds(2n * 2n ** 80n, total)).toBe(false);
    expect(hasTwoThirds(2n * 2n ** 80n + 1n, total)).toBe(true);
  });

  it('floors division toward minus infinity like Go big.Int', () => {
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(-8n, 2n)).toBe(-4n);
    expect(() => floorDiv(1n, 0n)).toThrow(RangeError);
  });
});
