import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteArena } from '../../src/util/byte-arena.js';

/**
 * util/byte-arena.ts: views carved out of shared slabs. Each copy must hold exactly its bytes, share
 * no memory with its source or with any other copy, and be counted; a reset starts new slabs without
 * touching what was handed out.
 */
describe('ByteArena', () => {
  it('copies hold their bytes, share no memory with their sources or each other, and are counted', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 200 }), fc.integer({ min: 0, max: 5 }), (sources, resetEvery) => {
        const arena = new ByteArena(1024, 256);
        const copies: Uint8Array[] = [];
        let counted = 0;
        sources.forEach((source, i) => {
          if (resetEvery > 0 && i % resetEvery === 0) {
            arena.reset();
            counted = 0;
          }
          copies.push(arena.copy(source));
          counted += source.byteLength;
          expect(arena.bytesHandedOut()).toBe(counted);
        });
        // overwrite every source and every copy in turn: only the copy written changes
        const expected = sources.map((s) => Uint8Array.from(s));
        for (const s of sources) s.fill(0xee);
        copies.forEach((copy, i) => {
          expect(copy).toEqual(expected[i]);
          copy.fill(0xab);
          expected[i]!.fill(0xab);
        });
        copies.forEach((copy, i) => expect(copy).toEqual(expected[i]));
      }),
      { numRuns: 200 },
    );
  });

  it('small requests share a slab; a large one gets a buffer of its own; a full slab starts a new one', () => {
    const arena = new ByteArena(1000, 100);
    const a = arena.alloc(100);
    const b = arena.alloc(100);
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(1000);
    const large = arena.alloc(101);
    expect(large.buffer.byteLength).toBe(101);
    for (let i = 0; i < 8; i++) arena.alloc(100); // fills the first slab (10 × 100)
    const next = arena.alloc(1);
    expect(next.buffer).not.toBe(a.buffer);
    expect(arena.bytesHandedOut()).toBe(100 + 100 + 101 + 800 + 1);
    arena.reset();
    expect(arena.bytesHandedOut()).toBe(0);
    expect(arena.alloc(1).buffer).not.toBe(next.buffer);
    expect([...arena.alloc(50)]).toEqual(new Array(50).fill(0));
  });

  it('refuses slab sizes that cannot work', () => {
    expect(() => new ByteArena(0)).toThrow(RangeError);
    expect(() => new ByteArena(1.5)).toThrow(RangeError);
    expect(() => new ByteArena(100, 101)).toThrow(RangeError);
    expect(() => new ByteArena(100, -1)).toThrow(RangeError);
  });
});
