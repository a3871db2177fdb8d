import { execFile, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import pg from 'pg';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { paths } from '../src/home/home.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { account } from '../test/helpers/chain.js';
import { startTestNode } from '../test/helpers/node.js';

/**
 * The indexer's crash acceptance (issue 17 #6), as a script (not part of npm test; docs/indexer.md):
 * a node runs under a steady load of admissions while `gridledger indexer` is killed with SIGKILL
 * `--kills` times (default 20) at random points (0.3–4 s after each start); then it catches up, a
 * clean index of the same chain is made into a second database, and every table must be identical,
 * every block hash and transaction result code the node's own. Prints a JSON report; exit 1 on a difference.
 *
 *   node bin/run-ts.mjs scripts/indexer-kill.ts [--kills 20]
 */

const run = promisify(execFile);
const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' } } });
const KILLS = Number(values.kills);
const TABLES: Record<string, string> = {
  indexer_state: 'id', blocks: 'height', txs: 'hash', messages: 'height, tx_idx, msg_idx', events: 'height, tx_idx, event_idx',
  communities: 'id', meters: 'community, meter_id', readings: 'meter_id, slot', payments: 'height, tx_idx, msg_idx',
};

async function dump(url: string): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const out: Record<string, string[]> = {};
  for (const [t, by] of Object.entries(TABLES)) out[t] = (await db.query(`SELECT x::text AS r FROM ${t} x ORDER BY ${by}`)).rows.map((r) => r.r as string);
  await db.end();
  return out;
}

/** indexer_state.height; 0 before the schema or the first block exists (a kill during start-up). */
async function indexedHeight(url: string): Promise<number> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const exists = (await db.query("SELECT to_regclass('indexer_state') IS NOT NULL AS e")).rows[0].e as boolean;
    return exists ? Number((await db.query('SELECT height FROM indexer_state')).rows[0]?.height ?? 0) : 0;
  } finally {
    await db.end();
  }
}

const postgres = await startPostgres();
const node = await startTestNode();
const report: Record<string, unknown> = { kills: KILLS };
let failed = false;
try {
  const live = await postgres.createDatabase('live');
  const clean = await postgres.createDatabase('clean');
  const args = (url: string, extra: string[] = []) => ['bin/gridledger.mjs', '--node', node.url, '-o', 'json', 'indexer', '--postgres', url, '--trusted', paths(node.home).genesis, ...extra];
  let loading = true;
  let submitted = 0;
  const load = (async () => {
    for (let i = 0; loading; i++) {
      const { next } = await callRoute(node.url, coreRoutes.accountNonce, { params: { address: node.init.admin } });
      const txs = await Promise.all(Array.from({ length: 20 }, async (_, j) => node.signedTx('admin', [{ type: 'registry/admit', value: { address: account(`kill-${i}-${j}`).address, roles: ['consumer'] } }], { nonce: next + j })));
      const res = await callRoute(node.url, coreRoutes.submitTxBatch, { body: { txs } });
      submitted += res.results.filter((r) => r.code === 'OK').length;
      await callRoute(node.url, coreRoutes.getTx, { params: { hash: res.results.at(-1)!.hash! }, query: { wait: 30 } });
    }
  })();
  const killedAt: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const child = spawn('node', args(live), { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // Odd kills: at a random moment 0.3–4 s after the start (often during start-up or schema setup).
    // Even kills: once the indexer has written at least one more block, 0–600 ms later (mid-indexing).
    if (k % 2 === 0) await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 3700)));
    else {
      const before = killedAt.at(-1) ?? 0;
      for (let i = 0; i < 200 && (await indexedHeight(live)) <= before; i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
    }
    if (child.exitCode !== null) throw new Error(`the indexer exited by itself (code ${child.exitCode}) before kill ${k + 1}`);
    child.kill('SIGKILL');
    await exited;
    killedAt.push(await indexedHeight(live));
  }
  loading = false;
  await load;
  const tip = (await callRoute(node.url, coreRoutes.status, {})).height;
  const t0 = performance.now();
  await run('node', args(live, ['--until-height', String(tip)]));
  const t1 = performance.now();
  const fresh = JSON.parse((await run('node', args(clean, ['--until-height', String(tip)]))).stdout);
  const t2 = performance.now();
  const [a, b] = [await dump(live), await dump(clean)];
  const differing = Object.keys(TABLES).filter((t) => JSON.stringify(a[t]) !== JSON.stringify(b[t]));
  const db = new pg.Client({ connectionString: live });
  await db.connect();
  let nodeMismatches = 0;
  for (const row of (await db.query<{ height: string; hash: string }>('SELECT height, hash FROM blocks ORDER BY height')).rows) {
    if ((await callRoute(node.url, coreRoutes.getBlock, { params: { height: Number(row.height) } })).hash !== row.hash) nodeMismatches++;
  }
  const txs = (await db.query<{ hash: string; code: string }>('SELECT hash, code FROM txs')).rows;
  for (const t of txs) if ((await callRoute(node.url, coreRoutes.getTx, { params: { hash: t.hash }, query: {} })).result?.code !== t.code) nodeMismatches++;
  await db.end();
  Object.assign(report, {
    submittedTxs: submitted,
    finalHeight: tip,
    heightsAtKills: killedAt,
    rows: Object.fromEntries(Object.entries(a).map(([t, r]) => [t, r.length])),
    catchUpSeconds: Number(((t1 - t0) / 1000).toFixed(1)),
    cleanIndexSeconds: Number(((t2 - t1) / 1000).toFixed(1)),
    cleanIndexRows: fresh.rows,
    tablesDiffering: differing,
    nodeMismatches,
    indexedTxs: txs.length,
  });
  failed = differing.length > 0 || nodeMismatches > 0 || a.blocks!.length !== tip;
} finally {
  await node.cleanup();
  postgres.stop();
}
process.stdout.write(JSON.stringify({ ok: !failed, ...report }, null, 2) + '\n');
process.exit(failed ? 1 : 0);
