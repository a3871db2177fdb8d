import { signedTxJson, type SignedTx } from '../../codec/tx.js';
import type { LedgerNode } from '../../ledger/ledger.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import { RawJson, type Reactor, type ReactorLink } from './wire.js';

/**
 * Transactions on the wire: admitted transactions are gossiped in batches (one message per batch
 * every 20 ms, never back to the peer they came from); a received batch goes through the node's
 * admission. A batch that is not a list, too long, or carries a transaction no honest peer would
 * relay (malformed, bad signature, wrong chain) penalises the sender. Transactions of senders who
 * may not transact (never admitted, revoked) are what an honest peer relays only in a race with a
 * block that changed the sender's status, so a peer gets a small allowance of them per minute and
 * is penalised beyond it.
 */

/** Transaction admission failures that prove the relaying peer broken (honest peers check first). */
const PEER_FAULT_TX_CODES = new Set(['TX_MALFORMED', 'TX_BAD_SIGNATURE', 'TX_SENDER_KEY_MISMATCH', 'TX_TOO_LARGE', 'TX_WRONG_CHAIN']);

/** Most transactions one gossip message may carry (our own batches stay below it). */
export const MAX_GOSSIP_BATCH = 5_000;

/** Refusals that an honest peer causes only rarely (the sender's status changed in a block it had not seen). */
const UNAUTHORISED_SENDER_CODES = new Set(['TX_SENDER_NOT_ADMITTED', 'TX_SENDER_REVOKED']);
/** Such relays tolerated per peer and minute. */
export const UNAUTHORISED_RELAY_ALLOWANCE = 100;
const ALLOWANCE_WINDOW_MS = 60_000;

export class MempoolReactor implements Reactor {
  readonly channels: readonly ChannelId[] = [Channel.tx];
  private queue: Array<{ hash: string; origin?: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onAdmitted = (hash: string, origin?: string) => this.enqueue(hash, origin);
  /** Per peer: relays of unauthorised senders in the current window. */
  private readonly unauthorised = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly link: ReactorLink,
    private readonly node: LedgerNode,
    private readonly maxPayloadBytes: number,
    private readonly now: () => number = Date.now,
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
    this.node.metrics.phases.time('gossip.send', () => this.flushQueue());
  }

  private flushQueue(): void {
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    const byOrigin = new Map<string | undefined, SignedTx[]>();
    for (const { hash, origin } of queue) {
      const entry = this.node.mempool.get(hash);
      if (!entry) continue;
      const list = byOrigin.get(origin) ?? [];
      list.push(entry.tx);
      byOrigin.set(origin, list);
    }
    const budget = Math.floor(this.maxPayloadBytes / 2);
    // Batches are spliced from each transaction's cached encoding (codec/tx.ts), not stringified again.
    const send = (batch: string[], origin: string | undefined) => this.link.broadcast(Channel.tx, new RawJson(`[${batch.join(',')}]`), origin);
    for (const [origin, txs] of byOrigin) {
      let batch: string[] = [];
      let bytes = 0;
      for (const tx of txs) {
        const json = signedTxJson(tx);
        if (batch.length > 0 && (bytes + json.length > budget || batch.length >= MAX_GOSSIP_BATCH)) {
          send(batch, origin);
          batch = [];
          bytes = 0;
        }
        batch.push(json);
        bytes += json.length;
      }
      if (batch.length > 0) send(batch, origin);
    }
  }

  receive(peer: string, _channel: ChannelId, value: unknown): void {
    if (!Array.isArray(value) || value.length > MAX_GOSSIP_BATCH) return this.link.penalize(peer, 'transaction gossip is not a batch');
    const fresh = this.withoutPendingCopies(value);
    if (fresh.length === 0) return;
    void this.node.submitTxs(fresh, peer).then((results) => {
      const fault = results.find((r) => 'error' in r && PEER_FAULT_TX_CODES.has(r.error.code));
      if (fault && 'error' in fault) return this.link.penalize(peer, `invalid transaction: ${fault.error.code}`);
      const unauthorised = results.filter((r) => 'error' in r && UNAUTHORISED_SENDER_CODES.has(r.error.code)).length;
      if (unauthorised > 0 && this.overAllowance(peer, unauthorised)) this.link.penalize(peer, 'relays transactions of senders who may not transact');
    });
  }

  /**
   * In a mesh every transaction arrives once from each peer that admitted it. Copies of pending ones
   * and of ones being admitted (field for field: `copyInFlight`) are counted and dropped here:
   * admission would parse and hash each, then refuse it as TX_DUPLICATE, making an error (mostly its
   * stack trace, ~7 µs) that this reactor then ignores.
   */
  private withoutPendingCopies(batch: unknown[]): unknown[] {
    const fresh = batch.filter((raw) => this.node.copyInFlight(raw) === undefined);
    if (fresh.length < batch.length) this.node.metrics.gossipCopies.inc(batch.length - fresh.length);
    return fresh;
  }

  private overAllowance(peer: string, count: number): boolean {
    const now = this.now();
    let entry = this.unauthorised.get(peer);
    if (!entry || now - entry.since >= ALLOWANCE_WINDOW_MS) {
      entry = { since: now, count: 0 };
      this.unauthorised.set(peer, entry);
      // Bounded: windows of peers that went quiet are forgotten.
      for (const [p, e] of this.unauthorised) if (now - e.since >= ALLOWANCE_WINDOW_MS) this.unauthorised.delete(p);
      this.unauthorised.set(peer, entry);
    }
    entry.count += count;
    return entry.count > UNAUTHORISED_RELAY_ALLOWANCE;
  }
}
