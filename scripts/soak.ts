/**
 * `npm run soak [-- --minutes M --tps R --perturb-every-minutes P --warmup-minutes W --sample-seconds S --tree-cache-mib MiB --csv FILE]`
 *
 * A 4-validator devnet on loopback under a steady transaction load for M minutes (default 60), at no
 * more than half of its saturation rate: saturation is measured for 60 s before the soak and again
 * after it (the state grows all along and saturation falls with it), the default rate is a fixed share
 * of the first figure, --tps gives another, and a rate above half of the end figure fails. Every node's
 * peers reach it through a delay proxy (scripts/lib/delay-proxy.ts). Every P minutes (default 5)
 * one perturbation, rotating: SIGKILL + restart, SIGSTOP for 30 s then SIGCONT, a clean restart
 * (SIGTERM + start), and 150 ms of delay on every link for 60 s; the target node rotates too.
 *
 * Every S seconds (default 10) it records committed tx/s and commit latency (p50, p99) of that
 * window, and each node's height, RSS and read caches: a CSV (default soak-<time>.csv in the temp
 * folder) and a summary. It fails (exit 1) when a node's memory outside its read caches (RSS less the
 * state and state-tree caches' bytes, which fill up to a fixed bound as the state grows) grew by 10 %
 * or more between the window after the warm-up (default max(5, M/6) minutes) and the last window (the
 * lowest of each 3-minute window), when the nodes disagree on a block, or when the chain stopped
 * committing.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { paths } from '../src/home/home.js';
import { ChainChecker, Violations } from './lib/audit.js';
import { createCluster, readCacheBytesOf, rssOf, signalNode, sleep, startNode, status, statusPatiently, stopAll, waitFor, waitServing, type ClusterNode } from './lib/cluster.js';
import { DelayProxy } from './lib/delay-proxy.js';
import { TxLoad } from './lib/load.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    tps: { type: 'string' },
    'perturb-every-minutes': { type: 'string', default: '5' },
    'warmup-minutes': { type: 'string' },
    'sample-seconds': { type: 'string', default: '10' },
    'block-time-ms': { type: 'string', default: '1000' },
    csv: { type: 'string' },
    'tree-cache-mib': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const minutes = Number(values.minutes);
const perturbEveryMs = Number(values['perturb-every-minutes']) * 60_000;
const warmupMs = (values['warmup-minutes'] !== undefined ? Number(values['warmup-minutes']) : Math.max(5, minutes / 6)) * 60_000;
const sampleMs = Number(values['sample-seconds']) * 1000;
const blockTimeMs = Number(values['block-time-ms']);
/** The nodes' state-tree row cache (config `storage.treeCacheMiB`); unset: the node's default. */
const treeCacheMiB = values['tree-cache-mib'] !== undefined ? Number(values['tree-cache-mib']) : undefined;
const csvPath = values.csv ?? join(tmpdir(), `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`);
if (![minutes, perturbEveryMs, warmupMs, sampleMs, blockTimeMs, treeCacheMiB ?? 1].every((x) => Number.isFinite(x) && x > 0) || warmupMs >= minutes * 60_000) {
  process.stderr.write('usage: npm run soak -- [--minutes M] [--tps R] [--perturb-every-minutes P] [--warmup-minutes W < M] [--sample-seconds S] [--tree-cache-mib MiB] [--csv FILE]\n');
  process.exit(2);
}

const N = 4;
const CHAIN = 'soak-devnet';
const PAUSE_MS = 30_000;
const DELAY_MS = 150;
const DELAY_WINDOW_MS = 60_000;
/** Below this the probe measured an overloaded machine, not the devnet. */
const MIN_SATURATION = 10;
/**
 * The default rate as a fraction of the saturation measured at the start. Saturation falls as the
 * admissions grow the state: run 6 (BENCHMARKS.md, soak) measured 636 committed tx/s before and 480
 * after an hour at 160 tx/s. A fifth of the start keeps the load under half of the end figure with
 * room to spare (the end check says so if it does not).
 */
