import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bech32m } from '@scure/base';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { Signer } from '../src/crypto/ed25519.js';
import { openKeyring, paths } from '../src/home/home.js';
import { initHome } from '../src/runtime/init.js';
import { prepareDevnet, startDevnetNode } from '../src/runtime/devnet.js';
import { freeBasePort } from '../test/devnet/harness.js';
import { pinCompiledCode } from '../scripts/lib/cluster.js';
import { cpuWindow, sampleNodes, type CpuReport } from './cpu-report.js';

/**
 * The foundation benchmark: a node in a separate process, driven over HTTP with pre-signed
 * transactions. Saturation throughput, then commit latency at half of that rate.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Waits for every node; if one does not start, stops those that did before failing (none is left running). */
async function waitAllHealthy(urls: readonly string[], stop: () => Promise<void>): Promise<void> {
  try {
    for (const url of urls) await waitHealthy(url);
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface BenchNetwork {
  /** Home of the node whose admin key signs the load. */
  home: string;
  urls: string[];
  stop(): Promise<void>;
}

function tuneConfig(home: string, blockTimeMs: number): void {
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.logLevel = 'warn';
  config.api.rateLimitPerSecond = 1_000_000;
  // The load generator shares the cores with the nodes and may fall behind the event stream by more
  // than the default 1 MiB (blocks of market orders carry several events per transaction); a
  // dropped stream would leave the commit watcher waiting for commits it can no longer see.
  config.api.maxEventBufferedBytes = 256 * 1024 * 1024;
  config.mempool = { maxTxs: 200_000, maxBytes: 512 * 1024 * 1024, nonceWindow: 100_000 };
  config.consensus.blockTimeMs = blockTimeMs;
  Object.assign(config.consensus, CONSENSUS_OVERRIDES);
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
}

/**
 * Consensus settings for every bench node from GRIDLEDGER_BENCH_CONSENSUS (JSON), to compare settings
 * in one sitting, e.g. `{"proposeAtTxs": 1000000}` turns the early height start (ADR 0015) off.
 */
const CONSENSUS_OVERRIDES = JSON.parse(process.env.GRIDLEDGER_BENCH_CONSENSUS ?? '{}') as Record<string, unknown>;

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await callRoute(url, coreRoutes.health, {});
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`node at ${url} did not become healthy`);
}

/** GRIDLEDGER_BENCH_KEEP=1 keeps the nodes' homes after the run (their chains, to study block by block). */
const KEEP_HOMES = process.env.GRIDLEDGER_BENCH_KEEP === '1';

