import { LRUCache } from 'lru-cache';

/**
 * Transactions whose signatures this process verified at admission, so executing the block that
 * carries them does not verify them again. Issue 9: this was a Set cleared only at 500,000 keys
 * (~290 B each) and nothing ever left it, so a node's heap grew by every admitted transaction for
 * days. An entry is only useful while its transaction is pending, so it is forgotten when the
 * transaction commits or leaves the mempool, and the cache never holds more than `maxEntries` (the
 * mempool's own bound: least recently admitted go first; a transaction evicted early is simply
 * verified again when its block runs).
 */
export class VerifiedTxs {
  /** tx hash → the verified key (`hash:pubKey:signature`, see verifiedTxKey). */
  private readonly byHash: LRUCache<string, string>;

  constructor(readonly maxEntries: number) {
    // A size bound of one per entry rather than `max`: lru-cache preallocates `max` slots (with the
    // mempool's 50,000 default, ~1.2 MiB per node even when idle).
    this.byHash = new LRUCache<string, string>({ maxSize: maxEntries, sizeCalculation: () => 1 });
  }

  get size(): number {
    return this.byHash.size;
  }

  remember(hash: string, key: string): void {
    this.byHash.set(hash, key);
  }

  /** True for exactly a key that was remembered and not forgotten (body, key and signature). */
  has(key: string): boolean {
    const colon = key.indexOf(':');
    return colon > 0 && this.byHash.peek(key.slice(0, colon)) === key;
  }

  forget(hash: string): void {
    this.byHash.delete(hash);
  }
}
