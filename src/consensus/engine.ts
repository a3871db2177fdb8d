/**
 * Tendermint consensus (Buchman, Kwon, Milosevic 2018, "The latest gossip on BFT consensus",
 * Algorithm 1) as a pure state machine: `step(state, event) → { state, effects, rejection? }`.
 *
 * No I/O, clock, randomness or floats. The driver supplies time in every event (`now`, integer ms),
 * executes effects in order, and feeds back timeouts, network messages and the next height's start.
 * States are immutable values: `step` never mutates its input state.
 *
 * Effect contract (the driver MUST honour it):
 *  - `walWrite`: append the record to the WAL. Before executing any later `broadcastProposal` or
 *    `broadcastVote` of the same step, the driver MUST fsync the WAL. (Records that are not followed
 *    by a broadcast may be fsynced lazily: losing them is equivalent to losing received messages.)
 *  - `broadcastProposal` / `broadcastVote`: gossip to all peers. Own messages are already applied.
 *  - `scheduleTimeout`: after `durationMs`, deliver `{ type: 'timeout', height, round, step }`.
 *    Stale timeouts are ignored, so timers never need cancelling.
 *  - `commit`: the block is decided. Execute and store it atomically, then (after any block interval
 *    the node wants) deliver `start` for the next height.
 *  - `evidence`: gossip the evidence to peers (deliver it to them as an `evidence` event).
 *
 * Block time is proposer-based (as in CometBFT's PBTS): the proposer stamps its block with its own
 * clock (strictly after the previous block), the proposal carries the same timestamp, and a validator
 * prevotes for a fresh proposal (no proof-of-lock) only when it arrived in time by its own clock:
 * `timestamp − precision ≤ received ≤ timestamp + messageDelay(round) + precision`. A re-proposed
 * locked block needs no timeliness (its time was accepted by a polka). So a block's time is close to
 * when it was proposed, bounded by the validators' clocks, and always increases.
 */
import { toHex } from '../util/bytes.js';
import { hasOneThird, hasTwoThirds, maxInt } from './intmath.js';
import { floorDiv } from '../util/int.js';
import { verifyCommit, type Commit } from './commit.js';
import { evidenceKey, makeEvidence, MAX_EVIDENCE_PER_BLOCK, verifyEvidence, windowValset, type Evidence, type EvidenceWindow } from './evidence.js';
import {
  isWellFormedCommit,
  isWellFormedEvidence,
  isWellFormedProposal,
  isWellFormedVote,
  proposalSignBytes,
  proposalSignatureValid,
  voteSignBytes,
  voteSignatureValid,
  type Proposal,
  type UnsignedProposal,
  type UnsignedVote,
  type Vote,
  type VoteType,
} from './messages.js';
import { compareStrings, ProposerSchedule, type ValidatorSet } from './validators.js';

// ───────────────────────────── configuration and injected dependencies ─────────────────────────────

export type Step = 'propose' | 'prevote' | 'precommit';

/** A timeout of round r lasts base + r × delta milliseconds (rounds grow so a slow network catches up). */
export interface TimeoutParams {
  readonly baseMs: number;
  readonly deltaMs: number;
}

export interface ConsensusConfig {
  readonly chainId: string;
  /** This node's validator address, or null for a node that follows without signing. */
  readonly self: string | null;
  readonly timeouts: { readonly propose: TimeoutParams; readonly prevote: TimeoutParams; readonly precommit: TimeoutParams };
  /** Messages for rounds further than this beyond the current one are rejected (bounds memory and work). */
  readonly maxRoundsAhead: number;
  /** Synchrony bounds of proposer-based time (default DEFAULT_SYNCHRONY). */
  readonly synchrony?: SynchronyParams;
}

/**
 * Bounds of proposer-based block time. `precisionMs`: the largest difference between two correct
 * validators' clocks. `messageDelayMs`: the longest a proposal may take to reach a validator in round
 * 0; it grows by a tenth per round (in integers) so that a slow network eventually gets a timely
 * proposal through.
 */
export interface SynchronyParams {
  readonly precisionMs: number;
  readonly messageDelayMs: number;
}

export const DEFAULT_SYNCHRONY: SynchronyParams = { precisionMs: 500, messageDelayMs: 2000 };

/** True when a fresh proposal stamped `timestamp` and received at `received` in `round` is timely. */
export function isTimely(timestamp: number, received: number, round: number, s: SynchronyParams): boolean {
  const delay = s.messageDelayMs + floorDiv(s.messageDelayMs * round, 10);
  return received >= timestamp - s.precisionMs && received <= timestamp + delay + s.precisionMs;
}

export const DEFAULT_TIMEOUTS: ConsensusConfig['timeouts'] = {
  propose: { baseMs: 1000, deltaMs: 500 },
  prevote: { baseMs: 500, deltaMs: 250 },
  precommit: { baseMs: 500, deltaMs: 250 },
};
export const DEFAULT_MAX_ROUNDS_AHEAD = 1000;

/** What the proposer's block must commit to; the app puts these fields in the block header. */
export interface BlockContext {
  readonly height: number;
  readonly round: number;
  /** Block time: the proposer's clock, strictly after the previous block (block 1: not before genesis). */
  readonly time: number;
  readonly proposer: string;
  readonly lastCommit: Commit | null;
  /** Evidence the block must include: the pool's, oldest first, at most MAX_EVIDENCE_PER_BLOCK. */
  readonly evidence: readonly Evidence[];
}

/** The consensus-relevant header fields of a block, as the app decoded them; the engine checks them. */
export interface BlockInfo {
  readonly time: number;
  readonly proposer: string;
  readonly lastCommit: Commit | null;
  readonly evidence: readonly Evidence[];
}

export type BlockValidation = { ok: true; blockHash: string; info: BlockInfo } | { ok: false; reason: string };

/** The application, synchronous and deterministic. Blocks must be plain JSON data (bigint allowed) for the WAL. */
export interface ConsensusApp<B> {
  buildBlock(ctx: BlockContext): { blockHash: string; block: B };
  /** Full validation (transactions, state root…). Must not depend on anything but committed state and the block. */
  validateBlock(height: number, block: B): BlockValidation;
}

export interface ConsensusDeps<B> {
  readonly app: ConsensusApp<B>;
  /** Deterministic Ed25519 signature with this validator's key. */
  readonly sign: (bytes: Uint8Array) => Uint8Array;
}

export interface PreviousHeight {
  readonly blockHash: string;
  readonly time: number;
  readonly commit: Commit;
  readonly validators: ValidatorSet;
}

/** Everything the engine needs to run one height; the driver builds it from committed state. */
export interface HeightContext {
  readonly height: number;
  readonly validators: ValidatorSet;
  /** The committed previous block; null only at height 1. */
  readonly previous: PreviousHeight | null;
  /** Block 1 is not stamped before this time. */
  readonly genesisTime: number;
  /**
   * Heights whose evidence this height may still commit, their validator sets and what is already
   * committed. Without it only the previous height's evidence is committable (engine tests).
   */
  readonly evidenceWindow?: EvidenceWindow;
}

