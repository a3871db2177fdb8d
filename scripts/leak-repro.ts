/**
 * `node bin/run-ts.mjs scripts/leak-repro.ts [--validators 1|4] [--minutes 10] [--tps 30]
 *   [--snapshots 1,5,10] [--pause node1@3] [--restart node2@3,node0@3] [--restart-from-sources node2]
 *   [--down-seconds 75] [--every 10]
 *   [--final-snapshots node2,node3] [--out DIR]`
 *
 * A memory reproduction for issue 9 (RSS creep of a soaking node): one node (or a devnet) under a
 * steady load — the batteries' `registry/admit` batches, plus the reads a dashboard makes (status,
 * nonce, latest block, metrics) and one event-stream reader per node — sampling every 10 s each
 * node's RSS (from /proc) and its heap used, heap total, external and array buffers (from
 * /metrics), and asking node0 for a V8 heap snapshot (SIGUSR2 with `--heapsnapshot-signal`, written
 * to DIR) at the given minutes (of node0, or --snapshot-node NAME). `--pause NAME@M` SIGSTOPs that node at minute M for 30 s, as the
 * soak does. `--restart NAME@M` kills that node with SIGKILL at minute M, keeps it down for
 * `--down-seconds` and starts it again (it catches up by block sync) — on the compiled code all nodes
 * run, or through bin/gridledger.mjs on the TypeScript sources for the nodes in `--restart-from-sources`. `--final-snapshots` asks the
 * named nodes, one after the other, for a heap snapshot when the run ends (DIR/final-NAME.heapsnapshot).
 * Each row also carries RssAnon / RssFile from /proc (anonymous memory vs mapped files) and
 * process.memoryUsage()'s arrayBuffers (from /metrics). Compare snapshots with scripts/heap-diff.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCluster, rssOf, signalNode, sleep, startNode, status, stopAll, waitFor, waitServing, type ClusterNode } from './lib/cluster.js';
import { TxLoad } from './lib/load.js';

const { values } = parseArgs({
  options: {
    validators: { type: 'string', default: '1' },
    minutes: { type: 'string', default: '10' },
    tps: { type: 'string', default: '30' },
    snapshots: { type: 'string', default: '' },
    pause: { type: 'string' },
    restart: { type: 'string' },
    'restart-from-sources': { type: 'string', default: '' },
    'down-seconds': { type: 'string', default: '75' },
    every: { type: 'string', default: '10' },
    'final-snapshots': { type: 'string', default: '' },
    'snapshot-node': { type: 'string', default: 'node0' },
    out: { type: 'string', default: '/tmp/leak-repro' },
  },
});
const N = Number(values.validators);
const minutes = Number(values.minutes);
const tps = Number(values.tps);
const snapshotAt = values.snapshots ? values.snapshots.split(',').map(Number) : [];
const out = values.out;
mkdirSync(out, { recursive: true });
const restarts = (values.restart ? values.restart.split(',') : []).map((r) => ({ name: r.split('@')[0]!, atMin: Number(r.split('@')[1]), done: false }));
const restartFromSources = new Set(values['restart-from-sources'] ? values['restart-from-sources'].split(',') : []);
const downMs = Number(values['down-seconds']) * 1000;
const everyMs = Number(values.every) * 1000;
const finalSnapshots = values['final-snapshots'] ? values['final-snapshots'].split(',') : [];
const pause = values.pause ? { name: values.pause.split('@')[0]!, atMin: Number(values.pause.split('@')[1]) } : undefined;

// Every node process started below inherits this: SIGUSR2 writes a heap snapshot into `out`.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${out}`.trim();

const CHAIN = 'leak-repro';
const mib = (b: number | undefined) => (b === undefined || Number.isNaN(b) ? '' : (b / 2 ** 20).toFixed(1));
const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function metricsOf(node: ClusterNode): Promise<Record<string, number>> {
  const res = await fetch(`${node.api}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const pick = (name: string, label = '') => {
    const m = new RegExp(`^${name}${label ? `\\{[^}]*${label}[^}]*\\}` : ''} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    heapUsed: pick('nodejs_heap_size_used_bytes'),
    heapTotal: pick('nodejs_heap_size_total_bytes'),
    external: pick('nodejs_external_memory_bytes'),
    arrayBuffers: pick('gridledger_process_memory_bytes', 'kind="array_buffers"'),
    queueBytes: pick('gridledger_p2p_queue_bytes') + pick('gridledger_p2p_socket_buffered_bytes'),
    stateCache: pick('gridledger_cache_entries', 'cache="state"'),
    treeCache: pick('gridledger_cache_entries', 'cache="state_tree"'),
    verified: pick('gridledger_cache_entries', 'cache="verified_txs"'),
    height: pick('gridledger_height'),
    mempool: pick('gridledger_mempool_txs'),
  };
}

/** RssAnon and RssFile (kB in /proc/PID/status) in bytes: heap, Buffers and malloc vs mapped files (code, SQLite if mmapped). */
function rssPartsOf(node: ClusterNode): { anon: number; file: number } | undefined {
  const pid = node.proc?.pid;
  if (!pid) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}

