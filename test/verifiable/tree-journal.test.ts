import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, childHash } from '../../src/app/smt.js';
import '../../src/app/smt-node.js';
import { applyWritesToTree, encodeRoot, treeAfterWrittenKeys, treeOfEntries } from '../../src/app/state-tree.js';
import type { Block, Commit } from '../../src/codec/block.js';
import { DEFAULT_TREE_FLUSH_BYTES, Storage } from '../../src/store/sqlite.js';
import { MemState } from './mem-state.js';
import { naiveStateRoot } from './naive-tree.js';
import { blockWrites, committedRoot, openGenesis, tempDbs } from './tree-storage.js';

/**
 * ADR 0016: a block's state-tree rows are held in memory and its written keys journalled; the rows
 * reach the `state_tree` table in batches. Whatever the batch size and wherever the process dies,
 * the tree a start recovers is the tree of the committed state, row for row.
 */

const dbPath = tempDbs('gridledger-tree-journal-');

/** Commits a block of bare state writes as the host would: the tree update computed over committed state. Returns the block's rows. */
function commitWrites(storage: Storage, writes: Map<string, string | null>): ReadonlyMap<string, Uint8Array | null> {
  const update = applyWritesToTree(storage, committedRoot(storage), writes);
  const height = storage.latestHeight() + 1;
  const block = { header: { height, time: height }, txs: [], lastCommit: null, evidence: [] } as unknown as Block;
  storage.commitBlock({ block, hash: `h${height}`, results: [], txHashes: [], commit: {} as Commit, writes, stateTree: { root: encodeRoot(update.root), rows: update.rows } });
  return update.rows;
}

/** The `state_tree` table, hex path → hex row. */
function tableRows(storage: Storage): Map<string, string> {
  const rows = storage.db.prepare<[], { path: Buffer; node: Buffer }>('SELECT path, node FROM state_tree ORDER BY path').all();
  return new Map(rows.map((r) => [r.path.toString('hex'), r.node.toString('hex')]));
}