// ───────────────────────────── events, effects, rejections ─────────────────────────────

export type ConsensusEvent<B> =
  /** `evidence`: the pool carried over, written by the engine into the WAL so a restart keeps it. */
  | { readonly type: 'start'; readonly now: number; readonly context: HeightContext; readonly evidence?: readonly Evidence[] }
  | { readonly type: 'timeout'; readonly now: number; readonly height: number; readonly round: number; readonly step: Step }
  | { readonly type: 'proposal'; readonly now: number; readonly proposal: Proposal; readonly block: B }
  | { readonly type: 'vote'; readonly now: number; readonly vote: Vote }
  | { readonly type: 'evidence'; readonly now: number; readonly evidence: Evidence }
  /** A decided block with its commit (catch-up for a node that missed the precommits of the current height). */
  | { readonly type: 'commitCertificate'; readonly now: number; readonly block: B; readonly commit: Commit };

export type SignedMessage<B> = { readonly kind: 'vote'; readonly vote: Vote } | { readonly kind: 'proposal'; readonly proposal: Proposal; readonly block: B };

export type WalRecord<B> = { readonly type: 'input'; readonly event: ConsensusEvent<B> } | { readonly type: 'signed'; readonly message: SignedMessage<B> };

export type Effect<B> =
  | { readonly type: 'walWrite'; readonly record: WalRecord<B> }
  | { readonly type: 'broadcastProposal'; readonly proposal: Proposal; readonly block: B }
  | { readonly type: 'broadcastVote'; readonly vote: Vote }
  | { readonly type: 'scheduleTimeout'; readonly height: number; readonly round: number; readonly step: Step; readonly durationMs: number }
  | {
      readonly type: 'commit';
      readonly height: number;
      readonly round: number;
      readonly blockHash: string;
      readonly block: B;
      readonly commit: Commit;
      readonly time: number;
      readonly evidence: readonly Evidence[];
    }
  | { readonly type: 'evidence'; readonly evidence: Evidence };

export type RejectReason =
  | 'not-started'
  | 'malformed'
  | 'wrong-chain'
  | 'old-height'
  | 'future-height'
  | 'already-decided'
  | 'unknown-validator'
  | 'round-out-of-range'
  | 'wrong-proposer'
  | 'bad-pol-round'
  | 'bad-signature'
  | 'block-hash-mismatch'
  | 'duplicate'
  | 'conflicting-proposal'
  | 'stale-timeout'
  | 'stale-start'
  | 'evidence-out-of-window'
  | 'evidence-committed'
  | 'evidence-pool-full'
  | 'invalid-evidence'
  | 'invalid-commit'
  | 'invalid-block';

/** Reasons that prove the sending peer is broken or malicious (honest peers never relay such messages). */
const PEER_FAULTS: ReadonlySet<RejectReason> = new Set<RejectReason>([
  'malformed',
  'wrong-chain',
  'unknown-validator',
  'round-out-of-range',
  'wrong-proposer',
  'bad-pol-round',
  'bad-signature',
  'block-hash-mismatch',
  'invalid-evidence',
  'invalid-commit',
]);

export interface Rejection {
  readonly reason: RejectReason;
  /** True when the peer that sent the message should be penalised. */
  readonly peerFault: boolean;
  readonly detail: string;
  /** Height of the rejected message, if it had one (lets the driver help a lagging peer or start block sync). */
  readonly height?: number;
  /** True when the message was kept to be processed at the next height. */
  readonly buffered?: boolean;
}

export interface StepResult<B> {
  readonly state: ConsensusState<B>;
  readonly effects: readonly Effect<B>[];
  readonly rejection?: Rejection;
}

// ───────────────────────────── state ─────────────────────────────

const NIL = 'nil';

/**
 * The votes of one round and type. An equivocator's conflicting votes are kept too (a bounded number)
 * and counted for their own block: it is byzantine power, which the safety argument lets count toward
 * any quorum, and without it honest nodes that saw different first votes could never see the same
 * proof-of-lock (CometBFT solves the same problem with peer-claimed majorities).
 */
export interface VoteSet {
  /** First vote of each validator. */
  readonly byValidator: ReadonlyMap<string, Vote>;
  /** Further votes of equivocating validators, for other blocks. */
  readonly conflicting: ReadonlyMap<string, readonly Vote[]>;
  /** Power per block hash (NIL for nil votes). */
  readonly powerFor: ReadonlyMap<string, bigint>;
  readonly total: bigint;
}

interface AcceptedProposal {
  readonly proposal: Proposal;
  /** False when the app or the consensus checks rejected the block: we prevote nil. */
  readonly valid: boolean;
  /** Whether it arrived in time by this validator's clock (own proposals always do). */
  readonly timely: boolean;
  /** Whether it carries the evidence this validator has held long enough for the proposer to have it. */
  readonly complete: boolean;
}

interface RoundState {
  readonly proposal: AcceptedProposal | null;
  readonly prevotes: VoteSet;
  readonly precommits: VoteSet;
}

interface KnownBlock<B> {
  readonly block: B;
  readonly time: number;
  readonly evidence: readonly Evidence[];
}

interface Decision<B> {
  readonly time: number;
  readonly round: number;
  readonly blockHash: string;
  readonly block: B;
  readonly commit: Commit;
}

interface Lock {
  readonly round: number;
  readonly blockHash: string;
}

export interface HeightState<B> {
  readonly context: HeightContext;
  /** Pure-function memo of the proposers of this height's rounds. */
  readonly schedule: ProposerSchedule;
  readonly round: number;
  readonly step: Step;
  readonly rounds: ReadonlyMap<number, RoundState>;
  /** Valid blocks seen in proposals of this height, by hash. */
  readonly blocks: ReadonlyMap<string, KnownBlock<B>>;
  readonly locked: Lock | null;
  readonly valid: Lock | null;
  /** One-shot rules already fired ("for the first time" in the paper). */
  readonly fired: ReadonlySet<string>;
  readonly decision: Decision<B> | null;
}

export interface PreviousVotes {
  readonly height: number;
  readonly validators: ValidatorSet;
  /** By `validator/round/type`. */
  readonly votes: ReadonlyMap<string, Vote>;
}

export interface HRS {
  readonly height: number;
  readonly round: number;
  readonly step: 'proposal' | VoteType;
}

/** Everything this validator signed at the current height, and the highest height/round/step it ever signed. */
export interface SignerJournal<B> {
  readonly last: HRS | null;
  readonly messages: ReadonlyMap<string, SignedMessage<B>>;
}

export interface ConsensusState<B> {
  readonly current: HeightState<B> | null;
  readonly signer: SignerJournal<B>;
  /** Verified evidence not yet committed, from heights still in the window. */
  readonly evidencePool: readonly Evidence[];
  /** The first vote of each validator, round and type of the height before the current one: a late conflicting vote is evidence. */
  readonly previousVotes: PreviousVotes | null;
  /** Messages for the next height, kept until it starts. */
  readonly pending: readonly ConsensusEvent<B>[];
}

