import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAGE_CACHE_KIB, Storage, WAL_AUTOCHECKPOINT_PAGES } from '../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the node database settings', () => {
  it('is a WAL database synced on every commit', () => {
    const storage = new Storage(join(dir, 'node.sqlite'));
    try {
      expect(storage.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(storage.db.pragma('synchronous', { simple: true })).toBe(2); // FULL: a reported commit survives power loss
      // ADR 0017: checkpoints every 8,000 frames (test/foundation/wal-checkpoint.test.ts), a 32 MiB page cache
      expect(storage.db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_AUTOCHECKPOINT_PAGES);
      expect(storage.db.pragma('cache_size', { simple: true })).toBe(-PAGE_CACHE_KIB);
    } finally {
      storage.close();
    }
  });
});
