import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import { emptyStateTree, encodeRoot } from '../../src/app/state-tree.js';
import type { Block, Commit, TxResult } from '../../src/codec/block.js';
import { Storage } from '../../src/store/sqlite.js';

/**
 * The transaction index costs about one page per transaction (issue 18: SQLite pages per block are
 * the commit's cost). Results are appended in block order to a rowid table; only the hash index takes
 * a page per transaction. A database whose `txs` table is keyed by hash (before 2026-12-02) still works.
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

/** WAL frames (pages) one commit of `count` transactions writes, on a table that already holds 20,000. */
function pagesPerCommit(storage: Storage, count: number): number {
  for (let b = 0; b < 40; b++) commitTxs(storage, 500);
  storage.db.pragma('wal_checkpoint(TRUNCATE)');
  commitTxs(storage, count);
  const [frames] = storage.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return frames!.log;
}

function open(path: string): Storage {
  const storage = new Storage(path);
  storage.writeGenesis(new Map(), [[STATE_TREE_ROOT_META, Buffer.from(encodeRoot(emptyStateTree()))]]);
  return storage;
}

describe('the transaction index', () => {
  it('takes about one page per transaction, and every result is found by its hash', () => {
    const storage = open(join(dir, 'new.sqlite'));
    try {
      const pages = pagesPerCommit(storage, 300);
      expect(pages).toBeLessThan(300 * 1.35);
      const hashes = commitTxs(storage, 50);
      for (const [i, h] of hashes.entries()) expect(storage.getTx(h)).toEqual({ hash: h, height: storage.latestHeight(), index: i, result });
    } finally {
      storage.close();
    }
  });

  it('a database keyed by hash, as written before, takes two and still serves every transaction', () => {
    const path = join(dir, 'old.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE txs (hash TEXT PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL) WITHOUT ROWID');
    db.close();
    const storage = open(path);
    try {
      const pages = pagesPerCommit(storage, 300);
      expect(pages).toBeGreaterThan(300 * 1.5);
      const hashes = commitTxs(storage, 50);
      for (const [i, h] of hashes.entries()) expect(storage.getTx(h)?.index).toBe(i);
    } finally {
      storage.close();
    }
  });
});
