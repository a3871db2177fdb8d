import { channelPriority } from './channels.js';

export interface QueuedMessage {
  channel: number;
  payload: Uint8Array;
}

export interface EnqueueResult {
  /** False when the new message itself was dropped. */
  accepted: boolean;
  /** Messages dropped to make room (evicted queued ones, plus the new one if not accepted). */
  dropped: number;
}

/**
 * Bounded FIFO of messages waiting for one peer's socket, limited by count and by payload bytes.
 *
 * Overflow policy: while the queue is full, evict the OLDEST message of the LOWEST priority present
 * (see channelPriority: tx < sync < block/evidence < proposal/vote), provided that priority is not
 * higher than the new message's; otherwise the new message is dropped. So a flood of transactions can
 * never push out a vote, and a stuck peer costs at most the configured memory. The caller counts
 * the drops. FIFO order is kept for everything that stays.
 */
export class OutboundQueue {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #items: QueuedMessage[] = [];
  #bytes = 0;

  constructor(maxMessages: number, maxBytes: number) {
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  get length(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  enqueue(message: QueuedMessage): EnqueueResult {
    const size = message.payload.length;
    if (size > this.#maxBytes) return { accepted: false, dropped: 1 };
    const priority = channelPriority(message.channel);
    if (!this.#fits(size) && !this.#canMakeRoom(size, priority)) return { accepted: false, dropped: 1 };
    let dropped = 0;
    while (!this.#fits(size)) {
      this.#removeAt(this.#lowestPriorityIndex());
      dropped++;
    }
    this.#items.push(message);
    this.#bytes += size;
    return { accepted: true, dropped };
  }

  shift(): QueuedMessage | undefined {
    const item = this.#items.shift();
    if (item) this.#bytes -= item.payload.length;
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#bytes = 0;
  }

  #fits(size: number): boolean {
    return this.#items.length < this.#maxMessages && this.#bytes + size <= this.#maxBytes;
  }

  /** Whether evicting every queued message of priority <= `priority` would free enough room. */
  #canMakeRoom(size: number, priority: number): boolean {
    let count = this.#items.length;
    let bytes = this.#bytes;
    for (const item of this.#items) {
      if (channelPriority(item.channel) <= priority) {
        count--;
        bytes -= item.payload.length;
      }
    }
    return count < this.#maxMessages && bytes + size <= this.#maxBytes;
  }

  /** Index of the oldest message with the lowest priority, or -1 when empty. */
  #lowestPriorityIndex(): number {
    let best = -1;
    let bestPriority = Infinity;
    for (let i = 0; i < this.#items.length; i++) {
      const p = channelPriority(this.#items[i]!.channel);
      if (p < bestPriority) {
        best = i;
        bestPriority = p;
        if (p === 0) break;
      }
    }
    return best;
  }

  #removeAt(index: number): void {
    const [removed] = this.#items.splice(index, 1);
    if (removed) this.#bytes -= removed.payload.length;
  }
}
