import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import { emptyStateTree, encodeRoot } from '../../src/app/state-tree.js';
import type { Block, Commit, TxResult } from '../../src/codec/block.js';
import { Storage, WAL_AUTOCHECKPOINT_PAGES } from '../../src/store/sqlite.js';

/**
 * Commits copy the WAL into the database file every WAL_AUTOCHECKPOINT_PAGES frames (ADR 0017), not
 * SQLite's default 1,000: a page written again before the checkpoint is copied once. The WAL still
 * stays bounded: it is reused from the start after each checkpoint.
 */

const dir = mkdtempSync(join(tmpdir(), 'wal-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;
/** A WAL frame: a 24-byte header and one page. */
const FRAME = PAGE + 24;
let serial = 0;

/** One block of `count` transactions with ~1 KB results: ~count / 3 new pages plus the hash index's. */
function commitBlock(storage: Storage, count: number): void {
  const height = storage.latestHeight() + 1;
  const hashes = Array.from({ length: count }, () => createHash('sha256').update(String(serial++)).digest('hex'));
  const result = { code: 'OK', message: 'x'.repeat(1000), events: [] } as unknown as TxResult;
  const block = { header: { height, time: height }, txs: [], lastCommit: null, evidence: [] } as unknown as Block;
  storage.commitBlock({ block, hash: `b${height}`, results: hashes.map(() => result), txHashes: hashes, commit: {} as Commit, writes: new Map(), stateTree: { root: encodeRoot(emptyStateTree()), rows: new Map() } });
}

const walFrames = (path: string) => Math.floor(statSync(`${path}-wal`).size / FRAME);

describe('WAL checkpoints', () => {
  it(`come every ${WAL_AUTOCHECKPOINT_PAGES} frames, and the WAL is reused after each`, () => {
    const path = join(dir, 'chain.sqlite');
    const storage = new Storage(path);
    try {
      storage.writeGenesis(new Map(), [[STATE_TREE_ROOT_META, Buffer.from(encodeRoot(emptyStateTree()))]]);
      // Past SQLite's default of 1,000 frames, nothing was copied back yet: the WAL keeps growing.
      for (let i = 0; i < 40 && walFrames(path) < 3000; i++) commitBlock(storage, 400);
      const grown = walFrames(path);
      expect(grown).toBeGreaterThanOrEqual(3000);
      commitBlock(storage, 400);
      expect(walFrames(path)).toBeGreaterThan(grown);
      // Past the bound, a commit checkpoints and later commits write from the WAL's start again.
      let blocks = 0;
      while (blocks++ < 200 && walFrames(path) <= WAL_AUTOCHECKPOINT_PAGES) commitBlock(storage, 400);
      const peak = walFrames(path);
      expect(peak).toBeGreaterThan(WAL_AUTOCHECKPOINT_PAGES);
      for (let i = 0; i < 30; i++) commitBlock(storage, 400);
      expect(walFrames(path)).toBe(peak);
    } finally {
      storage.close();
    }
  });
});
