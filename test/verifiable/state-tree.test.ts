import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, childHash, decodeRow, proofRoot, RADIX } from '../../src/app/smt.js';
import { buildStateProof, ProvenState, RecordingReader, type StateProof } from '../../src/app/state-proof.js';
import { treeOfEntries } from '../../src/app/state-tree.js';
import type { ScanOptions } from '../../src/app/state.js';
import { MemState } from './mem-state.js';
import { naiveStateRoot } from './naive-tree.js';

const key = fc.array(fc.constantFrom('a', 'b', 'c', '/', '0', '1'), { minLength: 1, maxLength: 4 }).map((cs) => `m/${cs.join('')}`);
const write = fc.tuple(key, fc.option(fc.integer({ min: 0, max: 5 }).map(String), { nil: null, freq: 3 }));
const block = fc.array(write, { maxLength: 25 }).map((ws) => new Map(ws));
const scanOptions: fc.Arbitrary<ScanOptions> = fc.record(
  { start: key, end: key, limit: fc.integer({ min: 0, max: 6 }), reverse: fc.boolean() },
  { requiredKeys: [] },
);
const prefix = fc.constantFrom('m/', 'm/a', 'm/b/', 'm/0', 'm/c1', 'x/');
const read = fc.oneof(key.map((k) => ({ get: k }) as const), fc.tuple(prefix, scanOptions).map(([p, o]) => ({ scan: p, options: o }) as const));

function committedRows(state: MemState): Map<string, string> {
  return new Map([...state.rows].map(([p, r]) => [Buffer.from(p, 'latin1').toString('hex'), bytesToHex(r)]));
}

