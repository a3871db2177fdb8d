/**
 * CPU per committed transaction, per node and phase (issue 18): each node's /metrics is read at the
 * start and at the end of a measurement window; the difference of its counters says how much CPU the
 * process, its main thread and its other threads (signature workers, GC helpers) spent, how the main
 * thread's time splits into phases (the node's own PhaseMeter), and how many transactions of which
 * kind it committed meanwhile. Reading /metrics twice per window costs the node nothing measurable.
 */

/** One scrape: metric series ("name" or "name{labels}") → value. */
export interface NodeSample {
  url: string;
  values: Map<string, number>;
}

/** Parses the Prometheus text format (only what prom-client writes: one sample per line, no timestamps). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    values.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return values;
}

export async function sampleNodes(urls: string[]): Promise<NodeSample[]> {
  return Promise.all(
    urls.map(async (url) => {
      const res = await fetch(`${url}/metrics`);
      if (!res.ok) throw new Error(`${url}/metrics answered ${res.status}`);
      return { url, values: parseMetrics(await res.text()) };
    }),
  );
}

/** Values of one labelled metric by label value: `name{label="x"}` → x. */
function byLabel(values: Map<string, number>, name: string, label: string): Map<string, number> {
  const prefix = `${name}{${label}="`;
  const out = new Map<string, number>();
  for (const [series, v] of values) if (series.startsWith(prefix)) out.set(series.slice(prefix.length, series.indexOf('"', prefix.length)), v);
  return out;
}

