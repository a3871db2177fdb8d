import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { txKind, type ExecutedBlock } from '../app/host.js';
import type { SignedTx } from '../codec/tx.js';
import { SLOT_MS } from '../util/slots.js';
import { PhaseMeter, threadCpuSeconds } from '../util/phase-meter.js';
import { gcPauses } from '../util/gc-pauses.js';

/** Message types counted by the domain metrics (the metering module's; named here so the ledger needs no module import). */
const READING_MSG = 'metering/reading';
const OFFICIAL_MSG = 'metering/official';
/** Per-slot reading gauges kept for this many of the most recent slots (bounded label cardinality). */
export const READING_SLOTS_KEPT = 8;

/** A reading is late when its block comes more than one slot after the slot ended (the gateway missed the next slot). */
export function isLateReading(slot: number, blockTimeMs: number): boolean {
  return blockTimeMs >= (slot + 2) * SLOT_MS;
}

/** Prometheus metrics of one node (one registry per node, so several nodes can share a process in tests). */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly height = new Gauge({ name: 'gridledger_height', help: 'Latest committed height', registers: [this.registry] });
  readonly blocks = new Counter({ name: 'gridledger_blocks_total', help: 'Blocks committed', registers: [this.registry] });
  readonly txsCommitted = new Counter({ name: 'gridledger_txs_committed_total', help: 'Transactions committed, by result code', labelNames: ['code'], registers: [this.registry] });
  readonly txsAdmitted = new Counter({ name: 'gridledger_txs_admitted_total', help: 'Transactions admitted to the mempool', registers: [this.registry] });
  readonly preparedProposals = new Counter({ name: 'gridledger_prepared_proposals_total', help: 'Own proposals prepared with the state tree on a worker thread before consensus asked for them (ADR 0024)', registers: [this.registry] });
  readonly internalErrors = new Counter({ name: 'gridledger_internal_errors_total', help: 'Bugs caught in ledger code (committed as INTERNAL_ERROR): handler crashes, writes outside a module prefix', labelNames: ['phase', 'module'], registers: [this.registry] });
  readonly gossipCopies = new Counter({ name: 'gridledger_gossip_tx_copies_total', help: 'Gossiped copies of pending transactions or of ones being admitted, dropped before admission', registers: [this.registry] });
  readonly gossipWanted = new Counter({ name: 'gridledger_gossip_txs_wanted_total', help: 'Transactions asked of a peer that announced them (this node had no copy yet)', registers: [this.registry] });
  readonly proposalCopies = new Counter({ name: 'gridledger_gossip_proposal_copies_total', help: 'Copies of a proposal (with its block) for a peer: sent, or skipped because the peer holds it', labelNames: ['outcome'], registers: [this.registry] });
  readonly compactFills = new Counter({ name: 'gridledger_compact_block_txs_total', help: "Transactions of peers' compact proposals: filled from this node's pools, or asked of the peer", labelNames: ['source'], registers: [this.registry] });
  readonly compactFillDelay = new Histogram({ name: 'gridledger_compact_block_fill_seconds', help: 'Compact proposals that lacked transactions: from arrival to forwarding (second look, fill round trip)', buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1], registers: [this.registry] });
  readonly txsRejected = new Counter({ name: 'gridledger_txs_rejected_total', help: 'Transactions refused at admission, by code', labelNames: ['code'], registers: [this.registry] });
  readonly mempoolSize = new Gauge({ name: 'gridledger_mempool_txs', help: 'Pending transactions', registers: [this.registry] });
  readonly blockTxs = new Histogram({ name: 'gridledger_block_txs', help: 'Transactions per block', buckets: [0, 1, 10, 100, 1000, 5000, 10000], registers: [this.registry] });
  readonly rounds = new Histogram({ name: 'gridledger_consensus_commit_round', help: 'Round in which each height was decided', buckets: [0, 1, 2, 3, 5, 10], registers: [this.registry] });
  readonly timeouts = new Counter({ name: 'gridledger_consensus_timeouts_total', help: 'Consensus timeouts that moved the engine (a stale timer of a decided height or round is not counted), by step', labelNames: ['step'], registers: [this.registry] });
  readonly votesSent = new Counter({ name: 'gridledger_consensus_votes_sent_total', help: 'Own votes signed and sent', labelNames: ['type'], registers: [this.registry] });
  readonly votesReceived = new Counter({ name: 'gridledger_consensus_votes_received_total', help: 'Votes received from peers, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly evidence = new Counter({ name: 'gridledger_consensus_evidence_total', help: 'Equivocation evidence detected', registers: [this.registry] });
  readonly syncBlocks = new Counter({ name: 'gridledger_sync_blocks_applied_total', help: 'Blocks applied by block sync', registers: [this.registry] });
  readonly syncRequests = new Counter({ name: 'gridledger_sync_requests_total', help: 'Block sync requests sent', registers: [this.registry] });
  readonly peerBytes = new Gauge({ name: 'gridledger_p2p_bytes', help: 'P2P bytes, by direction', labelNames: ['direction'], registers: [this.registry] });
  readonly peers = new Gauge({ name: 'gridledger_p2p_peers', help: 'Connected peers', registers: [this.registry] });
  readonly peerPenalties = new Gauge({ name: 'gridledger_p2p_penalties', help: 'Peers penalised since start', registers: [this.registry] });
  // Domain metrics of the metering module (issue 19 #17).
  readonly readingsPerSlot = new Gauge({ name: 'gridledger_meter_readings_per_slot', help: `Readings accepted for each of the last ${READING_SLOTS_KEPT} slots seen (label: slot index)`, labelNames: ['slot'], registers: [this.registry] });
  readonly readingsAccepted = new Counter({ name: 'gridledger_meter_readings_accepted_total', help: 'Meter readings committed OK', registers: [this.registry] });
  readonly readingsLate = new Counter({ name: 'gridledger_meter_readings_late_total', help: 'Readings committed more than one slot after their slot ended (accepted or not)', registers: [this.registry] });
  readonly readingsRejected = new Counter({ name: 'gridledger_meter_readings_rejected_total', help: 'Readings committed with a rejection, by code', labelNames: ['code'], registers: [this.registry] });
  readonly officialValues = new Counter({ name: 'gridledger_meter_official_total', help: 'Official grid-operator values committed, by result code', labelNames: ['code'], registers: [this.registry] });
  private readonly slotCounts = new Map<number, number>();
  readonly httpRequests = new Counter({ name: 'gridledger_http_requests_total', help: 'API requests by route and status', labelNames: ['route', 'status'], registers: [this.registry] });

  /** Main-thread time by phase (issue 18); read into the gauges below when scraped. */
  readonly phases = new PhaseMeter();
  readonly phaseSeconds = new Gauge({ name: 'gridledger_phase_seconds', help: 'Time spent in each phase since start (s; exclusive of nested phases; phases named workers.* run on worker threads, the rest on the main thread)', labelNames: ['phase'], registers: [this.registry], collect: () => this.collectPhases() });
  readonly phaseCalls = new Gauge({ name: 'gridledger_phase_calls', help: 'Times each phase was entered (workers.*: items processed)', labelNames: ['phase'], registers: [this.registry] });
  readonly threadCpu = new Gauge({ name: 'gridledger_thread_cpu_seconds', help: 'CPU seconds (user + system) of the main thread, the signature workers and all other threads together (GC helpers, libuv; Linux /proc)', labelNames: ['thread'], registers: [this.registry], collect: () => this.collectThreadCpu() });
  readonly gcPauseSeconds = new Gauge({ name: 'gridledger_gc_pause_seconds', help: "The process's garbage-collection pauses of its main thread since start, by kind (minor = scavenge, major = mark-compact; every pause, unlike nodejs_gc_duration_seconds, which sees only the first of each batch)", labelNames: ['kind'], registers: [this.registry], collect: () => this.collectGcPauses() });
  readonly gcPauseCount = new Gauge({ name: 'gridledger_gc_pauses', help: "The process's garbage-collection pauses of its main thread since start, by kind", labelNames: ['kind'], registers: [this.registry] });
  readonly txsByKind = new Counter({ name: 'gridledger_txs_committed_by_kind_total', help: "Transactions committed, by kind (first message type)", labelNames: ['kind'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    gcPauses(); // counting starts with the first node of the process
  }

  private collectGcPauses(): void {
    for (const [kind, t] of gcPauses()) {
      this.gcPauseSeconds.set({ kind }, t.seconds);
      this.gcPauseCount.set({ kind }, t.count);
    }
  }

  private collectPhases(): void {
    for (const [phase, t] of Object.entries(this.phases.snapshot())) {
      this.phaseSeconds.set({ phase }, t.seconds);
      this.phaseCalls.set({ phase }, t.calls);
    }
  }

  /** Linux thread ids of the signature workers (the verify pool tells them). */
  workerThreadIds: Iterable<number> = [];

  private collectThreadCpu(): void {
    const cpu = threadCpuSeconds(this.workerThreadIds);
    if (!cpu) return;
    this.threadCpu.set({ thread: 'main' }, cpu.main);
    this.threadCpu.set({ thread: 'verify' }, cpu.workers);
    this.threadCpu.set({ thread: 'other' }, cpu.other);
  }

  observeBlock(executed: ExecutedBlock): void {
    this.blocks.inc();
    this.height.set(executed.block.header.height);
    this.blockTxs.observe(executed.txHashes.length);
    // Counted per block first: a labelled increment costs ~1 µs, a block carries thousands.
    for (const [code, n] of countBy(executed.results, (r) => r.code)) this.txsCommitted.inc({ code }, n);
    for (const [kind, n] of countBy(executed.block.txs, txKind)) this.txsByKind.inc({ kind }, n);
    this.observeReadings(executed.block.txs, executed.results.map((r) => r.code), executed.block.header.time);
  }

  /** Readings and official values of a block: per slot, late, rejected by code (a transaction's code applies to each of its messages). */
  observeReadings(txs: readonly SignedTx[], codes: readonly string[], blockTimeMs: number): void {
    txs.forEach((tx, i) => {
      const code = codes[i]!;
      for (const msg of tx.body.msgs) {
        if (msg.type === OFFICIAL_MSG) this.officialValues.inc({ code });
        if (msg.type !== READING_MSG) continue;
        const slot = (msg.value as { slot?: unknown }).slot;
        if (typeof slot === 'number' && isLateReading(slot, blockTimeMs)) this.readingsLate.inc();
        if (code !== 'OK') {
          this.readingsRejected.inc({ code });
          continue;
        }
        this.readingsAccepted.inc();
        if (typeof slot === 'number') this.countSlot(slot);
      }
    });
  }

  private countSlot(slot: number): void {
    this.slotCounts.set(slot, (this.slotCounts.get(slot) ?? 0) + 1);
    this.readingsPerSlot.set({ slot: String(slot) }, this.slotCounts.get(slot)!);
    if (this.slotCounts.size <= READING_SLOTS_KEPT) return;
    const oldest = Math.min(...this.slotCounts.keys());
    this.slotCounts.delete(oldest);
    this.readingsPerSlot.remove({ slot: String(oldest) });
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
