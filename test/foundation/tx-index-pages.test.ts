import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import { emptyStateTree, encodeRoot } from '../../src/app/state-tree.js';
import type { Block, Commit, TxResult } from '../../src/codec/block.js';
import { DEFAULT_TREE_FLUSH_BYTES, Storage } from '../../src/store/sqlite.js';
import { PENDING_TX_ENTRY_BYTES, StoredTxReader } from '../../src/store/tx-index.js';

/**
 * The transaction index (issue 18: SQLite pages per block are the commit's cost; ADR 0026). Results
 * are appended in block order; their hashes are indexed in batches, sorted, with the state-tree rows,
 * so a block's commit writes a few pages and a batch about one per index page it touches, not one per
 * transaction. Databases written before keep SQLite's index: keyed by hash (before 2026-12-02, two
 * pages per transaction) or with a UNIQUE index on it (one page per transaction).
 */

const dir = mkdtempSync(join(tmpdir(), 'tx-index-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result: TxResult = { code: 'OK', message: '', events: [{ type: 'registry.admitted', attributes: { address: 'grid1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq', roles: 'consumer' } }] } as unknown as TxResult;
let serial = 0;
/** Transaction hashes are spread evenly over the index, as SHA-256 of distinct inputs is. */
const nextHash = () => createHash('sha256').update(String(serial++)).digest('hex');

function commitTxs(storage: Storage, count: number): string[] {
  const height = storage.latestHeight() + 1;
  const hashes = Array.from({ length: count }, () => nextHash());
  const block = { header: { height, time: height }, txs: [], lastCommit: null, evidence: [] } as unknown as Block;
  storage.commitBlock({ block, hash: `b${height}`, results: hashes.map(() => result), txHashes: hashes, commit: {} as Commit, writes: new Map(), stateTree: { root: encodeRoot(emptyStateTree()), rows: new Map() } });
  return hashes;
}

/** WAL frames (pages) that `write` makes SQLite append. */
function pagesOf(storage: Storage, write: () => void): number {
  storage.db.pragma('wal_checkpoint(TRUNCATE)');
  write();
  const [frames] = storage.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return frames!.log;
}

/** WAL frames (pages) one commit of `count` transactions writes, on a table that already holds 20,000. */
function pagesPerCommit(storage: Storage, count: number): number {
  for (let b = 0; b < 40; b++) commitTxs(storage, 500);
  return pagesOf(storage, () => commitTxs(storage, count));
}

function open(path: string, batchBytes = DEFAULT_TREE_FLUSH_BYTES): Storage {
  const storage = new Storage(path, undefined, batchBytes);
  if (storage.latestHeight() === 0) storage.writeGenesis(new Map(), [[STATE_TREE_ROOT_META, Buffer.from(encodeRoot(emptyStateTree()))]]);
  return storage;
}

const indexed = (storage: Storage) => storage.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM tx_index').get()!.n;

describe('the transaction index', () => {
  it('a commit appends its results in a few pages; the hashes wait for the batch, and every result is found by its hash', () => {
    const storage = open(join(dir, 'new.sqlite'));
    try {
      const pages = pagesPerCommit(storage, 300);
      expect(pages).toBeLessThan(300 * 0.2);
      expect(indexed(storage)).toBe(0);
      expect(storage.pendingTxIndexStats()).toEqual({ entries: 20_300, bytes: 20_300 * PENDING_TX_ENTRY_BYTES });
      const hashes = commitTxs(storage, 50);
      for (const [i, h] of hashes.entries()) expect(storage.getTx(h)).toEqual({ hash: h, height: storage.latestHeight(), index: i, result });
      expect(storage.getTx(nextHash())).toBeUndefined();
    } finally {
      storage.close();
    }
  });

  it('a batch indexes the held hashes in order, about one page per index page rather than per transaction', () => {
    const path = join(dir, 'batch.sqlite');
    const storage = open(path);
    const hashes: string[] = [];
    try {
      for (let b = 0; b < 40; b++) hashes.push(...commitTxs(storage, 500));
      storage.flushTreeRows();
      for (let b = 0; b < 40; b++) hashes.push(...commitTxs(storage, 500));
      const pages = pagesOf(storage, () => storage.flushTreeRows());
      expect(indexed(storage)).toBe(40_000);
      expect(storage.pendingTxIndexStats().entries).toBe(0);
      // SQLite's own index: one page per transaction (the test below); here the 20,000 hashes land on
      // the index's few hundred leaf pages, each written once.
      expect(pages).toBeLessThan(20_000 * 0.1);
      for (const [i, h] of hashes.entries()) expect(storage.getTx(h)?.index).toBe(i % 500);
    } finally {
      storage.close();
    }
  });

  it.each([
    ['with a UNIQUE hash index, as written until 2026-12-04, keeps it: one page per transaction', 'unique', 'CREATE TABLE txs (hash TEXT NOT NULL UNIQUE, height INTEGER NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL)', [0.8, 1.35]],
    ['keyed by hash, as written before 2026-12-02, keeps it: two pages per transaction', 'keyed', 'CREATE TABLE txs (hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL) WITHOUT ROWID', [1.5, 2.5]],
  ] as const)('a database %s, and serves every transaction', (_, name, table, [least, most]) => {
    const path = join(dir, `${name}.sqlite`);
    const db = new Database(path);
    db.exec(table);
    db.close();
    const storage = open(path);
    try {
      const pages = pagesPerCommit(storage, 300);
      expect(pages).toBeGreaterThan(300 * least);
      expect(pages).toBeLessThan(300 * most);
      expect(storage.pendingTxIndexStats().entries).toBe(0);
      const hashes = commitTxs(storage, 50);
      for (const [i, h] of hashes.entries()) expect(storage.getTx(h)?.index).toBe(i);
      storage.flushTreeRows();
      expect(new StoredTxReader(storage.db).get(hashes[7]!)?.idx).toBe(7);
    } finally {
      storage.close();
    }
  });

  it('whatever the batch bound and wherever the process dies, every committed result is found by its hash, and each hash is indexed once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.boolean()), { minLength: 1, maxLength: 12 }), fc.constantFrom(0, 3_000, 9_000, DEFAULT_TREE_FLUSH_BYTES), (blocks, bound) => {
        const path = join(dir, `prop-${serial}.sqlite`);
        let storage = open(path, bound);
        const committed: Array<{ hash: string; height: number; index: number }> = [];
        try {
          for (const [count, crashAfter] of blocks) {
            const hashes = commitTxs(storage, count);
            hashes.forEach((hash, index) => committed.push({ hash, height: storage.latestHeight(), index }));
            if (crashAfter) {
              storage.db.close(); // no batch: what a SIGKILL leaves
              storage = open(path, bound);
            }
            expect(indexed(storage) + storage.pendingTxIndexStats().entries).toBe(committed.length);
          }
          const audit = new StoredTxReader(storage.db);
          for (const c of committed) {
            expect(storage.getTx(c.hash)).toMatchObject({ height: c.height, index: c.index });
            expect(audit.get(c.hash)).toMatchObject({ height: c.height, idx: c.index });
          }
          storage.close();
          storage = open(path, bound);
          expect(storage.pendingTxIndexStats().entries).toBe(0);
          expect(indexed(storage)).toBe(committed.length);
        } finally {
          storage.close();
          rmSync(path, { force: true });
        }
      }),
      { numRuns: 25 },
    );
  });
});
