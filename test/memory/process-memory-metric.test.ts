import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import type { Block, Commit, TxResult } from '../../src/codec/block.js';
import { configSchema } from '../../src/home/home.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { registerMemoryMetrics } from '../../src/runtime/memory-metrics.js';
import { PENDING_TX_ENTRY_BYTES } from '../../src/store/tx-index.js';
import { readCacheBytesOf, type ClusterNode } from '../../scripts/lib/cluster.js';
import { account } from '../helpers/chain.js';

/**
 * Issue 9 (restarted nodes settling higher): which part of a node's RSS is V8 heap, external memory
 * and ArrayBuffers is read from /metrics, so a soak can tell heap from native memory.
 */
describe('gridledger_process_memory_bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-memory-metric-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A lone validator's node in process, with the memory metrics registered. */
  function startNode(file: string): LedgerNode {
    const validator = account('validator');
    const config = configSchema.parse({ chainId: 'pm', moniker: 'n', keyringBackend: 'test', api: {} });
    const node = new LedgerNode({
      config,
      genesis: { chainId: 'pm', genesisTime: 0, operators: [], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }], accounts: [], modules: {} },
      dbPath: join(dir, file),
      validatorSigner: validator.signer,
      modules: MODULE_CORES,
      logger: pino({ level: 'silent' }),
      verifyWorkers: 0,
    });
    registerMemoryMetrics(node);
    return node;
  }

  it('reports rss, heap_total, heap_used, external and array_buffers of the process', async () => {
    const node = startNode('ledger.db');
    const text = await node.metrics.registry.metrics();
    const value = (kind: string) => Number(new RegExp(`^gridledger_process_memory_bytes\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    const kinds = ['rss', 'heap_total', 'heap_used', 'external', 'array_buffers'];
    for (const kind of kinds) expect(value(kind), kind).toBeGreaterThan(0);
    expect(value('heap_used')).toBeLessThanOrEqual(value('heap_total'));
    expect(value('array_buffers')).toBeLessThanOrEqual(value('external'));
    expect(value('heap_total')).toBeLessThan(value('rss'));
    node.storage.close();
  });

  it('counts the committed transaction hashes waiting to be indexed (ADR 0026), and none after a batch', async () => {
    const node = startNode('pending.db');
    const storage = node.storage;
    const height = storage.latestHeight() + 1;
    const hashes = ['a', 'b', 'c'].map((c) => c.repeat(64));
    const block = { header: { height, time: height }, txs: [], lastCommit: null, evidence: [] } as unknown as Block;
    const result = { code: 'OK', message: '', events: [] } as unknown as TxResult;
    const root = storage.getMeta(STATE_TREE_ROOT_META)!;
    storage.commitBlock({ block, hash: `b${height}`, results: hashes.map(() => result), txHashes: hashes, commit: {} as Commit, writes: new Map(), stateTree: { root: new Uint8Array(root), rows: new Map() } });
    const pending = async (metric: string) => Number(new RegExp(`^${metric}\\{cache="tx_index_pending"\\} (\\d+)$`, 'm').exec(await node.metrics.registry.metrics())?.[1]);
    expect(await pending('gridledger_cache_entries')).toBe(3);
    expect(await pending('gridledger_cache_bytes')).toBe(3 * PENDING_TX_ENTRY_BYTES);
    storage.flushTreeRows();
    expect(await pending('gridledger_cache_entries')).toBe(0);
    expect(storage.getTx(hashes[1]!)).toMatchObject({ height, index: 1 });
    storage.close();
  });

  it("gives the soak the read caches' bytes from /metrics (state + state tree), undefined once the node is gone", async () => {
    const node = startNode('soak-caches.db');
    for (let i = 0; i < 50; i++) node.storage.getRaw(`registry/account/nobody-${i}`);
    for (const path of ['', '0', '1', '2']) node.storage.treeRow(path);
    const stats = node.storage.cacheStats();
    expect(stats.state.bytes).toBeGreaterThan(0);
    expect(stats.tree.bytes).toBeGreaterThan(0);
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      void node.metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': 'text/plain' }).end(text));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const soakNode = { api } as ClusterNode;
    expect(await readCacheBytesOf(soakNode)).toBe(stats.state.bytes + stats.tree.bytes);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await readCacheBytesOf(soakNode, 500)).toBeUndefined();
    node.storage.close();
  });
});
