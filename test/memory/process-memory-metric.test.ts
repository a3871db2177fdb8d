import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/home/home.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { registerMemoryMetrics } from '../../src/runtime/memory-metrics.js';
import { account } from '../helpers/chain.js';

/**
 * Issue 9 (restarted nodes settling higher): which part of a node's RSS is V8 heap, external memory
 * and ArrayBuffers is read from /metrics, so a soak can tell heap from native memory.
 */
describe('gridledger_process_memory_bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-memory-metric-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports rss, heap_total, heap_used, external and array_buffers of the process', async () => {
    const validator = account('validator');
    const config = configSchema.parse({ chainId: 'pm', moniker: 'n', keyringBackend: 'test', api: {} });
    const node = new LedgerNode({
      config,
      genesis: { chainId: 'pm', genesisTime: 0, operators: [], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }], accounts: [], modules: {} },
      dbPath: join(dir, 'ledger.db'),
      validatorSigner: validator.signer,
      modules: MODULE_CORES,
      logger: pino({ level: 'silent' }),
      verifyWorkers: 0,
    });
    registerMemoryMetrics(node);
    const text = await node.metrics.registry.metrics();
    const value = (kind: string) => Number(new RegExp(`^gridledger_process_memory_bytes\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const kinds = ['rss', 'heap_total', 'heap_used', 'external', 'array_buffers'];
    for (const kind of kinds) expect(value(kind), kind).toBeGreaterThan(0);
    expect(value('heap_used')).toBeLessThanOrEqual(value('heap_total'));
    expect(value('array_buffers')).toBeLessThanOrEqual(value('external'));
    expect(value('heap_total')).toBeLessThan(value('rss'));
    node.storage.close();
  });
});
