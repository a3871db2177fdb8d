/**
 * `node bin/run-ts.mjs scripts/leak-repro.ts [--validators 1|4] [--minutes 10] [--tps 30]
 *   [--snapshots 1,5,10] [--pause node1@3] [--out DIR]`
 *
 * A memory reproduction for issue 9 (RSS creep of a soaking node): one node (or a devnet) under a
 * steady load — the batteries' `registry/admit` batches, plus the reads a dashboard makes (status,
 * nonce, latest block, metrics) and one event-stream reader per node — sampling every 10 s each
 * node's RSS (from /proc) and its heap used, heap total, external and array buffers (from
 * /metrics), and asking node0 for a V8 heap snapshot (SIGUSR2 with `--heapsnapshot-signal`, written
 * to DIR) at the given minutes (of node0, or --snapshot-node NAME). `--pause NAME@M` SIGSTOPs that node at minute M for 30 s, as the
 * soak does. Compare snapshots with scripts/heap-diff.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
    queueBytes: pick('gridledger_p2p_queue_bytes') + pick('gridledger_p2p_socket_buffered_bytes'),
    stateCache: pick('gridledger_cache_entries', 'cache="state"'),
    treeCache: pick('gridledger_cache_entries', 'cache="state_tree"'),
    verified: pick('gridledger_cache_entries', 'cache="verified_txs"'),
    height: pick('gridledger_height'),
    mempool: pick('gridledger_mempool_txs'),
  };
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
const rows: string[] = [['t_s', 'event', ...nodes.flatMap((n) => [`${n.name}_height`, `${n.name}_rss`, `${n.name}_heapUsed`, `${n.name}_heapTotal`, `${n.name}_external`, `${n.name}_mempool`, `${n.name}_p2p_out_kib`, `${n.name}_cache_state`, `${n.name}_cache_tree`, `${n.name}_verified`])].join(',')];
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
    await sleep(10_000 - ((Date.now() - started) % 10_000));
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
    const cells: string[] = [];
    for (const n of nodes) {
      const m = await metricsOf(n).catch(() => ({}) as Record<string, number>);
      cells.push(String(m.height ?? ''), mib(rssOf(n)), mib(m.heapUsed), mib(m.heapTotal), mib(m.external), String(m.mempool ?? ''), m.queueBytes === undefined || Number.isNaN(m.queueBytes) ? '' : (m.queueBytes / 1024).toFixed(0), ...[m.stateCache, m.treeCache, m.verified].map((x) => (x === undefined || Number.isNaN(x) ? '' : String(x))));
    }
    rows.push([t.toFixed(0), event, ...cells].join(','));
    writeFileSync(join(out, 'series.csv'), rows.join('\n') + '\n');
    log(rows.at(-1)!);
  }
  stop.abort();
  await load.stop();
  log(`committed ${load.acked.size} of ${load.submitted}; series in ${join(out, 'series.csv')}`);
} finally {
  stop.abort();
  await stopAll();
}
process.exit(0);
