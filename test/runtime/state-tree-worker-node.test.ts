/**
 * ADR 0024 on a running node: `consensus.stateTreeWorker: true` in the config of a lone validator
 * started with `gridledger start`. Transactions through the CLI and the API commit in blocks the node
 * prepared with the state tree on its worker (counted in /metrics); after a stop and a restart (a new
 * worker, rows the previous process held in memory recovered by the store), `gridledger audit`
 * replays the whole chain from genesis and finds every state root right.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring } from '../../src/home/home.js';
import { account } from '../helpers/chain.js';
import { cli, freePort, initNodeHome, oneJson, startNodeProcess, stopNodeProcess, type NodeProcess } from '../foundation/cli-helpers.js';

let dir = '';
let home = '';
let port = 0;
let node: NodeProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridledger-tree-worker-node-'));
  home = join(dir, 'home');
  port = await freePort();
  await initNodeHome(home, 'tw-chain', port, (config) => {
    Object.assign(config.consensus, { blockTimeMs: 100, stateTreeWorker: true });
    config.logLevel = 'warn';
  });
  node = await startNodeProcess(home, port);
});
afterAll(async () => {
  if (node) await stopNodeProcess(node);
  rmSync(dir, { recursive: true, force: true });
});

async function preparedProposals(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^gridledger_prepared_proposals_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
}

/** Admissions of fresh accounts by the admin key, signed here and sent as one batch. */
async function admitBatch(url: string, tag: string, count: number): Promise<string[]> {
  const keyring = openKeyring(home, 'test');
  const sender = keyring.show('admin').address;
  const nonce = await callRoute(url, coreRoutes.accountNonce, { params: { address: sender } });
  const txs: SignedTx[] = Array.from({ length: count }, (_, i) =>
    signTx({ chainId: 'tw-chain', sender, nonce: nonce.next + i, expiresAtHeight: nonce.height + 100, msgs: [{ type: 'registry/admit', value: { address: account(`${tag}-${i}`).address, roles: ['consumer'] } }], memo: '' }, keyring.signer('admin')),
  );
  const { results } = await callRoute(url, coreRoutes.submitTxBatch, { body: { txs } });
  expect(results.every((r) => r.code === 'OK')).toBe(true);
  return results.map((r) => r.hash!);
}

async function committed(url: string, hashes: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const hash of hashes) {
    for (;;) {
      const res = await fetch(`${url}/v1/txs/${hash}`);
      if (res.status === 200) break;
      if (Date.now() > deadline) throw new Error(`transaction ${hash} not committed in 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('a lone validator with the state-tree worker on', () => {
  it('commits what the CLI and the API send in blocks prepared off the main thread', async () => {
    const alice = oneJson(await cli(['keys', 'add', 'alice', '--home', home, '-o', 'json'])).address;
    const admitted = await cli(['tx', 'registry', 'admit', alice, '--role', 'trader', '--wait', '--home', home]);
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stdout).toMatch(/^committed [0-9a-f]{64} at height \d+: OK$/m);
    await committed(node!.url, await admitBatch(node!.url, 'first', 600));
    expect(await preparedProposals(node!.url)).toBeGreaterThan(0);
    const traders = oneJson(await cli(['query', 'registry', 'accounts', '--role', 'trader', '--home', home, '-o', 'json']));
    expect(JSON.stringify(traders)).toContain(alice);
    expect(node!.stderr()).not.toMatch(/state-tree worker stopped/);
  });

  it('restarts with a new worker, goes on, and the audit replays every state root from genesis', async () => {
    const before = await stopNodeProcess(node!);
    expect(before.code).toBe(0);
    node = await startNodeProcess(home, port);
    await committed(node.url, await admitBatch(node.url, 'second', 400));
    expect(await preparedProposals(node.url)).toBeGreaterThan(0);
    expect(node.stderr()).not.toMatch(/state-tree worker stopped/);
    const stopped = await stopNodeProcess(node);
    expect(stopped.code).toBe(0);
    node = undefined;
    const audit = await cli(['audit', '--home', home, '-o', 'json']);
    expect(audit.code, audit.stderr).toBe(0);
    const report = oneJson(audit);
    expect(report).toMatchObject({ ok: true, fromHeight: 1, stateCompared: true });
    expect(report.verifiedHeight).toBe(report.storedHeight);
    expect(report.txs).toBeGreaterThanOrEqual(1001);
  });
});