export interface ConsensusStatus {
  readonly height: number;
  readonly round: number;
  readonly step: Step | 'decided';
  readonly lockedRound: number;
  readonly validRound: number;
}

export interface Consensus<B> {
  readonly config: ConsensusConfig;
  initialState(): ConsensusState<B>;
  step(state: ConsensusState<B>, event: ConsensusEvent<B>): StepResult<B>;
}

// ───────────────────────────── public helpers ─────────────────────────────

export function initialState<B>(): ConsensusState<B> {
  return { current: null, signer: { last: null, messages: new Map() }, evidencePool: [], previousVotes: null, pending: [] };
}

export function status<B>(state: ConsensusState<B>): ConsensusStatus | null {
  const h = state.current;
  if (!h) return null;
  return {
    height: h.context.height,
    round: h.round,
    step: h.decision ? 'decided' : h.step,
    lockedRound: h.locked?.round ?? -1,
    validRound: h.valid?.round ?? -1,
  };
}

export function isPeerFault(reason: RejectReason): boolean {
  return PEER_FAULTS.has(reason);
}

export function timeoutMs(config: ConsensusConfig, step: Step, round: number): number {
  const t = config.timeouts[step];
  return t.baseMs + round * t.deltaMs;
}

/**
 * Messages the driver should re-gossip periodically (Tendermint relies on eventual delivery):
 * the current round's proposal with its block, this validator's own votes of the current round, and
 * the proof-of-lock prevotes (anyone's) behind the current proposal's polRound and behind this
 * validator's valid block. Without the last, a validator that missed an earlier round's prevotes (it
 * was restarting, or a link was down) never gets them: it prevotes nil on every re-proposal of the
 * locked block while the locked validators prevote nil on every new block — a livelock the crash
 * battery hit (4 validators, two locked in round 0, the chain stuck for good).
 */
export function gossipMessages<B>(state: ConsensusState<B>): Effect<B>[] {
  const h = state.current;
  if (!h || h.decision) return [];
  const out: Effect<B>[] = [];
  const rs = h.rounds.get(h.round);
  const known = rs?.proposal ? h.blocks.get(rs.proposal.proposal.blockHash) : undefined;
  if (rs?.proposal && known) out.push({ type: 'broadcastProposal', proposal: rs.proposal.proposal, block: known.block });
  for (const m of state.signer.messages.values()) {
    if (m.kind === 'vote' && m.vote.height === h.context.height && m.vote.round === h.round) out.push({ type: 'broadcastVote', vote: m.vote });
    if (m.kind === 'proposal' && m.proposal.height === h.context.height && m.proposal.round === h.round && !known) {
      out.push({ type: 'broadcastProposal', proposal: m.proposal, block: m.block });
    }
  }
  for (const vote of proofOfLockVotes(h, rs)) out.push({ type: 'broadcastVote', vote });
  return out;
}

/** The prevotes this validator holds for the polkas a re-proposal needs: the current proposal's polRound and its own valid block. */
function proofOfLockVotes<B>(h: HeightState<B>, current: RoundState | undefined): Vote[] {
  const polkas: Lock[] = [];
  const p = current?.proposal?.proposal;
  if (p && p.polRound >= 0) polkas.push({ round: p.polRound, blockHash: p.blockHash });
  if (h.valid && !polkas.some((l) => l.round === h.valid!.round && l.blockHash === h.valid!.blockHash)) polkas.push(h.valid);
  return polkas.flatMap((lock) => {
    const prevotes = h.rounds.get(lock.round)?.prevotes;
    if (!prevotes || lock.round === h.round) return []; // the current round's votes travel on their own
    return [...prevotes.byValidator.keys()].flatMap((validator) => votesOf(prevotes, validator).filter((v) => v.blockHash === lock.blockHash));
  });
}

/** Signed messages restored from a WAL: the validator will reuse them and never sign anything conflicting. */
export function restoreSigned<B>(state: ConsensusState<B>, messages: readonly SignedMessage<B>[]): ConsensusState<B> {
  let signer = state.signer;
  for (const m of messages) {
    const hrs = hrsOf(m);
    const map = new Map(signer.messages);
    map.set(hrsKey(hrs), m);
    signer = { last: signer.last && compareHRS(signer.last, hrs) >= 0 ? signer.last : hrs, messages: map };
  }
  return { ...state, signer };
}

/** The context of the height after the decided one, for the driver's next `start` event. */
export function contextAfterDecision<B>(state: ConsensusState<B>, nextValidators: ValidatorSet): HeightContext | null {
  const h = state.current;
  const d = h?.decision;
  if (!h || !d) return null;
  return {
    height: h.context.height + 1,
    validators: nextValidators,
    previous: { blockHash: d.blockHash, time: d.time, commit: d.commit, validators: h.context.validators },
    genesisTime: h.context.genesisTime,
  };
}

/**
 * The context the engine will pass to `buildBlock` when `start` with `context` arrives at `now`, if
 * this validator proposes a new block in round 0 of that height (else null). The driver uses it to
 * prepare the block before delivering `start` (ADR 0024): the same helpers compute it as the engine
 * does, and an answer that no longer matches when `start` arrives is simply not used.
 */
export function ownProposalContext<B>(config: ConsensusConfig, state: ConsensusState<B>, context: HeightContext, now: number): BlockContext | null {
  if (config.self === null || new ProposerSchedule(context.validators).proposerAt(0) !== config.self) return null;
  if (state.signer.messages.has(hrsKey({ height: context.height, round: 0, step: 'proposal' }))) return null;
  return {
    height: context.height,
    round: 0,
    time: blockTimeFor(context, now),
    proposer: config.self,
    lastCommit: context.previous?.commit ?? null,
    evidence: committableEvidence(carriedEvidence(context, state.evidencePool), context.height),
  };
}

export function createConsensus<B>(config: ConsensusConfig, deps: ConsensusDeps<B>): Consensus<B> {
  return {
    config,
    initialState: () => initialState<B>(),
    step: (state, event) => {
      const tx: Tx<B> = { config, deps, s: state, effects: [], now: event.now };
      const rejection = dispatch(tx, event);
      return rejection ? { state: tx.s, effects: tx.effects, rejection } : { state: tx.s, effects: tx.effects };
    },
  };
}

// ───────────────────────────── internals ─────────────────────────────

/** The working copy of one step: the state is replaced (never mutated) as rules fire. */
interface Tx<B> {
  readonly config: ConsensusConfig;
  readonly deps: ConsensusDeps<B>;
  s: ConsensusState<B>;
  readonly effects: Effect<B>[];
  readonly now: number;
}

function reject(reason: RejectReason, detail: string, extra: { height?: number; buffered?: boolean } = {}): Rejection {
  return { reason, peerFault: isPeerFault(reason), detail, ...extra };
}

