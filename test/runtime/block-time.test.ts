import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { makeHome, startTestNode } from '../helpers/node.js';
import { account } from '../helpers/chain.js';

let counter = 0;
const randomAddress = () => account(`block-time-${Date.now()}-${counter++}`).address;
async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Block time on a real node (issue 19 #11): a block's time is close to when it was proposed, also
 * after the chain was idle (so a meter reading sent seconds after its slot ended is not refused as
 * "slot not ended"), and empty heartbeat blocks come at the configured interval.
 */
describe('proposer-based block time on a running node', () => {
  let home: string;
  let running: RunningNode;
  const HEARTBEAT_MS = 1000;

  beforeAll(async () => {
    ({ home } = makeHome());
    const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
    config.consensus.emptyBlockIntervalMs = HEARTBEAT_MS;
    writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
    running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const blockTimes = async (from: number, to: number) => {
    const out: number[] = [];
    for (let h = from; h <= to; h++) out.push(((await callRoute(running.url, coreRoutes.getBlock, { params: { height: h } })).block as { header: { time: number } }).header.time);
    return out;
  };

  it('heartbeat blocks of an idle chain come at the configured interval', async () => {
    const start = running.node.height;
    await new Promise((r) => setTimeout(r, 6 * HEARTBEAT_MS + 500));
    const end = running.node.height;
    expect(end - start).toBeGreaterThanOrEqual(4);
    const times = await blockTimes(start + 1, end);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(HEARTBEAT_MS - 50);
      expect(gap).toBeLessThanOrEqual(HEARTBEAT_MS + 400);
    }
  }, 30_000);

  it('a block made after an idle spell carries the time it was proposed, not the time of the previous commit', async () => {
    // A second node with the default 30 s heartbeat: after block 1 the chain is idle.
    const idle = await startTestNode({ alice: ['prosumer'] });
    try {
      await waitUntil(() => idle.running.node.height >= 1);
      await new Promise((r) => setTimeout(r, 2500)); // idle: no transaction, no block
      const sent = Date.now();
      const tx = await idle.signedTx('admin', [{ type: 'registry/admit', value: { address: randomAddress(), roles: ['consumer'] } }]);
      const { hash } = await idle.call(coreRoutes.submitTx, { body: tx });
      const committed = await idle.call(coreRoutes.getTx, { params: { hash }, query: { wait: 20 } });
      const block = await idle.call(coreRoutes.getBlock, { params: { height: committed.height! } });
      // Median time of the previous commit would be ~2.5 s before `sent`; the proposer's clock is after it.
      expect((block.block as { header: { time: number } }).header.time).toBeGreaterThanOrEqual(sent - 100);
    } finally {
      await idle.cleanup();
    }
  }, 60_000);
});
