import { LRUCache } from 'lru-cache';
import { sameSignature, type TxSignature, type VerifiedSignatures } from '../app/host.js';

/**
 * Transactions whose signatures this process verified at admission, so executing the block that
 * carries them does not verify them again. Issue 9: this was a Set cleared only at 500,000 keys
 * (~290 B each) and nothing ever left it, so a node's heap grew by every admitted transaction for
 * days. An entry is only useful while its transaction is pending, so it is forgotten when the
 * transaction commits or leaves the mempool, and the cache never holds more than `maxEntries` (the
 * mempool's own bound: least recently admitted go first; a transaction evicted early is simply
 * verified again when its block runs).
 */
export class VerifiedTxs implements VerifiedSignatures {
  /**
   * tx hash → the key and signature verified with it. (The entry was a `hash:pubKey:signature` string,
   * built and hashed for every look-up — several times per transaction at admission and once in its
   * block; compared field by field, the strings from the transaction are used as they are.)
   */
  private readonly byHash: LRUCache<string, TxSignature>;

  constructor(readonly maxEntries: number) {
    // A size bound of one per entry rather than `max`: lru-cache preallocates `max` slots (with the
    // mempool's 50,000 default, ~1.2 MiB per node even when idle).
    this.byHash = new LRUCache<string, TxSignature>({ maxSize: maxEntries, sizeCalculation: () => 1 });
  }

  get size(): number {
    return this.byHash.size;
  }

  remember(hash: string, tx: TxSignature): void {
    this.byHash.set(hash, { pubKey: tx.pubKey, signature: tx.signature });
  }

  /** True for exactly a transaction that was remembered and not forgotten (body by its hash, key and signature). */
  has(hash: string, tx: TxSignature): boolean {
    const v = this.byHash.peek(hash);
    return v !== undefined && sameSignature(v, tx);
  }

  forget(hash: string): void {
    this.byHash.delete(hash);
  }
}
