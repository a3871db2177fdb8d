import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { prepareAnchorHome, until } from './helpers.js';

/** The node itself runs the anchor service when its home holds anchor.json (the anchor operator's node). */
describe('the anchor service started by the node', () => {
  let home: string | undefined;
  let running: RunningNode | undefined;
  afterAll(async () => {
    await running?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('anchors and records checkpoints with no process but the node', async () => {
    const raw = { network: 'regtest', backend: { kind: 'offline', dir: 'anchors' }, feeRate: 3, pollIntervalMs: 100, funding: [{ txid: '6a'.repeat(32), vout: 0, value: '250000' }] };
    ({ home } = prepareAnchorHome(4, raw));
    running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
    const url = running.url;
    const recorded = await until(
      'a checkpoint recorded by the built-in service',
      async () => {
        const list = await callRoute(url, anchorRoutes.listCheckpoints, { query: { status: 'recorded' } });
        return list.checkpoints.length > 0 ? list.checkpoints : undefined;
      },
      60_000,
    );
    expect(recorded[0]!.height % 4).toBe(0);
    const dir = join(home, 'anchors');
    expect(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.hex'))).toBe(true);
  }, 90_000);
});