/** The rows and root of a state built from scratch. */
function canonical(state: ReadonlyMap<string, string>): { rows: Map<string, string>; root: string } {
  const built = treeOfEntries([...state].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  return { rows: new Map([...built.rows].map(([p, r]) => [Buffer.from(p, 'latin1').toString('hex'), bytesToHex(r!)])), root: bytesToHex(childHash(built.root)) };
}

function applyToMap(map: Map<string, string>, writes: ReadonlyMap<string, string | null>): void {
  for (const [k, v] of writes) {
    if (v === null) map.delete(k);
    else map.set(k, v);
  }
}

/** A chain of `blocks` blocks, each inserting `perBlock` new keys, with the default batch bound. */
function chainOfNewKeys(blocks: number, perBlock: number): { path: string; storage: Storage; map: Map<string, string> } {
  const path = dbPath();
  const storage = openGenesis(path, DEFAULT_TREE_FLUSH_BYTES);
  const map = new Map<string, string>();
  for (let b = 0; b < blocks; b++) {
    const writes = new Map(Array.from({ length: perBlock }, (_, i) => [`k/${b}/${i}`, `${b}.${i}`] as [string, string]));
    commitWrites(storage, writes);
    applyToMap(map, writes);
  }
  return { path, storage, map };
}

const journalCount = (storage: Storage) => storage.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM state_tree_journal').get()!.n;

describe('state-tree journal (ADR 0016)', () => {
  it('treeAfterWrittenKeys: an old tree plus the keys written since gives the tree of the state now', () => {
    fc.assert(
      fc.property(fc.array(blockWrites, { maxLength: 4 }), fc.array(blockWrites, { minLength: 1, maxLength: 6 }), (before, since) => {
        const state = new MemState();
        for (const writes of before) state.commit(writes);
        const oldRoot = state.root;
        const oldRows = new Map(state.rows);
        const written = new Set<string>();
        for (const writes of since) {
          state.commit(writes);
          for (const k of writes.keys()) written.add(k);
        }
        // the current state with the old tree's rows
        const stale = Object.assign(Object.create(Object.getPrototypeOf(state)) as MemState, state, { rows: oldRows });
        const update = treeAfterWrittenKeys(stale, oldRoot, written);
        expect(bytesToHex(childHash(update.root))).toBe(naiveStateRoot(state.map));
        for (const [p, r] of update.rows) {
          if (r === null) oldRows.delete(p);
          else oldRows.set(p, r);
        }
        expect(new Map([...oldRows].map(([p, r]) => [Buffer.from(p, 'latin1').toString('hex'), bytesToHex(r)]))).toEqual(canonical(state.map).rows);
      }),
      { numRuns: 150 },
    );
  });

  it('a small block writes no tree rows, only its keys to the journal; its rows are read from memory; close writes them', () => {
    const { path, storage, map } = chainOfNewKeys(3, 40);
    expect(tableRows(storage).size).toBe(0);
    expect(journalCount(storage)).toBe(3);
    expect(storage.pendingTreeStats()).toMatchObject({ journalledBlocks: 3 });
    // the next block is computed over the rows held in memory
    commitWrites(storage, new Map([['k/0/0', 'changed']]));
    map.set('k/0/0', 'changed');
    expect(bytesToHex(childHash(committedRoot(storage)))).toBe(naiveStateRoot(map));
    storage.close();
    const reopened = new Storage(path);
    expect(reopened.treeRecovery).toBeUndefined();
    expect(journalCount(reopened)).toBe(0);
    expect(tableRows(reopened)).toEqual(canonical(map).rows);
    reopened.close();
  });

  it('rows held are copies that keep no block’s buffers alive, and every copy until the batch is counted', () => {
    const storage = openGenesis(dbPath(), DEFAULT_TREE_FLUSH_BYTES);
    commitWrites(storage, new Map(Array.from({ length: 50 }, (_, i) => [`k/${i}`, 'v0'] as [string, string])));
    let copied = 0;
    for (let b = 1; b <= 20; b++) {
      const rows = commitWrites(storage, new Map(Array.from({ length: 5 }, (_, i) => [`k/${i}`, `v${b}`] as [string, string])));
      for (const [path, row] of rows) {
        const held = storage.treeRow(path)!;
        expect(held).toEqual(row);
        // a view of its own: not the slab the block's rows (and their neighbours) were encoded into
        expect(held.buffer).not.toBe(row!.buffer);
        const before = Uint8Array.from(held);
        row!.fill(0);
        expect(storage.treeRow(path)).toEqual(before);
        copied += row!.byteLength;
      }
    }
    expect(storage.pendingTreeStats().journalledBlocks).toBe(21);
    // 20 blocks rewrote the same few paths: the old copies stay until the batch, so they count
    expect(storage.pendingTreeStats().bytes).toBeGreaterThan(copied);
    storage.close();
  });

  it('a batch is written when the rows held reach the bound, in that block’s transaction, and the journal empties', () => {
    const storage = openGenesis(dbPath(), 2_000);
    const map = new Map<string, string>();
    let flushes = 0;
    for (let b = 0; b < 30; b++) {
      const writes = new Map(Array.from({ length: 3 }, (_, i) => [`k/${(b * 7 + i) % 50}`, `${b}`] as [string, string]));
      const held = storage.pendingTreeStats().journalledBlocks;
      commitWrites(storage, writes);
      applyToMap(map, writes);
      if (storage.pendingTreeStats().journalledBlocks === 0) {
        if (held > 0) flushes++; // a batch of earlier blocks' rows with this one's
        expect(journalCount(storage)).toBe(0);
        expect(tableRows(storage)).toEqual(canonical(map).rows);
      } else expect(journalCount(storage)).toBe(storage.pendingTreeStats().journalledBlocks);
    }
    expect(flushes).toBeGreaterThan(1);
    storage.close();
  });

  it('whatever the batch bound and wherever the process dies, a start recovers the tree of the committed state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(blockWrites, fc.boolean()), { minLength: 1, maxLength: 10 }), fc.constantFrom(0, 1_500, 6_000, DEFAULT_TREE_FLUSH_BYTES), (blocks, bound) => {
        const path = dbPath();
        let storage = openGenesis(path, bound);
        const map = new Map<string, string>();
        for (const [writes, dies] of blocks) {
          commitWrites(storage, writes);
          applyToMap(map, writes);
          if (!dies) continue;
          storage.db.close(); // no flush: what a SIGKILL leaves
          storage = new Storage(path, undefined, bound);
          expect(journalCount(storage)).toBe(0);
          expect(tableRows(storage)).toEqual(canonical(map).rows);
          expect(storage.treeRecovery?.how ?? 'journal').toBe('journal');
        }
        expect(bytesToHex(childHash(committedRoot(storage)))).toBe(naiveStateRoot(map));
        storage.close();
        rmSync(join(path, '..'), { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
  });

  it('a damaged journal is noticed (the recomputed root differs) and the tree rebuilt from the state table', () => {
    const { path, storage, map } = chainOfNewKeys(4, 30);
    storage.db.prepare('DELETE FROM state_tree_journal WHERE height = (SELECT MAX(height) FROM state_tree_journal)').run();
    storage.db.close();
    const reopened = new Storage(path);
    expect(reopened.treeRecovery).toEqual({ blocks: 3, keys: 90, how: 'rebuilt' });
    expect(tableRows(reopened)).toEqual(canonical(map).rows);
    expect(journalCount(reopened)).toBe(0);
    reopened.close();
  });

  it('a state table that does not give the committed root is refused at open, and nothing is written', () => {
    const path = dbPath();
    const storage = openGenesis(path, DEFAULT_TREE_FLUSH_BYTES);
    commitWrites(storage, new Map([['a', '1'], ['b', '2']]));
    commitWrites(storage, new Map([['c', '3']]));
    storage.db.prepare("UPDATE state SET value = 'tampered' WHERE key = 'a'").run();
    storage.db.close();
    expect(() => new Storage(path)).toThrow(/state table does not match the committed state root/);
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM state_tree_journal').get()).toEqual({ n: 2 });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM state_tree').get()).toEqual({ n: 0 });
    raw.close();
  });
});
