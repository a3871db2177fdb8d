import { envelopeBytes, messageHash, type Envelope } from './envelope.js';
import { MSG_ERRORS } from './errors.js';

/**
 * The node's message store: bounded in count and bytes, deduplicated by message hash, and
 * read by cursor (a per-node sequence number in arrival order; clients fetch "since my cursor").
 * When full, the message that expires first is evicted — unless the newcomer itself expires
 * first, which is refused (MSG_STORE_FULL). Expired messages are dropped on every insertion and
 * read. Removals only ever happen through the expiry heap, so the heap never holds stale entries.
 */
export interface PoolLimits {
  maxMessages: number;
  maxBytes: number;
}

export const DEFAULT_POOL_LIMITS: PoolLimits = { maxMessages: 50_000, maxBytes: 256 * 1024 * 1024 };

export interface StoredMessage {
  cursor: number;
  hash: string;
  envelope: Envelope;
  bytes: number;
}

export class MessagePool {
  readonly #byHash = new Map<string, StoredMessage>();
  /** Min-heap by (expiresAt, cursor). */
  readonly #heap: StoredMessage[] = [];
  #bytes = 0;
  #nextCursor = 1;
  #evicted = 0;

  constructor(readonly limits: PoolLimits = DEFAULT_POOL_LIMITS) {}

  get size(): number {
    return this.#byHash.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get evicted(): number {
    return this.#evicted;
  }

  /** The cursor of the newest message (0 when none was ever stored). */
  get head(): number {
    return this.#nextCursor - 1;
  }

  has(hash: string): boolean {
    return this.#byHash.has(hash);
  }

  /** Stores a checked message; false if it was already there. Throws MSG_STORE_FULL (see above). */
  add(envelope: Envelope, nowSeconds: number, hash = messageHash(envelope)): boolean {
    this.dropExpired(nowSeconds);
    if (this.#byHash.has(hash)) return false;
    const bytes = envelopeBytes(envelope);
    while (this.#full(bytes)) {
      const first = this.#heap[0]!;
      if (earlier(envelope.expiresAt, Number.MAX_SAFE_INTEGER, first)) throw MSG_ERRORS.MSG_STORE_FULL('the store is full of messages that expire later than this one');
      this.#pop();
      this.#evicted++;
    }
    const entry: StoredMessage = { cursor: this.#nextCursor++, hash, envelope, bytes };
    this.#byHash.set(hash, entry);
    this.#bytes += bytes;
    this.#push(entry);
    return true;
  }

  /** Messages with a cursor above `after`, oldest first, at most `limit`. */
  since(after: number, limit: number, nowSeconds: number): StoredMessage[] {
    this.dropExpired(nowSeconds);
    const out: StoredMessage[] = [];
    // Map iteration follows insertion order, which is cursor order.
    for (const entry of this.#byHash.values()) {
      if (entry.cursor <= after) continue;
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  get(hash: string): StoredMessage | undefined {
    return this.#byHash.get(hash);
  }

  dropExpired(nowSeconds: number): void {
    while (this.#heap.length > 0 && this.#heap[0]!.envelope.expiresAt <= nowSeconds) this.#pop();
  }

  #full(incoming: number): boolean {
    return this.#byHash.size > 0 && (this.#byHash.size + 1 > this.limits.maxMessages || this.#bytes + incoming > this.limits.maxBytes);
  }

  #pop(): void {
    const top = this.#heap[0]!;
    const last = this.#heap.pop()!;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#siftDown(0);
    }
    this.#byHash.delete(top.hash);
    this.#bytes -= top.bytes;
  }

  #push(entry: StoredMessage): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!.envelope.expiresAt, heap[i]!.cursor, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      let smallest = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < heap.length && earlier(heap[child]!.envelope.expiresAt, heap[child]!.cursor, heap[smallest]!)) smallest = child;
      }
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

/** Order of the heap: earlier expiry first, then earlier arrival. */
function earlier(expiresAt: number, cursor: number, than: StoredMessage): boolean {
  return expiresAt < than.envelope.expiresAt || (expiresAt === than.envelope.expiresAt && cursor < than.cursor);
}