function stopAll(children: ChildProcess[], dir: string): () => Promise<void> {
  return async () => {
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
    if (KEEP_HOMES) process.stderr.write(`bench nodes' homes kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * Options for Node itself on every bench node, from GRIDLEDGER_BENCH_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` (NODE_OPTIONS does not allow --cpu-prof); see BENCHMARKS.md.
 */
const NODE_ARGS = (process.env.GRIDLEDGER_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** One validator (n = 1) or a devnet of n validators on loopback, each node its own process. */
export async function startBenchNetwork(validators: number, blockTimeMs = 1000): Promise<BenchNetwork> {
  // Nodes start through bin/gridledger.mjs, which runs the TypeScript sources when dist/ is stale:
  // a benchmark must measure the compiled code (the sources cost 60–130 MiB more, and more CPU).
  pinCompiledCode();
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-'));
  if (validators === 1) {
    const port = await freePort();
    const home = join(dir, 'node0');
    initHome(home, { chainId: 'bench-chain', keyringBackend: 'test', apiPort: port });
    tuneConfig(home, blockTimeMs);
    const child = spawn(process.execPath, [...NODE_ARGS, 'bin/gridledger.mjs', '--home', home, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const url = `http://127.0.0.1:${port}`;
    const stop = stopAll([child], dir);
    await waitAllHealthy([url], stop);
    return { home, urls: [url], stop };
  }
  const manifest = prepareDevnet(dir, validators, await freeBasePort(validators), 'bench-devnet');
  for (const n of manifest.nodes) tuneConfig(n.home, blockTimeMs);
  const children = manifest.nodes.map((n) => startDevnetNode(n, NODE_ARGS));
  const stop = stopAll(children, dir);
  await waitAllHealthy(manifest.nodes.map((n) => n.api), stop);
  return { home: manifest.nodes[0]!.home, urls: manifest.nodes.map((n) => n.api), stop };
}

function randomAddress(): string {
  return bech32m.encode('grid', bech32m.toWords(randomBytes(20)));
}

/** Pre-signs `count` admissions of fresh addresses from the operator key, in nonce order. */
export function presignAdmissions(home: string, chainId: string, count: number, startNonce: number, expiresAtHeight: number): SignedTx[] {
  const keyring = openKeyring(home, 'test');
  const signer = keyring.signer('admin');
  const sender = keyring.show('admin').address;
  const txs: SignedTx[] = [];
  for (let i = 0; i < count; i++) {
    const msgs: Msg[] = [{ type: 'registry/admit', value: { address: randomAddress(), roles: ['consumer'] } }];
    txs.push(signTx({ chainId, sender, nonce: startNonce + i, expiresAtHeight, msgs, memo: '' }, signer));
  }
  return txs;
}

/**
 * Commit times of transactions, from the node's server-sent event stream. A stream the node drops
 * (a reader that fell behind) is resumed from the last event id, as a browser's EventSource would;
 * the commit times of replayed events are then late, so `reconnects` is reported with the figures.
 */
export class CommitWatcher {
  readonly committedAt = new Map<string, number>();
  reconnects = 0;
  private controller = new AbortController();
  private waiters: Array<() => void> = [];
  private lastEventId = '';
  /** The stream could not be resumed (the node went away): no commit can be seen any more. */
  private ended = false;

  async start(url: string): Promise<void> {
    const reader = await this.open(url);
    void this.follow(url, reader);
  }

  private async open(url: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
    const headers: Record<string, string> = this.lastEventId ? { 'last-event-id': this.lastEventId } : {};
    const res = await fetch(`${url}/v1/events?topics=txs`, { signal: this.controller.signal, headers });
    if (!res.ok || !res.body) throw new Error(`event stream of ${url}: HTTP ${res.status}`);
    return res.body.getReader();
  }

  private async follow(url: string, first: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    let reader = first;
    try {
      for (;;) {
        await this.read(reader).catch(() => undefined); // a dropped stream ends with an error
        if (this.controller.signal.aborted) return;
        this.reconnects++;
        reader = await this.open(url);
      }
    } catch (err) {
      if (!this.controller.signal.aborted) process.stderr.write(`event stream of ${url} lost: ${(err as Error).message}${(err as { cause?: unknown }).cause ? ` (${String((err as { cause?: unknown }).cause)})` : ''}\n`);
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Reads one connection to its end, recording each transaction event. */
  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let idx: number;
      while ((idx = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, idx).split('\n');
        buffer = buffer.slice(idx + 2);
        const id = lines.find((l) => l.startsWith('id: '));
        const data = lines.find((l) => l.startsWith('data: '));
        if (id) this.lastEventId = id.slice(4);
        if (data) this.committedAt.set((JSON.parse(data.slice(6)) as { hash: string }).hash, performance.now());
      }
      for (const w of this.waiters.splice(0)) w();
    }
  }

  async waitFor(hashes: string[], timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (hashes.some((h) => !this.committedAt.has(h))) {
      if (this.ended) throw new Error('the commit event stream was lost and could not be resumed: the commit times of the rest cannot be seen');
      if (performance.now() > deadline) return false;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return true;
  }

  stop(): void {
    this.controller.abort();
  }
}

/** Request bodies of `batchSize` transactions each, encoded ahead so the client's CPU stays out of the measurement. */
export function encodeBatches(txs: SignedTx[], batchSize: number): Array<{ start: number; body: string }> {
  const out: Array<{ start: number; body: string }> = [];
  for (let start = 0; start < txs.length; start += batchSize) out.push({ start, body: JSON.stringify({ txs: txs.slice(start, start + batchSize) }) });
  return out;
}

export async function submitBatches(url: string, txs: SignedTx[], batchSize: number, concurrency: number, encoded = encodeBatches(txs, batchSize)): Promise<string[]> {
  const hashes: string[] = new Array(txs.length);
  let next = 0;
  const worker = async () => {
    while (next < encoded.length) {
      const { start, body } = encoded[next++]!;
      const res = await callRoute(url, coreRoutes.submitTxBatch, { body: undefined as never }, { encodedBody: body });
      res.results.forEach((r, i) => {
        if (r.code !== 'OK') throw new Error(`tx ${start + i} refused: ${r.code} ${r.message}`);
        hashes[start + i] = r.hash!;
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return hashes;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
export interface LoadResult {
  committedTxPerSec: number;
  saturationTxs: number;
  halfLoadRate: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  halfLoadTxs: number;
  latencyWindows: LatencyWindow[];
}

export async function measureSaturation(url: string, txs: SignedTx[], watcher: CommitWatcher): Promise<number> {
  const encoded = encodeBatches(txs, 500);
  const t0 = performance.now();
  const hashes = await submitBatches(url, txs, 500, 4, encoded);
  const ok = await watcher.waitFor(hashes, 300_000);
  if (!ok) throw new Error('not every transaction was committed within 300 s');
  const last = Math.max(...hashes.map((h) => watcher.committedAt.get(h)!));
  return txs.length / ((last - t0) / 1000);
}

/** Latency percentiles of the transactions submitted in one window of the half-load run. */
export interface LatencyWindow {
  fromSecond: number;
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Seconds per window of the half-load report: a stall shows in its window instead of vanishing in the whole run's p99. */
const LATENCY_WINDOW_S = 10;

/** Half load: submit at `rate` tx/s in 50 ms ticks for `seconds`; latency = commit − submit per tx. */
export async function measureLatency(url: string, txs: SignedTx[], rate: number, watcher: CommitWatcher): Promise<{ p50: number; p99: number; n: number; windows: LatencyWindow[] }> {
  const perTick = Math.max(1, Math.round((rate * 50) / 1000));
  const submittedAt = new Map<string, number>();
  const start = performance.now();
  let sent = 0;
  const pending: Promise<void>[] = [];
  // A refused batch (e.g. the node's connections per client, when it falls behind and requests pile up)
  // ends the run with its reason, after the caller stops the nodes; left unhandled it would end the
  // process and leave them running.
  let failure: Error | undefined;
  while (sent < txs.length && failure === undefined) {
    const due = Math.min(txs.length, Math.floor(((performance.now() - start) / 50 + 1) * perTick));
    if (due > sent) {
      const slice = txs.slice(sent, due);
      sent = due;
      const at = performance.now();
      pending.push(
        callRoute(url, coreRoutes.submitTxBatch, { body: { txs: slice } }).then(
          (res) => {
            for (const r of res.results) if (r.hash) submittedAt.set(r.hash, at);
          },
          (err: Error) => {
            failure ??= err;
          },
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  if (failure) throw new Error(`load at ${rate} tx/s: a batch was refused after ${Math.round((performance.now() - start) / 1000)} s (${failure.message}); the node fell behind its client`, { cause: failure });
  await watcher.waitFor([...submittedAt.keys()], 120_000);
  const lat = [...submittedAt.entries()].map(([h, at]) => watcher.committedAt.get(h)! - at).sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length, windows: latencyWindows([...submittedAt.entries()].map(([h, at]) => ({ at: at - start, ms: watcher.committedAt.get(h)! - at }))) };
}

/** Groups latencies by the window of their submission (ms since the run started). */
export function latencyWindows(samples: Array<{ at: number; ms: number }>): LatencyWindow[] {
  const byWindow = new Map<number, number[]>();
  for (const { at, ms } of samples) {
    const w = Math.floor(at / 1000 / LATENCY_WINDOW_S);
    let list = byWindow.get(w);
    if (!list) byWindow.set(w, (list = []));
    list.push(ms);
  }
  return [...byWindow.entries()]
    .sort(([a], [b]) => a - b)
    .map(([w, list]) => {
      list.sort((a, b) => a - b);
      return { fromSecond: w * LATENCY_WINDOW_S, n: list.length, p50Ms: Math.round(percentile(list, 50)), p99Ms: Math.round(percentile(list, 99)), maxMs: Math.round(list[list.length - 1]!) };
    });
}

/** Resident memory of every node (MiB), from its own process metrics. */
export async function nodesRssMiB(urls: string[]): Promise<number[]> {
  const samples = await sampleNodes(urls);
  return samples.map((s) => Math.round((s.values.get('process_resident_memory_bytes') ?? Number.NaN) / 2 ** 20));
}

/**
 * Issue 18: a validator's RSS 5 s after it started (still holding start-up garbage: module loading
 * and compilation), and once idle — V8's memory reducer returns that memory after ~20–30 s without
 * load (measured: 145 MiB at 3–20 s, 101 MiB from 30 s on, one validator, 2026-12-01).
 */
const STARTED_SETTLE_MS = 5_000;
const IDLE_SETTLE_MS = 45_000;

/**
 * Transactions committed before a measurement, unmeasured: a node just started runs its hot paths
 * unoptimised and compiles them meanwhile (V8's optimising compiler, on helper threads: ~3.7 s of
 * CPU per node in the first 10,000 transactions, measured with --trace-opt on 2026-12-02), which a
 * validator that runs for days pays once. Both the foundation and the energy loads are warmed alike.
 */
export const DEFAULT_WARMUP_TXS = 3_000;

/** Submits `txs` and waits until all are committed (a warm-up: nothing measured). */
export async function warmUp(url: string, txs: SignedTx[], watcher: CommitWatcher): Promise<void> {
  if (txs.length === 0) return;
  const hashes = await submitBatches(url, txs, 500, 4);
  if (!(await watcher.waitFor(hashes, 300_000))) throw new Error('warm-up: not every transaction was committed within 300 s');
}

/** A light load: a trickle of transactions, far below what starts heights early (ADR 0015), so the latency is what a transaction's own wait allows (ADR 0022). */
const LIGHT_LOAD_TX_PER_SEC = 20;

export interface LightLoad {
  rate: number;
  txs: number;
  p50Ms: number;
  p99Ms: number;
  blocksPerSec: number;
  windows: LatencyWindow[];
}

export async function benchFoundation(options: { validators: number; saturationTxs: number; halfLoadSeconds: number; lightLoadSeconds?: number; warmupTxs?: number }): Promise<LoadResult & { warmupTxs: number; blocksPerSec: number; cpuAtSaturation: CpuReport; cpuAtHalfLoad: CpuReport; halfLoadBlocksPerSec: number; lightLoad: LightLoad | null; rssAfterStartMiB: number[]; rssIdleMiB: number[]; rssAfterSaturationMiB: number[] }> {
  const net = await startBenchNetwork(options.validators);
  const url = net.urls[0]!;
  const watcher = new CommitWatcher();
  try {
    await new Promise((r) => setTimeout(r, STARTED_SETTLE_MS));
    const rssAfterStartMiB = await nodesRssMiB(net.urls);
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS - STARTED_SETTLE_MS));
    const rssIdleMiB = await nodesRssMiB(net.urls);
    await watcher.start(url);
    const status = await callRoute(url, coreRoutes.status, {});
    const total = options.saturationTxs;
    const warmupTxs = options.warmupTxs ?? DEFAULT_WARMUP_TXS;
    await warmUp(url, presignAdmissions(net.home, status.chainId, warmupTxs, 0, 1_000_000), watcher);
    const txs = presignAdmissions(net.home, status.chainId, total, warmupTxs, 1_000_000);
    const h0 = (await callRoute(url, coreRoutes.status, {})).height;
    const t0 = performance.now();
    const endCpu = await cpuWindow(net.urls);
    const rate = await measureSaturation(url, txs, watcher);
    const cpuAtSaturation = await endCpu();
    const rssAfterSaturationMiB = await nodesRssMiB(net.urls);
    const blocks = (await callRoute(url, coreRoutes.status, {})).height - h0;
    const blocksPerSec = blocks / ((performance.now() - t0) / 1000);
    const halfRate = Math.max(1, Math.floor(rate / 2));
    const halfCount = Math.max(1, halfRate * options.halfLoadSeconds);
    const txs2 = presignAdmissions(net.home, status.chainId, halfCount, warmupTxs + total, 1_000_000);
    // CPU at half load too: small blocks there carry the per-block costs over fewer transactions.
    const h1 = (await callRoute(url, coreRoutes.status, {})).height;
    const t1 = performance.now();
    const endHalfCpu = await cpuWindow(net.urls);
    const lat = await measureLatency(url, txs2, halfRate, watcher);
    const cpuAtHalfLoad = await endHalfCpu();
    const halfLoadBlocksPerSec = ((await callRoute(url, coreRoutes.status, {})).height - h1) / ((performance.now() - t1) / 1000);
    const lightCount = LIGHT_LOAD_TX_PER_SEC * (options.lightLoadSeconds ?? 0);
    let lightLoad: LightLoad | null = null;
    if (lightCount > 0) {
      const txs3 = presignAdmissions(net.home, status.chainId, lightCount, warmupTxs + total + halfCount, 1_000_000);
      const h2 = (await callRoute(url, coreRoutes.status, {})).height;
      const t2 = performance.now();
      const light = await measureLatency(url, txs3, LIGHT_LOAD_TX_PER_SEC, watcher);
      const blocks2 = (await callRoute(url, coreRoutes.status, {})).height - h2;
      lightLoad = { rate: LIGHT_LOAD_TX_PER_SEC, txs: light.n, p50Ms: Math.round(light.p50), p99Ms: Math.round(light.p99), blocksPerSec: Number((blocks2 / ((performance.now() - t2) / 1000)).toFixed(2)), windows: light.windows };
    }
    return {
      committedTxPerSec: Math.round(rate),
      warmupTxs,
      saturationTxs: total,
      halfLoadRate: halfRate,
      latencyP50Ms: Math.round(lat.p50),
      latencyP99Ms: Math.round(lat.p99),
      halfLoadTxs: lat.n,
      latencyWindows: lat.windows,
      blocksPerSec: Number(blocksPerSec.toFixed(2)),
      cpuAtSaturation,
      cpuAtHalfLoad,
      halfLoadBlocksPerSec: Number(halfLoadBlocksPerSec.toFixed(2)),
      lightLoad,
      rssAfterStartMiB,
      rssIdleMiB,
      rssAfterSaturationMiB,
    };
  } finally {
    watcher.stop();
    await net.stop();
  }
}

/** A deterministic bench account: its key from the hash of `scope/label` (the same on every run). */
export function benchSigner(scope: string, label: string): { signer: Signer; address: string } {
  const signer = new Signer(new Uint8Array(createHash('sha256').update(`gridledger-bench-${scope}/${label}`).digest()));
  return { signer, address: addressFromPublicKey(signer.publicKey) };
}

/** Waits until every setup transaction is committed with OK (a failed setup would falsify the figures). */
export async function waitCommitted(url: string, hashes: string[]): Promise<void> {
  for (const hash of hashes) {
    const r = await callRoute(url, coreRoutes.getTx, { params: { hash }, query: { wait: 60 } });
    if (r.status !== 'committed' || r.result?.code !== 'OK') throw new Error(`setup transaction ${hash}: ${r.status} ${r.result?.code} ${r.result?.message}`);
  }
}