const DEFAULT_RATE_OF_START_SATURATION = 0.2;
const mib = (b: number | undefined) => (b === undefined ? '' : (b / 2 ** 20).toFixed(1));

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ── the devnet behind delay proxies ──

const proxies = Array.from({ length: N }, () => new DelayProxy());
await Promise.all(proxies.map((p) => p.listen()));
const { dir, nodes } = await createCluster({ validators: N, blockTimeMs, chainId: CHAIN });
const p2pPort = (n: ClusterNode) => Number(n.p2p!.split(':')[1]);
// Every peer address points at that peer's proxy; the handshake is end to end, so node ids still match.
for (const n of nodes) {
  const config = JSON.parse(readFileSync(paths(n.home).config, 'utf8'));
  if (treeCacheMiB !== undefined) config.storage = { ...config.storage, treeCacheMiB };
  config.p2p.persistentPeers = config.p2p.persistentPeers.map((p: { port: number }) => ({ ...p, port: proxies[nodes.findIndex((o) => p2pPort(o) === p.port)]!.port }));
  writeFileSync(paths(n.home).config, JSON.stringify(config, null, 2));
}
nodes.forEach((n, i) => proxies[i]!.setTarget(p2pPort(n)));

const violations = new Violations();
const checker = new ChainChecker(violations);
const rows: string[] = [];
const events: string[] = [];
const started = Date.now();
const elapsed = () => Date.now() - started;
const log = (line: string) => process.stderr.write(`[${(elapsed() / 60_000).toFixed(1)} min] ${line}\n`);

