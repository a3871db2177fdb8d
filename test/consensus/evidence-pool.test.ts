import { describe, expect, it } from 'vitest';
import {
  buildEvidenceWindow,
  createConsensus,
  evidenceKey,
  makeEvidence,
  MAX_EVIDENCE_PER_BLOCK,
  ownProposalContext,
  ProposerSchedule,
  proposalSignBytes,
  replay,
  type ConsensusEvent,
  type ConsensusState,
  type Effect,
  type Evidence,
  type HeightContext,
  type Proposal,
  type UnsignedProposal,
  type WalRecord,
} from '../../src/consensus/index.js';
import { toHex } from '../../src/util/bytes.js';
import { FakeApp, type FakeBlock } from '../../sim/fakeApp.js';
import { CHAIN, HASH_A, HASH_B, makeCommit, signVote, testKeys, valsetOf, type TestKey } from './helpers.js';

/**
 * The evidence pool (issue 9 #9): equivocations stay committable for a window of heights, survive
 * height changes and restarts, proposers include them, and validators prevote nil on a fresh
 * proposal that leaves out evidence they have held since before the previous height.
 */

const TIMEOUTS = { propose: { baseMs: 100, deltaMs: 10 }, prevote: { baseMs: 50, deltaMs: 5 }, precommit: { baseMs: 50, deltaMs: 5 } };
const keys = testKeys(4, 'pool');
const set = valsetOf(keys);
const schedule = new ProposerSchedule(set);
const byAddress = (address: string): TestKey => keys.find((k) => k.address === address)!;
/** The equivocator: never this test's own validator. */
const cheat = keys[3]!;

function engineFor(self: TestKey | null, app = new FakeApp()) {
  const engine = createConsensus<FakeBlock>(
    { chainId: CHAIN, self: self?.address ?? null, timeouts: TIMEOUTS, maxRoundsAhead: 10 },
    { app, sign: (b) => self!.signer.sign(b) },
  );
  return { engine, app };
}

/** The context of `height` with a window of `size` heights and the given committed keys. */
function contextAt(height: number, opts: { size?: number; committed?: string[] } = {}): HeightContext {
  return {
    height,
    validators: set,
    previous: height === 1 ? null : { blockHash: HASH_A, time: 0, commit: makeCommit(keys, height - 1, 0, HASH_A), validators: set },
    genesisTime: 0,
    evidenceWindow: buildEvidenceWindow(height, () => set, opts.committed ?? [], opts.size ?? 100),
  };
}

/** Two conflicting prevotes of the cheat at `height`. */
function equivocation(height: number, round = 0): Evidence {
  const a = signVote(cheat, { type: 'prevote', height, round, blockHash: HASH_A, timestamp: 1 });
  const b = signVote(cheat, { type: 'prevote', height, round, blockHash: HASH_B, timestamp: 2 });
  return makeEvidence(a, b);
}

function run(engine: ReturnType<typeof engineFor>['engine'], state: ConsensusState<FakeBlock>, events: ConsensusEvent<FakeBlock>[]) {
  const effects: Effect<FakeBlock>[] = [];
  const rejections: string[] = [];
  for (const e of events) {
    const r = engine.step(state, e);
    state = r.state;
    effects.push(...r.effects);
    if (r.rejection) rejections.push(r.rejection.reason);
  }
  return { state, effects, rejections };
}

/** A FakeApp that has applied `height` blocks (so it validates blocks of height + 1). */
function appAt(height: number): FakeApp {
  const app = new FakeApp();
  for (let h = 1; h <= height; h++) {
    const b = app.buildBlock({ height: h, round: 0, time: h, proposer: keys[0]!.address, lastCommit: null, evidence: [] });
    app.apply(b.block, b.blockHash);
  }
  return app;
}

function signProposal(key: TestKey, fields: Omit<UnsignedProposal, 'proposer' | 'chainId'>): Proposal {
  const unsigned: UnsignedProposal = { chainId: CHAIN, ...fields, proposer: key.address };
  return { ...unsigned, signature: toHex(key.signer.sign(proposalSignBytes(unsigned))) };
}

const prevotes = (effects: readonly Effect<FakeBlock>[]) => effects.flatMap((e) => (e.type === 'broadcastVote' && e.vote.type === 'prevote' ? [e.vote.blockHash] : []));

