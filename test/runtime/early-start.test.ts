/**
 * Issue 18 / ADR 0015: under load a height starts as soon as enough transactions wait (after a short
 * minimum interval) instead of at the end of the block time; fewer than that keep the cadence. The
 * block time here is 20 s, so a block within the test's few seconds can only be an early start.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { account } from '../helpers/chain.js';
import { makeHome } from '../helpers/node.js';

const PROPOSE_AT = 5;
let home: string;
let running: RunningNode;

beforeAll(async () => {
  ({ home } = makeHome({}, 20_000));
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  // maxTxWaitMs as long as the block time: only the early start (ADR 0015) can start a height here, not a transaction's wait (ADR 0022).
  Object.assign(config.consensus, { emptyBlockIntervalMs: 120_000, proposeAtTxs: PROPOSE_AT, minBlockIntervalMs: 50, maxTxWaitMs: 20_000 });
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await running?.stop();
  rmSync(home, { recursive: true, force: true });
});

function admissions(from: number, count: number, nonce: number, height: number): SignedTx[] {
  const admin = openKeyring(home, 'test').signer('admin');
  const sender = openKeyring(home, 'test').show('admin').address;
  return Array.from({ length: count }, (_, i) =>
    signTx({ chainId: 'test-chain', sender, nonce: nonce + i, expiresAtHeight: height + 100, msgs: [{ type: 'registry/admit', value: { address: account(`early-${from + i}`).address, roles: ['consumer'] } }], memo: '' }, admin),
  );
}

async function waitForHeight(height: number, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (running.node.height < height && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return running.node.height >= height;
}

it('fewer than proposeAtTxs wait for the block time; reaching it starts the height at once with all of them', async () => {
  const first = running.node.height;
  const nonce = (await callRoute(running.url, coreRoutes.accountNonce, { params: { address: openKeyring(home, 'test').show('admin').address } })).next;
  // The chain has been quiet for more than a block time since genesis: a first transaction starts a
  // height at once. The next block time runs from that height's start.
  await callRoute(running.url, coreRoutes.submitTx, { body: admissions(-1, 1, nonce, first)[0]! });
  expect(await waitForHeight(first + 1, 10_000)).toBe(true);
  const start = running.node.height;
  const txs = admissions(0, PROPOSE_AT, nonce + 1, start);

  for (const tx of txs.slice(0, PROPOSE_AT - 1)) await callRoute(running.url, coreRoutes.submitTx, { body: tx });
  // One short of the threshold: nothing starts before the 20 s block time.
  expect(await waitForHeight(start + 1, 2_000)).toBe(false);
  expect(running.node.mempool.size).toBe(PROPOSE_AT - 1);

  await callRoute(running.url, coreRoutes.submitTx, { body: txs[PROPOSE_AT - 1]! });
  expect(await waitForHeight(start + 1, 10_000)).toBe(true);
  const block = (await callRoute(running.url, coreRoutes.getBlock, { params: { height: start + 1 } })).block as { txs: unknown[] };
  expect(block.txs).toHaveLength(PROPOSE_AT);
}, 90_000);
