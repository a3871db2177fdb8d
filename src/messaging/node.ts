import { LedgerError } from '../util/errors.js';
import { checkEnvelope } from './check.js';
import { fromWire, messageHash, toWire, type Envelope, type WireEnvelope } from './envelope.js';
import { DEFAULT_MESSAGING_PARAMS, type MessagingParams } from './params.js';
import { DEFAULT_POOL_LIMITS, MessagePool, type PoolLimits, type StoredMessage } from './pool.js';

/**
 * A node's messaging service, shared by the API (local clients) and the P2P relay: parse, drop
 * duplicates, check (TTL, expiry, skew, stamp, broadcast signature), store, announce for relay.
 * It keeps no consensus state and never tries to open a message: it cannot tell who reads what.
 */
export interface MessagingNodeOptions {
  params?: MessagingParams;
  limits?: PoolLimits;
  /** Clock in milliseconds (messages carry unix seconds). */
  now?: () => number;
}

export type AcceptedHandler = (entry: StoredMessage, origin: string | undefined) => void;

export interface SubmitResult {
  hash: string;
  /** False for a message the node already had. */
  added: boolean;
}

export class MessagingNode {
  readonly params: MessagingParams;
  readonly pool: MessagePool;
  readonly #now: () => number;
  readonly #accepted = new Set<AcceptedHandler>();
  readonly counters = { accepted: 0, duplicates: 0, rejected: {} as Record<string, number> };

  constructor(options: MessagingNodeOptions = {}) {
    this.params = options.params ?? DEFAULT_MESSAGING_PARAMS;
    this.pool = new MessagePool(options.limits ?? DEFAULT_POOL_LIMITS);
    this.#now = options.now ?? Date.now;
  }

  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  onAccepted(handler: AcceptedHandler): () => void {
    this.#accepted.add(handler);
    return () => this.#accepted.delete(handler);
  }

  /** Takes a wire envelope from a local client (origin undefined) or a peer. Throws MSG_* codes. */
  submit(wire: unknown, origin?: string): SubmitResult {
    try {
      return this.#submit(fromWire(wire, this.params), origin);
    } catch (err) {
      if (err instanceof LedgerError) this.counters.rejected[err.code] = (this.counters.rejected[err.code] ?? 0) + 1;
      throw err;
    }
  }

  #submit(env: Envelope, origin: string | undefined): SubmitResult {
    const hash = messageHash(env);
    // A stored message was checked already (same content digest): a duplicate costs one hash.
    if (this.pool.has(hash)) {
      this.counters.duplicates++;
      return { hash, added: false };
    }
    const now = this.nowSeconds();
    checkEnvelope(env, now, this.params);
    this.pool.add(env, now, hash);
    this.counters.accepted++;
    const entry = this.pool.get(hash)!;
    for (const handler of this.#accepted) handler(entry, origin);
    return { hash, added: true };
  }

  /** Messages after a cursor, as clients fetch them for trial decryption. */
  list(after: number, limit: number): { messages: Array<{ cursor: number; hash: string; envelope: WireEnvelope }>; head: number } {
    const entries = this.pool.since(after, limit, this.nowSeconds());
    return { messages: entries.map((e) => ({ cursor: e.cursor, hash: e.hash, envelope: toWire(e.envelope) })), head: this.pool.head };
  }
}