function dispatch<B>(tx: Tx<B>, event: ConsensusEvent<B>): Rejection | undefined {
  if (!Number.isSafeInteger(event.now) || event.now < 0) return reject('malformed', 'event time must be a non-negative integer');
  switch (event.type) {
    case 'start':
      return onStart(tx, event);
    case 'timeout':
      return onTimeout(tx, event);
    case 'proposal':
      return onProposal(tx, event);
    case 'vote':
      return onVote(tx, event);
    case 'evidence':
      return onEvidence(tx, event);
    case 'commitCertificate':
      return onCommitCertificate(tx, event);
    default:
      return reject('malformed', 'unknown event type');
  }
}

function emit<B>(tx: Tx<B>, effect: Effect<B>): void {
  tx.effects.push(effect);
}

function logInput<B>(tx: Tx<B>, event: ConsensusEvent<B>): void {
  emit(tx, { type: 'walWrite', record: { type: 'input', event } });
}

function cur<B>(tx: Tx<B>): HeightState<B> {
  const h = tx.s.current;
  if (!h) throw new Error('consensus: no height in progress');
  return h;
}

function setHeight<B>(tx: Tx<B>, patch: Partial<HeightState<B>>): void {
  tx.s = { ...tx.s, current: { ...cur(tx), ...patch } };
}

const EMPTY_VOTES: VoteSet = { byValidator: new Map(), conflicting: new Map(), powerFor: new Map(), total: 0n };
const EMPTY_ROUND: RoundState = { proposal: null, prevotes: EMPTY_VOTES, precommits: EMPTY_VOTES };

function roundState<B>(h: HeightState<B>, round: number): RoundState {
  return h.rounds.get(round) ?? EMPTY_ROUND;
}

function setRound<B>(tx: Tx<B>, round: number, patch: Partial<RoundState>): void {
  const h = cur(tx);
  const rounds = new Map(h.rounds);
  rounds.set(round, { ...roundState(h, round), ...patch });
  setHeight(tx, { rounds });
}

function fire<B>(tx: Tx<B>, key: string): boolean {
  const h = cur(tx);
  if (h.fired.has(key)) return false;
  setHeight(tx, { fired: new Set(h.fired).add(key) });
  return true;
}

// ── start ──

function onStart<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'start' }>): Rejection | undefined {
  const ctx = event.context;
  const prev = tx.s.current;
  if (prev && ctx.height <= prev.context.height) return reject('stale-start', `height ${ctx.height} is not after ${prev.context.height}`);
  if ((ctx.height === 1) !== (ctx.previous === null)) return reject('malformed', 'previous block is required exactly above height 1');
  const evidencePool = carriedEvidence(ctx, [...tx.s.evidencePool, ...(event.evidence ?? [])]);
  // The start record carries the pool: replaying the WAL after a crash restores it.
  logInput(tx, { ...event, evidence: evidencePool });
  const pending = tx.s.pending.filter((e) => eventHeight(e) === ctx.height);
  tx.s = {
    ...tx.s,
    previousVotes: prev && prev.context.height === ctx.height - 1 ? votesOfHeight(prev) : null,
    current: {
      context: ctx,
      schedule: new ProposerSchedule(ctx.validators),
      round: 0,
      step: 'propose',
      rounds: new Map(),
      blocks: new Map(),
      locked: null,
      valid: null,
      fired: new Set(),
      decision: null,
    },
    signer: pruneJournal(tx.s.signer, ctx.height),
    evidencePool,
    pending: [],
  };
  startRound(tx, 0);
  advance(tx);
  // Re-stamped with this step's time so a WAL replay of the logged inputs reproduces the same votes.
  for (const e of pending) dispatch(tx, { ...e, now: tx.now });
  return undefined;
}

/** The evidence window of a height; without one from the driver, only the previous height. */
function windowOf(ctx: HeightContext): EvidenceWindow {
  if (ctx.evidenceWindow) return ctx.evidenceWindow;
  const sets = ctx.previous ? [{ fromHeight: ctx.height - 1, toHeight: ctx.height - 1, validators: ctx.previous.validators }] : [];
  return { fromHeight: Math.max(1, ctx.height - 1), sets, committed: [] };
}

/** Pool evidence still committable at the new height: in the window, not committed, once each, capped. */
function carriedEvidence(ctx: HeightContext, pool: readonly Evidence[]): Evidence[] {
  const window = windowOf(ctx);
  const seen = new Set(window.committed);
  const kept: Evidence[] = [];
  for (const ev of pool) {
    const key = evidenceKey(ev);
    if (seen.has(key) || ev.voteA.height < window.fromHeight || ev.voteA.height > ctx.height || kept.length >= MAX_EVIDENCE_POOL) continue;
    seen.add(key);
    kept.push(ev);
  }
  return kept;
}

/** Bound on the pool: only validators' own signatures make evidence, so only equivocators fill it. */
const MAX_EVIDENCE_POOL = 1_000;

function votesOfHeight<B>(h: HeightState<B>): PreviousVotes {
  const votes = new Map<string, Vote>();
  for (const [round, rs] of h.rounds) {
    for (const [validator, vote] of rs.prevotes.byValidator) votes.set(`${validator}/${round}/prevote`, vote);
    for (const [validator, vote] of rs.precommits.byValidator) votes.set(`${validator}/${round}/precommit`, vote);
  }
  return { height: h.context.height, validators: h.context.validators, votes };
}

function pruneJournal<B>(signer: SignerJournal<B>, height: number): SignerJournal<B> {
  const messages = new Map([...signer.messages].filter(([, m]) => hrsOf(m).height >= height));
  return { last: signer.last, messages };
}

function eventHeight<B>(e: ConsensusEvent<B>): number | undefined {
  if (e.type === 'vote') return e.vote.height;
  if (e.type === 'proposal') return e.proposal.height;
  return undefined;
}

// ── rounds and proposing ──

function startRound<B>(tx: Tx<B>, round: number): void {
  setHeight(tx, { round, step: 'propose' });
  const h = cur(tx);
  emit(tx, { type: 'scheduleTimeout', height: h.context.height, round, step: 'propose', durationMs: timeoutMs(tx.config, 'propose', round) });
  if (tx.config.self !== null && h.schedule.proposerAt(round) === tx.config.self) propose(tx, round);
}

/** The proposer's block time: its clock, strictly after the previous block (block 1: not before genesis). */
function blockTimeFor(ctx: HeightContext, now: number): number {
  if (!ctx.previous) return maxInt(now, ctx.genesisTime);
  return maxInt(now, ctx.previous.time + 1);
}

function propose<B>(tx: Tx<B>, round: number): void {
  const h = cur(tx);
  const height = h.context.height;
  // After a restart the WAL may hold the proposal already signed for this round: reuse it, never build another.
  const journaled = tx.s.signer.messages.get(hrsKey({ height, round, step: 'proposal' }));
  let signed: SignedMessage<B> | null = journaled ?? null;
  if (!signed) {
    const { blockHash, block, polRound, time } = proposalContent(tx, round);
    // The proposal carries its block's time (a re-proposed valid block keeps the time it had).
    const unsigned: UnsignedProposal = { chainId: tx.config.chainId, height, round, polRound, blockHash, timestamp: time, proposer: tx.config.self! };
    signed = signOnce(tx, { kind: 'proposal', proposal: { ...unsigned, signature: '' }, block }, () => toHex(tx.deps.sign(proposalSignBytes(unsigned))));
  }
  if (!signed || signed.kind !== 'proposal') return;
  emit(tx, { type: 'broadcastProposal', proposal: signed.proposal, block: signed.block });
  acceptProposal(tx, signed.proposal, signed.block, undefined, true);
}

