import type { Logger } from 'pino';
import type { Block, Commit } from '../codec/block.js';
import {
  createConsensus,
  DEFAULT_MAX_ROUNDS_AHEAD,
  DEFAULT_TIMEOUTS,
  FileWal,
  replay,
  status as consensusStatus,
  gossipMessages,
  type Consensus,
  type ConsensusConfig,
  type ConsensusEvent,
  type ConsensusState,
  type ConsensusStatus,
  type Effect,
  type HeightContext,
  type Proposal,
  type Vote,
  type Evidence,
} from '../consensus/index.js';
import type { Signer } from '../crypto/ed25519.js';
import type { LedgerNode } from '../ledger/ledger.js';
import type { NodeMetrics } from '../ledger/metrics.js';

/** What the driver needs from the network (absent on a single-validator node without peers). */
export interface ConsensusNetwork {
  broadcastProposal(proposal: Proposal, block: Block): void;
  broadcastVote(vote: Vote): void;
  broadcastEvidence(evidence: Evidence): void;
  penalize(peerId: string, reason: string): void;
  /** A consensus message referred to a height this node has not reached: fetch blocks. */
  behind(height: number): void;
}

export interface DriverOptions {
  node: LedgerNode;
  walPath: string;
  signer: Signer | null;
  logger: Logger;
  metrics: NodeMetrics;
  timing: { blockTimeMs: number; emptyBlockIntervalMs: number };
  timeouts?: ConsensusConfig['timeouts'];
  clock?: () => number;
  /**
   * Called when the driver cannot keep its durability promise (e.g. the WAL cannot be written): the
   * engine has moved ahead of its log, so the node must stop rather than sign or send anything more.
   */
  onFatal(err: Error): void;
}

/**
 * The thin, impure driver around the pure consensus engine: it feeds events (start, timeouts,
 * network messages), executes effects in order (WAL append, fsync before any own message leaves,
 * broadcasts, timers, commits), and decides when the next height starts: after `blockTimeMs` once
 * transactions wait, or after `emptyBlockIntervalMs` for an empty heartbeat block, or at once when
 * another validator has already begun it.
 */
export class ConsensusDriver {
  readonly engine: Consensus<Block>;
  private state: ConsensusState<Block>;
  private wal!: FileWal<Block>;
  private network: ConsensusNetwork | null = null;
  private readonly clock: () => number;
  private startTimer: NodeJS.Timeout | undefined;
  private waitingForStart = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private gossipTimer: NodeJS.Timeout | undefined;
  lastCommitAt = 0;
  /** Local clock when this node last started a height (drives the block cadence). */
  private heightStartedAt = 0;

  constructor(private readonly options: DriverOptions) {
    const { node, signer } = options;
    this.clock = options.clock ?? Date.now;
    const config: ConsensusConfig = {
      chainId: node.chainId,
      self: node.validatorAddress,
      timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
      maxRoundsAhead: DEFAULT_MAX_ROUNDS_AHEAD,
    };
    this.engine = createConsensus<Block>(config, {
      sign: (bytes) => {
        if (!signer) throw new Error('this node has no validator key');
        return signer.sign(bytes);
      },
      app: {
        buildBlock: (ctx) => {
          const executed = node.buildBlock({ time: ctx.time, proposer: ctx.proposer, lastCommit: ctx.lastCommit, evidence: ctx.evidence });
          return { blockHash: executed.hash, block: executed.block };
        },
        validateBlock: (_height, block) => {
          const v = node.validateBlock(block);
          if (!v.ok) return v;
          const { header } = block;
          return { ok: true, blockHash: v.hash, info: { time: header.time, proposer: header.proposer, lastCommit: block.lastCommit, evidence: block.evidence as Evidence[] } };
        },
      },
    });
    this.state = this.engine.initialState();
  }

  setNetwork(network: ConsensusNetwork): void {
    this.network = network;
  }

  status(): ConsensusStatus | null {
    return consensusStatus(this.state);
  }