function sumOf(m: Map<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

/** The phase groups; a phase belongs to the first group whose prefix it starts with. */
const GROUPS: Array<[group: string, prefixes: string[]]> = [
  ['admission', ['admission.', 'workers.verify']],
  ['gossip', ['gossip.', 'p2p.']],
  ['stateRoot', ['state.root']],
  ['blockExecute', ['execute.']],
  ['blockBuildValidate', ['block.']],
  ['commit', ['commit']],
  ['consensus', ['consensus.']],
];

function groupOf(phase: string): string {
  return GROUPS.find(([, prefixes]) => prefixes.some((p) => phase.startsWith(p)))?.[0] ?? 'other';
}

const us = (seconds: number, txs: number) => (txs > 0 ? Math.round((seconds * 1e6) / txs) : null);

export interface NodeCpu {
  url: string;
  committedTxs: number;
  /** CPU of the whole process (user + system), of its main thread, of its other threads. */
  processCpuSeconds: number;
  mainThreadCpuSeconds: number | null;
  otherThreadsCpuSeconds: number | null;
  /** Of the other threads: the signature workers (whole threads: verification, messages, their GC). */
  verifyThreadsCpuSeconds: number | null;
  /** µs of CPU per committed transaction. */
  usPerTx: {
    process: number | null;
    mainThread: number | null;
    otherThreads: number | null;
    verifyThreads: number | null;
    /** Main-thread phases (exclusive time) and worker phases, µs per committed tx. */
    phases: Record<string, number | null>;
    /** The phases summed by the groups; `mainUnmeasured` = main-thread CPU outside every phase (HTTP and JSON of requests, p2p framing and decryption, timers, GC on the main thread). */
    groups: Record<string, number | null>;
  };
  /** Per transaction kind: how many were committed and their execution time per transaction (µs). */
  byKind: Record<string, { txs: number; executeUsPerTx: number | null }>;
  /**
   * Per committed transaction: P2P bytes out and in, gossiped copies dropped, transactions asked of an
   * announcing peer, transactions of compact proposals filled from the node's pools and asked of
   * the peer; per committed block: copies of a proposal sent to peers and skipped (the peer held it).
   */
  /** Heights decided in the window, how many of them after round 0, and the consensus timeouts the engine acted on, by step. */
  consensus: { heights: number; afterRound0: number; timeouts: Record<string, number> };
  wire: {
    bytesOutPerTx: number | null;
    bytesInPerTx: number | null;
    copiesDroppedPerTx: number | null;
    wantedPerTx: number | null;
    compactFilledPerTx: { local: number | null; asked: number | null };
    /** Compact proposals forwarded only after a second look or a fill, and their mean delay from arrival. */
    compactDelayed: { proposals: number; meanMs: number | null };
    proposalCopiesPerBlock: { sent: number; skipped: number } | null;
  };
  /**
   * The main thread's garbage-collection pauses (wall time) per committed transaction, by kind
   * (minor = scavenge, major = mark-compact), and how many there were; the collector's helper threads
   * work alongside and count in `otherThreads`.
   */
  gc: { pauseUsPerTx: Record<string, number | null>; pauses: Record<string, number> };
  /** CPU seconds of the signature checks themselves (`workers.verify`, on the worker threads). */
  verifyCheckSeconds: number;
  /** The process's CPU over its signature checks' in the same window: see CpuReport. */
  ratioToOwnVerify: number | null;
}

function consensusOf(d: Map<string, number>): NodeCpu['consensus'] {
  const heights = d.get('gridledger_consensus_commit_round_count') ?? 0;
  const inRound0 = d.get('gridledger_consensus_commit_round_bucket{le="0"}') ?? 0;
  return { heights, afterRound0: heights - inRound0, timeouts: Object.fromEntries(byLabel(d, 'gridledger_consensus_timeouts_total', 'step')) };
}

function delayOf(d: Map<string, number>): NodeCpu['wire']['compactDelayed'] {
  const proposals = d.get('gridledger_compact_block_fill_seconds_count') ?? 0;
  const seconds = d.get('gridledger_compact_block_fill_seconds_sum') ?? 0;
  return { proposals, meanMs: proposals > 0 ? Math.round((seconds * 1e4) / proposals) / 10 : null };
}

function wireOf(d: Map<string, number>, txs: number): NodeCpu['wire'] {
  const perTx = (v: number | undefined) => (txs > 0 ? Math.round(((v ?? 0) * 100) / txs) / 100 : null);
  const bytes = byLabel(d, 'gridledger_p2p_bytes', 'direction');
  const blocks = d.get('gridledger_blocks_total') ?? 0;
  const copies = byLabel(d, 'gridledger_gossip_proposal_copies_total', 'outcome');
  const perBlock = (v: number | undefined) => Math.round(((v ?? 0) * 100) / blocks) / 100;
  const compact = byLabel(d, 'gridledger_compact_block_txs_total', 'source');
  return {
    compactFilledPerTx: { local: perTx(compact.get('local')), asked: perTx(compact.get('asked')) },
    compactDelayed: delayOf(d),
    proposalCopiesPerBlock: blocks > 0 ? { sent: perBlock(copies.get('sent')), skipped: perBlock(copies.get('skipped')) } : null,
    bytesOutPerTx: perTx(bytes.get('out')),
    bytesInPerTx: perTx(bytes.get('in')),
    copiesDroppedPerTx: perTx(d.get('gridledger_gossip_tx_copies_total')),
    wantedPerTx: perTx(d.get('gridledger_gossip_txs_wanted_total')),
  };
}

function gcOf(d: Map<string, number>, txs: number): NodeCpu['gc'] {
  const pauseUsPerTx: Record<string, number | null> = {};
  for (const [kind, seconds] of byLabel(d, 'gridledger_gc_pause_seconds', 'kind')) pauseUsPerTx[kind] = us(seconds, txs);
  return { pauseUsPerTx, pauses: Object.fromEntries(byLabel(d, 'gridledger_gc_pauses', 'kind')) };
}

export function nodeCpu(before: NodeSample, after: NodeSample): NodeCpu {
  const d = delta(after.values, before.values);
  const committedTxs = sumOf(byLabel(d, 'gridledger_txs_committed_total', 'code'));
  const processCpu = d.get('process_cpu_seconds_total') ?? 0;
  const threads = byLabel(d, 'gridledger_thread_cpu_seconds', 'thread');
  const hasThreads = byLabel(after.values, 'gridledger_thread_cpu_seconds', 'thread').size > 0;
  const main = hasThreads ? (threads.get('main') ?? 0) : null;
  const verifyThreads = hasThreads ? (threads.get('verify') ?? 0) : null;
  const other = hasThreads ? (threads.get('other') ?? 0) + verifyThreads! : null;
  const phaseSeconds = byLabel(d, 'gridledger_phase_seconds', 'phase');
  const phases: Record<string, number | null> = {};
  const groupSeconds = new Map<string, number>();
  let mainMeasured = 0;
  for (const [phase, s] of [...phaseSeconds].sort((a, b) => b[1] - a[1])) {
    phases[phase] = us(s, committedTxs);
    groupSeconds.set(groupOf(phase), (groupSeconds.get(groupOf(phase)) ?? 0) + s);
    if (!phase.startsWith('workers.')) mainMeasured += s;
  }
  const groups: Record<string, number | null> = {};
  for (const [g, s] of [...groupSeconds].sort((a, b) => b[1] - a[1])) groups[g] = us(s, committedTxs);
  if (main !== null) groups.mainUnmeasured = us(Math.max(0, main - mainMeasured), committedTxs);
  const byKind: NodeCpu['byKind'] = {};
  for (const [kind, n] of byLabel(d, 'gridledger_txs_committed_by_kind_total', 'kind')) byKind[kind] = { txs: n, executeUsPerTx: us(phaseSeconds.get(`execute.tx.${kind}`) ?? 0, n) };
  return {
    url: after.url,
    committedTxs,
    processCpuSeconds: round3(processCpu),
    mainThreadCpuSeconds: main === null ? null : round3(main),
    otherThreadsCpuSeconds: other === null ? null : round3(other),
    verifyThreadsCpuSeconds: verifyThreads === null ? null : round3(verifyThreads),
    usPerTx: { process: us(processCpu, committedTxs), mainThread: main === null ? null : us(main, committedTxs), otherThreads: other === null ? null : us(other, committedTxs), verifyThreads: verifyThreads === null ? null : us(verifyThreads, committedTxs), phases, groups },
    byKind,
    consensus: consensusOf(d),
    wire: wireOf(d, committedTxs),
    gc: gcOf(d, committedTxs),
    verifyCheckSeconds: round3(phaseSeconds.get('workers.verify') ?? 0),
    ratioToOwnVerify: ratioOf(processCpu, phaseSeconds.get('workers.verify') ?? 0),
  };
}

function ratioOf(cpuSeconds: number, verifySeconds: number): number | null {
  return verifySeconds > 0 ? Number((cpuSeconds / verifySeconds).toFixed(2)) : null;
}

export interface CpuReport {
  wallSeconds: number;
  /** The benchmark client's own CPU meanwhile (it shares the cores with the nodes). */
  clientCpuSeconds: number;
  /** Sum over the nodes of their process CPU, per transaction committed (by the first node). */
  allNodesUsPerTx: number | null;
  /**
   * The nodes' CPU over the CPU their signature checks took in the same window. Every node verifies
   * each transaction once, the same work in any tree, so this compares runs on a machine whose speed
   * moves between them (by a third within minutes on the bench machine) better than the calibration,
   * which is measured before the load.
   */
  ratioToOwnVerify: number | null;
  nodes: NodeCpu[];
}

/** Starts a window: call the returned function at its end for the report. */
export async function cpuWindow(urls: string[]): Promise<() => Promise<CpuReport>> {
  const before = await sampleNodes(urls);
  const clientBefore = process.cpuUsage();
  const t0 = performance.now();
  return async () => {
    const wallSeconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(clientBefore);
    const after = await sampleNodes(urls);
    const nodes = after.map((a, i) => nodeCpu(before[i]!, a));
    const totalCpu = nodes.reduce((s, n) => s + n.processCpuSeconds, 0);
    const verifyCpu = nodes.reduce((s, n) => s + n.verifyCheckSeconds, 0);
    return { wallSeconds: round3(wallSeconds), clientCpuSeconds: round3((client.user + client.system) / 1e6), allNodesUsPerTx: us(totalCpu, nodes[0]?.committedTxs ?? 0), ratioToOwnVerify: ratioOf(totalCpu, verifyCpu), nodes };
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
