import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { App } from '../../src/app/host.js';
import { defineModule, handler, type ModuleContext, type ModuleCore } from '../../src/app/module.js';
import type { QueryIndexDef } from '../../src/app/query-index.js';
import type { Msg } from '../../src/codec/tx.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import { defineErrors } from '../../src/util/errors.js';
import { TestChain } from '../helpers/chain.js';

/**
 * The node's query-only indexes (ADR 0029 point 1), shown with a small module: items with a status,
 * indexed by status. The index follows every block's writes (inserts, changes, deletions), is rebuilt
 * at open when missing or of another version and dropped when no longer declared, and only query
 * contexts over the committed state can read it — never a message handler or a proven query.
 */

const STATUSES = ['new', 'open', 'done'] as const;
const ITEM = 'idx/item/';
const E = defineErrors('idx', {});
const putMsg = z.object({ id: z.number().int().min(0).max(999), status: z.enum(STATUSES) }).strict();
const delMsg = z.object({ id: z.number().int().min(0).max(999) }).strict();
const itemKey = (id: number) => `${ITEM}${String(id).padStart(3, '0')}`;

function indexModule(version: number | undefined, indexPrefix = ITEM, failOnId?: number): ModuleCore<any, any> {
  const keysOf = (_key: string, value: string) => {
    const item = JSON.parse(value) as { id: number; status: string };
    if (item.id === failOnId) throw new Error(`a bug in keysOf for item ${item.id}`);
    return [item.status];
  };
  const indexes: QueryIndexDef[] = version === undefined ? [] : [{ name: 'by-status', version, prefix: indexPrefix, keysOf }];
  return defineModule({
    name: 'idx',
    requires: [],
    errors: E,
    messages: {
      'idx/put': handler(putMsg, (ctx: ModuleContext, m) => ctx.store.set(itemKey(m.id), { id: m.id, status: m.status })),
      'idx/del': handler(delMsg, (ctx: ModuleContext, m) => ctx.store.delete(itemKey(m.id))),
      // What a message handler sees: never an index (it could otherwise make results depend on a node).
      'idx/peek': handler(z.object({}).strict(), (ctx: ModuleContext) => ctx.store.set('idx/peek', { sawIndex: ctx.queryIndex !== undefined })),
    },
    queryIndexes: indexes,
  });
}

/** The index as a map status → state keys (ascending), read through the storage's reader. */
function indexed(storage: Storage): Record<string, string[]> {
  return Object.fromEntries(STATUSES.map((s) => [s, storage.queryIndex.stateKeys('idx/by-status', s, { limit: 10_000 })]));
}

/** The same, derived from the state itself. */
function derived(storage: Storage): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(STATUSES.map((s) => [s, []]));
  for (const [key, value] of storage.allState()) if (key.startsWith(ITEM)) out[(JSON.parse(value) as { status: string }).status]!.push(key);
  return out;
}

const opArb = fc.oneof(
  fc.record({ k: fc.constant('put' as const), id: fc.integer({ min: 0, max: 40 }), status: fc.constantFrom(...STATUSES) }),
  fc.record({ k: fc.constant('del' as const), id: fc.integer({ min: 0, max: 40 }) }),
);
const toMsg = (op: { k: 'put'; id: number; status: (typeof STATUSES)[number] } | { k: 'del'; id: number }): Msg => (op.k === 'put' ? { type: 'idx/put', value: { id: op.id, status: op.status } } : { type: 'idx/del', value: { id: op.id } });

