import { signedTxJson, type SignedTx } from '../../codec/tx.js';
import type { LedgerNode } from '../../ledger/ledger.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import { hasExactly, RawJson, type Reactor, type ReactorLink } from './wire.js';

/**
 * Transactions on the wire. A transaction a client gave this node is pushed whole to every peer; one
 * that came from a peer is *announced* to the others by its hash (`{"have": [hashes]}`), and a peer
 * that lacks it asks for it (`{"want": [hashes]}`) and gets it whole. In a mesh of n nodes every node
 * admitting a transaction used to send it whole to its n − 2 other peers, who almost always had it
 * already (4 validators: 9 copies of each transaction on the wire for 3 needed; a copy costs the
 * sealing, the bytes, the opening and the parse). Messages go in batches, one per 20 ms, never back
 * to the peer a transaction came from. A received batch goes through the node's admission. A message
 * of another shape, too long, or a batch carrying a transaction no honest peer would relay (malformed,
 * bad signature, wrong chain) penalises the sender. Transactions of senders who may not transact
 * (never admitted, revoked) are what an honest peer relays only in a race with a block that changed
 * the sender's status, so a peer gets a small allowance of them per minute and is penalised beyond it.
 * A hash asked for is asked again of another peer that announced it when no copy came within
 * WANT_TIMEOUT_MS (an announcing peer may have committed or dropped it meanwhile, or be lying).
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

/** Most hashes one announcement or request may carry. */
export const MAX_GOSSIP_HASHES = MAX_GOSSIP_BATCH;
/** How long an announced hash waits before it is asked for (its direct copy is usually on the way). */
export const WANT_DELAY_MS = 50;
/** A hash asked for and not received within this time is asked of another peer that announced it. */
export const WANT_TIMEOUT_MS = 2_000;
/** Hashes asked for and not yet received, at most (a flood of announcements cannot grow the table beyond it). */
export const MAX_WANTED = 50_000;
/**
 * A transaction announced to a peer is sent to it whole once, if it asks within this time: an honest
 * peer asks only for what it was offered, once, so a request cannot make this node send a transaction
 * twice or one it never offered (a small request would otherwise draw many times its size).
 */
export const OFFER_TTL_MS = 10_000;
/** Offers remembered per peer, at most (the oldest go first). */
export const MAX_OFFERED = 100_000;
/** Peers remembered per wanted hash to ask next. */
const MAX_ANNOUNCERS = 4;
const HASH_RE = /^[0-9a-f]{64}$/;

type Announcement = { have: string[] } | { want: string[] };

function isHashList(x: unknown): x is string[] {
  return Array.isArray(x) && x.length <= MAX_GOSSIP_HASHES && x.every((h) => typeof h === 'string' && HASH_RE.test(h));
}

/** A `have` or `want` message of well-formed hashes, or undefined. */
function announcement(value: unknown): Announcement | undefined {
  if (hasExactly(value, ['have']) && isHashList((value as { have: unknown }).have)) return value as { have: string[] };
  if (hasExactly(value, ['want']) && isHashList((value as { want: unknown }).want)) return value as { want: string[] };
  return undefined;
}

