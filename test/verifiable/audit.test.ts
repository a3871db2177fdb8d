import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { paths } from '../../src/home/home.js';
import { account } from '../helpers/chain.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/**
 * `gridledger audit` (issue 17 #5) on a real node's chain: it passes and resumes; in copies of the
 * home with one corrupted row (a transaction result, a state value, a commit signature, a header
 * root) it names the first divergence: height, table, row and field.
 */
describe('gridledger audit', () => {
  let node: TestNode;
  let scratch: string;
  let height = 0;
  const addresses: string[] = [];
  let crashImage = '';

  beforeAll(async () => {
    node = await startTestNode();
    scratch = mkdtempSync(join(tmpdir(), 'gridledger-audit-'));
    for (let i = 0; i < 8; i++) {
      const who = account(`audit-${i}`);
      addresses.push(who.address);
      const tx = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: who.address, roles: ['consumer'] } }]);
      const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
      const done = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 60 } });
      expect(done.result?.code).toBe('OK');
      height = done.height!;
    }
    // a rejected transaction too: its result (not OK) is part of what the audit checks
    const again = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: addresses[0]!, roles: ['consumer'] } }]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: again });
    expect((await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 60 } })).result?.code).not.toBe('OK');
    // What a kill -9 leaves (ADR 0016): the committed blocks, their state-tree rows partly still in memory
    // and their written keys in the journal. VACUUM INTO is one statement: no block commits meanwhile.
    crashImage = join(scratch, 'crash-image.db');
    node.running.node.storage.db.exec(`VACUUM INTO '${crashImage}'`);
    await node.stop();
  }, 180_000);
  afterAll(async () => {
    if (node) rmSync(node.home, { recursive: true, force: true }); // the node was stopped in beforeAll
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  async function audit(home: string, ...args: string[]): Promise<{ code: number; json: any; stderr: string }> {
    try {
      const { stdout, stderr } = await run('node', ['bin/gridledger.mjs', '--home', home, '-o', 'json', 'audit', ...args], { cwd: process.cwd() });
      return { code: 0, json: JSON.parse(stdout), stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, json: err.stdout.trim() ? JSON.parse(err.stdout) : undefined, stderr: err.stderr };
    }
  }

  /** A copy of the node's home with one change made to its database. */
  function corruptedCopy(name: string, change: (db: Database.Database) => void): string {
    const home = join(scratch, name);
    cpSync(node.home, home, { recursive: true });
    rmSync(join(paths(home).data, 'audit'), { recursive: true, force: true });
    const db = new Database(paths(home).db);
    change(db);
    db.close();
    return home;
  }

  it('passes on the chain, and resumes where an earlier run stopped', async () => {
    const first = await audit(node.home, '--to-height', '3');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ ok: true, fromHeight: 1, verifiedHeight: 3, stateCompared: false });
    const rest = await audit(node.home);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.json).toMatchObject({ ok: true, fromHeight: 4, verifiedHeight: rest.json.storedHeight, stateCompared: true });
    expect(rest.json.storedHeight).toBeGreaterThanOrEqual(height);
    expect(rest.json.txs + first.json.txs).toBeGreaterThanOrEqual(9);
    expect(rest.json.stateRows).toBeGreaterThan(8);
  }, 120_000);

  it('compares the state tree of a node stopped with rows still in memory: the table plus the journal', async () => {
    const home = join(scratch, 'crashed');
    cpSync(node.home, home, { recursive: true });
    rmSync(join(paths(home).data, 'audit'), { recursive: true, force: true });
    for (const suffix of ['', '-wal', '-shm']) rmSync(paths(home).db + suffix, { force: true });
    cpSync(crashImage, paths(home).db);
    const image = new Database(paths(home).db, { readonly: true });
    const journalled = image.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM state_tree_journal').get()!.n;
    image.close();
    expect(journalled).toBeGreaterThan(0);
    const r = await audit(home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, stateCompared: true });
    // a journal that lost the entry of the block that admitted the first account leaves stale rows, which the audit names
    const damaged = join(scratch, 'journal-damaged');
    cpSync(home, damaged, { recursive: true });
    const db = new Database(paths(damaged).db);
    expect(db.prepare('DELETE FROM state_tree_journal WHERE keys LIKE ?').run(`%registry/account/${addresses[0]}%`).changes).toBe(1);
    db.close();
    const r2 = await audit(damaged);
    expect(r2.code).toBe(1);
    expect(r2.json.divergence).toMatchObject({ table: 'state_tree', field: 'node' });
  }, 120_000);

  it('names a corrupted transaction result, state value, commit signature and header root', async () => {
    const txHeight = (db: Database.Database) => db.prepare<[], { hash: string; height: number; result: string }>("SELECT hash, height, result FROM txs WHERE result LIKE '%\"code\":\"OK\"%' ORDER BY height LIMIT 1 OFFSET 2").get()!;
    let victim = { hash: '', height: 0 };
    const result = corruptedCopy('result', (db) => {
      const row = txHeight(db);
      victim = row;
      db.prepare('UPDATE txs SET result = ? WHERE hash = ?').run(row.result.replace('"code":"OK"', '"code":"INTERNAL_ERROR"'), row.hash);
    });
    const r1 = await audit(result);
    expect(r1.code).toBe(1);
    expect(JSON.parse(r1.stderr).error.code).toBe('AUDIT_DIVERGED');
    expect(r1.json.divergence).toMatchObject({ height: victim.height, table: 'txs', row: victim.hash, field: 'result' });
    expect(r1.json.verifiedHeight).toBe(victim.height - 1);

    const key = `registry/account/${addresses[3]}`;
    const state = corruptedCopy('state', (db) => {
      const row = db.prepare<[string], { value: string }>('SELECT value FROM state WHERE key = ?').get(key)!;
      db.prepare('UPDATE state SET value = ? WHERE key = ?').run(row.value.replace('consumer', 'operator'), key);
    });
    const r2 = await audit(state);
    expect(r2.code, r2.stderr).toBe(1);
    expect(r2.json, r2.stderr).toBeDefined();
    expect(r2.json.divergence).toMatchObject({ table: 'state', row: key, field: 'value' });
    expect(r2.json.divergence.stored).toContain('operator');
    expect(r2.json.divergence.replayed).toContain('consumer');

    const commit = corruptedCopy('commit', (db) => {
      const row = db.prepare<[number], { commit_json: string }>('SELECT commit_json FROM blocks WHERE height = ?').get(4)!;
      const c = JSON.parse(row.commit_json);
      const sig: string = c.signatures[0].signature;
      c.signatures[0].signature = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
      db.prepare('UPDATE blocks SET commit_json = ? WHERE height = ?').run(JSON.stringify(c), 4);
    });
    const r3 = await audit(commit);
    expect(r3.code).toBe(1);
    expect(r3.json.divergence).toMatchObject({ height: 4, table: 'commit', row: '4' });

    const root = corruptedCopy('root', (db) => {
      const row = db.prepare<[number], { block: string }>('SELECT block FROM blocks WHERE height = ?').get(5)!;
      const b = JSON.parse(row.block);
      b.header.stateRoot = 'ab'.repeat(32);
      db.prepare('UPDATE blocks SET block = ? WHERE height = ?').run(JSON.stringify(b), 5);
    });
    const r4 = await audit(root);
    expect(r4.code).toBe(1);
    // the stored hash no longer is the header's: the first check of that row that fails
    expect(r4.json.divergence).toMatchObject({ height: 5, table: 'blocks', row: '5', field: 'hash' });
  }, 180_000);
});
