import { randomInt } from 'node:crypto';
import type { MessagingNode, StoredMessage } from '../../messaging/index.js';
import { toWire } from '../../messaging/index.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import { TokenBucket } from '../../p2p/index.js';
import { LedgerError } from '../../util/errors.js';
import type { Reactor, ReactorLink } from './wire.js';

/**
 * Encrypted messages on the wire (one envelope per frame). A received envelope goes through the
 * messaging node's checks; an accepted one is relayed after a random delay, so the order in which
 * peers forward it says little about where it started. A message from a local client first goes
 * to one random peer only (a "stem"), which floods it to all others; the origin floods it too after
 * a longer fallback delay, in case the stem peer sat on it. Neither says who wrote it: envelopes
 * name no one.
 *
 * Defences, per peer: a token bucket in messages and bytes (beyond it, messages are dropped and
 * counted; more than `overLimitAllowance` drops in a minute penalise the peer); a message no honest
 * peer relays (malformed, too large, TTL out of bounds, bad stamp, bad broadcast signature)
 * penalises at once, because honest peers check before relaying; expired or future messages can
 * come from an honest peer whose clock is off or from a message that expired in flight, so they
 * are tolerated up to `timingAllowance` a minute. Penalising bans the peer (the switch disconnects
 * it), which ends a flood.
 */

/** Refusals that prove the relaying peer broken or hostile. */
const PEER_FAULT_CODES = new Set(['MSG_MALFORMED', 'MSG_TOO_LARGE', 'MSG_TTL_INVALID', 'MSG_BAD_STAMP', 'MSG_BAD_SIGNATURE']);
const TIMING_CODES = new Set(['MSG_EXPIRED', 'MSG_FROM_FUTURE']);
const WINDOW_MS = 60_000;

export interface MessagingReactorOptions {
  /** Random relay delay bounds (ms). */
  relayDelayMs: { min: number; max: number };
  /** The origin's flood to all peers after the stem, in ms after acceptance. */
  fallbackDelayMs: number;
  messagesPerSec: number;
  messagesBurst: number;
  bytesPerSec: number;
  bytesBurst: number;
  /** Rate-limited drops tolerated per peer and minute. */
  overLimitAllowance: number;
  /** Expired / future messages tolerated per peer and minute. */
  timingAllowance: number;
  /** Relays waiting for their delay; beyond this, messages are relayed at once (memory stays bounded). */
  maxPendingRelays: number;
  now: () => number;
  /** Uniform random integer in [min, max]. */
  random: (min: number, max: number) => number;
}

export const DEFAULT_MESSAGING_REACTOR: MessagingReactorOptions = {
  relayDelayMs: { min: 100, max: 1000 },
  fallbackDelayMs: 3000,
  messagesPerSec: 200,
  messagesBurst: 1000,
  bytesPerSec: 4 * 1024 * 1024,
  bytesBurst: 16 * 1024 * 1024,
  overLimitAllowance: 1000,
  timingAllowance: 50,
  maxPendingRelays: 20_000,
  now: Date.now,
  random: (min, max) => randomInt(min, max + 1),
};

interface PeerState {
  messages: TokenBucket;
  bytes: TokenBucket;
  windowStart: number;
  overLimit: number;
  timing: number;
}

export class MessagingReactor implements Reactor {
  readonly channels: readonly ChannelId[] = [Channel.message];
  readonly options: MessagingReactorOptions;
  readonly #peers = new Map<string, PeerState>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #unsubscribe: () => void;
  readonly stats = { received: 0, rateLimited: 0, relayed: 0, penalties: 0 };

  constructor(
    private readonly link: ReactorLink,
    readonly messaging: MessagingNode,
    options: Partial<MessagingReactorOptions> = {},
  ) {
    this.options = { ...DEFAULT_MESSAGING_REACTOR, ...options };
    this.#unsubscribe = messaging.onAccepted((entry, origin) => this.#scheduleRelay(entry, origin));
  }

  get pendingRelays(): number {
    return this.#timers.size;
  }

  get trackedPeers(): number {
    return this.#peers.size;
  }

  receive(peer: string, _channel: ChannelId, value: unknown, bytes: number): void {
    this.stats.received++;
    const state = this.#state(peer);
    if (!state.messages.take(1) || !state.bytes.take(bytes)) {
      this.stats.rateLimited++;
      if (++state.overLimit > this.options.overLimitAllowance) this.#penalize(peer, 'floods the message channel beyond its rate limit');
      return;
    }
    try {
      this.messaging.submit(value, peer);
    } catch (err) {
      const code = err instanceof LedgerError ? err.code : 'INTERNAL';
      if (PEER_FAULT_CODES.has(code)) return this.#penalize(peer, `relayed an invalid message: ${code}`);
      if (TIMING_CODES.has(code) && ++state.timing > this.options.timingAllowance) this.#penalize(peer, `relays expired or future messages: ${code}`);
    }
  }

  peerGone(peer: string): void {
    this.#peers.delete(peer);
  }

  stop(): void {
    this.#unsubscribe();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #penalize(peer: string, reason: string): void {
    this.stats.penalties++;
    // The peer's buckets are kept until it is gone (peerGone): a penalty must not refill them.
    this.link.penalize(peer, reason);
  }

  #state(peer: string): PeerState {
    const now = this.options.now();
    let state = this.#peers.get(peer);
    if (!state) {
      const o = this.options;
      state = { messages: new TokenBucket(o.messagesPerSec, o.messagesBurst, o.now), bytes: new TokenBucket(o.bytesPerSec, o.bytesBurst, o.now), windowStart: now, overLimit: 0, timing: 0 };
      this.#peers.set(peer, state);
    } else if (now - state.windowStart >= WINDOW_MS) {
      state.windowStart = now;
      state.overLimit = 0;
      state.timing = 0;
    }
    return state;
  }

  #scheduleRelay(entry: StoredMessage, origin: string | undefined): void {
    const { min, max } = this.options.relayDelayMs;
    if (origin === undefined) {
      const peers = this.link.connectedPeers();
      const stem = peers.length > 0 ? peers[this.options.random(0, peers.length - 1)] : undefined;
      this.#later(this.options.random(min, max), () => stem !== undefined && this.#relay(entry, (wire) => this.link.send(stem, Channel.message, wire)));
      this.#later(this.options.fallbackDelayMs + this.options.random(min, max), () => this.#relay(entry, (wire) => this.link.broadcast(Channel.message, wire, stem)));
      return;
    }
    this.#later(this.options.random(min, max), () => this.#relay(entry, (wire) => this.link.broadcast(Channel.message, wire, origin)));
  }

  /** Sends a message that is still stored (not expired or evicted meanwhile). */
  #relay(entry: StoredMessage, send: (wire: unknown) => void): void {
    if (this.messaging.pool.get(entry.hash) !== entry || entry.envelope.expiresAt <= this.messaging.nowSeconds()) return;
    this.stats.relayed++;
    send(toWire(entry.envelope));
  }

  #later(delayMs: number, run: () => void): void {
    if (this.#timers.size >= this.options.maxPendingRelays) return run();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, delayMs);
    this.#timers.add(timer);
  }
}
