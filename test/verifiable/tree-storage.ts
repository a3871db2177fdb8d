import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { STATE_TREE_ROOT_META } from '../../src/app/host.js';
import type { Child } from '../../src/app/smt.js';
import { decodeRoot, emptyStateTree, encodeRoot } from '../../src/app/state-tree.js';
import { Storage } from '../../src/store/sqlite.js';

/** Shared by the state-tree storage tests: random block writes, and a store at genesis in a temp folder. */

/** Keys from a small alphabet (so blocks rewrite, insert next to and delete each other's keys). */
export const key = fc.array(fc.constantFrom('a', 'b', 'c', '/', '0', '1'), { minLength: 1, maxLength: 4 }).map((cs) => `m/${cs.join('')}`);
export const write = fc.tuple(key, fc.option(fc.integer({ min: 0, max: 5 }).map(String), { nil: null, freq: 3 }));
export const blockWrites = fc.array(write, { maxLength: 25 }).map((ws) => new Map(ws));

/** A fresh database path; the folders go when the test file ends. */
export function tempDbs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return join(dir, 'ledger.db');
  };
}

export function openGenesis(path: string, flushBytes: number): Storage {
  const storage = new Storage(path, undefined, flushBytes);
  storage.writeGenesis(new Map(), [[STATE_TREE_ROOT_META, Buffer.from(encodeRoot(emptyStateTree()))]]);
  return storage;
}

export function committedRoot(storage: Storage): Child {
  return decodeRoot(new Uint8Array(storage.getMeta(STATE_TREE_ROOT_META)!));
}