/** Re-propose the valid block if there is one (proof-of-lock round attached), else ask the app for a new block. */
function proposalContent<B>(tx: Tx<B>, round: number): { blockHash: string; block: B; polRound: number; time: number } {
  const h = cur(tx);
  const known = h.valid ? h.blocks.get(h.valid.blockHash) : undefined;
  if (h.valid && known) return { blockHash: h.valid.blockHash, block: known.block, polRound: h.valid.round, time: known.time };
  const ctx = h.context;
  const time = blockTimeFor(ctx, tx.now);
  const built = tx.deps.app.buildBlock({
    height: ctx.height,
    round,
    time,
    proposer: tx.config.self!,
    lastCommit: ctx.previous?.commit ?? null,
    evidence: committableEvidence(tx.s.evidencePool, ctx.height),
  });
  return { ...built, polRound: -1, time };
}

/** What a block at `height` commits from the pool: equivocations before it, oldest first, capped. */
function committableEvidence(pool: readonly Evidence[], height: number): Evidence[] {
  return pool
    .filter((ev) => ev.voteA.height < height)
    .sort((a, b) => a.voteA.height - b.voteA.height || compareStrings(evidenceKey(a), evidenceKey(b)))
    .slice(0, MAX_EVIDENCE_PER_BLOCK);
}

// ── signing with double-sign protection ──

const STEP_ORDER: Record<HRS['step'], number> = { proposal: 0, prevote: 1, precommit: 2 };

function compareHRS(a: HRS, b: HRS): number {
  return a.height - b.height || a.round - b.round || STEP_ORDER[a.step] - STEP_ORDER[b.step];
}

function hrsKey(h: HRS): string {
  return `${h.height}/${h.round}/${h.step}`;
}

function hrsOf<B>(m: SignedMessage<B>): HRS {
  return m.kind === 'vote'
    ? { height: m.vote.height, round: m.vote.round, step: m.vote.type }
    : { height: m.proposal.height, round: m.proposal.round, step: 'proposal' };
}

/**
 * Signs `message` unless this validator already signed at this height/round/step (then the earlier
 * message is returned: never a second, conflicting one) or at a later one (then null: refuse).
 * The signed record goes to the WAL before the caller emits the broadcast.
 */
function signOnce<B>(tx: Tx<B>, message: SignedMessage<B>, signature: () => string): SignedMessage<B> | null {
  const self = tx.config.self;
  const h = cur(tx);
  if (self === null || !h.context.validators.has(self)) return null;
  const hrs = hrsOf(message);
  const key = hrsKey(hrs);
  const earlier = tx.s.signer.messages.get(key);
  if (earlier) return earlier;
  const last = tx.s.signer.last;
  if (last && compareHRS(hrs, last) <= 0) return null;
  const signed: SignedMessage<B> =
    message.kind === 'vote' ? { kind: 'vote', vote: { ...message.vote, signature: signature() } } : { ...message, proposal: { ...message.proposal, signature: signature() } };
  const messages = new Map(tx.s.signer.messages).set(key, signed);
  tx.s = { ...tx.s, signer: { last: hrs, messages } };
  emit(tx, { type: 'walWrite', record: { type: 'signed', message: signed } });
  return signed;
}

function castVote<B>(tx: Tx<B>, type: VoteType, blockHash: string | null): void {
  const h = cur(tx);
  const known = blockHash ? h.blocks.get(blockHash) : undefined;
  // A vote for a block is stamped after the block's time, so the next block's median time is later.
  const timestamp = known ? maxInt(tx.now, known.time + 1) : tx.now;
  const unsigned: UnsignedVote = { chainId: tx.config.chainId, type, height: h.context.height, round: h.round, blockHash, timestamp, validator: tx.config.self ?? '' };
  const signed = signOnce(tx, { kind: 'vote', vote: { ...unsigned, signature: '' } }, () => toHex(tx.deps.sign(voteSignBytes(unsigned))));
  if (!signed || signed.kind !== 'vote') return;
  emit(tx, { type: 'broadcastVote', vote: signed.vote });
  addOwnVote(tx, signed.vote);
}

function addOwnVote<B>(tx: Tx<B>, vote: Vote): void {
  const h = cur(tx);
  const power = h.context.validators.get(vote.validator)?.power ?? 0n;
  const rs = roundState(h, vote.round);
  const set = vote.type === 'prevote' ? rs.prevotes : rs.precommits;
  if (set.byValidator.has(vote.validator)) return;
  setRound(tx, vote.round, vote.type === 'prevote' ? { prevotes: withVote(set, vote, power) } : { precommits: withVote(set, vote, power) });
}

function withVote(set: VoteSet, vote: Vote, power: bigint): VoteSet {
  const key = vote.blockHash ?? NIL;
  const byValidator = new Map(set.byValidator).set(vote.validator, vote);
  const powerFor = new Map(set.powerFor).set(key, (set.powerFor.get(key) ?? 0n) + power);
  return { byValidator, conflicting: set.conflicting, powerFor, total: set.total + power };
}

/** Conflicting votes kept per validator, round and type beyond the first (bounds an equivocator's cost). */
const MAX_CONFLICTING_VOTES = 2;

function withConflictingVote(set: VoteSet, vote: Vote, power: bigint): VoteSet {
  const kept = set.conflicting.get(vote.validator) ?? [];
  if (kept.length >= MAX_CONFLICTING_VOTES) return set;
  const key = vote.blockHash ?? NIL;
  const conflicting = new Map(set.conflicting).set(vote.validator, [...kept, vote]);
  const powerFor = new Map(set.powerFor).set(key, (set.powerFor.get(key) ?? 0n) + power);
  return { byValidator: set.byValidator, conflicting, powerFor, total: set.total };
}

function votesOf(set: VoteSet, validator: string): Vote[] {
  const first = set.byValidator.get(validator);
  return first ? [first, ...(set.conflicting.get(validator) ?? [])] : [];
}

// ── message intake: shared checks ──

/** Height and round checks common to proposals and votes; buffers next-height messages. */
function checkPlace<B>(tx: Tx<B>, event: ConsensusEvent<B>, chainId: string, height: number, round: number): Rejection | undefined {
  if (chainId !== tx.config.chainId) return reject('wrong-chain', `chain ${chainId} is not ${tx.config.chainId}`);
  const h = tx.s.current;
  if (!h) return reject('not-started', 'consensus has not started', { height });
  const current = h.context.height;
  if (height < current) return reject('old-height', `height ${height} is before ${current}`, { height });
  if (height === current + 1 && round <= tx.config.maxRoundsAhead) {
    bufferForNextHeight(tx, event);
    return reject('future-height', `height ${height} is kept for later`, { height, buffered: true });
  }
  if (height > current) return reject('future-height', `height ${height} is after ${current}`, { height });
  if (h.decision) return reject('already-decided', `height ${height} is decided`, { height });
  if (round > h.round + tx.config.maxRoundsAhead) return reject('round-out-of-range', `round ${round} is too far ahead of ${h.round}`, { height });
  return undefined;
}

