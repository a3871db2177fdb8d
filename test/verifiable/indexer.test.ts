import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { slotOfMs } from '../../src/util/slots.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/** Every indexer table in primary-key order, as text (for equality between two databases). */
async function dump(url: string): Promise<Record<string, string[]>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const order: Record<string, string> = {
    indexer_state: 'id',
    blocks: 'height',
    txs: 'hash',
    messages: 'height, tx_idx, msg_idx',
    events: 'height, tx_idx, event_idx',
    communities: 'id',
    meters: 'community, meter_id',
    readings: 'meter_id, slot',
    payments: 'height, tx_idx, msg_idx',
  };
  const out: Record<string, string[]> = {};
  for (const [table, by] of Object.entries(order)) out[table] = (await db.query(`SELECT t::text AS row FROM ${table} t ORDER BY ${by}`)).rows.map((r) => r.row as string);
  await db.end();
  return out;
}

/**
 * The PostgreSQL indexer (issue 17 #6) against a real PostgreSQL and a running node under load: it
 * is killed (SIGKILL) several times at random points while transactions keep coming; after it catches
 * up, its tables equal a clean index of the same chain into a second database, and agree with the
 * node's own answers. (scripts/indexer-kill.ts does the same 20 times; docs/indexer.md.)
 */
describe('gridledger indexer into PostgreSQL', () => {
  let postgres: TestPostgres;
  let node: TestNode;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    node = await startTestNode({ bank: ['issuer'], bob: ['consumer'], cm: ['meter'] });
  }, 120_000);
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await node?.cleanup();
    postgres?.stop();
  });

  const status = () => callRoute(node.url, coreRoutes.status, {});
  async function submit(from: string, msgsList: Array<Array<{ type: string; value: Record<string, unknown> }>>): Promise<string[]> {
    const keyring = openKeyring(node.home, 'test');
    const address = keyring.show(from).address;
    const { chainId, height } = await status();
    let { next } = await callRoute(node.url, coreRoutes.accountNonce, { params: { address } });
    const txs: SignedTx[] = msgsList.map((msgs) => signTx({ chainId, sender: address, nonce: next++, expiresAtHeight: height + 1000, msgs, memo: '' }, keyring.signer(from)));
    const admitted = await callRoute(node.url, coreRoutes.submitTxBatch, { body: { txs } });
    expect(admitted.results.map((r) => r.code)).toEqual(txs.map(() => 'OK'));
    for (const r of admitted.results) expect((await callRoute(node.url, coreRoutes.getTx, { params: { hash: r.hash! }, query: { wait: 60 } })).result?.code).toBe('OK');
    return admitted.results.map((r) => r.hash!);
  }

  const indexerArgs = (url: string, extra: string[] = []) => ['bin/gridledger.mjs', '--node', node.url, '-o', 'json', 'indexer', '--postgres', url, '--trusted', paths(node.home).genesis, ...extra];

  it('survives kills at random points under load; the result equals a clean re-index and the node', async () => {
    const accounts = JSON.parse(JSON.stringify(node.init.accounts)) as Record<string, string>;
    const live = await postgres.createDatabase('live');
    const clean = await postgres.createDatabase('clean');
    await submit('admin', [[
      { type: 'energy/create-community', value: { id: 'tundal', name: 'Tundal', timezone: 'Europe/Oslo' } },
      { type: 'energy/add-trader', value: { community: 'tundal', address: accounts.bob! } },
      { type: 'energy/add-meter', value: { community: 'tundal', meterId: 'C1', address: accounts.cm!, kind: 'consumer', trader: accounts.bob!, maxPowerW: 20_000 } },
    ]]);
    await submit('bank', [[{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'tundal', name: 'kroner' } }]]);

    // load: readings and payments keep coming while the indexer is killed again and again
    const slot0 = slotOfMs(Date.now()) - 40;
    let register = 0;
    let readingsSent = 0;
    const load = (async () => {
      for (let round = 0; round < 6; round++) {
        const batch = Array.from({ length: 5 }, (_, i) => {
          const importWh = 100 + round * 10 + i;
          const value = { meterId: 'C1', slot: slot0 + round * 5 + i, importWh, exportWh: 0, importRegisterWh: register + importWh, exportRegisterWh: 0, seq: round * 5 + i + 1 };
          register += importWh;
          return [{ type: 'metering/reading', value }];
        });
        await submit('cm', batch);
        readingsSent += batch.length;
        await submit('bank', [[{ type: 'payments/mint', value: { asset: 'NOK@tundal', to: accounts.bob!, amount: String(1000 + round), depositRef: `D-${round}` } }]]);
      }
    })();

    const kills: number[] = [];
    for (let k = 0; k < 4; k++) {
      const child = spawn('node', indexerArgs(live), { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, 1500 + Math.floor(Math.random() * 2500)));
      // it must still be running (following the node) when it is killed
      expect(child.exitCode, stderr).toBeNull();
      child.kill('SIGKILL');
      await exited;
      kills.push(k);
    }
    await load;
    const tip = (await status()).height;
    const caughtUp = await run('node', indexerArgs(live, ['--until-height', String(tip)]));
    expect(JSON.parse(caughtUp.stdout).height).toBe(tip);
    const fresh = await run('node', indexerArgs(clean, ['--until-height', String(tip)]));
    expect(JSON.parse(fresh.stdout)).toMatchObject({ height: tip, blocks: tip });
    expect(kills).toHaveLength(4);

    const [a, b] = [await dump(live), await dump(clean)];
    expect(a).toEqual(b);
    expect(a.blocks).toHaveLength(tip);

    // the node's own answers: each block hash, and every transaction's result code
    const db = new pg.Client({ connectionString: live });
    await db.connect();
    const last = await callRoute(node.url, coreRoutes.getBlock, { params: { height: tip } });
    expect((await db.query('SELECT hash FROM blocks WHERE height = $1', [tip])).rows[0].hash).toBe(last.hash);
    const txs = (await db.query<{ hash: string; code: string }>('SELECT hash, code FROM txs')).rows;
    for (const t of txs) expect((await callRoute(node.url, coreRoutes.getTx, { params: { hash: t.hash }, query: {} })).result?.code).toBe(t.code);
    const energy = (await db.query('SELECT community, sum(import_wh)::bigint AS wh, sum(readings)::int AS n FROM daily_energy_per_community GROUP BY community')).rows;
    expect(energy).toEqual([{ community: 'tundal', wh: String(register), n: readingsSent }]);
    expect((await db.query("SELECT count(*)::int AS n, sum(amount)::text AS s FROM payments WHERE kind = 'mint'")).rows[0]).toEqual({ n: 6, s: String(6 * 1000 + 15) });
    await db.end();
  }, 300_000);
});
