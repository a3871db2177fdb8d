import type { Commit } from '../codec/block.js';
import {
  buildEvidenceWindow,
  createConsensus,
  EVIDENCE_WINDOW,
  DEFAULT_MAX_ROUNDS_AHEAD,
  DEFAULT_TIMEOUTS,
  replay,
  status as consensusStatus,
  gossipMessages,
  ownProposalContext,
  timeoutMs,
  type BlockContext,
  type BlockValidation,
  type Consensus,
  type ConsensusConfig,
  type ConsensusEvent,
  type ConsensusState,
  type ConsensusStatus,
  type Effect,
  type Evidence,
  type HeightContext,
  type Proposal,
  type Rejection,
  type ValidatorSet,
  type Vote,
  type WalRecord,
} from '../consensus/index.js';
import { NO_PHASES, type PhaseTimer } from '../util/phase-meter.js';

/**
 * The consensus driver: the one impure loop around the pure engine, used by the node and by the
 * simulator alike. It feeds events (start, timeouts, network messages), executes effects in order
 * (WAL append, fsync before any own message leaves, broadcasts, timers, commits) and decides when
 * the next height starts: after `blockTimeMs` once transactions wait, after
 * `emptyBlockIntervalMs` for an empty heartbeat block, or at once when another validator has
 * already begun it. Everything outside the engine is reached through ports, so the simulator can
 * run this exact code on a virtual clock, an in-memory WAL and a simulated network.
 */

/** The ledger as consensus needs it (the node's LedgerNode; the simulator's toy chain). */
export interface LedgerPort<B> {
  readonly chainId: string;
  /** This node's validator address; null for a node that follows without voting. */
  readonly validatorAddress: string | null;
  readonly genesisTime: number;
  /** Height of the latest stored block (0 before the first). */
  readonly height: number;
  /** Block time of the latest stored block (the genesis time before the first). */
  readonly latestBlockTime: number;
  /** The stored block at `height`: its hash, block time and the commit that decided it. */
  storedBlock(height: number): { hash: string; time: number; commit: Commit } | undefined;
  /** The validator set (with proposer priorities) that decides `height`. */
  valsetAt(height: number): ValidatorSet;
  /** Keys (evidenceKey) of the evidence committed for equivocations at `fromHeight` or later. */
  committedEvidence(fromHeight: number): string[];
  /** Proposer side: a block for the next height, executed but not stored. */
  buildBlock(ctx: BlockContext): { blockHash: string; block: B };
  /** Validator side: re-executes a proposal for the next height. */
  validateBlock(height: number, block: B): BlockValidation;
  /**
   * Optional (ADR 0024): prepares this node's proposal for `ctx` with part of the work on another
   * thread; a later `buildBlock` with the same context returns it. Called only while
   * `preparesOffThread` is true.
   */
  prepareProposal?(ctx: BlockContext): Promise<void>;
  readonly preparesOffThread?: boolean;
  /** Stores a decided block (executing it first if needed). Throws if it cannot (a durability or determinism fault). */
  commitDecided(block: B, commit: Commit): void;
  /** True when at least `atLeast` (default 1) pending transactions could go into the next block. */
  hasIncludableTxs(atLeast?: number): boolean;
  /** True when transactions are pending at all (even ones not yet includable). */
  hasPendingTxs(): boolean;
  /** How many transactions are pending (includable or not): a cheap upper bound of the includable ones. */
  pendingTxCount(): number;
}

/** What the driver needs from the network (absent on a single-validator node without peers). */
export interface ConsensusNetwork<B> {
  broadcastProposal(proposal: Proposal, block: B): void;
  broadcastVote(vote: Vote): void;
  broadcastEvidence(evidence: Evidence): void;
  penalize(peerId: string, reason: string): void;
  /** A consensus message referred to a height this node has not reached: fetch blocks. */
  behind(height: number): void;
}

/** The write-ahead log: records survive a crash once `sync` returned. */
export interface WalPort<B> {
  /** Every record written since the last reset; a torn last record is dropped (and reported). */
  read(): { records: WalRecord<B>[]; droppedTail: boolean };
  append(record: WalRecord<B>): void;
  sync(): void;
  reset(): void;
  close(): void;
}

export type TimerHandle = unknown;

