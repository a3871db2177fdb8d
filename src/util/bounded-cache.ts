import { LRUCache } from 'lru-cache';

/**
 * A least-recently-used cache bounded both by entry count and by an estimated size (issue 9: the
 * node's caches were Maps cleared only when huge). Built on lru-cache's size bound only — given
 * `max`, lru-cache preallocates arrays for `max` entries per instance, which a process holding many
 * ledger nodes (tests, the fuzzers) pays for each — and evicts by count itself.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- lru-cache stores any value but null and undefined
export class BoundedCache<V extends {}> {
  private readonly lru: LRUCache<string, V>;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    sizeOf: (value: V, key: string) => number,
  ) {
    this.lru = new LRUCache<string, V>({ maxSize: maxBytes, sizeCalculation: (value, key) => Math.max(1, sizeOf(value, key)) });
  }

  get size(): number {
    return this.lru.size;
  }

  /** Estimated bytes held (the sum of `sizeOf` over the entries). */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  /** The value, marking it most recently used. */
  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  /** Whether the key is cached, without touching its recency. */
  has(key: string): boolean {
    return this.lru.has(key);
  }

  set(key: string, value: V): void {
    this.lru.set(key, value);
    while (this.lru.size > this.maxEntries) this.lru.pop();
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }
}