try {
  process.stderr.write(`soak: ${N} validators in ${dir}, ${minutes} min, perturbation every ${perturbEveryMs / 60_000} min, warm-up ${(warmupMs / 60_000).toFixed(1)} min\n`);
  for (const n of nodes) startNode(n);
  await Promise.all(nodes.map((n) => waitServing(n)));
  await waitFor(async () => (await Promise.all(nodes.map(status))).every((s) => s.peers.length === N - 1), 'all peers connected');

  // ── rate: at most half of saturation, at the start and at the end ──
  // Saturation falls as the state grows (every admission adds accounts to the state tree: deeper paths,
  // more tree rows per transaction), so it is measured here and again after the soak, and the rate
  // must stay within half of the lower, end figure.
  const startSaturation = await measureSaturation('start');
  const tps = values.tps !== undefined ? Number(values.tps) : Math.max(1, Math.floor((startSaturation * DEFAULT_RATE_OF_START_SATURATION)));
  log(`saturation ≈ ${startSaturation.toFixed(0)} committed tx/s; soak rate ${tps} tx/s${values.tps !== undefined ? ' (--tps)' : ''}`);
  await sleep(10_000); // let the mempools drain
  const load = new TxLoad(nodes, { chainId: CHAIN, batch: 20, ratePerSec: tps, waitSeconds: 60, maxBatchesInFlight: 400 });
  const soakStart = Date.now();
  load.start();
  rows.push(['t_s', 'event', 'committed_tx_s', 'p50_ms', 'p99_ms', ...nodes.map((n) => `height_${n.name}`), ...nodes.map((n) => `rss_mib_${n.name}`), ...nodes.map((n) => `cache_mib_${n.name}`)].join(','));

  // ── perturbations ──
  const kinds = ['kill9-restart', 'sigstop-sigcont', 'restart', 'network-delay'] as const;
  /** When each node was restarted, in ms since the soak started: its memory starts again from zero. */
  const restarts: number[][] = nodes.map(() => []);
  let next = 0;
  const perturb = async () => {
    const kind = kinds[next % kinds.length]!;
    // The target shifts by one every round of kinds, so each node meets each kind (with as many kinds
    // as nodes, `next % N` alone would always kill node0 and never restart node3).
    const node = nodes[(next + Math.floor(next / kinds.length)) % N]!;
    next += 1;
    if (kind === 'kill9-restart' || kind === 'restart') restarts[nodes.indexOf(node)]!.push(Date.now() - soakStart);
    events.push(`${((Date.now() - soakStart) / 60_000).toFixed(1)} min: ${kind}${kind === 'network-delay' ? '' : ` ${node.name}`}`);
    log(`perturbation: ${kind}${kind === 'network-delay' ? ` (${DELAY_MS} ms on every link for ${DELAY_WINDOW_MS / 1000} s)` : ` of ${node.name}`}`);
    if (kind === 'kill9-restart' || kind === 'restart') {
      load.markDown(node);
      await signalNode(node, kind === 'restart' ? 'SIGTERM' : 'SIGKILL');
      startNode(node);
      await waitServing(node);
      load.markUp(node);
    } else if (kind === 'sigstop-sigcont') {
      load.markDown(node);
      await signalNode(node, 'SIGSTOP');
      await sleep(PAUSE_MS);
      await signalNode(node, 'SIGCONT');
      await waitServing(node);
      load.markUp(node);
    } else {
      for (const p of proxies) p.setDelay(DELAY_MS);
      await sleep(DELAY_WINDOW_MS);
      for (const p of proxies) p.setDelay(0);
    }
  };

  // ── sampling loop ──
  let lastSample = Date.now();
  let nextPerturbation = soakStart + perturbEveryMs;
  let perturbing: Promise<void> | undefined;
  let lastEvent = '';
  const heights: number[][] = nodes.map(() => []);
  while (Date.now() - soakStart < minutes * 60_000) {
    await sleep(Math.max(0, lastSample + sampleMs - Date.now()));
    const now = Date.now();
    // No perturbation begins in the last 3 minutes: they are the end window the RSS rule reads.
    if (!perturbing && now >= nextPerturbation && now - soakStart < minutes * 60_000 - 3 * 60_000) {
      nextPerturbation += perturbEveryMs;
      lastEvent = kinds[next % kinds.length]!;
      perturbing = perturb()
        .catch((err: Error) => violations.add(`perturbation failed: ${err.message}`))
        .finally(() => (perturbing = undefined));
    }
    const window = load.latencies.filter((l) => l.at > lastSample && l.at <= now).map((l) => l.ms).sort((a, b) => a - b);
    const committedPerSec = window.length / ((now - lastSample) / 1000);
    lastSample = now;
    const st = await Promise.all(nodes.map((n) => status(n, 2000).then((s) => s.height).catch(() => undefined)));
    st.forEach((h, i) => h !== undefined && heights[i]!.push(h));
    const rss = nodes.map(rssOf);
    const caches = await Promise.all(nodes.map((n) => readCacheBytesOf(n)));
    rows.push([((now - soakStart) / 1000).toFixed(0), lastEvent, committedPerSec.toFixed(1), percentile(window, 50) ?? '', percentile(window, 99) ?? '', ...st.map((h) => h ?? ''), ...rss.map(mib), ...caches.map(mib)].join(','));
    lastEvent = '';
    writeFileSync(csvPath, rows.join('\n') + '\n');
  }
  const soakMs = Date.now() - soakStart; // the sampled span (what follows is draining and checking)
  await perturbing;
  await load.stop();

  // ── checks and summary ──
  const top = Math.max(...(await Promise.all(nodes.map((n) => statusPatiently(n).then((s) => s.height)))));
  await waitFor(async () => (await Promise.all(nodes.map(status))).every((s) => s.height >= top), 'all nodes at the same height', 180_000);
  for (const n of nodes) await checker.check(n, top);
  const sample = new Map([...load.acked].filter(([, a]) => a.height <= top));
  for (const n of nodes) await checker.checkAcked(n, sample, 500);
  const endSaturation = await measureSaturation('end');
  if (tps > endSaturation / 2) violations.add(`the rate (${tps} tx/s) was more than half of the saturation at the end (${endSaturation.toFixed(0)} tx/s): the load approached capacity as the state grew; give a lower --tps`);

  const data = rows.slice(1).map((r) => r.split(','));
  const t = (r: string[]) => Number(r[0]) * 1000;
  const col = (r: string[], at: number) => (r[at] === '' ? NaN : Number(r[at]));
  const rssCol = (r: string[], i: number) => col(r, 5 + N + i);
  const cacheCol = (r: string[], i: number) => col(r, 5 + 2 * N + i);
  // What the rule reads: RSS less the read caches, which fill up to their bound as the state grows
  // (ADR 0030: up to 192 MiB of tree rows) and are not a leak; a sample whose caches were not read
  // (the node paused or restarting) is left out.
  const outsideCaches = (r: string[], i: number) => rssCol(r, i) - cacheCol(r, i);
  const lowest = (window: string[][], value: (r: string[]) => number) => Math.min(...window.map(value).filter((x) => x > 0));
  const endWindow = data.filter((r) => t(r) >= soakMs - 3 * 60_000);
  // A window's lowest RSS is the floor a leak raises; its peaks follow the garbage collector's cycle
  // (heap in use climbs to 2–3 × the live heap between major collections) and the catch-up after a
  // perturbation, which a maximum would report as growth (docs/issue9/memory.md).
  const growth = nodes.map((n, i) => {
    const from = baselineStart(warmupMs, restarts[i]!, warmupMs);
    const baseWindow = data.filter((r) => t(r) >= from && t(r) < from + 3 * 60_000);
    const end = lowest(endWindow, (r) => outsideCaches(r, i));
    const rss = { end: lowest(endWindow, (r) => rssCol(r, i)), base: lowest(baseWindow, (r) => rssCol(r, i)) };
    const caches = { end: Math.max(...endWindow.map((r) => cacheCol(r, i)).filter((x) => x >= 0)), base: Math.max(...baseWindow.map((r) => cacheCol(r, i)).filter((x) => x >= 0)) };
    if (from + 3 * 60_000 > soakMs - 3 * 60_000) return { node: n.name, from, base: NaN, end, pct: NaN, rss, caches };
    const base = lowest(baseWindow, (r) => outsideCaches(r, i));
    return { node: n.name, from, base, end, pct: ((end - base) / base) * 100, rss, caches };
  });
  for (const g of growth) {
    if (Number.isNaN(g.pct)) violations.add(`${g.node}: no settled baseline window (restarted too late in the soak; run longer)`);
    else if (!(g.pct < 10)) violations.add(`${g.node}: memory outside the read caches grew ${g.pct.toFixed(1)} % after warm-up (${g.base.toFixed(0)} → ${g.end.toFixed(0)} MiB; RSS ${g.rss.base.toFixed(0)} → ${g.rss.end.toFixed(0)} MiB)`);
  }
  const all = load.latencies.filter((l) => l.at >= soakStart).map((l) => l.ms).sort((a, b) => a - b);
  const afterWarmup = load.latencies.filter((l) => l.at >= soakStart + warmupMs).map((l) => l.ms).sort((a, b) => a - b);
  const stalled = data.filter((r) => Number(r[2]) === 0).length;
  if (load.acked.size === 0) violations.add('no transaction was committed');

  process.stdout.write(`\nsoak summary (${(soakMs / 60_000).toFixed(1)} min, 4 validators, CSV: ${csvPath})\n`);
  process.stdout.write(`saturation (60 s probes): ${startSaturation.toFixed(0)} committed tx/s at the start, ${endSaturation.toFixed(0)} at the end; soak rate ${tps} tx/s${values.tps !== undefined ? ' (--tps)' : ''} = ${((100 * tps) / startSaturation).toFixed(0)} % of the start's, ${((100 * tps) / endSaturation).toFixed(0)} % of the end's\n`);
  process.stdout.write(`committed: ${load.acked.size} of ${load.submitted} submitted (${(load.acked.size / (soakMs / 1000)).toFixed(1)} tx/s); refused at admission ${load.refused} (${[...load.refusedByCode].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}); failed calls ${load.failures}\n`);
  process.stdout.write(`commit latency: p50 ${percentile(all, 50)} ms, p99 ${percentile(all, 99)} ms (after warm-up: p50 ${percentile(afterWarmup, 50)} ms, p99 ${percentile(afterWarmup, 99)} ms)\n`);
  process.stdout.write(`sample windows with nothing committed: ${stalled} of ${data.length}\n`);
  process.stdout.write(`heights: ${nodes.map((n, i) => `${n.name} ${heights[i]!.at(0) ?? '?'}→${heights[i]!.at(-1) ?? '?'}`).join(', ')}; final ${top}, ${checker.blocksChecked} blocks compared\n`);
  process.stdout.write(`memory outside the read caches (RSS less them), after warm-up → end (lowest of each 3-min window; baseline from minute): ${growth.map((g) => `${g.node} [${(g.from / 60_000).toFixed(1)}] ${g.base.toFixed(0)} → ${g.end.toFixed(0)} MiB (${g.pct >= 0 ? '+' : ''}${g.pct.toFixed(1)} %)`).join(', ')}\n`);
  process.stdout.write(`RSS (lowest) and read caches (largest) in the same windows: ${growth.map((g) => `${g.node} RSS ${g.rss.base.toFixed(0)} → ${g.rss.end.toFixed(0)} MiB, caches ${g.caches.base.toFixed(0)} → ${g.caches.end.toFixed(0)} MiB`).join('; ')}\n`);
  process.stdout.write(`perturbations (minutes into the soak): ${events.join('; ')}\n`);
  process.stdout.write(`violations: ${violations.list.length}\n`);
  for (const v of violations.list.slice(0, 20)) process.stdout.write(`  ${v}\n`);
  process.stdout.write(`${violations.list.length === 0 ? 1 : 0} passed, ${violations.list.length === 0 ? 0 : 1} failed\n`);
} finally {
  await stopAll();
  await Promise.all(proxies.map((p) => p.close()));
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
process.exit(violations.list.length === 0 ? 0 : 1);

/**
 * Committed tx/s under unpaced load: 15 s to fill the pipeline, then 45 s counted. On a starved machine
 * commits can take longer than the probe's waits: it then measures ~0 and the soak would run at
 * 1 tx/s, which tests nothing — that is refused instead (a run hit exactly this).
 */
async function measureSaturation(when: 'start' | 'end'): Promise<number> {
  log(`measuring saturation at the ${when} for 60 s (unpaced load)…`);
  const probe = new TxLoad(nodes, { chainId: CHAIN, batch: 100, maxBatchesInFlight: 40, waitSeconds: 30 });
  probe.start();
  await sleep(15_000);
  const a0 = probe.acked.size;
  await sleep(45_000);
  const saturation = (probe.acked.size - a0) / 45;
  await probe.stop();
  if (saturation < MIN_SATURATION) {
    throw new Error(`the saturation probe measured ${saturation.toFixed(1)} committed tx/s (under ${MIN_SATURATION}: commits slower than its 30 s waits?); give the rate with --tps`);
  }
  return saturation;
}

/**
 * Where a node's baseline window (3 minutes) starts: after the soak's warm-up, and after a warm-up of
 * its own following any restart that falls before the window ends — a restarted process starts from
 * ~50 MiB and climbs back to its working set, which compared with the end would read as growth (a run
 * restarted node0 at the very end of the warm-up: 55 → 306 MiB, the others +4.5 %, −0.8 %, +2.9 %).
 */
function baselineStart(warmupMs: number, restartsAtMs: number[], nodeWarmupMs: number): number {
  let from = warmupMs;
  for (const r of [...restartsAtMs].sort((a, b) => a - b)) if (r < from + 3 * 60_000) from = Math.max(from, r + nodeWarmupMs);
  return from;
}
