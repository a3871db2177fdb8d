/**
 * Small byte strings carved out of shared slabs: allocating an ArrayBuffer of its own costs 1–3 µs
 * (off-heap) against ~30 ns for a view into a slab, and the state tree handles thousands of rows per
 * block. A slab lives while any view into it does, so an arena suits bytes that die together: a
 * block's encoded rows (smt.ts), or the rows a storage holds until its next batch write (store/
 * sqlite.ts, which copies them here so that they stop pinning the slabs of the blocks that made them).
 *
 * Pure (no Buffer, no node:), so the light client can use it in a browser.
 */
export class ByteArena {
  private slab: Uint8Array;
  private used = 0;
  /** Bytes handed out since the arena began or was last reset. */
  private handedOut = 0;

  constructor(
    /** Bytes per slab. */
    readonly slabBytes: number,
    /** Larger requests get a buffer of their own rather than wasting the rest of a slab. */
    readonly largestInSlab: number = Math.floor(slabBytes / 32),
  ) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes <= 0) throw new RangeError(`byte arena: slab size must be a positive integer, got ${slabBytes}`);
    if (!Number.isSafeInteger(largestInSlab) || largestInSlab < 0 || largestInSlab > slabBytes) {
      throw new RangeError(`byte arena: largest size in a slab must be an integer from 0 to ${slabBytes}, got ${largestInSlab}`);
    }
    this.slab = new Uint8Array(0);
  }

  /** A zero-filled view of `size` bytes. */
  alloc(size: number): Uint8Array {
    this.handedOut += size;
    if (size > this.largestInSlab) return new Uint8Array(size);
    if (this.used + size > this.slab.byteLength) {
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  }

  /** A copy of `bytes` that shares no memory with them. */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.alloc(bytes.byteLength);
    out.set(bytes);
    return out;
  }

  /**
   * Bytes handed out since the arena began or was last reset, whether or not their views are still
   * used: with at most one slab more, what those views keep alive.
   */
  bytesHandedOut(): number {
    return this.handedOut;
  }

  /**
   * Later views come from new slabs; the views handed out so far stay valid (their slabs live on
   * while anything refers to them).
   */
  reset(): void {
    this.slab = new Uint8Array(0);
    this.used = 0;
    this.handedOut = 0;
  }
}