export class MempoolReactor implements Reactor {
  readonly channels: readonly ChannelId[] = [Channel.tx];
  private queue: Array<{ hash: string; origin?: string }> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onAdmitted = (hash: string, origin?: string) => this.enqueue(hash, origin);
  /** Per peer: relays of unauthorised senders in the current window. */
  private readonly unauthorised = new Map<string, { since: number; count: number }>();
  /** Hashes asked for: when, and the other peers that announced them (asked next on a timeout). */
  private readonly wanted = new Map<string, { at: number; others: string[] }>();
  private readonly retryTimer: NodeJS.Timeout;
  /** Per peer: the hashes announced to it and not yet sent, with when (see OFFER_TTL_MS). */
  private readonly offered = new Map<string, Map<string, number>>();
  /** Hashes to ask of each announcer when the short delay ends (see ask). */
  private toAsk = new Map<string, string[]>();
  private askTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: ReactorLink,
    private readonly node: LedgerNode,
    private readonly maxPayloadBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    node.on('txAdmitted', this.onAdmitted);
    this.retryTimer = setInterval(() => this.askAgain(), WANT_TIMEOUT_MS / 2);
    this.retryTimer.unref();
  }

  stop(): void {
    this.node.off('txAdmitted', this.onAdmitted);
    if (this.timer) clearTimeout(this.timer);
    if (this.askTimer) clearTimeout(this.askTimer);
    clearInterval(this.retryTimer);
  }

  private enqueue(hash: string, origin?: string): void {
    this.wanted.delete(hash);
    this.queue.push({ hash, origin });
    this.timer ??= setTimeout(() => this.flush(), 20);
  }

  private flush(): void {
    this.node.metrics.phases.time('gossip.send', () => this.flushQueue());
  }

  /**
   * Sends what waits for the next gossip batch now: before a proposal goes out, so that peers get
   * the block's newest transactions ahead of it on the same connection (ADR 0021).
   */
  flushNow(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.flush();
  }

  /** Our clients' transactions go whole to every peer; a peer's are announced to the others. */
  private flushQueue(): void {
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    const ours: SignedTx[] = [];
    const relayed = new Map<string, string[]>();
    for (const { hash, origin } of queue) {
      if (origin === undefined) {
        const entry = this.node.mempool.get(hash);
        if (entry) ours.push(entry.tx);
      } else if (this.node.mempool.has(hash)) {
        const list = relayed.get(origin) ?? [];
        list.push(hash);
        relayed.set(origin, list);
      }
    }
    for (const batch of this.batches(ours)) this.link.broadcast(Channel.tx, batch);
    const now = this.now();
    for (const [origin, hashes] of relayed) {
      for (const peer of this.link.connectedPeers()) if (peer !== origin) this.offer(peer, hashes, now);
      for (let i = 0; i < hashes.length; i += MAX_GOSSIP_HASHES) this.link.broadcast(Channel.tx, { have: hashes.slice(i, i + MAX_GOSSIP_HASHES) }, origin);
    }
  }

  /** Transactions as batches within half a payload, spliced from each one's cached encoding (codec/tx.ts), not stringified again. */
  private *batches(txs: readonly SignedTx[]): Generator<RawJson> {
    const budget = Math.floor(this.maxPayloadBytes / 2);
    let batch: string[] = [];
    let bytes = 0;
    for (const tx of txs) {
      const json = signedTxJson(tx);
      if (batch.length > 0 && (bytes + json.length > budget || batch.length >= MAX_GOSSIP_BATCH)) {
        yield new RawJson(`[${batch.join(',')}]`);
        batch = [];
        bytes = 0;
      }
      batch.push(json);
      bytes += json.length;
    }
    if (batch.length > 0) yield new RawJson(`[${batch.join(',')}]`);
  }

  receive(peer: string, _channel: ChannelId, value: unknown): void {
    if (Array.isArray(value)) return this.receiveBatch(peer, value);
    const message = announcement(value);
    if (message === undefined) return this.link.penalize(peer, 'transaction gossip is not a batch, an announcement or a request');
    if ('have' in message) this.announced(peer, message.have);
    else this.requested(peer, message.want);
  }

  private receiveBatch(peer: string, value: unknown[]): void {
    if (value.length > MAX_GOSSIP_BATCH) return this.link.penalize(peer, 'transaction gossip batch is too long');
    const fresh = this.withoutPendingCopies(value);
    if (fresh.length === 0) return;
    void this.node.submitTxs(fresh, peer).then((results) => {
      const fault = results.find((r) => 'error' in r && PEER_FAULT_TX_CODES.has(r.error.code));
      if (fault && 'error' in fault) return this.link.penalize(peer, `invalid transaction: ${fault.error.code}`);
      const unauthorised = results.filter((r) => 'error' in r && UNAUTHORISED_SENDER_CODES.has(r.error.code)).length;
      if (unauthorised > 0 && this.overAllowance(peer, unauthorised)) this.link.penalize(peer, 'relays transactions of senders who may not transact');
    });
  }

  /** A peer has these transactions: ask it for the ones this node lacks and has not asked anyone for. */
  private announced(peer: string, hashes: readonly string[]): void {
    const now = this.now();
    for (const hash of hashes) {
      if (this.node.hasTx(hash)) continue;
      const asked = this.wanted.get(hash);
      if (asked !== undefined) {
        if (asked.others.length < MAX_ANNOUNCERS && !asked.others.includes(peer)) asked.others.push(peer);
        continue;
      }
      if (this.wanted.size >= MAX_WANTED) break;
      this.wanted.set(hash, { at: now, others: [] });
      const list = this.toAsk.get(peer) ?? [];
      list.push(hash);
      this.toAsk.set(peer, list);
    }
    if (this.toAsk.size > 0) this.askTimer ??= setTimeout(() => this.ask(), WANT_DELAY_MS);
  }

  /**
   * Asks each announcer for the hashes it announced that are still missing. The request waits
   * WANT_DELAY_MS: in a mesh the origin's own copy usually follows its relay's announcement within
   * milliseconds (it may have queued behind a proposal), and asking at once fetched a third of the
   * transactions twice on 4 validators (2026-12-02: 0.04–0.34 requests per transaction per node).
   */
  private ask(): void {
    this.askTimer = undefined;
    const toAsk = this.toAsk;
    this.toAsk = new Map();
    for (const [peer, hashes] of toAsk) {
      const want = hashes.filter((hash) => this.wanted.has(hash) && !this.node.hasTx(hash));
      if (want.length === 0) continue;
      this.node.metrics.gossipWanted.inc(want.length);
      this.link.send(peer, Channel.tx, { want });
    }
  }

  private offer(peer: string, hashes: readonly string[], now: number): void {
    let offers = this.offered.get(peer);
    if (offers === undefined) this.offered.set(peer, (offers = new Map()));
    for (const hash of hashes) {
      offers.delete(hash); // re-inserted last: the map stays in the order of the offers' times
      offers.set(hash, now);
      if (offers.size > MAX_OFFERED) offers.delete(offers.keys().next().value!);
    }
  }

  /**
   * A peer asks for transactions announced to it: each goes to it whole once, if still pending (the
   * rest were committed or dropped since); what was not offered to it, or was sent already, is ignored.
   */
  private requested(peer: string, hashes: readonly string[]): void {
    const offers = this.offered.get(peer);
    if (offers === undefined) return;
    const txs: SignedTx[] = [];
    for (const hash of hashes) {
      if (!offers.delete(hash)) continue;
      const entry = this.node.mempool.get(hash);
      if (entry) txs.push(entry.tx);
    }
    for (const batch of this.batches(txs)) this.link.send(peer, Channel.tx, batch);
  }

  peerGone(peer: string): void {
    this.offered.delete(peer);
    this.toAsk.delete(peer);
  }

  /** Offers older than OFFER_TTL_MS are forgotten (Maps iterate in insertion order, so the oldest come first). */
  private forgetOldOffers(now: number): void {
    for (const offers of this.offered.values()) {
      for (const [hash, at] of offers) {
        if (now - at < OFFER_TTL_MS) break;
        offers.delete(hash);
      }
    }
  }

  /** Hashes asked for without an answer in time are asked of the next peer that announced them, or forgotten. */
  private askAgain(): void {
    const now = this.now();
    this.forgetOldOffers(now);
    const byPeer = new Map<string, string[]>();
    for (const [hash, asked] of this.wanted) {
      if (now - asked.at < WANT_TIMEOUT_MS) continue;
      const next = asked.others.shift();
      if (next === undefined || this.node.hasTx(hash)) {
        this.wanted.delete(hash);
        continue;
      }
      asked.at = now;
      this.node.metrics.gossipWanted.inc();
      const list = byPeer.get(next) ?? [];
      list.push(hash);
      byPeer.set(next, list);
    }
    for (const [peer, want] of byPeer) {
      for (let i = 0; i < want.length; i += MAX_GOSSIP_HASHES) this.link.send(peer, Channel.tx, { want: want.slice(i, i + MAX_GOSSIP_HASHES) });
    }
  }

  /** Hashes asked for and not yet received (for tests and metrics). */
  get wantedCount(): number {
    return this.wanted.size;
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