/** Clock and timers: the wall clock and setTimeout in the node, a virtual clock in the simulator. */
export interface Timers {
  now(): number;
  setTimeout(run: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the driver reports (the node counts it in /metrics; the simulator checks it). */
export interface DriverObserver {
  voteSent?(type: Vote['type']): void;
  voteReceived?(accepted: boolean): void;
  timeout?(step: string): void;
  decided?(height: number, round: number): void;
  evidence?(evidence: Evidence): void;
  rejection?(rejection: Rejection, fromPeer?: string): void;
  warn?(message: string): void;
  fatal?(message: string): void;
}

/**
 * When heights start. Once transactions wait, the next height starts `blockTimeMs` after the previous
 * one started — or, when at least `proposeAtTxs` includable transactions wait, as soon as
 * `minBlockIntervalMs` have passed (ADR 0015): under load a transaction waits for the next block a
 * fraction of the block time, while a quiet chain keeps its cadence — or once the first transaction
 * still waiting has waited `maxTxWaitMs` (ADR 0022): fewer than `proposeAtTxs` waiting (light load, a
 * lull, the end of a burst) no longer wait out the whole block time. An idle chain makes an empty
 * heartbeat block every `emptyBlockIntervalMs`.
 */
export interface BlockTiming {
  blockTimeMs: number;
  emptyBlockIntervalMs: number;
  /** Includable transactions that start a height early; absent: never early. */
  proposeAtTxs?: number;
  /** The least time between the starts of two heights when starting early. */
  minBlockIntervalMs?: number;
  /** The longest a waiting transaction delays the next height's start (at least `minBlockIntervalMs` after the previous start); absent: `blockTimeMs`. */
  maxTxWaitMs?: number;
}

export interface DriverOptions<B> {
  ledger: LedgerPort<B>;
  wal: WalPort<B>;
  timers: Timers;
  sign: ((bytes: Uint8Array) => Uint8Array) | null;
  timing: BlockTiming;
  timeouts?: ConsensusConfig['timeouts'];
  /** Bounds of proposer-based block time (clock precision, message delay). */
  synchrony?: ConsensusConfig['synchrony'];
  /** How often the current round's own proposal and votes are re-sent (eventual delivery). */
  gossipIntervalMs?: number;
  observer?: DriverObserver;
  /** Times the engine's steps and the WAL for the node's CPU report (observes only). */
  phases?: PhaseTimer;
  /**
   * Called when the driver cannot keep its durability promise (e.g. the WAL cannot be written): the
   * engine has moved ahead of its log, so the node must stop rather than sign or send anything more.
   */
  onFatal(err: Error): void;
}

export class ConsensusDriver<B> {
  readonly engine: Consensus<B>;
  private state: ConsensusState<B>;
  private network: ConsensusNetwork<B> | null = null;
  private startTimer: TimerHandle | undefined;
  /** Local clock when the scheduled start check fires. */
  private startCheckAt = 0;
  private gossipTimer: TimerHandle | undefined;
  private waitingForStart = false;
  /** The height whose own proposal is being prepared before it starts (ADR 0024). */
  private preparing: { readonly height: number } | undefined;
  /** A check for an early start is scheduled (admissions need not schedule another). */
  private earlyCheckArmed = false;
  private stopped = true;
  private readonly timers = new Set<TimerHandle>();
  /** Local clock when this node last committed a block (0 before the first). */
  lastCommitAt = 0;
  /** Local clock when this node last started a height (drives the block cadence). */
  private heightStartedAt = 0;
  /** Local clock when the first transaction admitted since the current height started arrived (undefined: none). */
  private firstWaitAt: number | undefined;
  /** Validator sets of the evidence window (a set is looked up once, not at every height). */
  private readonly windowSets = new Map<number, ValidatorSet>();
  private readonly phases: PhaseTimer;

  constructor(private readonly options: DriverOptions<B>) {
    const { ledger, sign } = options;
    this.phases = options.phases ?? NO_PHASES;
    const config: ConsensusConfig = {
      chainId: ledger.chainId,
      self: ledger.validatorAddress,
      timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
      maxRoundsAhead: DEFAULT_MAX_ROUNDS_AHEAD,
      ...(options.synchrony ? { synchrony: options.synchrony } : {}),
    };
    this.engine = createConsensus<B>(config, {
      sign: (bytes) => {
        if (!sign) throw new Error('this node has no validator key');
        return sign(bytes);
      },
      app: { buildBlock: (ctx) => ledger.buildBlock(ctx), validateBlock: (height, block) => ledger.validateBlock(height, block) },
    });
    this.state = this.engine.initialState();
  }

  setNetwork(network: ConsensusNetwork<B>): void {
    this.network = network;
  }

  /** The engine state (read-only use: status, tests). */
  get consensusState(): ConsensusState<B> {
    return this.state;
  }

  status(): ConsensusStatus | null {
    return consensusStatus(this.state);
  }

  /** Replays the WAL after a crash (never double-signs), then resumes or starts the next height. */
  start(): void {
    this.stopped = false;
    const { records, droppedTail } = this.options.wal.read();
    if (droppedTail) this.options.observer?.warn?.('WAL had a torn last record (crash during append); it was cut off');
    const replayed = replay(this.engine, records);
    this.state = replayed.state;
    if (replayed.height === null || this.options.ledger.height >= replayed.height) this.scheduleStart();
    else this.executeOrHalt(replayed.effects);
    this.scheduleGossip();
  }

  stop(): void {
    this.stopped = true;
    const t = this.options.timers;
    if (this.startTimer !== undefined) t.clearTimeout(this.startTimer);
    if (this.gossipTimer !== undefined) t.clearTimeout(this.gossipTimer);
    for (const timer of this.timers) t.clearTimeout(timer);
    this.timers.clear();
    try {
      this.options.wal.close();
    } catch {
      /* already closed */
    }
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Feeds one event; returns whether the engine accepted it. */
  handle(event: ConsensusEvent<B>, fromPeer?: string): boolean {
    if (this.stopped) return false;
    return this.phases.time('consensus.engine', () => this.step(event, fromPeer));
  }

  private step(event: ConsensusEvent<B>, fromPeer?: string): boolean {
    let result: ReturnType<typeof this.engine.step>;
    try {
      result = this.engine.step(this.state, event);
    } catch (err) {
      // The application could not build or check a block (e.g. a state version this node's code lacks, ADR 0029): stop cleanly.
      this.halt('the application failed inside a consensus step', err as Error);
      return false;
    }
    this.state = result.state;
    const r = result.rejection;
    if (r) {
      this.options.observer?.rejection?.(r, fromPeer);
      if (fromPeer && r.peerFault) this.network?.penalize(fromPeer, `${r.reason}: ${r.detail}`);
      if (r.height !== undefined && r.height > this.options.ledger.height + 1) this.network?.behind(r.height);
    }
    this.executeOrHalt(result.effects);
    return !r;
  }

  /** A proposal, vote or evidence from a peer. While waiting to start the next height, it starts it. */
  onPeerMessage(event: ConsensusEvent<B>, fromPeer: string): void {
    const height = event.type === 'vote' ? event.vote.height : event.type === 'proposal' ? event.proposal.height : undefined;
    if ((this.waitingForStart || this.preparing) && height === this.options.ledger.height + 1) this.startNextHeight(false);
    const accepted = this.handle(event, fromPeer);
    if (event.type === 'vote') this.options.observer?.voteReceived?.(accepted);
  }

  /** Called after block sync appended blocks: consensus continues at the new height. */
  afterSync(): void {
    if (this.stopped) return;
    const current = this.status();
    if (current && current.height > this.options.ledger.height) return;
    this.startNextHeight();
  }

  private executeOrHalt(effects: readonly Effect<B>[]): void {
    try {
      this.execute(effects);
    } catch (err) {
      this.halt('an effect failed after the engine advanced', err as Error);
    }
  }

  private halt(what: string, err: Error): void {
    this.stop();
    const code = (err as { code?: unknown }).code;
    this.options.observer?.fatal?.(`consensus driver halted: ${what}: ${typeof code === 'string' ? `${code}: ` : ''}${err.message}`);
    this.options.onFatal(err);
  }

  private execute(effects: readonly Effect<B>[]): void {
    const { wal } = this.options;
    // WAL records at indices below `appended` are already in the WAL (written ahead by syncBefore).
    let appended = 0;
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i]!;
      if (this.stopped) return;
      switch (e.type) {
        case 'walWrite':
          if (i >= appended) this.phases.time('consensus.wal', () => wal.append(e.record));
          break;
        case 'broadcastProposal':
          appended = this.syncBefore(effects, i, appended);
          if (this.stopped) return;
          this.network?.broadcastProposal(e.proposal, e.block);
          break;
        case 'broadcastVote':
          appended = this.syncBefore(effects, i, appended);
          if (this.stopped) return;
          this.options.observer?.voteSent?.(e.vote.type);
          this.network?.broadcastVote(e.vote);
          break;
        case 'scheduleTimeout':
          this.schedule(e.durationMs, () => {
            // Only timeouts the engine acted on: a height decided before its propose timeout still fires that timer.
            if (this.handle({ type: 'timeout', now: this.options.timers.now(), height: e.height, round: e.round, step: e.step })) this.options.observer?.timeout?.(e.step);
          });
          break;
        case 'commit':
          this.onCommit(e.block, e.commit, e.round);
          break;
        case 'evidence':
          this.options.observer?.evidence?.(e.evidence);
          this.network?.broadcastEvidence(e.evidence);
          break;
      }
    }
  }

  /**
   * Makes the WAL durable before the broadcast at `index` (the engine's contract). The step's later
   * records, up to its next commit, are appended first, so one fsync covers every message the step
   * signs: a lone validator's proposal, prevote and precommit, or a proposer's proposal and prevote,
   * took one fsync each. Writing a record ahead of a broadcast that precedes it is safe: after a crash,
   * replay restores the same step's state either way. Returns the index below which all records are written.
   */
  private syncBefore(effects: readonly Effect<B>[], index: number, appended: number): number {
    const { wal } = this.options;
    let end = Math.max(appended, index + 1);
    this.phases.time('consensus.wal', () => {
      for (; end < effects.length && effects[end]!.type !== 'commit'; end++) {
        const e = effects[end]!;
        if (e.type === 'walWrite') wal.append(e.record);
        if (this.stopped) return; // a crash or stop while writing: nothing more happens, as in the loop
      }
      wal.sync();
    });
    return end;
  }

  private schedule(ms: number, run: () => void): void {
    const timer = this.options.timers.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) run();
    }, ms);
    this.timers.add(timer);
  }

  private onCommit(block: B, commit: Commit, round: number): void {
    const { ledger } = this.options;
    if (ledger.height < commit.height) {
      ledger.commitDecided(block, commit);
      this.lastCommitAt = this.options.timers.now();
      this.options.observer?.decided?.(commit.height, round);
    }
    this.scheduleStart();
  }

  private context(height: number): HeightContext {
    const { ledger } = this.options;
    const prev = height > 1 ? ledger.storedBlock(height - 1) : undefined;
    return {
      height,
      validators: ledger.valsetAt(height),
      previous: prev ? { blockHash: prev.hash, time: prev.time, commit: prev.commit, validators: ledger.valsetAt(height - 1) } : null,
      genesisTime: ledger.genesisTime,
      evidenceWindow: this.evidenceWindow(height),
    };
  }

  private evidenceWindow(height: number): HeightContext['evidenceWindow'] {
    const { ledger } = this.options;
    const fromHeight = Math.max(1, height - EVIDENCE_WINDOW);
    for (const h of this.windowSets.keys()) if (h < fromHeight || h >= height) this.windowSets.delete(h);
    const setAt = (h: number): ValidatorSet => {
      let set = this.windowSets.get(h);
      if (!set) this.windowSets.set(h, (set = ledger.valsetAt(h)));
      return set;
    };
    return buildEvidenceWindow(height, setAt, ledger.committedEvidence(fromHeight));
  }

  /** Waits until the next height should begin (transactions waiting, or the heartbeat interval). */
  private scheduleStart(): void {
    if (this.stopped) return;
    this.waitingForStart = true;
    // Heights start on a steady cadence: `blockTimeMs` after the previous height started (not after it
    // finished), so the time spent executing a block does not stretch the interval between blocks.
    const now = this.options.timers.now();
    const sinceStart = this.sinceHeightStart(now);
    // Transactions admitted while the height ran have waited since they arrived (the first set
    // firstWaitAt); none waiting means nothing to time.
    if (!this.options.ledger.hasPendingTxs()) this.firstWaitAt = undefined;
    else this.firstWaitAt ??= this.heightStartedAt; // left over from before the height started: waiting at least since then
    this.checkStartIn(this.enoughWaitMayBe() ? this.untilEarlyStart(sinceStart) : this.untilNextRule(sinceStart, now));
  }

  /**
   * Transactions were admitted: the first one since the height started starts the wait clock. While
   * the next height waits, when enough may now wait to start it early, check at the minimum interval
   * (or at once) instead of the end of the block time; else when the first one's wait or the cadence
   * may make it due, if that is sooner than the check already scheduled.
   */
  onTxsAdmitted(): void {
    if (this.stopped) return;
    const now = this.options.timers.now();
    this.firstWaitAt ??= now;
    if (!this.waitingForStart || this.earlyCheckArmed) return;
    const sinceStart = this.sinceHeightStart(now);
    if (this.enoughWaitMayBe()) this.checkStartIn(this.untilEarlyStart(sinceStart));
    else {
      const due = this.untilNextRule(sinceStart, now);
      if (due < this.untilScheduledCheck(now)) this.checkStartIn(due);
    }
  }

  /**
   * Milliseconds until the wait rule (ADR 0022) lets the next height start: the first waiting
   * transaction has waited `maxTxWaitMs` and the minimum interval has passed (≤ 0: it does now, if a
   * transaction can go in); undefined when nothing is timed.
   */
  private waitRuleIn(sinceStart: number, now: number): number | undefined {
    const { maxTxWaitMs, minBlockIntervalMs = 0 } = this.options.timing;
    if (maxTxWaitMs === undefined || this.firstWaitAt === undefined) return undefined;
    return Math.max(maxTxWaitMs - (now - this.firstWaitAt), minBlockIntervalMs - sinceStart);
  }

  /**
   * When to check next while transactions wait: the earlier of the wait rule and the cadence (at once
   * when either is already due — the check itself asks whether a transaction can go in). Whole
   * milliseconds rounded up, so a timer does not fire just before its deadline.
   */
  private untilNextRule(sinceStart: number, now: number): number {
    const cadence = Math.max(1, Math.ceil(this.options.timing.blockTimeMs - sinceStart));
    const wait = this.waitRuleIn(sinceStart, now);
    return wait === undefined ? cadence : Math.min(cadence, Math.max(1, Math.ceil(wait)));
  }

  /** Milliseconds until the scheduled start check fires (Infinity: none). */
  private untilScheduledCheck(now: number): number {
    return this.startTimer === undefined ? Infinity : this.startCheckAt - now;
  }

  /** Whether enough transactions are pending to start early (pending bounds includable: cheap to ask). */
  private enoughWaitMayBe(): boolean {
    const { proposeAtTxs } = this.options.timing;
    return proposeAtTxs !== undefined && this.options.ledger.pendingTxCount() >= proposeAtTxs;
  }

  private untilEarlyStart(sinceStart: number): number {
    this.earlyCheckArmed = true;
    return Math.max(1, (this.options.timing.minBlockIntervalMs ?? 0) - sinceStart);
  }

  private sinceHeightStart(now: number = this.options.timers.now()): number {
    return now - Math.max(this.heightStartedAt, this.options.ledger.latestBlockTime - this.options.timing.blockTimeMs);
  }

  private checkStartIn(ms: number): void {
    const { timers } = this.options;
    if (this.startTimer !== undefined) timers.clearTimeout(this.startTimer);
    this.startCheckAt = timers.now() + ms;
    this.startTimer = timers.setTimeout(() => this.checkStart(), ms);
  }

  /**
   * Starts the next height when it is due, else checks again when it may be. The clock is read once:
   * the rules and the next check agree on what time it is (read twice, a wait that ran out between the
   * two readings was neither due nor still running, and the check fell back to the cadence: ~1 s
   * instead of 250 ms for a few transactions in the bench's light load).
   */
  private checkStart(): void {
    this.startTimer = undefined;
    this.earlyCheckArmed = false;
    if (this.stopped || !this.waitingForStart) return;
    const { ledger, timers } = this.options;
    const { blockTimeMs, emptyBlockIntervalMs, proposeAtTxs, minBlockIntervalMs = 0 } = this.options.timing;
    const now = timers.now();
    const sinceStart = this.sinceHeightStart(now);
    const sinceBlock = now - ledger.latestBlockTime;
    const includable = ledger.hasIncludableTxs();
    const waitIn = this.waitRuleIn(sinceStart, now);
    const early = proposeAtTxs !== undefined && sinceStart >= minBlockIntervalMs && this.enoughWaitMayBe() && ledger.hasIncludableTxs(proposeAtTxs);
    const waited = waitIn !== undefined && waitIn <= 0 && includable;
    const due = early || waited || (includable && sinceStart >= blockTimeMs) || sinceBlock >= emptyBlockIntervalMs;
    if (due) this.startNextHeight();
    else if (ledger.hasPendingTxs()) {
      // Still waiting: when the wait runs out. Nothing can go in although the wait and the cadence are
      // over (e.g. after a nonce gap): a block time later, not every millisecond; the admission that
      // fills the gap re-arms the check.
      const cadence = blockTimeMs - sinceStart > 0 ? Math.ceil(blockTimeMs - sinceStart) : blockTimeMs;
      this.checkStartIn(waitIn !== undefined && waitIn > 0 ? Math.min(cadence, Math.max(1, Math.ceil(waitIn))) : cadence);
    } else {
      this.firstWaitAt = undefined;
      this.checkStartIn(Math.min(blockTimeMs, Math.max(1, emptyBlockIntervalMs - sinceBlock)));
    }
  }

  private startNextHeight(prepare = true): void {
    if (this.stopped) return;
    const { timers, ledger } = this.options;
    this.waitingForStart = false;
    // The scheduled check is cancelled with its timer (a peer's message may start the height first):
    // left marked armed, admissions could not arm one at the next height, which then waited the block time.
    if (this.startTimer !== undefined) timers.clearTimeout(this.startTimer);
    this.startTimer = undefined;
    this.earlyCheckArmed = false;
    this.heightStartedAt = timers.now();
    // Transactions admitted from now on wait for the height after this one.
    this.firstWaitAt = undefined;
    const height = ledger.height + 1;
    const current = this.status();
    if (current && current.height >= height) return;
    this.preparing = undefined;
    const context = this.context(height);
    const now = timers.now();
    if (prepare && this.prepareThenStart(context, now)) return;
    this.deliverStart(context, now);
  }

  private deliverStart(context: HeightContext, now: number): void {
    // The previous height is durably stored: its WAL records are no longer needed.
    this.options.wal.reset();
    this.handle({ type: 'start', now, context });
  }

  /**
   * When this validator proposes first at the new height and the ledger can prepare the block off
   * the main thread (ADR 0024), the height starts once the block is ready, with the clock reading
   * taken before: the engine then asks for the very context the block was prepared for. Meanwhile
   * the main thread serves admissions. A peer's message for the height, block sync or a stop ends
   * the wait; an unused preparation is dropped (the engine's call builds the block as before).
   */
  private prepareThenStart(context: HeightContext, now: number): boolean {
    const { ledger } = this.options;
    if (!ledger.prepareProposal || !ledger.preparesOffThread) return false;
    const ctx = ownProposalContext(this.engine.config, this.state, context, now);
    if (!ctx) return false;
    const token = { height: context.height };
    this.preparing = token;
    const done = (): void => {
      if (this.preparing !== token || this.stopped) return;
      this.preparing = undefined;
      if (ledger.height + 1 !== context.height) this.startNextHeight();
      else this.deliverStart(context, now);
    };
    ledger.prepareProposal(ctx).then(done, (err: unknown) => {
      this.options.observer?.warn?.(`preparing the proposal failed: ${err instanceof Error ? err.message : String(err)}`);
      done();
    });
    // A preparation that takes longer than a round's propose timeout would cost the round anyway: the
    // height starts without it (the engine's call builds the block), so a stuck worker never stalls the chain.
    this.schedule(timeoutMs(this.engine.config, 'propose', 0), () => {
      if (this.preparing !== token) return;
      this.options.observer?.warn?.(`the proposal for height ${context.height} was not prepared within the propose timeout; building it on the main thread`);
      done();
    });
    return true;
  }

  private scheduleGossip(): void {
    const interval = this.options.gossipIntervalMs ?? 1000;
    this.gossipTimer = this.options.timers.setTimeout(() => {
      if (this.stopped) return;
      this.regossip();
      this.scheduleGossip();
    }, interval);
  }

  /** Tendermint relies on eventual delivery: re-send the current round's proposal and own votes. */
  private regossip(): void {
    if (!this.network) return;
    for (const e of gossipMessages(this.state)) {
      if (e.type === 'broadcastProposal') this.network.broadcastProposal(e.proposal, e.block);
      else if (e.type === 'broadcastVote') this.network.broadcastVote(e.vote);
    }
  }
}