  /** Replays the WAL after a crash (never double-signs), then resumes or starts the next height. */
  start(): void {
    this.stopped = false;
    const { records, droppedTail } = FileWal.read<Block>(this.options.walPath);
    if (droppedTail) this.options.logger.warn('WAL had a torn last record (crash during append); dropped it');
    const replayed = replay(this.engine, records);
    this.state = replayed.state;
    this.wal = new FileWal<Block>(this.options.walPath);
    if (replayed.height === null || this.options.node.height >= replayed.height) this.scheduleStart();
    else this.executeOrHalt(replayed.effects);
    this.gossipTimer = setInterval(() => this.regossip(), 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    if (this.gossipTimer) clearInterval(this.gossipTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      this.wal?.close();
    } catch {
      /* already closed */
    }
  }

  /** Feeds one event; returns whether the engine accepted it. */
  handle(event: ConsensusEvent<Block>, fromPeer?: string): boolean {
    if (this.stopped) return false;
    const result = this.engine.step(this.state, event);
    this.state = result.state;
    const r = result.rejection;
    if (r) {
      if (fromPeer && r.peerFault) this.network?.penalize(fromPeer, `${r.reason}: ${r.detail}`);
      if (r.height !== undefined && r.height > this.options.node.height + 1) this.network?.behind(r.height);
    }
    this.executeOrHalt(result.effects);
    return !r;
  }

  private executeOrHalt(effects: readonly Effect<Block>[]): void {
    try {
      this.execute(effects);
    } catch (err) {
      this.stop();
      this.options.logger.fatal({ err: (err as Error).message }, 'consensus driver halted: an effect failed after the engine advanced');
      this.options.onFatal(err as Error);
    }
  }

  /** A proposal, vote or evidence from a peer. While waiting to start the next height, it starts it. */
  onPeerMessage(event: ConsensusEvent<Block>, fromPeer: string): void {
    const height = event.type === 'vote' ? event.vote.height : event.type === 'proposal' ? event.proposal.height : undefined;
    if (this.waitingForStart && height === this.options.node.height + 1) this.startNextHeight();
    const accepted = this.handle(event, fromPeer);
    if (event.type === 'vote') this.options.metrics.votesReceived.inc({ outcome: accepted ? 'accepted' : 'ignored' });
  }

  private execute(effects: readonly Effect<Block>[]): void {
    for (const e of effects) {
      if (this.stopped) return;
      switch (e.type) {
        case 'walWrite':
          this.wal.append(e.record);
          break;
        case 'broadcastProposal':
          this.wal.sync();
          this.network?.broadcastProposal(e.proposal, e.block);
          break;
        case 'broadcastVote':
          this.wal.sync();
          this.options.metrics.votesSent.inc({ type: e.vote.type });
          this.network?.broadcastVote(e.vote);
          break;
        case 'scheduleTimeout': {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            this.options.metrics.timeouts.inc({ step: e.step });
            this.handle({ type: 'timeout', now: this.clock(), height: e.height, round: e.round, step: e.step });
          }, e.durationMs);
          this.timers.add(timer);
          break;
        }
        case 'commit':
          this.onCommit(e.block, e.commit, e.round);
          break;
        case 'evidence':
          this.options.metrics.evidence.inc();
          this.network?.broadcastEvidence(e.evidence);
          break;
      }
    }
  }

  private onCommit(block: Block, commit: Commit, round: number): void {
    const { node } = this.options;
    if (node.height < block.header.height) {
      node.commitDecided(block, commit);
      this.lastCommitAt = this.clock();
      this.options.metrics.rounds.observe(round);
    }
    this.scheduleStart();
  }

  /** Called after block sync appended blocks: consensus continues at the new height. */
  afterSync(): void {
    const current = this.status();
    if (current && current.height > this.options.node.height) return;
    this.startNextHeight();
  }

  private context(height: number): HeightContext {
    const { node } = this.options;
    const prev = height > 1 ? node.storage.getBlock(height - 1) : undefined;
    return {
      height,
      validators: node.valsetAt(height),
      previous: prev ? { blockHash: prev.hash, time: prev.block.header.time, commit: prev.commit, validators: node.valsetAt(height - 1) } : null,
      genesisTime: node.options.genesis.genesisTime,
    };
  }

  /** Waits until the next height should begin (transactions waiting, or the heartbeat interval). */
  private scheduleStart(): void {
    if (this.stopped) return;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.waitingForStart = true;
    const { node } = this.options;
    const { blockTimeMs, emptyBlockIntervalMs } = this.options.timing;
    // Heights start on a steady cadence: `blockTimeMs` after the previous height started (not after it
    // finished), so the time spent executing a block does not stretch the interval between blocks.
    const check = () => {
      if (this.stopped || !this.waitingForStart) return;
      const now = this.clock();
      const sinceStart = now - Math.max(this.heightStartedAt, node.latestBlockTime - blockTimeMs);
      const sinceBlock = now - node.latestBlockTime;
      const due = (node.hasIncludableTxs() && sinceStart >= blockTimeMs) || sinceBlock >= emptyBlockIntervalMs;
      if (due) this.startNextHeight();
      else this.startTimer = setTimeout(check, node.mempool.size > 0 ? Math.max(1, blockTimeMs - sinceStart) : Math.min(blockTimeMs, Math.max(1, emptyBlockIntervalMs - sinceBlock)));
    };
    this.startTimer = setTimeout(check, Math.max(1, blockTimeMs - (this.clock() - this.heightStartedAt)));
  }

  private startNextHeight(): void {
    if (this.stopped) return;
    this.waitingForStart = false;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.heightStartedAt = this.clock();
    const height = this.options.node.height + 1;
    const current = this.status();
    if (current && current.height >= height) return;
    // The previous height is durably stored: its WAL records are no longer needed.
    this.wal.reset();
    this.handle({ type: 'start', now: this.clock(), context: this.context(height) });
  }

  /** Tendermint relies on eventual delivery: re-send the current round's proposal and own votes. */
  private regossip(): void {
    if (this.stopped || !this.network) return;
    for (const e of gossipMessages(this.state)) {
      if (e.type === 'broadcastProposal') this.network.broadcastProposal(e.proposal, e.block);
      else if (e.type === 'broadcastVote') this.network.broadcastVote(e.vote);
    }
  }
}
