import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collection, keyOf } from '../../src/app/collections.js';
import { Overlay, ReadOnlyStore, type ScanOptions } from '../../src/app/state.js';
import { Storage } from '../../src/store/sqlite.js';

/** A collection of `{ n }` records keyed by n, and the same store behind a scan counter (rows read since `reset`). */
function countedCollection(numbers: number[], prefix: string) {
  const store = new Overlay(new Storage(':memory:'));
  const items = collection<{ n: number }>(prefix);
  for (const n of numbers) items.put(store, { n }, n);
  let rowsRead = 0;
  const counting = Object.create(store, {
    scan: { value: <T>(p: string, options?: ScanOptions) => (rows => ((rowsRead += rows.length), rows))(store.scan<T>(p, options)) },
  }) as Overlay;
  return { store, items, counting, rowsRead: () => rowsRead, reset: () => (rowsRead = 0) };
}

describe('typed collections', () => {
  it('pads numbers in keys so key order is numeric order', () => {
    expect(keyOf(['m1', 7])).toBe('m1/0000000000000007');
    const store = new Overlay(new Storage(':memory:'));
    const readings = collection<{ slot: number }>('metering/reading/');
    for (const slot of [10, 9, 100, 2]) readings.put(store, { slot }, 'm1', slot);
    readings.put(store, { slot: 5 }, 'm2', 5);
    expect(readings.list(store, ['m1']).map((r) => r.slot)).toEqual([2, 9, 10, 100]);
    expect(readings.list(store, ['m1'], { from: 9, to: 100 }).map((r) => r.slot)).toEqual([9, 10]);
    expect(readings.list(store, ['m1'], { reverse: true, limit: 1 }).map((r) => r.slot)).toEqual([100]);
    expect(readings.get(store, 'm2', 5)).toEqual({ slot: 5 });
    readings.delete(store, 'm2', 5);
    expect(readings.has(store, 'm2', 5)).toBe(false);
  });

  it('pages with a cursor: every record once, in order, and the last page has no cursor', () => {
    const backing = new Storage(':memory:');
    const store = new Overlay(backing);
    const meters = collection<{ id: string }>('metering/meter/');
    const ids = Array.from({ length: 23 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    for (const id of [...ids].reverse()) meters.put(store, { id }, id);
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = meters.page(new ReadOnlyStore(store), { after, limit: 5 });
      seen.push(...page.items.map((m) => m.id));
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(seen).toEqual(ids);
    expect(meters.page(store, { limit: 23 }).next).toBeUndefined();
    expect(meters.page(store, { limit: 22 }).next).toBe('m21');
  });

  it('firstMatching gives what filtering the whole list would, in either order, reading no more than it needs', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (numbers, modulus, limit, chunk, reverse) => {
          const { store, items, counting, rowsRead } = countedCollection(numbers, 'flex/event/');
          const keep = (x: { n: number }) => x.n % modulus === 0;
          const expected = items.list(store, [], { reverse }).filter(keep).slice(0, limit);
          expect(items.firstMatching(counting, keep, { limit, reverse, chunk })).toEqual(expected);
          // it stops within a chunk of the last record it keeps (or reads everything when short)
          const all = items.list(store, [], { reverse }).map((x) => x.n);
          const lastKept = expected.length === limit ? all.indexOf(expected[limit - 1]!.n) + 1 : all.length;
          expect(rowsRead()).toBeLessThanOrEqual(lastKept + chunk);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matchingPage pages through exactly the filtered list, each page read only to one match beyond it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 9 }),
        (numbers, modulus, limit) => {
          const { store, items } = countedCollection(numbers, 'registry/account/');
          const keep = (x: { n: number }) => x.n % modulus === 0;
          const expected = items.list(store).filter(keep);
          const pages: Array<{ n: number }[]> = [];
          let after: string | undefined;
          do {
            const page = items.matchingPage(store, keep, { ...(after !== undefined ? { after } : {}), limit });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            // a page with a continuation is full, and the continuation is its last record's id
            if (page.next !== undefined) {
              expect(page.items).toHaveLength(limit);
              expect(page.next).toBe(items.key(page.items[limit - 1]!.n).slice(items.prefix.length));
            }
            pages.push(page.items);
            after = page.next;
          } while (after !== undefined);
          expect(pages.flat()).toEqual(expected);
          // no empty page after a full one: `next` is given only when another match exists
          expect(pages.slice(1).every((p) => p.length > 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matchingPage with maxRows reads at most that many rows a page and still pages through exactly the filtered list, in either order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        (numbers, modulus, limit, maxRows, reverse) => {
          const { store, items, counting, rowsRead, reset } = countedCollection(numbers, 'registry/account/');
          const keep = (x: { n: number }) => x.n % modulus === 0;
          const paged: Array<{ n: number }> = [];
          let after: string | undefined;
          let requests = 0;
          do {
            reset();
            const page = items.matchingPage(counting, keep, { ...(after !== undefined ? { after } : {}), limit, maxRows, reverse });
            expect(rowsRead()).toBeLessThanOrEqual(maxRows);
            expect(page.items.length).toBeLessThanOrEqual(limit);
            paged.push(...page.items);
            after = page.next;
            requests++;
          } while (after !== undefined && requests <= numbers.length + 1);
          expect(after).toBeUndefined();
          expect(paged).toEqual(items.list(store, [], { reverse }).filter(keep));
        },
      ),
      { numRuns: 300 },
    );
  });
});