describe('state tree: incremental updates against a naive implementation', () => {
  it('every block gives the root a from-scratch computation gives, and storage holds exactly the canonical rows', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 8 }), (blocks) => {
        const state = new MemState();
        for (const writes of blocks) {
          state.commit(writes);
          const root = bytesToHex(childHash(state.root));
          expect(root).toBe(naiveStateRoot(state.map));
          const rebuilt = treeOfEntries([...state.map].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
          expect(bytesToHex(childHash(rebuilt.root))).toBe(root);
          const canonical = new Map([...rebuilt.rows].map(([p, r]) => [Buffer.from(p, 'latin1').toString('hex'), bytesToHex(r!)]));
          expect(committedRows(state)).toEqual(canonical);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the root depends on the state only, not on the order of writes or blocks', () => {
    fc.assert(
      fc.property(fc.array(write, { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (writes, chunks) => {
        const once = new MemState();
        once.commit(new Map(writes));
        const split = new MemState();
        const final = new Map(writes);
        const entries = [...final];
        for (let i = 0; i < chunks; i++) split.commit(new Map(entries.filter((_, j) => j % chunks === i)));
        expect(bytesToHex(childHash(split.root))).toBe(bytesToHex(childHash(once.root)));
      }),
    );
  });

  it('looks up neighbours only where the new order needs them: no predecessor of a key that stays, no successor of an inserted key\'s predecessor', () => {
    const counted = (state: MemState) => {
      const calls = { after: 0, before: 0 };
      const keyAfter = state.keyAfter.bind(state);
      const keyBefore = state.keyBefore.bind(state);
      state.keyAfter = (k) => (calls.after++, keyAfter(k));
      state.keyBefore = (k) => (calls.before++, keyBefore(k));
      return calls;
    };
    const state = new MemState();
    state.commit(new Map(['m/a', 'm/c', 'm/e', 'm/g'].map((k) => [k, 'v'])));
    // Two kept keys rewritten far apart: each needs its successor (its leaf names it), neither its predecessor.
    let calls = counted(state);
    state.commit(new Map([['m/a', 'w'], ['m/e', 'w']]));
    expect(calls).toEqual({ after: 3, before: 0 });
    expect(bytesToHex(childHash(state.root))).toBe(naiveStateRoot(state.map));
    // An inserted key: its own successor and predecessor; the predecessor's successor follows from them.
    calls = counted(state);
    state.commit(new Map([['m/d', 'v']]));
    expect(calls).toEqual({ after: 2, before: 1 });
    expect(bytesToHex(childHash(state.root))).toBe(naiveStateRoot(state.map));
    // A deleted key: the predecessor's successor is the deleted key, walked past to the next survivor.
    calls = counted(state);
    state.commit(new Map([['m/e', null]]));
    expect(calls).toEqual({ after: 2, before: 1 });
    expect(bytesToHex(childHash(state.root))).toBe(naiveStateRoot(state.map));
  });
});

/** Runs the reads on committed state through a recorder, proves them, and answers them from the proof. */
function proveAndReplay(state: MemState, reads: ReadonlyArray<{ get: string } | { scan: string; options: ScanOptions }>) {
  const recorder = new RecordingReader(state);
  const answers = reads.map((r) => ('get' in r ? recorder.getRaw(r.get) : recorder.scanRaw(r.scan, r.options)));
  const proof = buildStateProof(state, state.root, recorder.reads());
  const root = bytesToHex(childHash(state.root));
  return { proof, root, answers };
}

/** A row as written before rows carried leaf hashes: leaves as tag 1, keyHash ‖ entryHash. */
function legacyRow(row: Uint8Array): Uint8Array {
  const parts: number[] = [row[0]!, row[1]!];
  let at = 2;
  for (let i = 0; i < RADIX; i++) {
    if ((((row[0]! << 8) | row[1]!) & (1 << (15 - i))) === 0) continue;
    if (row[at] === 3) {
      parts.push(1, ...row.subarray(at + 1, at + 65));
      at += 97;
    } else if (row[at] === 1) {
      parts.push(...row.subarray(at, at + 65));
      at += 65;
    } else {
      parts.push(...row.subarray(at, at + 33));
      at += 33;
    }
  }
  expect(at).toBe(row.length);
  return new Uint8Array(parts);
}

describe('state tree rows: the leaf hash they carry', () => {
  it('rows in the earlier format (leaves without their hash) decode to the same children and later blocks reach the same roots', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 2, maxLength: 6 }), (blocks) => {
        const current = new MemState();
        const legacy = new MemState();
        for (const writes of blocks) {
          current.commit(writes);
          legacy.commit(writes);
          for (const [path, row] of legacy.rows) {
            const old = legacyRow(row);
            const a = decodeRow(row).map((c) => (c === null ? null : bytesToHex(c.hash)));
            const b = decodeRow(old).map((c) => (c === null ? null : bytesToHex(c.hash)));
            expect(b).toEqual(a);
            legacy.rows.set(path, old); // the next block reads and rewrites the earlier format
          }
          expect(bytesToHex(childHash(legacy.root))).toBe(bytesToHex(childHash(current.root)));
          // Rows written now carry their leaves' hashes (97-byte leaves), shorter in the earlier format.
          for (const row of current.rows.values()) if (decodeRow(row).some((c) => c?.leaf)) expect(legacyRow(row).length).toBeLessThan(row.length);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('state proofs', () => {
  it('a proof answers exactly the reads it was made for, with the committed values (gets, absent keys, scans with bounds, limits, reverse)', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 4 }), fc.array(read, { minLength: 1, maxLength: 6 }), (blocks, reads) => {
        const state = new MemState();
        for (const b of blocks) state.commit(b);
        const { proof, root, answers } = proveAndReplay(state, reads);
        expect(bytesToHex(proofRoot(proof.tree))).toBe(root);
        const proven = new ProvenState(root, JSON.parse(JSON.stringify(proof)) as StateProof);
        reads.forEach((r, i) => {
          const again = 'get' in r ? proven.getRaw(r.get) : proven.scanRaw(r.scan, r.options);
          expect(again).toEqual(answers[i]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('a proof against another root, a changed value, a dropped row of a scan, or a read it does not cover is refused', () => {
    const state = new MemState();
    state.commit(new Map(['m/a', 'm/b', 'm/c', 'm/d', 'n/x'].map((k, i) => [k, String(i)])));
    const { proof, root } = proveAndReplay(state, [{ scan: 'm/', options: {} }, { get: 'm/zz' }]);
    expect(() => new ProvenState('00'.repeat(32), proof)).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
    const changed = structuredClone(proof);
    changed.entries.find((e) => e.key === 'm/b')!.value = '7';
    expect(() => new ProvenState(root, changed)).toThrow(/m\/b/);
    const dropped = structuredClone(proof);
    dropped.entries = dropped.entries.filter((e) => e.key !== 'm/c');
    expect(() => new ProvenState(root, dropped).scanRaw('m/')).toThrow(expect.objectContaining({ code: 'PROOF_INCOMPLETE' }));
    const relinked = structuredClone(proof);
    relinked.entries.find((e) => e.key === 'm/b')!.next = 'm/d';
    expect(() => new ProvenState(root, relinked)).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
    const proven = new ProvenState(root, proof);
    expect(proven.scanRaw('m/')).toEqual([['m/a', '0'], ['m/b', '1'], ['m/c', '2'], ['m/d', '3']]);
    expect(proven.getRaw('m/zz')).toBeUndefined();
    expect(proven.getRaw('m/bb')).toBeUndefined(); // between two chained leaves: provably absent
    expect(() => proven.getRaw('n/x')).toThrow(expect.objectContaining({ code: 'PROOF_INCOMPLETE' }));
    expect(() => proven.scanRaw('n/')).toThrow(expect.objectContaining({ code: 'PROOF_INCOMPLETE' }));
    const claimedAbsent = structuredClone(proof);
    claimedAbsent.absent.push('m/a');
    expect(() => new ProvenState(root, claimedAbsent)).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }));
  });
});
