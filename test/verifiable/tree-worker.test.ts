import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, childHash, type TreeUpdate } from '../../src/app/smt.js';
import '../../src/app/smt-node.js';
import { applyWritesToTree, decodeRoot, encodeRoot, treeOfEntries } from '../../src/app/state-tree.js';
import type { Block, Commit } from '../../src/codec/block.js';
import { TreeThread } from '../../src/ledger/state-tree-thread.js';
import { packTree, unpackTree } from '../../src/ledger/tree-rows-wire.js';
import { TreeSnapshotSource, type Storage, type TreeRowsListener } from '../../src/store/sqlite.js';
import { committedRoot, openGenesis, tempDbs, write } from './tree-storage.js';

/**
 * ADR 0024: the state-tree worker computes a block's tree over its own read-only connection, with a
 * mirror of the rows the node holds in memory (ADR 0016) and caches kept exact by the node's
 * storage listener. Whatever the blocks, the batches and which blocks it computed, its answer is the
 * node's own tree, row for row; and it refuses (stale) rather than answer from other committed state.
 */

const block = fc.record({ writes: fc.array(write, { maxLength: 25 }).map((ws) => new Map(ws)), onWorker: fc.boolean(), flushAfter: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) });
const dbPath = tempDbs('gridledger-tree-worker-');

function commit(storage: Storage, writes: Map<string, string | null>, update: TreeUpdate): void {
  const height = storage.latestHeight() + 1;
  const b = { header: { height, time: height }, txs: [], lastCommit: null, evidence: [] } as unknown as Block;
  storage.commitBlock({ block: b, hash: `h${height}`, results: [], txHashes: [], commit: {} as Commit, writes, stateTree: { root: encodeRoot(update.root), rows: update.rows } });
}

function hexRows(rows: ReadonlyMap<string, Uint8Array | null>): Map<string, string | null> {
  return new Map([...rows].map(([p, r]) => [Buffer.from(p, 'latin1').toString('hex'), r ? bytesToHex(r) : null]));
}

/**
 * The node's side in process: the storage listener talks to the thread's handler directly — by id for
 * the thread's own answers (the rows object the storage is given is the one unpacked from the answer).
 */
function attach(storage: Storage, thread: TreeThread): { compute(writes: Map<string, string | null>): TreeUpdate | string } {
  const ids = new WeakMap<object, number>();
  let next = 1;
  const listener: TreeRowsListener = {
    committed: ({ writes, rows, held, flushed }) => {
      const id = ids.get(rows);
      thread.handle(id !== undefined ? { type: 'committed', id, held, flushed } : { type: 'committed', writes, rows, held, flushed });
    },
    flushed: () => thread.handle({ type: 'flushed' }),
    reset: () => thread.handle({ type: 'reset' }),
  };
  storage.treeRowsListener = listener;
  return {
    compute(writes) {
      const id = next++;
      const reply = thread.handle({ type: 'compute', id, height: storage.latestHeight() + 1, parentRoot: encodeRoot(committedRoot(storage)), writes })!;
      if (reply.type !== 'computed') return `${reply.type}: ${reply.reason}`;
      const { root, rows } = unpackTree(reply.packed);
      ids.set(rows, id);
      return { root: decodeRoot(root), rows };
    },
  };
}