const MAX_PENDING = 4096;

/**
 * At most one buffered message per known sender, kind and round, and a hard cap: the buffer cannot
 * be grown by a peer. Signatures are checked when the message is processed at the next height.
 */
function bufferForNextHeight<B>(tx: Tx<B>, event: ConsensusEvent<B>): void {
  const sender = event.type === 'vote' ? event.vote.validator : event.type === 'proposal' ? event.proposal.proposer : '';
  if (!cur(tx).context.validators.has(sender) || tx.s.pending.length >= MAX_PENDING) return;
  const key = pendingKey(event);
  if (tx.s.pending.some((e) => pendingKey(e) === key)) return;
  tx.s = { ...tx.s, pending: [...tx.s.pending, event] };
}

function pendingKey<B>(e: ConsensusEvent<B>): string {
  if (e.type === 'vote') return `v/${e.vote.validator}/${e.vote.round}/${e.vote.type}`;
  if (e.type === 'proposal') return `p/${e.proposal.proposer}/${e.proposal.round}`;
  return e.type;
}

// ── proposals ──

function onProposal<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'proposal' }>): Rejection | undefined {
  const p = event.proposal;
  if (!isWellFormedProposal(p)) return reject('malformed', 'proposal is not well formed');
  const placement = checkPlace(tx, event, p.chainId, p.height, p.round);
  if (placement) return placement;
  const h = cur(tx);
  if (p.proposer !== h.schedule.proposerAt(p.round)) return reject('wrong-proposer', `${p.proposer} is not the proposer of round ${p.round}`);
  if (p.polRound >= p.round) return reject('bad-pol-round', `polRound ${p.polRound} is not before round ${p.round}`);
  const existing = roundState(h, p.round).proposal;
  // Re-gossip makes duplicates common: an identical copy of a verified proposal needs no second verification.
  if (existing && sameProposal(existing.proposal, p)) return reject('duplicate', 'proposal already known');
  const proposer = h.context.validators.get(p.proposer);
  if (!proposer || !proposalSignatureValid(p, proposer)) return reject('bad-signature', 'proposal signature is invalid');
  if (existing) return reject('conflicting-proposal', `a different proposal for round ${p.round} is already known`);
  const validation = validateProposedBlock(tx, event.block);
  if (validation.ok && validation.blockHash !== p.blockHash) return reject('block-hash-mismatch', 'block does not hash to the proposal\'s block hash');
  logInput(tx, event);
  acceptProposal(tx, p, event.block, validation);
  return undefined;
}

type CheckedBlock<B> = { ok: true; blockHash: string; known: KnownBlock<B> } | { ok: false; reason: string };

/** App validation plus the consensus rules on the header: proposer, time, last commit, evidence. */
function validateProposedBlock<B>(tx: Tx<B>, block: B): CheckedBlock<B> {
  const h = cur(tx);
  const ctx = h.context;
  let result: BlockValidation;
  try {
    result = tx.deps.app.validateBlock(ctx.height, block);
  } catch {
    return { ok: false, reason: 'app could not validate the block' };
  }
  if (!result.ok) return result;
  const reason = headerProblem(tx, result.info);
  if (reason) return { ok: false, reason };
  return { ok: true, blockHash: result.blockHash, known: { block, time: result.info.time, evidence: result.info.evidence } };
}

function headerProblem<B>(tx: Tx<B>, info: BlockInfo): string | null {
  const ctx = cur(tx).context;
  if (!ctx.validators.has(info.proposer)) return 'proposer is not a validator';
  if (ctx.previous === null) {
    if (info.lastCommit !== null) return 'block 1 cannot carry a last commit';
    if (info.time < ctx.genesisTime) return 'block 1 is stamped before the genesis time';
  } else {
    if (info.lastCommit === null) return 'last commit is missing';
    const check = verifyCommit(info.lastCommit, ctx.previous.validators, tx.config.chainId, { height: ctx.height - 1, blockHash: ctx.previous.blockHash });
    if (!check.ok) return `last commit: ${check.reason}`;
    if (info.time <= ctx.previous.time) return 'block time is not after the previous block';
  }
  return evidenceProblem(tx, info.evidence);
}

function evidenceProblem<B>(tx: Tx<B>, evidence: readonly Evidence[]): string | null {
  const ctx = cur(tx).context;
  const window = windowOf(ctx);
  const committed = new Set(window.committed);
  const keys = new Set<string>();
  if (evidence.length > MAX_EVIDENCE_PER_BLOCK) return `more than ${MAX_EVIDENCE_PER_BLOCK} evidence items`;
  for (const ev of evidence) {
    if (!isWellFormedEvidence(ev)) return 'evidence is not well formed';
    const valset = ev.voteA.height < ctx.height ? windowValset(window, ev.voteA.height) : undefined;
    if (!valset) return `evidence of height ${ev.voteA.height} is outside the window ${window.fromHeight}–${ctx.height - 1}`;
    if (!verifyEvidence(ev, valset, tx.config.chainId).ok) return 'evidence is invalid';
    const key = evidenceKey(ev);
    if (committed.has(key)) return 'evidence is already committed';
    if (keys.has(key)) return 'evidence included twice';
    keys.add(key);
  }
  return null;
}

/**
 * Evidence this validator has held since before the previous height must be in a fresh proposal
 * (unless the block is full of evidence already): proposers cannot leave equivocations unrecorded.
 * Only this validator's prevote depends on it, never whether the block is valid, and the evidence is
 * gossiped again so the proposer of a later round has it.
 */
function missingEvidence<B>(tx: Tx<B>, included: readonly Evidence[]): Evidence[] {
  if (included.length >= MAX_EVIDENCE_PER_BLOCK) return [];
  const height = cur(tx).context.height;
  const keys = new Set(included.map(evidenceKey));
  return tx.s.evidencePool.filter((ev) => ev.voteA.height <= height - 2 && !keys.has(evidenceKey(ev)));
}

function acceptProposal<B>(tx: Tx<B>, p: Proposal, block: B, checked?: CheckedBlock<B>, own = false): void {
  const validation = checked ?? validateProposedBlock(tx, block);
  // The proposal's signed timestamp must be its block's time; a fresh proposal must also arrive in time.
  const valid = validation.ok && validation.blockHash === p.blockHash && validation.known.time === p.timestamp;
  if (valid && validation.ok) {
    const blocks = new Map(cur(tx).blocks).set(p.blockHash, validation.known);
    setHeight(tx, { blocks });
  }
  const timely = own || isTimely(p.timestamp, tx.now, p.round, tx.config.synchrony ?? DEFAULT_SYNCHRONY);
  const missing = own || !validation.ok ? [] : missingEvidence(tx, validation.known.evidence);
  for (const ev of missing) emit(tx, { type: 'evidence', evidence: ev });
  setRound(tx, p.round, { proposal: { proposal: p, valid, timely, complete: missing.length === 0 } });
  advance(tx);
}

