import type { LedgerNode } from '../../ledger/ledger.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import type { Reactor, ReactorLink } from './wire.js';

/**
 * Transactions on the wire: admitted transactions are gossiped in batches (one message per batch
 * every 20 ms, never back to the peer they came from); a received batch goes through the node's
 * admission. A batch that is not a list, too long, or carries a transaction no honest peer would
 * relay (malformed, bad signature, wrong chain) penalises the sender.
 */

/** Transaction admission failures that prove the relaying peer broken (honest peers check first). */
const PEER_FAULT_TX_CODES = new Set(['TX_MALFORMED', 'TX_BAD_SIGNATURE', 'TX_SENDER_KEY_MISMATCH', 'TX_TOO_LARGE', 'TX_WRONG_CHAIN']);

/** Most transactions one gossip message may carry. */
export const MAX_GOSSIP_BATCH = 100_000;

export class MempoolReactor implements Reactor {
  readonly channels: readonly ChannelId[] = [Channel.tx];
  private queue: Array<{ hash: string; origin?: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onAdmitted = (hash: string, origin?: string) => this.enqueue(hash, origin);

  constructor(
    private readonly link: ReactorLink,
    private readonly node: LedgerNode,
    private readonly maxPayloadBytes: number,
  ) {
    node.on('txAdmitted', this.onAdmitted);
  }

  stop(): void {
    this.node.off('txAdmitted', this.onAdmitted);
    if (this.timer) clearTimeout(this.timer);
  }

  private enqueue(hash: string, origin?: string): void {
    this.queue.push({ hash, origin });
    this.timer ??= setTimeout(() => this.flush(), 20);
  }

  private flush(): void {
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    const byOrigin = new Map<string | undefined, unknown[]>();
    for (const { hash, origin } of queue) {
      const entry = this.node.mempool.get(hash);
      if (!entry) continue;
      const list = byOrigin.get(origin) ?? [];
      list.push(entry.tx);
      byOrigin.set(origin, list);
    }
    const budget = Math.floor(this.maxPayloadBytes / 2);
    for (const [origin, txs] of byOrigin) {
      let batch: unknown[] = [];
      let bytes = 0;
      for (const tx of txs) {
        const size = JSON.stringify(tx).length;
        if (batch.length > 0 && bytes + size > budget) {
          this.link.broadcast(Channel.tx, batch, origin);
          batch = [];
          bytes = 0;
        }
        batch.push(tx);
        bytes += size;
      }
      if (batch.length > 0) this.link.broadcast(Channel.tx, batch, origin);
    }
  }

  receive(peer: string, _channel: ChannelId, value: unknown): void {
    if (!Array.isArray(value) || value.length > MAX_GOSSIP_BATCH) return this.link.penalize(peer, 'transaction gossip is not a batch');
    void this.node.submitTxs(value, peer).then((results) => {
      const fault = results.find((r) => 'error' in r && PEER_FAULT_TX_CODES.has(r.error.code));
      if (fault && 'error' in fault) this.link.penalize(peer, `invalid transaction: ${fault.error.code}`);
    });
  }
}
