import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerBound, partitionPoint, upperBound } from '../../src/util/sorted.js';

/** The searches against a linear scan, on sorted arrays with repeats, for values inside, between and outside them. */
describe('binary searches over sorted arrays (util/sorted)', () => {
  const sortedInts = fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y));
  const sortedStrings = fc.array(fc.string({ maxLength: 4 }), { maxLength: 40 }).map((a) => a.sort());

  it('lowerBound is the first index with an element ≥ the value, upperBound the first with one >', () => {
    fc.assert(
      fc.property(sortedInts, fc.integer({ min: -60, max: 60 }), (sorted, v) => {
        const first = (ok: (x: number) => boolean) => (sorted.findIndex(ok) === -1 ? sorted.length : sorted.findIndex(ok));
        expect(lowerBound(sorted, v)).toBe(first((x) => x >= v));
        expect(upperBound(sorted, v)).toBe(first((x) => x > v));
      }),
    );
    fc.assert(
      fc.property(sortedStrings, fc.string({ maxLength: 4 }), (sorted, v) => {
        expect(lowerBound(sorted, v)).toBe(sorted.filter((x) => x < v).length);
        expect(upperBound(sorted, v)).toBe(sorted.filter((x) => x <= v).length);
      }),
    );
  });

  it('partitionPoint finds the end of the prefix a predicate holds for; empty arrays give 0', () => {
    expect(partitionPoint([1, 3, 5, 7, 9], (x) => x < 6)).toBe(3);
    expect(partitionPoint([], () => true)).toBe(0);
    expect(upperBound(['a', 'b', 'b', 'c'], 'b')).toBe(3);
    expect(lowerBound(['a', 'b', 'b', 'c'], 'b')).toBe(1);
  });
});
