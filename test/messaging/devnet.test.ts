import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { composeSealed, fromWire, generateMessagingKey, messagingRoutes, mintStamp, openSealed, toWire } from '../../src/messaging/index.js';
import { paths } from '../../src/home/home.js';
import { prepareDevnet } from '../../src/runtime/devnet.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { freeBasePort, waitFor } from '../devnet/harness.js';

/**
 * The messaging layer in the node as it ships: two validators of a devnet in this process, their
 * NodeNetwork carrying the message channel next to consensus. A message posted to node0's API is
 * relayed and served by node1's API, where its recipient reads it; consensus goes on meanwhile.
 */
describe('messaging between the nodes of a devnet', () => {
  let dir: string;
  let nodes: RunningNode[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-msg-devnet-'));
    const prepared = prepareDevnet(dir, 2, await freeBasePort(2), 'gridledger-msg-test', { blockTimeMs: 200 }).nodes;
    for (const n of prepared) {
      const config = JSON.parse(readFileSync(paths(n.home).config, 'utf8'));
      config.logLevel = 'silent';
      // The test waits for a block after the relay: an idle chain's heartbeat, 30 s by default.
      config.consensus.emptyBlockIntervalMs = 1_000;
      writeFileSync(paths(n.home).config, JSON.stringify(config, null, 2));
    }
    nodes = await Promise.all(prepared.map((n) => startNode(n.home, { apiPort: 0, logger: pino({ level: 'silent' }) })));
    await waitFor(() => nodes.every((n) => (n.network?.p2p.peers().length ?? 0) === 1), 'the two nodes connected', 60_000, 20);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('relays a message posted to one node to the other, where only the recipient opens it', async () => {
    const [node0, node1] = nodes as [RunningNode, RunningNode];
    const params = await callRoute(node0.url, messagingRoutes.messagingParams, {});
    const bob = generateMessagingKey();
    const unstamped = composeSealed(bob.publicKey, { content: { text: 'meet at the substation' }, ttl: 600, now: params.now });
    const posted = await callRoute(node0.url, messagingRoutes.postMessage, { body: toWire({ ...unstamped, stamp: mintStamp(unstamped, params).stamp }) });
    expect(posted.added).toBe(true);
    await waitFor(() => node1.messaging.pool.has(posted.hash), 'the message relayed to node1', 60_000, 20);
    const served = await callRoute(node1.url, messagingRoutes.listMessages, { query: { after: 0 } });
    expect(served.messages.map((m) => m.hash)).toEqual([posted.hash]);
    const env = fromWire(served.messages[0]!.envelope, params);
    expect(openSealed(env, bob.secretKey)?.text).toBe('meet at the substation');
    expect(openSealed(env, generateMessagingKey().secretKey)).toBeNull();
    // Off the ledger: blocks carry on, and no block holds the message.
    const height = node1.node.height;
    await waitFor(() => node1.node.height > height, 'a further block', 60_000, 20);
    expect(node1.network?.messaging?.stats.received).toBeGreaterThan(0);
    const metrics = await (await fetch(`${node1.url}/metrics`)).text();
    expect(metrics).toMatch(/^gridledger_messages_stored 1$/m);
    expect(metrics).toMatch(/^gridledger_messages_accepted 1$/m);
    const payload = served.messages[0]!.envelope.payload.slice(0, 64);
    for (let h = 1; h <= node1.node.height; h++) expect(JSON.stringify(node1.node.storage.getBlock(h))).not.toContain(payload);
  }, 120_000);
});
