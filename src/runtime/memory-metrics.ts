import { Gauge } from 'prom-client';
import { cachedPublicKeys } from '../crypto/ed25519.js';
import type { LedgerNode } from '../ledger/ledger.js';

/**
 * Sizes of the node's bounded in-memory structures (issue 9), read when /metrics is scraped:
 * `gridledger_cache_entries{cache}` and `gridledger_cache_bytes{cache}` (estimated) for the state and
 * state-tree read caches, the state-tree rows committed but not yet written (ADR 0016), the verified-signature cache and the public-key cache, and
 * `gridledger_p2p_queue_bytes` and `gridledger_p2p_socket_buffered_bytes` (summed over peers: what
 * waits for slow or stopped peers). Each has a fixed bound, so a value near it is normal; one that
 * keeps climbing past it is a new leak. `gridledger_process_memory_bytes{kind}` splits RSS into V8 heap,
 * external memory and ArrayBuffers (the rest of RSS is native: SQLite, OpenSSL, malloc arenas).
 */
export function registerMemoryMetrics(node: LedgerNode, peers: () => Array<{ queueBytes: number; socketBufferedBytes: number }> = () => []): void {
  const registers = [node.metrics.registry];
  new Gauge({
    name: 'gridledger_cache_entries',
    help: 'Entries in bounded in-memory caches, by cache (state, state_tree, state_tree_pending: committed tree rows not yet written, tx_index_pending: committed transaction hashes not yet indexed, verified_txs, public_keys)',
    labelNames: ['cache'],
    registers,
    collect() {
      const stats = node.storage.cacheStats();
      this.set({ cache: 'state' }, stats.state.entries);
      this.set({ cache: 'state_tree' }, stats.tree.entries);
      this.set({ cache: 'state_tree_pending' }, node.storage.pendingTreeStats().rows);
      this.set({ cache: 'tx_index_pending' }, node.storage.pendingTxIndexStats().entries);
      this.set({ cache: 'verified_txs' }, node.verified.size);
      this.set({ cache: 'public_keys' }, cachedPublicKeys());
    },
  });
  new Gauge({
    name: 'gridledger_cache_bytes',
    help: 'Estimated bytes held by the state and state-tree read caches, by the committed state-tree rows not yet written (state_tree_pending: every copy since the last batch, ADR 0025) and by the transaction hashes not yet indexed (tx_index_pending, ADR 0026)',
    labelNames: ['cache'],
    registers,
    collect() {
      const stats = node.storage.cacheStats();
      this.set({ cache: 'state' }, stats.state.bytes);
      this.set({ cache: 'state_tree' }, stats.tree.bytes);
      this.set({ cache: 'state_tree_pending' }, node.storage.pendingTreeStats().bytes);
      this.set({ cache: 'tx_index_pending' }, node.storage.pendingTxIndexStats().bytes);
    },
  });
  new Gauge({
    name: 'gridledger_process_memory_bytes',
    help: 'process.memoryUsage() by kind (rss, heap_total, heap_used, external, array_buffers): which part of RSS is V8 heap, Buffers or native',
    labelNames: ['kind'],
    registers,
    collect() {
      const m = process.memoryUsage();
      this.set({ kind: 'rss' }, m.rss);
      this.set({ kind: 'heap_total' }, m.heapTotal);
      this.set({ kind: 'heap_used' }, m.heapUsed);
      this.set({ kind: 'external' }, m.external);
      this.set({ kind: 'array_buffers' }, m.arrayBuffers);
    },
  });
  new Gauge({
    name: 'gridledger_p2p_queue_bytes',
    help: 'Bytes in the outbound queues of all peers (each bounded by p2p queueMaxBytes)',
    registers,
    collect() {
      this.set(peers().reduce((sum, p) => sum + p.queueBytes, 0));
    },
  });
  new Gauge({
    name: 'gridledger_p2p_socket_buffered_bytes',
    help: 'Bytes written to peer sockets but not yet sent, all peers (each kept under p2p socketHighWaterBytes)',
    registers,
    collect() {
      this.set(peers().reduce((sum, p) => sum + p.socketBufferedBytes, 0));
    },
  });
}