describe('the state-tree worker (ADR 0024)', () => {
  it('computes the same root and rows as the node, block after block, whichever blocks it computed and wherever rows were flushed', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 60_000 }), (blocks, flushBytes) => {
        const path = dbPath();
        const storage = openGenesis(path, flushBytes);
        const source = new TreeSnapshotSource(path);
        const side = attach(storage, new TreeThread(source));
        const state = new Map<string, string>();
        try {
          for (const b of blocks) {
            const inline = applyWritesToTree(storage, committedRoot(storage), b.writes);
            let update = inline;
            if (b.onWorker) {
              const answered = side.compute(b.writes);
              if (typeof answered === 'string') throw new Error(answered);
              expect(bytesToHex(childHash(answered.root))).toBe(bytesToHex(childHash(inline.root)));
              expect(hexRows(answered.rows)).toEqual(hexRows(inline.rows));
              update = answered;
            }
            commit(storage, b.writes, update);
            for (const [k, v] of b.writes) {
              if (v === null) state.delete(k);
              else state.set(k, v);
            }
            if (b.flushAfter) storage.flushTreeRows();
          }
          const rebuilt = treeOfEntries([...state].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
          expect(bytesToHex(childHash(committedRoot(storage)))).toBe(bytesToHex(childHash(rebuilt.root)));
        } finally {
          source.close();
          storage.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('answers stale, reading nothing, when the committed height or root is not the one the block builds on', () => {
    const path = dbPath();
    const storage = openGenesis(path, 1 << 20);
    const source = new TreeSnapshotSource(path);
    const thread = new TreeThread(source);
    const writes = new Map([['m/a', '1']]);
    const root = encodeRoot(committedRoot(storage));
    expect(thread.handle({ type: 'compute', id: 1, height: 2, parentRoot: root, writes })).toEqual({ type: 'stale', id: 1, reason: 'committed height 0, not 1' });
    const other = encodeRoot(applyWritesToTree(storage, committedRoot(storage), new Map([['m/b', '2']])).root);
    expect(thread.handle({ type: 'compute', id: 2, height: 1, parentRoot: other, writes })).toEqual({ type: 'stale', id: 2, reason: 'committed state root differs' });
    expect(thread.handle({ type: 'compute', id: 3, height: 1, parentRoot: root, writes })).toMatchObject({ type: 'computed', id: 3 });
    source.close();
    storage.close();
  });

  it('refuses every request once told of a committed block it no longer knows, until genesis resets it', () => {
    const path = dbPath();
    const storage = openGenesis(path, 1 << 20);
    const source = new TreeSnapshotSource(path);
    const thread = new TreeThread(source);
    const root = encodeRoot(committedRoot(storage));
    const writes = new Map([['m/a', '1']]);
    for (let id = 1; id <= 9; id++) expect(thread.handle({ type: 'compute', id, height: 1, parentRoot: root, writes })?.type).toBe('computed');
    // Eight answers are kept: the first is gone, so the mirror cannot follow a commit of it.
    thread.handle({ type: 'committed', id: 1, held: true, flushed: false });
    expect(thread.handle({ type: 'compute', id: 10, height: 1, parentRoot: root, writes })).toEqual({ type: 'refused', id: 10, reason: 'the block of answer 1 is no longer known' });
    thread.handle({ type: 'reset' });
    expect(thread.handle({ type: 'compute', id: 11, height: 1, parentRoot: root, writes })?.type).toBe('computed');
    source.close();
    storage.close();
  });

  it('packs rows and root into one buffer and back, deletions included; a damaged buffer is refused', () => {
    const rows = new Map<string, Uint8Array | null>([
      ['', new Uint8Array([1, 2, 3])],
      ['\x00\xff\x10', null],
      ['\x7f', new Uint8Array(0)],
    ]);
    const packed = packTree({ root: new Uint8Array([9, 8]), rows });
    const back = unpackTree(packed);
    expect([...back.root]).toEqual([9, 8]);
    expect(hexRows(back.rows)).toEqual(hexRows(rows));
    expect(back.rows.get('')!.buffer).not.toBe(packed);
    expect(() => unpackTree(packed.slice(0, packed.byteLength - 1))).toThrow('tree rows: truncated buffer');
    const longer = new Uint8Array(packed.byteLength + 1);
    longer.set(new Uint8Array(packed));
    expect(() => unpackTree(longer.buffer)).toThrow('tree rows: trailing bytes');
    expect(() => packTree({ root: new Uint8Array(0), rows: new Map([['\u0100', null]]) })).toThrow('tree rows: a path is not a byte string');
  });
});