describe('evidence pool: what it accepts', () => {
  const { engine } = engineFor(null);

  it('accepts evidence from any height of the window, verified against that height\'s set', () => {
    const r = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: contextAt(50) },
      { type: 'evidence', now: 2, evidence: equivocation(5) },
    ]);
    expect(r.rejections).toEqual([]);
    expect(r.state.evidencePool.map(evidenceKey)).toEqual([evidenceKey(equivocation(5))]);
    expect(r.effects.filter((e) => e.type === 'evidence')).toHaveLength(1); // gossiped on
  });

  it('refuses evidence older than the window, already committed, or invalid — pool unchanged', () => {
    const committed = [evidenceKey(equivocation(30))];
    const started = run(engine, engine.initialState(), [{ type: 'start', now: 1, context: contextAt(50, { size: 20, committed }) }]).state;
    const forged = { ...equivocation(40), voteB: { ...equivocation(40).voteB, blockHash: 'cc'.repeat(32) } };
    for (const [ev, reason] of [
      [equivocation(29), 'evidence-out-of-window'],
      [equivocation(30), 'evidence-committed'],
      [forged, 'invalid-evidence'],
    ] as const) {
      const r = engine.step(started, { type: 'evidence', now: 2, evidence: ev });
      expect(r.rejection?.reason).toBe(reason);
      expect(r.state.evidencePool).toEqual([]);
    }
  });

  it('keeps the pool across heights until it leaves the window or is committed', () => {
    const ev = equivocation(10);
    let s = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: contextAt(11) },
      { type: 'evidence', now: 2, evidence: ev },
    ]).state;
    s = run(engine, s, [{ type: 'start', now: 3, context: contextAt(60) }]).state;
    expect(s.evidencePool).toHaveLength(1);
    s = run(engine, s, [{ type: 'start', now: 4, context: contextAt(111) }]).state; // window 11…110
    expect(s.evidencePool).toHaveLength(0);
    const t = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: contextAt(11) },
      { type: 'evidence', now: 2, evidence: ev },
      { type: 'start', now: 3, context: contextAt(12, { committed: [evidenceKey(ev)] }) },
    ]).state;
    expect(t.evidencePool).toHaveLength(0);
  });

  it('survives a restart: the start record in the WAL carries the pool', () => {
    const ev = equivocation(10);
    const first = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: contextAt(11) },
      { type: 'evidence', now: 2, evidence: ev },
      { type: 'start', now: 3, context: contextAt(12) },
    ]);
    const records = first.effects.flatMap((e) => (e.type === 'walWrite' ? [e.record] : []));
    // The WAL is rotated before each start: keep only the last height's records.
    const lastStart = records.map((r) => r.type === 'input' && r.event.type === 'start').lastIndexOf(true);
    const restored = replay(engine, records.slice(lastStart) as WalRecord<FakeBlock>[]);
    expect(restored.state.evidencePool.map(evidenceKey)).toEqual([evidenceKey(ev)]);
  });

  it('turns a late conflicting vote of the previous height into evidence', () => {
    const k1 = keys[1]!;
    const { engine: e2 } = engineFor(null);
    const honest = signVote(k1, { type: 'prevote', height: 1, round: 0, blockHash: HASH_A, timestamp: 5 });
    const late = signVote(k1, { type: 'prevote', height: 1, round: 0, blockHash: null, timestamp: 6 });
    const r = run(e2, e2.initialState(), [
      { type: 'start', now: 1, context: contextAt(1) },
      { type: 'vote', now: 2, vote: honest },
      { type: 'start', now: 3, context: contextAt(2) },
      { type: 'vote', now: 4, vote: late },
    ]);
    expect(r.state.evidencePool.map(evidenceKey)).toEqual([`${k1.address}/1/0/prevote`]);
    // Control: a late copy of the same vote is no evidence.
    const c = run(e2, e2.initialState(), [
      { type: 'start', now: 1, context: contextAt(1) },
      { type: 'vote', now: 2, vote: honest },
      { type: 'start', now: 3, context: contextAt(2) },
      { type: 'vote', now: 4, vote: honest },
    ]);
    expect(c.state.evidencePool).toEqual([]);
  });
});

