import type { KVStore, ScanOptions } from '../../src/app/state.js';

/**
 * A view of `base` that counts what is read: rows (a scanned row, a point read or a `has` each) and
 * scans, in all or by area (the first two key segments, e.g. "market/contract"). Writes go to `base`.
 */
export function countingStore(base: KVStore) {
  const rows = new Map<string, number>();
  const scans = new Map<string, number>();
  let total = 0;
  const area = (key: string) => key.split('/', 2).join('/');
  const add = (counts: Map<string, number>, key: string, n: number) => counts.set(area(key), (counts.get(area(key)) ?? 0) + n);
  const row = (key: string, n: number) => {
    add(rows, key, n);
    total += n;
  };
  const store = Object.create(base, {
    scan: {
      value: <T>(prefix: string, options?: ScanOptions) => {
        const found = base.scan<T>(prefix, options);
        row(prefix, found.length);
        add(scans, prefix, 1);
        return found;
      },
    },
    get: { value: <T>(key: string) => (row(key, 1), base.get<T>(key)) },
    has: { value: (key: string) => (row(key, 1), base.has(key)) },
  }) as KVStore;
  return {
    store,
    /** Rows read, in all or of one area. */
    rows: (inArea?: string) => (inArea === undefined ? total : (rows.get(inArea) ?? 0)),
    scans: (inArea: string) => scans.get(inArea) ?? 0,
    reset: () => {
      rows.clear();
      scans.clear();
      total = 0;
    },
  };
}