// ── votes ──

function onVote<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'vote' }>): Rejection | undefined {
  const v = event.vote;
  if (!isWellFormedVote(v)) return reject('malformed', 'vote is not well formed');
  const placement = checkPlace(tx, event, v.chainId, v.height, v.round);
  if (placement) {
    if (placement.reason === 'old-height' || placement.reason === 'already-decided') noteLateVote(tx, v);
    return placement;
  }
  const h = cur(tx);
  const validator = h.context.validators.get(v.validator);
  if (!validator) return reject('unknown-validator', `${v.validator} is not a validator at height ${v.height}`);
  const rs = roundState(h, v.round);
  const set = v.type === 'prevote' ? rs.prevotes : rs.precommits;
  const known = votesOf(set, v.validator);
  // An identical copy of a verified vote needs no second verification.
  if (known.some((k) => sameVote(k, v))) return reject('duplicate', 'vote already known');
  if (!voteSignatureValid(v, validator)) return reject('bad-signature', 'vote signature is invalid');
  if (known.some((k) => k.blockHash === v.blockHash)) return reject('duplicate', 'vote for the same block already known');
  logInput(tx, event);
  const first = known[0];
  if (first) {
    addEvidence(tx, makeEvidence(first, v));
    setRound(tx, v.round, v.type === 'prevote' ? { prevotes: withConflictingVote(set, v, validator.power) } : { precommits: withConflictingVote(set, v, validator.power) });
  } else {
    addOwnVote(tx, v);
  }
  advance(tx);
  return undefined;
}

/**
 * A vote for a height already over (the previous one, or the current one once decided) counts for
 * nothing, but if it conflicts with the vote the validator cast there it proves equivocation.
 */
function noteLateVote<B>(tx: Tx<B>, v: Vote): void {
  const h = cur(tx);
  let first: Vote | undefined;
  let valset: ValidatorSet | undefined;
  if (v.height === h.context.height) {
    const rs = h.rounds.get(v.round);
    first = rs && (v.type === 'prevote' ? rs.prevotes : rs.precommits).byValidator.get(v.validator);
    valset = h.context.validators;
  } else if (tx.s.previousVotes?.height === v.height) {
    first = tx.s.previousVotes.votes.get(`${v.validator}/${v.round}/${v.type}`);
    valset = tx.s.previousVotes.validators;
  }
  if (!first || !valset || first.blockHash === v.blockHash) return;
  const ev = makeEvidence(first, v);
  if (!verifyEvidence(ev, valset, tx.config.chainId).ok || tx.s.evidencePool.some((e) => evidenceKey(e) === evidenceKey(ev))) return;
  // Logged as an evidence input so a WAL replay rebuilds the pool without the old height's votes.
  logInput(tx, { type: 'evidence', now: tx.now, evidence: ev });
  addEvidence(tx, ev);
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.signature === b.signature && a.blockHash === b.blockHash && a.timestamp === b.timestamp;
}

function sameProposal(a: Proposal, b: Proposal): boolean {
  return a.signature === b.signature && a.blockHash === b.blockHash && a.polRound === b.polRound && a.timestamp === b.timestamp;
}

function addEvidence<B>(tx: Tx<B>, ev: Evidence): void {
  const key = evidenceKey(ev);
  if (tx.s.evidencePool.some((e) => evidenceKey(e) === key)) return;
  tx.s = { ...tx.s, evidencePool: [...tx.s.evidencePool, ev] };
  emit(tx, { type: 'evidence', evidence: ev });
}

function onEvidence<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'evidence' }>): Rejection | undefined {
  const ev = event.evidence;
  if (!isWellFormedEvidence(ev)) return reject('malformed', 'evidence is not well formed');
  const h = tx.s.current;
  if (!h) return reject('not-started', 'consensus has not started');
  const height = ev.voteA.height;
  const window = windowOf(h.context);
  const valset = height === h.context.height ? h.context.validators : windowValset(window, height);
  if (!valset) return reject('evidence-out-of-window', `evidence of height ${height} can no longer be committed`, { height });
  const check = verifyEvidence(ev, valset, tx.config.chainId);
  if (!check.ok) return reject('invalid-evidence', `evidence rejected: ${check.reason}`);
  const key = evidenceKey(ev);
  if (window.committed.includes(key)) return reject('evidence-committed', 'evidence already committed');
  if (tx.s.evidencePool.some((e) => evidenceKey(e) === key)) return reject('duplicate', 'evidence already known');
  if (tx.s.evidencePool.length >= MAX_EVIDENCE_POOL) return reject('evidence-pool-full', 'the evidence pool is full');
  logInput(tx, event);
  addEvidence(tx, ev);
  return undefined;
}

// ── timeouts ──

function onTimeout<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'timeout' }>): Rejection | undefined {
  const h = tx.s.current;
  if (!h || h.decision || event.height !== h.context.height || event.round !== h.round) return reject('stale-timeout', 'timeout is for another height or round');
  const applies = event.step === 'precommit' || event.step === h.step;
  if (!applies) return reject('stale-timeout', `timeout ${event.step} does not apply in step ${h.step}`);
  logInput(tx, event);
  if (event.step === 'propose') {
    setHeight(tx, { step: 'prevote' });
    castVote(tx, 'prevote', null);
  } else if (event.step === 'prevote') {
    setHeight(tx, { step: 'precommit' });
    castVote(tx, 'precommit', null);
  } else {
    startRound(tx, h.round + 1);
  }
  advance(tx);
  return undefined;
}

// ── commit certificates (catch-up within a height) ──

function onCommitCertificate<B>(tx: Tx<B>, event: Extract<ConsensusEvent<B>, { type: 'commitCertificate' }>): Rejection | undefined {
  const commit = event.commit;
  if (!isWellFormedCommit(commit)) return reject('malformed', 'commit is not well formed');
  const h = tx.s.current;
  if (!h) return reject('not-started', 'consensus has not started', { height: commit.height });
  if (commit.height < h.context.height) return reject('old-height', 'commit is for an old height', { height: commit.height });
  if (commit.height > h.context.height) return reject('future-height', 'commit is for a later height', { height: commit.height });
  if (h.decision) return reject('already-decided', 'height already decided', { height: commit.height });
  const check = verifyCommit(commit, h.context.validators, tx.config.chainId);
  if (!check.ok) return reject('invalid-commit', `commit rejected: ${check.reason}`);
  const validation = validateProposedBlock(tx, event.block);
  if (!validation.ok) return reject('invalid-block', `a block with a valid commit failed validation: ${validation.reason}`);
  if (validation.blockHash !== commit.blockHash) return reject('block-hash-mismatch', 'block does not match the commit');
  logInput(tx, event);
  decide(tx, commit.round, commit.blockHash, validation.known, commit);
  return undefined;
}