describe('evidence pool: proposals', () => {
  const height = 20;
  const proposer = byAddress(schedule.proposerAt(0));

  it('the proposer includes its pool, oldest first, up to the per-block cap', () => {
    const { engine } = engineFor(proposer, appAt(height - 1));
    const r = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: contextAt(height - 1) },
      { type: 'evidence', now: 2, evidence: equivocation(15) },
      { type: 'evidence', now: 3, evidence: equivocation(12) },
      { type: 'start', now: 4, context: contextAt(height) },
    ]);
    const proposal = r.effects.find((e) => e.type === 'broadcastProposal' && e.proposal.height === height);
    expect(proposal?.type === 'broadcastProposal' && proposal.block.evidence.map((ev) => ev.voteA.height)).toEqual([12, 15]);
    expect(MAX_EVIDENCE_PER_BLOCK).toBe(50);
  });

  /** A validator (not the proposer) holding `pool` judges a fresh proposal carrying `included`. */
  function judge(pool: Evidence[], included: Evidence[], opts: { committed?: string[]; size?: number } = {}) {
    const self = keys.find((k) => k !== proposer && k !== cheat)!;
    const app = appAt(height - 1);
    const { engine } = engineFor(self, app);
    const context = contextAt(height, opts);
    const built = app.buildBlock({ height, round: 0, time: 1000, proposer: proposer.address, lastCommit: context.previous!.commit, evidence: included });
    const proposal = signProposal(proposer, { height, round: 0, polRound: -1, blockHash: built.blockHash, timestamp: 1000 });
    const r = run(engine, engine.initialState(), [
      { type: 'start', now: 900, context: contextAt(height - 1) },
      ...pool.map((evidence): ConsensusEvent<FakeBlock> => ({ type: 'evidence', now: 901, evidence })),
      { type: 'start', now: 1000, context },
      { type: 'proposal', now: 1000, proposal, block: built.block },
    ]);
    const regossiped = r.effects.filter((e) => e.type === 'evidence' && e.evidence.voteA.height !== height - 1).length;
    return { vote: prevotes(r.effects).map((h) => (h === built.blockHash ? 'block' : 'nil'))[0], regossiped };
  }

  it('prevotes nil on a proposal that leaves out evidence held since before the previous height, and gossips it again', () => {
    const old = equivocation(10);
    expect(judge([old], [])).toEqual({ vote: 'nil', regossiped: 2 }); // once on receipt, once when the proposal left it out
    expect(judge([old], [old]).vote).toBe('block');
  });

  it('does not require evidence of the previous height (the proposer may not have it yet)', () => {
    expect(judge([equivocation(height - 1)], []).vote).toBe('block');
  });

  it('a block with evidence outside the window, already committed, or twice is invalid', () => {
    const ev = equivocation(10);
    expect(judge([], [ev], { size: 5 }).vote).toBe('nil');
    expect(judge([], [ev], { committed: [evidenceKey(ev)] }).vote).toBe('nil');
    expect(judge([], [ev, ev]).vote).toBe('nil');
    expect(judge([], [ev]).vote).toBe('block'); // control
  });
});

describe('ownProposalContext (ADR 0024: the driver prepares what the engine will ask for)', () => {
  const proposer = byAddress(schedule.proposerAt(0));
  const config = { chainId: CHAIN, self: proposer.address, timeouts: TIMEOUTS, maxRoundsAhead: 10 };

  it('is the context the engine passes to buildBlock at the next start: time, last commit, the carried evidence', () => {
    const app = appAt(49);
    const asked: unknown[] = [];
    const build = app.buildBlock.bind(app);
    app.buildBlock = (ctx) => {
      asked.push(ctx);
      return build(ctx);
    };
    const { engine } = engineFor(proposer, app);
    // Height 49 with evidence of heights 5, 48 and 49 in the pool; the next height's window starts at 6.
    const before = run(engine, engine.initialState(), [
      { type: 'start', now: 1, context: { ...contextAt(49), evidenceWindow: buildEvidenceWindow(49, () => set, [], 44) } },
      { type: 'evidence', now: 2, evidence: equivocation(5) },
      { type: 'evidence', now: 3, evidence: equivocation(48) },
      { type: 'evidence', now: 4, evidence: equivocation(49) },
    ]).state;
    asked.length = 0;
    const next = { ...contextAt(50), evidenceWindow: buildEvidenceWindow(50, () => set, [], 44) };
    const predicted = ownProposalContext(config, before, next, 7_000);
    run(engine, before, [{ type: 'start', now: 7_000, context: next }]);
    expect(asked).toEqual([predicted]);
    expect(predicted!.evidence.map((e) => e.voteA.height)).toEqual([48, 49]);
  });

  it('is null when another validator proposes first, or when the proposal of round 0 is already signed', () => {
    const other = keys.find((k) => k.address !== proposer.address)!;
    expect(ownProposalContext({ ...config, self: other.address }, initialStateOf(), contextAt(2), 10)).toBeNull();
    expect(ownProposalContext({ ...config, self: null }, initialStateOf(), contextAt(2), 10)).toBeNull();
    const { engine } = engineFor(proposer, appAt(1));
    const signed = run(engine, engine.initialState(), [{ type: 'start', now: 5, context: contextAt(2) }]).state;
    expect(ownProposalContext(config, signed, contextAt(2), 10)).toBeNull();
  });
});

function initialStateOf(): ConsensusState<FakeBlock> {
  return engineFor(null).engine.initialState();
}
