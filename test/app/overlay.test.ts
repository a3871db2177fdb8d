import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Overlay, type ScanOptions, type StateReader } from '../../src/app/state.js';
import { Storage } from '../../src/store/sqlite.js';

/** Reference model: a plain sorted map scan. */
function modelScan(map: Map<string, string>, prefix: string, o: ScanOptions): Array<[string, string]> {
  let rows = [...map.entries()].filter(([k]) => k.startsWith(prefix) && (o.start === undefined || k >= o.start) && (o.end === undefined || k < o.end));
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (o.reverse) rows = rows.reverse();
  return o.limit === undefined ? rows : rows.slice(0, o.limit);
}

const key = fc.constantFrom('a/1', 'a/2', 'a/10', 'a/3', 'ab/1', 'b/1', 'b/2', 'a/', 'c');
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('del' as const), key }),
);
const scan = fc.record({
  prefix: fc.constantFrom('', 'a', 'a/', 'ab', 'b/', 'z'),
  start: fc.option(key, { nil: undefined }),
  end: fc.option(key, { nil: undefined }),
  limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  reverse: fc.boolean(),
});

describe('range scans of SQLite storage', () => {
  it('give the same rows for every limit, written into the statement or (past the statements kept) bound', () => {
    const storage = new Storage(':memory:');
    const base = new Overlay(storage);
    const model = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      base.set(`m/${String(i).padStart(3, '0')}`, i);
      model.set(`m/${String(i).padStart(3, '0')}`, String(i));
    }
    storage.commitBlock({ block: { header: { height: 1 }, txs: [], lastCommit: null, evidence: [] } as never, hash: 'h1', results: [], txHashes: [], commit: { height: 1, round: 0, blockHash: 'h1', signatures: [] }, writes: base.writes, stateTree: { root: new Uint8Array([0]), rows: new Map() } });
    // 2 orders × 41 limits: more distinct queries than the statements kept per connection.
    for (let round = 0; round < 2; round++) {
      for (const reverse of [false, true]) {
        for (let limit = 0; limit <= 40; limit++) {
          for (const o of [{ limit, reverse }, { limit, reverse, start: 'm/010', end: 'm/030' }] as ScanOptions[]) expect(storage.scanRaw('m/', o)).toEqual(modelScan(model, 'm/', o));
        }
        expect(storage.scanRaw('m/', { reverse })).toEqual(modelScan(model, 'm/', { reverse }));
      }
    }
    storage.close();
  });
});

describe('Overlay over SQLite storage', () => {
  it('reads and range-scans exactly like a merged map, through two overlay levels', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.array(op, { maxLength: 12 }), fc.array(op, { maxLength: 8 }), scan, (committedOps, blockOps, txOps, s) => {
        const storage = new Storage(':memory:');
        const model = new Map<string, string>();
        const base = new Overlay(storage);
        for (const o of committedOps) {
          if (o.kind === 'set') base.set(o.key, o.value);
          else base.delete(o.key);
        }
        storage.commitBlock({ block: { header: { height: 1 }, txs: [], lastCommit: null, evidence: [] } as never, hash: 'h1', results: [], txHashes: [], commit: { height: 1, round: 0, blockHash: 'h1', signatures: [] }, writes: base.writes, stateTree: { root: new Uint8Array([0]), rows: new Map() } });
        for (const [k, v] of base.writes) if (v !== null) model.set(k, v);
        const block = new Overlay(storage as StateReader);
        const tx = new Overlay(block);
        for (const [layer, ops] of [[block, blockOps], [tx, txOps]] as const) {
          for (const o of ops) {
            if (o.kind === 'set') {
              layer.set(o.key, o.value);
              model.set(o.key, JSON.stringify(o.value));
            } else {
              layer.delete(o.key);
              model.delete(o.key);
            }
          }
        }
        const options: ScanOptions = { start: s.start, end: s.end, limit: s.limit, reverse: s.reverse };
        expect(tx.scanRaw(s.prefix, options)).toEqual(modelScan(model, s.prefix, options));
        for (const k of ['a/1', 'a/10', 'b/2', 'c']) expect(tx.getRaw(k)).toBe(model.get(k));
        storage.close();
      }),
      { numRuns: 300 },
    );
  });

  it('scans like the merged map at any point, whether few or many keys were written since the last scan', () => {
    // Keys from a larger space, so more than a handful can be new between two scans (the merge path).
    const wideKey = fc.oneof(fc.integer({ min: 0, max: 300 }).map((n) => `k/${n}`), fc.integer({ min: 0, max: 40 }).map((n) => `j/${n}`), key);
    const step = fc.oneof(
      { weight: 24, arbitrary: fc.record({ kind: fc.constant('set' as const), key: wideKey, value: fc.string({ maxLength: 2 }) }) },
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('del' as const), key: wideKey }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('scan' as const), scan: fc.record({ prefix: fc.constantFrom('', 'k/', 'k/1', 'j/', 'a/'), start: fc.option(wideKey, { nil: undefined }), limit: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }), reverse: fc.boolean() }) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 300, size: 'max' }), (steps) => {
        const storage = new Storage(':memory:');
        const block = new Overlay(storage as StateReader);
        const model = new Map<string, string>();
        for (const st of steps) {
          if (st.kind === 'set') {
            block.set(st.key, st.value);
            model.set(st.key, JSON.stringify(st.value));
          } else if (st.kind === 'del') {
            block.delete(st.key);
            model.delete(st.key);
          } else {
            const o: ScanOptions = { start: st.scan.start, limit: st.scan.limit, reverse: st.scan.reverse };
            expect(block.scanRaw(st.scan.prefix, o)).toEqual(modelScan(model, st.scan.prefix, o));
          }
        }
        for (const prefix of ['', 'k/', 'k/2', 'j/']) {
          for (const start of [undefined, 'k/15', 'j/3']) expect(block.scanRaw(prefix, { start })).toEqual(modelScan(model, prefix, { start }));
        }
        storage.close();
      }),
      { numRuns: 200 },
    );
  });
});
