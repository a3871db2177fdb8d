import { describe, it, expect } from 'vitest';
import { toHex } from '../../src/util/bytes.js';
import {
  type ConsensusEvent,
  type ConsensusState,
  type Effect,
  type HeightContext,
  createConsensus,
  restoreSigned,
  status,
} from '../../src/consensus/engine.js';
import { type Proposal, type UnsignedProposal, ProposerSchedule, proposalSignBytes } from '../../src/consensus/index.js';
import { FakeApp, type FakeBlock } from '../../sim/fakeApp.js';
import { CHAIN, HASH_A, HASH_B, type TestKey, makeCommit, signVote, testKey, testKeys, valsetOf } from './helpers.js';

const TIMEOUTS = { propose: { baseMs: 100, deltaMs: 10 }, prevote: { baseMs: 50, deltaMs: 5 }, precommit: { baseMs: 50, deltaMs: 5 } };
/** Genesis at time 0, so the events' `now` values (small integers) are the validators' clocks. */
const GENESIS = 0;

function setup(n: number, selfIndex: number | null, opts: { height?: number } = {}) {
  const keys = testKeys(n, 'eng');
  const set = valsetOf(keys);
  const self = selfIndex === null ? null : keys[selfIndex]!;
  const app = new FakeApp();
  const engine = createConsensus<FakeBlock>(
    { chainId: CHAIN, self: self?.address ?? null, timeouts: TIMEOUTS, maxRoundsAhead: 10 },
    { app, sign: (b) => (self ? self.signer.sign(b) : new Uint8Array(64)) },
  );
  const height = opts.height ?? 1;
  const context: HeightContext = {
    height,
    validators: set,
    previous: height === 1 ? null : { blockHash: HASH_A, time: GENESIS, commit: makeCommit(keys, height - 1, 0, HASH_A), validators: set },
    genesisTime: GENESIS,
  };
  const schedule = new ProposerSchedule(set);
  const keyOf = (address: string): TestKey => keys.find((k) => k.address === address)!;
  const proposerKey = (round: number) => keyOf(schedule.proposerAt(round));
  return { keys, set, self, app, engine, context, proposerKey, keyOf };
}