// ── the rules of Algorithm 1, applied until none fires ──

const MAX_RULE_FIRINGS = 10_000;

function advance<B>(tx: Tx<B>): void {
  for (let i = 0; i < MAX_RULE_FIRINGS; i++) {
    const h = tx.s.current;
    if (!h || h.decision) return;
    if (!applyOneRule(tx)) return;
  }
  throw new Error('consensus: rules did not settle');
}

function applyOneRule<B>(tx: Tx<B>): boolean {
  return (
    tryDecide(tx) ||
    trySkipRound(tx) ||
    tryPrevoteOnProposal(tx) ||
    tryLockOnPolka(tx) ||
    tryPrecommitNil(tx) ||
    tryScheduleWait(tx, 'prevote') ||
    tryScheduleWait(tx, 'precommit')
  );
}

function quorumHash(set: VoteSet, total: bigint): string | null {
  for (const [hash, power] of set.powerFor) if (hasTwoThirds(power, total)) return hash;
  return null;
}

/** Lines 49–54: 2/3 precommits for a known valid block in any round decide the height. */
function tryDecide<B>(tx: Tx<B>): boolean {
  const h = cur(tx);
  const total = h.context.validators.totalPower;
  for (const [round, rs] of h.rounds) {
    const hash = quorumHash(rs.precommits, total);
    if (hash === null || hash === NIL) continue;
    const known = h.blocks.get(hash);
    if (!known) continue;
    decide(tx, round, hash, known, commitFrom(h, round, hash));
    return true;
  }
  return false;
}

function commitFrom<B>(h: HeightState<B>, round: number, blockHash: string): Commit {
  const set = roundState(h, round).precommits;
  const signatures = [...set.byValidator.keys()]
    .flatMap((validator) => votesOf(set, validator).filter((v) => v.blockHash === blockHash))
    .sort((a, b) => compareStrings(a.validator, b.validator))
    .map((v) => ({ validator: v.validator, timestamp: v.timestamp, signature: v.signature }));
  return { height: h.context.height, round, blockHash, signatures };
}

function decide<B>(tx: Tx<B>, round: number, blockHash: string, known: KnownBlock<B>, commit: Commit): void {
  const height = cur(tx).context.height;
  setHeight(tx, { decision: { time: known.time, round, blockHash, block: known.block, commit } });
  const committed = new Set(known.evidence.map(evidenceKey));
  tx.s = { ...tx.s, evidencePool: tx.s.evidencePool.filter((ev) => !committed.has(evidenceKey(ev))) };
  emit(tx, { type: 'commit', height, round, blockHash, block: known.block, commit, time: known.time, evidence: known.evidence });
}

/** Lines 55–56: messages from more than 1/3 of the power in a later round move us to that round. */
function trySkipRound<B>(tx: Tx<B>): boolean {
  const h = cur(tx);
  let target = -1;
  for (const [round, rs] of h.rounds) {
    if (round <= h.round || round <= target) continue;
    if (hasOneThird(powerSeenIn(h, rs), h.context.validators.totalPower)) target = round;
  }
  if (target < 0) return false;
  startRound(tx, target);
  return true;
}

function powerSeenIn<B>(h: HeightState<B>, rs: RoundState): bigint {
  const senders = new Set<string>([...rs.prevotes.byValidator.keys(), ...rs.precommits.byValidator.keys()]);
  if (rs.proposal) senders.add(rs.proposal.proposal.proposer);
  let power = 0n;
  for (const s of senders) power += h.context.validators.get(s)?.power ?? 0n;
  return power;
}

/** Lines 22–33: prevote on the round's proposal, respecting the lock unless a newer proof-of-lock frees it. */
function tryPrevoteOnProposal<B>(tx: Tx<B>): boolean {
  const h = cur(tx);
  if (h.step !== 'propose') return false;
  const accepted = roundState(h, h.round).proposal;
  if (!accepted) return false;
  const p = accepted.proposal;
  let choice: string | null;
  if (!accepted.valid) {
    choice = null;
  } else if (p.polRound === -1) {
    choice = accepted.timely && accepted.complete && (h.locked === null || h.locked.blockHash === p.blockHash) ? p.blockHash : null;
  } else {
    const pol = roundState(h, p.polRound).prevotes.powerFor.get(p.blockHash) ?? 0n;
    if (!hasTwoThirds(pol, h.context.validators.totalPower)) return false; // wait for the proof-of-lock or the timeout
    choice = h.locked === null || h.locked.round <= p.polRound || h.locked.blockHash === p.blockHash ? p.blockHash : null;
  }
  setHeight(tx, { step: 'prevote' });
  castVote(tx, 'prevote', choice);
  return true;
}

/** Lines 36–43: 2/3 prevotes for the valid proposal of this round: lock and precommit it (once), remember it as valid. */
function tryLockOnPolka<B>(tx: Tx<B>): boolean {
  const h = cur(tx);
  if (h.step === 'propose') return false;
  const accepted = roundState(h, h.round).proposal;
  if (!accepted || !accepted.valid) return false;
  const hash = accepted.proposal.blockHash;
  const power = roundState(h, h.round).prevotes.powerFor.get(hash) ?? 0n;
  if (!hasTwoThirds(power, h.context.validators.totalPower)) return false;
  if (!fire(tx, `polka/${h.round}`)) return false;
  const lock = { round: h.round, blockHash: hash };
  if (h.step === 'prevote') {
    setHeight(tx, { locked: lock, valid: lock, step: 'precommit' });
    castVote(tx, 'precommit', hash);
  } else {
    setHeight(tx, { valid: lock });
  }
  return true;
}

/** Lines 44–46: 2/3 prevotes for nil: precommit nil. */
function tryPrecommitNil<B>(tx: Tx<B>): boolean {
  const h = cur(tx);
  if (h.step !== 'prevote') return false;
  const nil = roundState(h, h.round).prevotes.powerFor.get(NIL) ?? 0n;
  if (!hasTwoThirds(nil, h.context.validators.totalPower)) return false;
  setHeight(tx, { step: 'precommit' });
  castVote(tx, 'precommit', null);
  return true;
}

/** Lines 34–35 and 47–48: 2/3 of any votes of a kind start that step's timeout (once per round). */
function tryScheduleWait<B>(tx: Tx<B>, kind: VoteType): boolean {
  const h = cur(tx);
  const rs = roundState(h, h.round);
  const set = kind === 'prevote' ? rs.prevotes : rs.precommits;
  if (kind === 'prevote' && h.step !== 'prevote') return false;
  if (!hasTwoThirds(set.total, h.context.validators.totalPower)) return false;
  if (!fire(tx, `wait-${kind}/${h.round}`)) return false;
  emit(tx, { type: 'scheduleTimeout', height: h.context.height, round: h.round, step: kind, durationMs: timeoutMs(tx.config, kind, h.round) });
  return true;
}