describe('query-only indexes kept by the node (ADR 0029 point 1)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('equal their derivation from the state after every block of random inserts, changes and deletions', () => {
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 }), (blocks) => {
        const chain = new TestChain({ modules: [registryCore, indexModule(1)] });
        for (const ops of blocks) {
          chain.block(ops.map((op) => chain.tx(chain.operator, [toMsg(op)])));
          expect(indexed(chain.storage)).toEqual(derived(chain.storage));
        }
      }),
      { numRuns: 40, seed: 29 },
    );
  });

  it('pages by state key, forward or newest first, after a state key (exclusive)', () => {
    const chain = new TestChain({ modules: [registryCore, indexModule(1)] });
    chain.block([chain.tx(chain.operator, [0, 3, 5, 7, 9].map((id) => toMsg({ k: 'put', id, status: 'open' })))]);
    const page = (p: { after?: string; reverse?: boolean; limit: number }) => chain.storage.queryIndex.stateKeys('idx/by-status', 'open', p);
    expect(page({ limit: 2 })).toEqual([itemKey(0), itemKey(3)]);
    expect(page({ limit: 2, after: itemKey(3) })).toEqual([itemKey(5), itemKey(7)]);
    expect(page({ limit: 2, reverse: true })).toEqual([itemKey(9), itemKey(7)]);
    expect(page({ limit: 9, reverse: true, after: itemKey(5) })).toEqual([itemKey(3), itemKey(0)]);
    expect(chain.storage.queryIndex.stateKeys('idx/by-status', 'done', { limit: 9 })).toEqual([]);
  });

  it('are read by query contexts over the committed state only: not by message handlers, not by proven queries', () => {
    const chain = new TestChain({ modules: [registryCore, indexModule(1)] });
    chain.block([chain.tx(chain.operator, [toMsg({ k: 'put', id: 1, status: 'new' }), { type: 'idx/peek', value: {} }])]);
    expect(chain.store.get('idx/peek')).toEqual({ sawIndex: false });
    const block = { height: chain.app.height, time: chain.time };
    expect(chain.app.queryContext('idx', block).queryIndex?.stateKeys('by-status', 'new', { limit: 5 })).toEqual([itemKey(1)]);
    // Over a given store (the API's recording store for ?prove=true) the query reads the state itself.
    expect(chain.app.queryContext('idx', block, chain.app.committed()).queryIndex).toBeUndefined();
  });

  it('are rebuilt at open when missing or of another version, kept when current, dropped when no longer declared', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-query-index-'));
    dirs.push(dir);
    const file = join(dir, 'node.db');
    const chain = new TestChain({ modules: [registryCore, indexModule(1)], storage: new Storage(file) });
    chain.block([chain.tx(chain.operator, [toMsg({ k: 'put', id: 1, status: 'open' }), toMsg({ k: 'put', id: 2, status: 'done' })])]);
    let storage = chain.storage;
    let app = chain.app;
    // a new database: every declared index is built (the registry's too)
    expect(app.queryIndexesAtOpen).toEqual({ rebuilt: ['idx/by-status', 'registry/accounts-by-rare-role'], dropped: [] });
    expect(indexed(storage)).toEqual({ new: [], open: [itemKey(1)], done: [itemKey(2)] });
    storage.close();

    const reopen = (version: number | undefined) => {
      storage = new Storage(file);
      app = new App(storage, { chainId: chain.chainId, modules: [registryCore, indexModule(version)] });
      return app.queryIndexesAtOpen;
    };
    expect(reopen(1)).toEqual({ rebuilt: [], dropped: [] });
    expect(indexed(storage)).toEqual(derived(storage));
    storage.db.prepare("DELETE FROM query_index WHERE name = 'idx/by-status'").run();
    storage.db.prepare("UPDATE meta SET value = CAST('0' AS BLOB) WHERE key = 'queryIndex/idx/by-status'").run();
    storage.close();
    expect(reopen(1)).toEqual({ rebuilt: ['idx/by-status'], dropped: [] });
    expect(indexed(storage)).toEqual({ new: [], open: [itemKey(1)], done: [itemKey(2)] });
    storage.close();
    expect(reopen(2)).toEqual({ rebuilt: ['idx/by-status'], dropped: [] });
    expect(indexed(storage)).toEqual(derived(storage));
    storage.close();
    expect(reopen(undefined)).toEqual({ rebuilt: [], dropped: ['idx/by-status'] });
    expect(storage.db.prepare("SELECT COUNT(*) AS n FROM query_index WHERE name = 'idx/by-status'").get()).toEqual({ n: 0 });
    expect(storage.getMeta('queryIndex/idx/by-status')).toBeUndefined();
    storage.close();
  });

  it('never stop a commit: a keysOf that throws takes its index out of use (QUERY_INDEX_UNAVAILABLE) until the next open rebuilds it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-query-index-'));
    dirs.push(dir);
    const file = join(dir, 'node.db');
    const chain = new TestChain({ modules: [registryCore, indexModule(1, ITEM, 13)], storage: new Storage(file) });
    chain.block([chain.tx(chain.operator, [toMsg({ k: 'put', id: 12, status: 'open' })])]);
    const result = chain.block([chain.tx(chain.operator, [toMsg({ k: 'put', id: 13, status: 'open' }), toMsg({ k: 'put', id: 14, status: 'done' })])])[0]!;
    // the block committed with everything it wrote; the kernel's sink heard of the index's failure
    expect(result.code).toBe('OK');
    expect(chain.store.get(itemKey(13))).toEqual({ id: 13, status: 'open' });
    expect(chain.internalErrors).toEqual([expect.objectContaining({ phase: 'query-index', module: 'idx' })]);
    expect(() => chain.storage.queryIndex.stateKeys('idx/by-status', 'open', { limit: 9 })).toThrow(expect.objectContaining({ code: 'QUERY_INDEX_UNAVAILABLE' }));
    expect(chain.storage.getMeta('queryIndex/idx/by-status')?.toString('utf8')).toBe('failed');
    chain.storage.close();
    // fixed code: the next open rebuilds it from the state
    const storage = new Storage(file);
    const app = new App(storage, { chainId: chain.chainId, modules: [registryCore, indexModule(1)] });
    expect(app.queryIndexesAtOpen).toEqual({ rebuilt: ['idx/by-status'], dropped: [] });
    expect(indexed(storage)).toEqual({ new: [], open: [itemKey(12), itemKey(13)], done: [itemKey(14)] });
    storage.close();
  });

  it("refuse a module whose index would read another module's state", () => {
    expect(() => new TestChain({ modules: [registryCore, indexModule(1, 'registry/account/')] })).toThrow(/outside the module's own state/);
  });
});