/**
 * Where the anonymous RSS lives, from /proc/PID/smaps: glibc's main arena (`[heap]`, grown with brk),
 * glibc's thread arenas (64-MiB-aligned mappings of exactly 64 MiB reserved, HEAP_MAX_SIZE), and the
 * other anonymous mappings (V8's heap pages and code space, large malloc chunks that got their own mmap).
 */
function rssMappingsOf(node: ClusterNode): { brk: number; arenas: number; otherAnon: number } | undefined {
  const pid = node.proc?.pid;
  if (!pid) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const ARENA = 64 * 2 ** 20;
  const maps: Array<{ start: number; end: number; perms: string; name: string; rss: number }> = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      maps.push({ start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, name: head[5] ?? '', rss: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps.at(-1)!.rss = Number(rss[1]) * 1024;
  }
  let brk = 0;
  let arenas = 0;
  let otherAnon = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.name === '[heap]') brk += m.rss;
    else if (m.name !== '' && !m.name.startsWith('[anon')) continue; // files, stack, vdso
    else {
      const next = maps[i + 1];
      const reserved = m.end - m.start + (next && next.start === m.end && next.perms.startsWith('---') && next.name === '' ? next.end - next.start : 0);
      if (m.start % ARENA === 0 && reserved === ARENA) arenas += m.rss;
      else otherAnon += m.rss;
    }
  }
  return { brk, arenas, otherAnon };
}

/** Asks the node for a heap snapshot and waits until the file is complete; renames it to DIR/NAME.heapsnapshot. */
async function snapshotTo(node: ClusterNode, name: string): Promise<void> {
  const pid = node.proc?.pid;
  if (!pid) return;
  const before = new Set(readdirSync(out));
  node.proc!.kill('SIGUSR2');
  const file = await waitFor(() => readdirSync(out).find((f) => !before.has(f) && f.includes(`.${pid}.`) && f.endsWith('.heapsnapshot')), `${node.name} heap snapshot`, 300_000, 1000);
  let size = -1;
  // The file is complete when its size stops changing for 5 s (V8 writes it in chunks).
  await waitFor(async () => {
    const now = existsSync(join(out, file)) ? statSync(join(out, file)).size : -1;
    const done = now > 0 && now === size;
    size = now;
    if (!done) await sleep(5000);
    return done;
  }, `${node.name} heap snapshot written`, 600_000, 0);
  renameSync(join(out, file), join(out, `${name}.heapsnapshot`));
  log(`heap snapshot of ${node.name}: ${join(out, `${name}.heapsnapshot`)} (${(size / 2 ** 20).toFixed(1)} MiB)`);
}

/** One reader of the event stream per node, as a dashboard keeps open. */
function readEvents(node: ClusterNode, stop: AbortSignal): void {
  const loop = async () => {
    while (!stop.aborted) {
      try {
        const res = await fetch(`${node.api}/v1/events?topics=blocks,txs`, { signal: stop });
        for await (const _chunk of res.body!) void _chunk;
      } catch {
        /* the node went away or we stopped */
      }
      await sleep(1000);
    }
  };
  void loop();
}

/** Dashboard-style reads, a few per second. */
function readApi(node: ClusterNode, stop: AbortSignal): void {
  const paths = ['/v1/status', `/v1/accounts/${node.admin.address}/nonce`, '/v1/blocks/latest', '/v1/validators'];
  const loop = async () => {
    let i = 0;
    while (!stop.aborted) {
      await fetch(`${node.api}${paths[i++ % paths.length]}`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()).catch(() => undefined);
      await sleep(250);
    }
  };
  void loop();
}

