import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Storage, WAL_CHECKPOINT_PAGES } from '../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the node database settings', () => {
  it('is a WAL database synced on every commit, checkpointed every WAL_CHECKPOINT_PAGES pages rather than every 1,000', () => {
    const storage = new Storage(join(dir, 'node.sqlite'));
    try {
      expect(storage.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(storage.db.pragma('synchronous', { simple: true })).toBe(2); // FULL: a reported commit survives power loss
      expect(WAL_CHECKPOINT_PAGES).toBeGreaterThan(1000);
      expect(storage.db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_CHECKPOINT_PAGES);
    } finally {
      storage.close();
    }
  });
});
