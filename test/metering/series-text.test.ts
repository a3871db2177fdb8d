import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendSeriesText, SERIES_SLOTS } from '../../src/modules/metering/state.js';
import { canonicalJson } from '../../src/util/canonical.js';

type Entry = [number, number, number];

const wh = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
/** A day row as the metering module stores it: entries by ascending, distinct offset. */
const row = fc
  .uniqueArray(fc.integer({ min: 0, max: SERIES_SLOTS - 1 }), { maxLength: SERIES_SLOTS })
  .chain((offsets) => fc.tuple(...[...offsets].sort((a, b) => a - b).map((o) => fc.tuple(fc.constant(o), wh, wh))))
  .map((entries) => entries as Entry[]);
const entry = fc.tuple(fc.integer({ min: 0, max: SERIES_SLOTS - 1 }), wh, wh) as fc.Arbitrary<Entry>;

describe('a day row appended as text (metering series)', () => {
  it('equals the canonical JSON of the row with the entry last whenever the entry belongs last', () => {
    fc.assert(
      fc.property(row, entry, (entries, e) => {
        const stored = entries.length === 0 ? undefined : canonicalJson({ r: entries });
        const text = appendSeriesText(stored, e);
        const last = entries[entries.length - 1];
        if (last !== undefined && last[0] >= e[0]) {
          expect(text).toBeUndefined();
        } else {
          expect(text).toBe(canonicalJson({ r: [...entries, e] }));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('starts a row from nothing and from a stored empty row', () => {
    expect(appendSeriesText(undefined, [5, 10, 0])).toBe('{"r":[[5,10,0]]}');
    expect(appendSeriesText(canonicalJson({ r: [] }), [0, 1, 2])).toBe('{"r":[[0,1,2]]}');
  });

  it('leaves a late or repeated offset to the general path', () => {
    const stored = canonicalJson({ r: [[3, 1, 1], [10, 2, 2]] });
    expect(appendSeriesText(stored, [10, 5, 5])).toBeUndefined();
    expect(appendSeriesText(stored, [4, 5, 5])).toBeUndefined();
    expect(appendSeriesText(stored, [11, 5, 5])).toBe('{"r":[[3,1,1],[10,2,2],[11,5,5]]}');
  });
});
