import { Gauge, type Registry } from 'prom-client';
import type { MessagingNode } from '../messaging/index.js';
import type { MessagingReactor } from './reactors/messaging.js';

/** Messaging figures in /metrics, read when scraped (the store and counters own the numbers). */
export function registerMessagingMetrics(registry: Registry, messaging: MessagingNode, reactor: () => MessagingReactor | null): void {
  const gauge = (name: string, help: string, read: (set: (value: number, labels?: Record<string, string>) => void) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        read((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  gauge('gridledger_messages_stored', 'Encrypted messages held by this node', (set) => set(messaging.pool.size));
  gauge('gridledger_message_store_bytes', 'Bytes of the messages held by this node', (set) => set(messaging.pool.bytes));
  gauge('gridledger_messages_evicted', 'Messages evicted from the full store (earliest expiry first)', (set) => set(messaging.pool.evicted));
  gauge('gridledger_messages_accepted', 'Messages checked and stored, from clients and peers', (set) => set(messaging.counters.accepted));
  gauge('gridledger_messages_duplicate', 'Messages received again and dropped as duplicates', (set) => set(messaging.counters.duplicates));
  gauge('gridledger_messages_rejected', 'Messages refused, by code', (set) => {
    for (const [code, n] of Object.entries(messaging.counters.rejected)) set(n, { code });
  }, ['code']);
  gauge('gridledger_messages_relayed', 'Messages sent on to peers', (set) => set(reactor()?.stats.relayed ?? 0));
  gauge('gridledger_messages_rate_limited', 'Messages from peers dropped by the per-peer rate limit', (set) => set(reactor()?.stats.rateLimited ?? 0));
  gauge('gridledger_message_peer_penalties', 'Peers penalised by the messaging relay (junk, floods)', (set) => set(reactor()?.stats.penalties ?? 0));
}