function run<B>(engine: { step: (s: ConsensusState<B>, e: ConsensusEvent<B>) => { state: ConsensusState<B>; effects: readonly Effect<B>[] } }, state: ConsensusState<B>, events: ConsensusEvent<B>[]) {
  const effects: Effect<B>[] = [];
  for (const e of events) {
    const r = engine.step(state, e);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

function signProposal(key: TestKey, fields: Omit<UnsignedProposal, 'proposer' | 'chainId'>): Proposal {
  const unsigned: UnsignedProposal = { chainId: CHAIN, ...fields, proposer: key.address };
  return { ...unsigned, signature: toHex(key.signer.sign(proposalSignBytes(unsigned))) };
}

function blockFor(app: FakeApp, proposer: string, round: number): { blockHash: string; block: FakeBlock } {
  return app.buildBlock({ height: 1, round, time: GENESIS, proposer, lastCommit: null, evidence: [] });
}

const votesOf = (effects: readonly Effect<FakeBlock>[]) => effects.flatMap((e) => (e.type === 'broadcastVote' ? [e.vote] : []));

describe('engine: a single validator', () => {
  it('proposes, votes and commits inside the start step, with no timeout needed', () => {
    const { engine, context } = setup(1, 0);
    const r = engine.step(engine.initialState(), { type: 'start', now: 5, context });
    const commit = r.effects.find((e) => e.type === 'commit');
    expect(commit).toMatchObject({ type: 'commit', height: 1, round: 0, time: 5 }); // the proposer's clock (proposer-based time)
    expect(r.effects.map((e) => e.type)).toEqual([
      'walWrite', 'scheduleTimeout', 'walWrite', 'broadcastProposal', 'walWrite', 'broadcastVote', 'walWrite', 'broadcastVote', 'commit',
    ]);
    expect(status(r.state)).toMatchObject({ height: 1, step: 'decided' });
  });

  it('writes every signed message to the WAL before the broadcast that carries it', () => {
    const { engine, context } = setup(1, 0);
    const { effects } = engine.step(engine.initialState(), { type: 'start', now: 5, context });
    effects.forEach((e, i) => {
      if (e.type !== 'broadcastVote' && e.type !== 'broadcastProposal') return;
      const sig = e.type === 'broadcastVote' ? e.vote.signature : e.proposal.signature;
      const logged = effects.slice(0, i).some((w) => w.type === 'walWrite' && w.record.type === 'signed' && (w.record.message.kind === 'vote' ? w.record.message.vote.signature : w.record.message.proposal.signature) === sig);
      expect(logged).toBe(true);
    });
  });

  it('is deterministic and never mutates the state it is given', () => {
    const { engine, context } = setup(1, 0);
    const s0 = engine.initialState();
    const a = engine.step(s0, { type: 'start', now: 5, context });
    const b = engine.step(s0, { type: 'start', now: 5, context });
    expect(s0.current).toBeNull();
    expect(s0.signer.messages.size).toBe(0);
    expect(JSON.stringify(a.effects, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(JSON.stringify(b.effects, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  });
});

describe('engine: rejections (typed reason, peer fault flag, state unchanged)', () => {
  const t = setup(4, 0, { height: 5 });
  const started = t.engine.step(t.engine.initialState(), { type: 'start', now: 1, context: t.context }).state;
  const k1 = t.keys[1]!;
  const vote = (fields: Partial<Parameters<typeof signVote>[1]> = {}) => signVote(k1, { type: 'prevote', height: 5, round: 0, blockHash: HASH_A, timestamp: 7, ...fields });

  const cases: [string, ConsensusEvent<FakeBlock>, string, boolean][] = [
    ['another chain id', { type: 'vote', now: 2, vote: vote({ chainId: 'other-chain' }) }, 'wrong-chain', true],
    ['an old height', { type: 'vote', now: 2, vote: vote({ height: 4 }) }, 'old-height', false],
    ['a height two ahead', { type: 'vote', now: 2, vote: vote({ height: 7 }) }, 'future-height', false],
    ['an unknown validator', { type: 'vote', now: 2, vote: signVote(testKey('stranger'), { type: 'prevote', height: 5, round: 0, blockHash: HASH_A, timestamp: 7 }) }, 'unknown-validator', true],
    ['a bad signature', { type: 'vote', now: 2, vote: { ...vote(), blockHash: HASH_B } }, 'bad-signature', true],
    ['a round too far ahead', { type: 'vote', now: 2, vote: vote({ round: 11 }) }, 'round-out-of-range', true],
    ['a malformed vote', { type: 'vote', now: 2, vote: { ...vote(), height: -1 } }, 'malformed', true],
    ['a proposal from the wrong proposer', { type: 'proposal', now: 2, proposal: signProposal(t.keys.find((k) => k.address !== t.proposerKey(0).address)!, { height: 5, round: 0, polRound: -1, blockHash: HASH_A, timestamp: 1 }), block: {} as FakeBlock }, 'wrong-proposer', true],
    ['a proposal with polRound >= round', { type: 'proposal', now: 2, proposal: signProposal(t.proposerKey(0), { height: 5, round: 0, polRound: 0, blockHash: HASH_A, timestamp: 1 }), block: {} as FakeBlock }, 'bad-pol-round', true],
    ['a stale timeout', { type: 'timeout', now: 2, height: 4, round: 0, step: 'propose' }, 'stale-timeout', false],
    ['a non-integer time', { type: 'timeout', now: 2.5, height: 5, round: 0, step: 'propose' }, 'malformed', true],
  ];

  for (const [name, event, reason, fault] of cases) {
    it(`ignores ${name}: ${reason}`, () => {
      const r = t.engine.step(started, event);
      expect(r.rejection).toMatchObject({ reason, peerFault: fault });
      expect(r.state).toBe(started);
      expect(r.effects).toEqual([]);
    });
  }

  it('keeps a next-height message for later and reports it as buffered', () => {
    const r = t.engine.step(started, { type: 'vote', now: 2, vote: vote({ height: 6 }) });
    expect(r.rejection).toMatchObject({ reason: 'future-height', buffered: true, height: 6 });
    expect(r.state.pending).toHaveLength(1);
  });

  it('ignores a duplicate vote and turns a conflicting one into evidence', () => {
    const first = t.engine.step(started, { type: 'vote', now: 2, vote: vote() });
    expect(first.rejection).toBeUndefined();
    const dup = t.engine.step(first.state, { type: 'vote', now: 3, vote: vote() });
    expect(dup.rejection).toMatchObject({ reason: 'duplicate', peerFault: false });
    expect(dup.state).toBe(first.state);
    const conflict = t.engine.step(first.state, { type: 'vote', now: 3, vote: vote({ blockHash: HASH_B }) });
    expect(conflict.rejection).toBeUndefined();
    const ev = conflict.effects.find((e) => e.type === 'evidence');
    expect(ev).toMatchObject({ evidence: { kind: 'duplicate-vote', voteA: { blockHash: HASH_A }, voteB: { blockHash: HASH_B } } });
    expect(conflict.state.evidencePool).toHaveLength(1);
    // The equivocator's power counts for each block it voted for, but only once in the total.
    const before = first.state.current!.rounds.get(0)!.prevotes;
    const prevotes = conflict.state.current!.rounds.get(0)!.prevotes;
    expect([prevotes.powerFor.get(HASH_A), prevotes.powerFor.get(HASH_B), prevotes.total]).toEqual([10n, 10n, before.total]);
    const again = t.engine.step(conflict.state, { type: 'vote', now: 4, vote: vote({ blockHash: HASH_B, timestamp: 9 }) });
    expect(again.rejection).toMatchObject({ reason: 'duplicate' });
  });
});

describe('engine: rounds, timeouts and locking (n = 4, self is not the round-0 proposer)', () => {
  function lockedOnA() {
    const t = setup(4, null);
    const selfIndex = t.keys.findIndex((k) => k.address !== t.proposerKey(0).address && k.address !== t.proposerKey(1).address && k.address !== t.proposerKey(2).address);
    const u = setup(4, selfIndex);
    const p0 = u.proposerKey(0);
    const a = blockFor(u.app, p0.address, 0);
    const others = u.keys.filter((k) => k !== u.self);
    const events: ConsensusEvent<FakeBlock>[] = [
      { type: 'start', now: 1, context: u.context },
      { type: 'proposal', now: 2, proposal: signProposal(p0, { height: 1, round: 0, polRound: -1, blockHash: a.blockHash, timestamp: a.block.time }), block: a.block },
      ...others.slice(0, 2).map((k): ConsensusEvent<FakeBlock> => ({ type: 'vote', now: 3, vote: signVote(k, { type: 'prevote', height: 1, round: 0, blockHash: a.blockHash, timestamp: 3 }) })),
    ];
    return { ...u, a, others, ...run(u.engine, u.engine.initialState(), events) };
  }

  it('prevotes the proposal, then locks and precommits it on 2/3 prevotes', () => {
    const t = lockedOnA();
    const votes = votesOf(t.effects);
    expect(votes.map((v) => [v.type, v.blockHash])).toEqual([['prevote', t.a.blockHash], ['precommit', t.a.blockHash]]);
    expect(status(t.state)).toMatchObject({ round: 0, step: 'precommit', lockedRound: 0, validRound: 0 });
    expect(votes[1]!.timestamp).toBeGreaterThan(GENESIS); // stamped after the block's time
  });

  it('moves to the next round on the precommit timeout, with a longer propose timeout', () => {
    const t = lockedOnA();
    const precommits = t.others.slice(0, 2).map((k): ConsensusEvent<FakeBlock> => ({ type: 'vote', now: 4, vote: signVote(k, { type: 'precommit', height: 1, round: 0, blockHash: null, timestamp: 4 }) }));
    const r = run(t.engine, t.state, [...precommits, { type: 'timeout', now: 60, height: 1, round: 0, step: 'precommit' }]);
    expect(r.effects.filter((e) => e.type === 'scheduleTimeout')).toEqual([
      { type: 'scheduleTimeout', height: 1, round: 0, step: 'precommit', durationMs: 50 },
      { type: 'scheduleTimeout', height: 1, round: 1, step: 'propose', durationMs: 110 },
    ]);
    expect(status(r.state)).toMatchObject({ round: 1, step: 'propose', lockedRound: 0 });
  });

  it('a locked validator prevotes nil for another block without a newer proof-of-lock', () => {
    const t = lockedOnA();
    const p1 = t.proposerKey(1);
    const b = blockFor(t.app, p1.address, 1);
    const r = run(t.engine, t.state, [
      { type: 'timeout', now: 60, height: 1, round: 0, step: 'precommit' },
      { type: 'proposal', now: 61, proposal: signProposal(p1, { height: 1, round: 1, polRound: -1, blockHash: b.blockHash, timestamp: b.block.time }), block: b.block },
    ]);
    expect(votesOf(r.effects).map((v) => [v.round, v.type, v.blockHash])).toEqual([[1, 'prevote', null]]);
  });

  it('unlocks for a block with a proof-of-lock from a later round', () => {
    const t = lockedOnA();
    const p1 = t.proposerKey(1);
    const p2 = t.proposerKey(2);
    const b = blockFor(t.app, p1.address, 1);
    const polka = t.others.map((k): ConsensusEvent<FakeBlock> => ({ type: 'vote', now: 62, vote: signVote(k, { type: 'prevote', height: 1, round: 1, blockHash: b.blockHash, timestamp: 62 }) }));
    const r = run(t.engine, t.state, [
      { type: 'timeout', now: 60, height: 1, round: 0, step: 'precommit' },
      { type: 'proposal', now: 61, proposal: signProposal(p1, { height: 1, round: 1, polRound: -1, blockHash: b.blockHash, timestamp: b.block.time }), block: b.block },
      ...polka,
      { type: 'timeout', now: 200, height: 1, round: 1, step: 'precommit' },
      { type: 'proposal', now: 201, proposal: signProposal(p2, { height: 1, round: 2, polRound: 1, blockHash: b.blockHash, timestamp: b.block.time }), block: b.block },
    ]);
    const round2 = votesOf(r.effects).filter((v) => v.round === 2);
    expect(round2.map((v) => [v.type, v.blockHash])).toEqual([['prevote', b.blockHash]]);
  });

  it('prevotes nil when the proposal does not arrive before the propose timeout', () => {
    const u = setup(4, 0);
    const r = run(u.engine, u.engine.initialState(), [
      { type: 'start', now: 1, context: u.context },
      { type: 'timeout', now: 101, height: 1, round: 0, step: 'propose' },
    ]);
    const votes = votesOf(r.effects);
    if (u.proposerKey(0) === u.self) expect(votes[0]!.blockHash).not.toBeNull();
    else expect(votes.map((v) => [v.type, v.blockHash])).toEqual([['prevote', null]]);
  });

  it('prevotes nil for an invalid block', () => {
    const u = setup(4, null);
    const p0 = u.proposerKey(0);
    const bad = new FakeApp({ buildsInvalidBlocks: true }).buildBlock({ height: 1, round: 0, time: GENESIS, proposer: p0.address, lastCommit: null, evidence: [] });
    const selfIndex = u.keys.findIndex((k) => k !== p0);
    const v = setup(4, selfIndex);
    const r = run(v.engine, v.engine.initialState(), [
      { type: 'start', now: 1, context: v.context },
      { type: 'proposal', now: 2, proposal: signProposal(p0, { height: 1, round: 0, polRound: -1, blockHash: bad.blockHash, timestamp: bad.block.time }), block: bad.block },
    ]);
    expect(votesOf(r.effects).map((x) => x.blockHash)).toEqual([null]);
  });

  it('skips to a later round when more than 1/3 of the power is already there', () => {
    const u = setup(4, 0);
    const others = u.keys.filter((k) => k !== u.self);
    const r = run(u.engine, u.engine.initialState(), [
      { type: 'start', now: 1, context: u.context },
      { type: 'vote', now: 2, vote: signVote(others[0]!, { type: 'prevote', height: 1, round: 3, blockHash: null, timestamp: 2 }) },
    ]);
    expect(status(r.state)!.round).toBe(0); // 1/4 of the power is not enough
    const r2 = u.engine.step(r.state, { type: 'vote', now: 3, vote: signVote(others[1]!, { type: 'precommit', height: 1, round: 3, blockHash: null, timestamp: 3 }) });
    expect(status(r2.state)!.round).toBe(3);
  });

  it('decides from a valid commit certificate and rejects a forged one', () => {
    const u = setup(4, 0);
    const p0 = u.proposerKey(0);
    const a = blockFor(u.app, p0.address, 0);
    const started = u.engine.step(u.engine.initialState(), { type: 'start', now: 1, context: u.context }).state;
    const forged = u.engine.step(started, { type: 'commitCertificate', now: 2, block: a.block, commit: makeCommit(u.keys.slice(0, 2), 1, 0, a.blockHash) });
    expect(forged.rejection).toMatchObject({ reason: 'invalid-commit', peerFault: true });
    expect(forged.state).toBe(started);
    const good = u.engine.step(started, { type: 'commitCertificate', now: 2, block: a.block, commit: makeCommit(u.keys.slice(0, 3), 1, 0, a.blockHash) });
    expect(good.effects.find((e) => e.type === 'commit')).toMatchObject({ height: 1, blockHash: a.blockHash });
  });
});

describe('engine: never signs twice at one height/round/step', () => {
  it('reuses the journaled vote instead of signing a conflicting one', () => {
    const u = setup(1, 0);
    const earlier = signVote(u.self!, { type: 'prevote', height: 1, round: 0, blockHash: HASH_B, timestamp: 1 });
    const state = restoreSigned(u.engine.initialState(), [{ kind: 'vote', vote: earlier }]);
    // The proposal step (1/0/proposal) is below the journaled prevote, so no proposal is signed;
    // at the propose timeout the engine would prevote nil, but it re-sends the prevote it already signed.
    const r = run(u.engine, state, [
      { type: 'start', now: 5, context: u.context },
      { type: 'timeout', now: 200, height: 1, round: 0, step: 'propose' },
    ]);
    expect(r.effects.some((e) => e.type === 'broadcastProposal')).toBe(false);
    const prevotes = votesOf(r.effects).filter((v) => v.type === 'prevote');
    expect(prevotes).toEqual([earlier]);
    expect(r.effects.some((e) => e.type === 'walWrite' && e.record.type === 'signed' && e.record.message.kind === 'vote' && e.record.message.vote.type === 'prevote')).toBe(false);
  });

  it('refuses to sign anything at or below the last signed height/round/step', () => {
    const u = setup(1, 0);
    const later = signVote(u.self!, { type: 'precommit', height: 1, round: 2, blockHash: null, timestamp: 1 });
    const state = restoreSigned(u.engine.initialState(), [{ kind: 'vote', vote: later }]);
    const r = u.engine.step(state, { type: 'start', now: 5, context: u.context });
    expect(r.effects.filter((e) => e.type === 'broadcastVote' || e.type === 'broadcastProposal')).toEqual([]);
    expect(r.effects.some((e) => e.type === 'commit')).toBe(false);
  });

  it('reuses a journaled proposal and its block instead of building a new one', () => {
    const u = setup(1, 0);
    const built = u.app.buildBlock({ height: 1, round: 0, time: GENESIS, proposer: u.self!.address, lastCommit: null, evidence: [] });
    const block = { ...built.block, txs: [...built.block.txs] };
    const proposal = signProposal(u.self!, { height: 1, round: 0, polRound: -1, blockHash: built.blockHash, timestamp: built.block.time });
    let builds = 0;
    const counting = createConsensus<FakeBlock>(u.engine.config, {
      app: { buildBlock: (c) => (builds++, u.app.buildBlock(c)), validateBlock: (h, b) => u.app.validateBlock(h, b) },
      sign: (b) => u.self!.signer.sign(b),
    });
    const state = restoreSigned(counting.initialState(), [{ kind: 'proposal', proposal, block }]);
    const r = counting.step(state, { type: 'start', now: 5, context: u.context });
    expect(builds).toBe(0);
    expect(r.effects.find((e) => e.type === 'broadcastProposal')).toMatchObject({ proposal });
    expect(r.effects.find((e) => e.type === 'commit')).toMatchObject({ blockHash: built.blockHash });
  });
});

describe('engine: proposer-based block time', () => {
  /** A validator (not the round-0 proposer) that receives the round-0 proposal of height 1 at `received`. */
  function receive(received: number, fields: { time?: number; timestamp?: number } = {}) {
    const t = setup(4, null);
    const p0 = t.proposerKey(0);
    const v = setup(4, t.keys.findIndex((k) => k !== p0));
    const built = v.app.buildBlock({ height: 1, round: 0, time: fields.time ?? 10_000, proposer: p0.address, lastCommit: null, evidence: [] });
    const proposal = signProposal(p0, { height: 1, round: 0, polRound: -1, blockHash: built.blockHash, timestamp: fields.timestamp ?? built.block.time });
    const r = run(v.engine, v.engine.initialState(), [
      { type: 'start', now: received, context: v.context },
      { type: 'proposal', now: received, proposal, block: built.block },
    ]);
    return votesOf(r.effects).map((x) => x.blockHash === null ? 'nil' : x.blockHash === built.blockHash ? 'block' : 'other');
  }

  it('the proposer stamps its block with its own clock, strictly after the previous block', () => {
    const { engine, context } = setup(1, 0);
    expect(engine.step(engine.initialState(), { type: 'start', now: 7_777, context }).effects.find((e) => e.type === 'commit')).toMatchObject({ time: 7_777 });
    const later = setup(1, 0, { height: 2 });
    const ctx = { ...later.context, previous: { ...later.context.previous!, time: 9_000 } };
    // A clock behind the previous block still gives a later block time.
    const built = later.engine.step(later.engine.initialState(), { type: 'start', now: 5, context: ctx }).effects.find((e) => e.type === 'broadcastProposal');
    expect(built).toMatchObject({ proposal: { timestamp: 9_001 } });
  });

  it('a validator prevotes a fresh proposal that arrives in time, and nil for one from too far in the past or the future', () => {
    expect(receive(10_000)).toEqual(['block']);
    expect(receive(10_000 + 2_000 + 500)).toEqual(['block']); // the message delay plus the clock precision
    expect(receive(10_000 + 2_000 + 501)).toEqual(['nil']); // arrived too late: the proposer's clock is far behind
    expect(receive(10_000 - 500)).toEqual(['block']);
    expect(receive(10_000 - 501)).toEqual(['nil']); // stamped in this validator's future beyond the precision
  });

  it('a proposal whose signed timestamp is not its block\'s time is prevoted nil', () => {
    expect(receive(10_000, { timestamp: 10_001 })).toEqual(['nil']);
  });

  it('a re-proposed locked block (with a proof-of-lock) needs no timeliness: its time was accepted by a polka', () => {
    const t = setup(4, null);
    const selfIndex = t.keys.findIndex((k) => k.address !== t.proposerKey(0).address && k.address !== t.proposerKey(1).address);
    const u = setup(4, selfIndex);
    const p0 = u.proposerKey(0);
    const p1 = u.proposerKey(1);
    const a = u.app.buildBlock({ height: 1, round: 0, time: 100, proposer: p0.address, lastCommit: null, evidence: [] });
    const others = u.keys.filter((k) => k !== u.self);
    const polka = others.map((k): ConsensusEvent<FakeBlock> => ({ type: 'vote', now: 101, vote: signVote(k, { type: 'prevote', height: 1, round: 0, blockHash: a.blockHash, timestamp: 101 }) }));
    const r = run(u.engine, u.engine.initialState(), [
      { type: 'start', now: 100, context: u.context },
      { type: 'timeout', now: 200, height: 1, round: 0, step: 'propose' },
      ...polka,
      { type: 'timeout', now: 300, height: 1, round: 0, step: 'prevote' },
      { type: 'timeout', now: 400, height: 1, round: 0, step: 'precommit' },
      // Round 1 re-proposes block a with polRound 0, long after its time.
      { type: 'proposal', now: 60_000, proposal: signProposal(p1, { height: 1, round: 1, polRound: 0, blockHash: a.blockHash, timestamp: a.block.time }), block: a.block },
    ]);
    expect(votesOf(r.effects).filter((v) => v.round === 1).map((v) => [v.type, v.blockHash])).toEqual([['prevote', a.blockHash]]);
  });

  it('a block not after the previous block is invalid (control: one ms later is fine)', () => {
    const vote = (time: number) => {
      const base = setup(4, null, { height: 2 });
      const p0 = base.proposerKey(0);
      const v = setup(4, base.keys.findIndex((k) => k !== p0), { height: 2 });
      const one = v.app.buildBlock({ height: 1, round: 0, time: 9_000, proposer: p0.address, lastCommit: null, evidence: [] });
      v.app.apply(one.block, one.blockHash); // the app is at height 1
      const previous = { ...v.context.previous!, time: 10_000 };
      const built = v.app.buildBlock({ height: 2, round: 0, time, proposer: p0.address, lastCommit: previous.commit, evidence: [] });
      const proposal = signProposal(p0, { height: 2, round: 0, polRound: -1, blockHash: built.blockHash, timestamp: time });
      const r = run(v.engine, v.engine.initialState(), [
        { type: 'start', now: 10_000, context: { ...v.context, previous } },
        { type: 'proposal', now: 10_000, proposal, block: built.block },
      ]);
      return votesOf(r.effects).map((x) => (x.blockHash === built.blockHash ? 'block' : String(x.blockHash)));
    };
    expect(vote(10_001)).toEqual(['block']);
    expect(vote(10_000)).toEqual(['null']);
  });
});

