import type { SignedTx } from '../codec/tx.js';
import { TX_ERRORS } from '../codec/errors.js';

/**
 * Transactions waiting for a block. Bounded by count and bytes; ordered per sender by nonce; senders
 * are served round-robin in order of arrival so one busy sender cannot starve the others.
 * After every block, `recheck` drops what became invalid (used nonce, expired, sender revoked).
 */

export interface MempoolEntry {
  hash: string;
  tx: SignedTx;
  bytes: number;
}

export interface MempoolOptions {
  maxTxs: number;
  maxBytes: number;
}

export class Mempool {
  private readonly byHash = new Map<string, MempoolEntry>();
  /** By signature (hex): finds a transaction received again (in a proposal) without hashing it. */
  private readonly bySignature = new Map<string, MempoolEntry>();
  /** sender → (nonce → entry); Map keeps senders in arrival order. */
  private readonly bySender = new Map<string, Map<number, MempoolEntry>>();
  private totalBytes = 0;

  constructor(private readonly options: MempoolOptions) {}

  get size(): number {
    return this.byHash.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  get(hash: string): MempoolEntry | undefined {
    return this.byHash.get(hash);
  }

  /** The pending transaction with this signature, if any (the caller still compares the whole transaction). */
  withSignature(signature: string): MempoolEntry | undefined {
    return this.bySignature.get(signature);
  }

  /** The next nonce a sender can use, counting its contiguous pending transactions. */
  nextPendingNonce(sender: string, committedNonce: number): number {
    const queue = this.bySender.get(sender);
    let nonce = committedNonce;
    while (queue?.has(nonce)) nonce += 1;
    return nonce;
  }

  add(entry: MempoolEntry): void {
    if (this.byHash.has(entry.hash)) throw TX_ERRORS.TX_DUPLICATE(`transaction ${entry.hash} is already pending`);
    const { sender, nonce } = entry.tx.body;
    const queue = this.bySender.get(sender);
    if (queue?.has(nonce)) throw TX_ERRORS.TX_NONCE_PENDING(`another pending transaction of ${sender} uses nonce ${nonce}`);
    if (this.byHash.size >= this.options.maxTxs || this.totalBytes + entry.bytes > this.options.maxBytes) {
      throw TX_ERRORS.MEMPOOL_FULL('the node has too many pending transactions; retry later');
    }
    this.byHash.set(entry.hash, entry);
    this.bySignature.set(entry.tx.signature, entry);
    this.totalBytes += entry.bytes;
    if (queue) queue.set(nonce, entry);
    else this.bySender.set(sender, new Map([[nonce, entry]]));
  }

  remove(hash: string): void {
    const entry = this.byHash.get(hash);
    if (!entry) return;
    this.byHash.delete(hash);
    if (this.bySignature.get(entry.tx.signature) === entry) this.bySignature.delete(entry.tx.signature);
    this.totalBytes -= entry.bytes;
    const queue = this.bySender.get(entry.tx.body.sender);
    queue?.delete(entry.tx.body.nonce);
    if (queue && queue.size === 0) this.bySender.delete(entry.tx.body.sender);
  }

  /**
   * Picks transactions for a block: per sender the contiguous run of nonces starting at the sender's
   * next nonce, interleaved round-robin across senders, within the count and byte limits.
   */
  reap(limits: { maxTxs: number; maxBytes: number }, nextNonce: (sender: string) => number): MempoolEntry[] {
    const cursors: Array<{ queue: Map<number, MempoolEntry>; nonce: number }> = [];
    for (const [sender, queue] of this.bySender) cursors.push({ queue, nonce: nextNonce(sender) });
    const picked: MempoolEntry[] = [];
    let bytes = 0;
    let progressed = true;
    while (progressed && picked.length < limits.maxTxs) {
      progressed = false;
      for (const c of cursors) {
        const entry = c.queue.get(c.nonce);
        if (!entry || picked.length >= limits.maxTxs || bytes + entry.bytes > limits.maxBytes) continue;
        picked.push(entry);
        bytes += entry.bytes;
        c.nonce += 1;
        progressed = true;
      }
    }
    return picked;
  }

  /** Drops every entry the predicate refuses; returns the dropped hashes. */
  recheck(keep: (entry: MempoolEntry) => boolean): string[] {
    const dropped: string[] = [];
    for (const entry of [...this.byHash.values()]) {
      if (!keep(entry)) {
        this.remove(entry.hash);
        dropped.push(entry.hash);
      }
    }
    return dropped;
  }
}