const { dir, nodes } = await createCluster({ validators: N, blockTimeMs: 1000, chainId: CHAIN });
const rows: string[] = [['t_s', 'event', ...nodes.flatMap((n) => [`${n.name}_height`, `${n.name}_rss`, `${n.name}_heapUsed`, `${n.name}_heapTotal`, `${n.name}_external`, `${n.name}_arrayBuffers`, `${n.name}_rssAnon`, `${n.name}_rssFile`, `${n.name}_mallocBrk`, `${n.name}_mallocArenas`, `${n.name}_otherAnon`, `${n.name}_mempool`, `${n.name}_p2p_out_kib`, `${n.name}_cache_state`, `${n.name}_cache_tree`, `${n.name}_verified`])].join(',')];
const stop = new AbortController();
try {
  log(`${N} node(s) in ${dir}, ${minutes} min at ${tps} tx/s; snapshots at ${snapshotAt.join(', ') || 'none'} min into ${out}`);
  for (const n of nodes) startNode(n);
  await Promise.all(nodes.map((n) => waitServing(n)));
  if (N > 1) await waitFor(async () => (await Promise.all(nodes.map(status))).every((s) => s.peers.length === N - 1), 'all peers connected');
  for (const n of nodes) {
    readEvents(n, stop.signal);
    readApi(n, stop.signal);
  }
  const load = new TxLoad(nodes, { chainId: CHAIN, batch: 20, ratePerSec: tps, waitSeconds: 60, maxBatchesInFlight: 400 });
  const started = Date.now();
  load.start();
  const pending = [...snapshotAt];
  let paused = false;
  while (Date.now() - started < minutes * 60_000) {
    await sleep(everyMs - ((Date.now() - started) % everyMs));
    const t = (Date.now() - started) / 1000;
    let event = '';
    if (pending.length > 0 && t >= pending[0]! * 60 - 1) {
      pending.shift();
      nodes.find((n) => n.name === values['snapshot-node'])?.proc?.kill('SIGUSR2');
      event = 'snapshot';
      log(`heap snapshot of ${values['snapshot-node']} at ${(t / 60).toFixed(1)} min`);
    }
    if (pause && !paused && t >= pause.atMin * 60 - 1) {
      paused = true;
      const node = nodes.find((n) => n.name === pause.name)!;
      event = `sigstop ${node.name}`;
      log(`SIGSTOP ${node.name} for 30 s`);
      load.markDown(node);
      void signalNode(node, 'SIGSTOP')
        .then(() => sleep(30_000))
        .then(() => signalNode(node, 'SIGCONT'))
        .then(() => waitServing(node))
        .then(() => load.markUp(node));
    }
    for (const restart of restarts.filter((r) => !r.done && t >= r.atMin * 60 - 1)) {
      restart.done = true;
      const node = nodes.find((n) => n.name === restart.name)!;
      const fromSources = restartFromSources.has(node.name);
      event += `sigkill ${node.name} `;
      log(`SIGKILL ${node.name}, restart in ${downMs / 1000} s${fromSources ? ' from the TypeScript sources' : ''}`);
      load.markDown(node);
      void signalNode(node, 'SIGKILL')
        .then(() => sleep(downMs))
        .then(() => {
          log(`starting ${node.name} again`);
          startNode(node, { fromSources });
          return waitServing(node);
        })
        .then(() => load.markUp(node));
    }
    const cells: string[] = [];
    for (const n of nodes) {
      const m = await metricsOf(n).catch(() => ({}) as Record<string, number>);
      const parts = rssPartsOf(n);
      const maps = rssMappingsOf(n);
      cells.push(String(m.height ?? ''), mib(rssOf(n)), mib(m.heapUsed), mib(m.heapTotal), mib(m.external), mib(m.arrayBuffers), mib(parts?.anon), mib(parts?.file), mib(maps?.brk), mib(maps?.arenas), mib(maps?.otherAnon), String(m.mempool ?? ''), m.queueBytes === undefined || Number.isNaN(m.queueBytes) ? '' : (m.queueBytes / 1024).toFixed(0), ...[m.stateCache, m.treeCache, m.verified].map((x) => (x === undefined || Number.isNaN(x) ? '' : String(x))));
    }
    rows.push([t.toFixed(0), event, ...cells].join(','));
    writeFileSync(join(out, 'series.csv'), rows.join('\n') + '\n');
    log(rows.at(-1)!);
  }
  stop.abort();
  await load.stop();
  for (const name of finalSnapshots) {
    const node = nodes.find((n) => n.name === name);
    if (node) await snapshotTo(node, `final-${name}`);
  }
  log(`committed ${load.acked.size} of ${load.submitted}; series in ${join(out, 'series.csv')}`);
} finally {
  stop.abort();
  await stopAll();
}
process.exit(0);
