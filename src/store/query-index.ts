import type Database from 'better-sqlite3';
import { QUERY_INDEX_ERRORS, type QueryIndexDef, type QueryIndexErrorSink, type QueryIndexPage, type QueryIndexReader } from '../app/query-index.js';

/**
 * The node's query-only indexes (ADR 0029 point 1): one table of (index, index key, state key) rows,
 * written in each block's transaction from the block's writes, so an index always describes exactly
 * the committed state beside it. Each index's version is kept in `meta` (`queryIndex/<name>`); at
 * start an index that is missing or of another version is rebuilt from the state table, and the rows
 * of an index no module declares any more are removed. Nothing here is hashed, proven or sent.
 */

export const QUERY_INDEX_SCHEMA = `
CREATE TABLE IF NOT EXISTS query_index (name TEXT NOT NULL, ikey TEXT NOT NULL, skey TEXT NOT NULL, PRIMARY KEY (name, ikey, skey)) WITHOUT ROWID;
`;

/** Meta key prefix of each index's version. */
export const QUERY_INDEX_META = 'queryIndex/';

/** The stored version of an index whose `keysOf` failed in a commit (versions are positive integers). */
const FAILED_VERSION = 'failed';

/** Rows of the state table read per statement while an index is rebuilt. */
const REBUILD_CHUNK = 1000;

type Row = { skey: string };

export class QueryIndexes implements QueryIndexReader {
  private defs: readonly QueryIndexDef[] = [];
  /** Indexes whose `keysOf` failed in a commit since this node started: out of use until rebuilt at the next start. */
  private readonly failed = new Set<string>();
  private onError: QueryIndexErrorSink = () => undefined;
  private readonly put: Database.Statement<[string, string, string]>;
  private readonly del: Database.Statement<[string, string, string]>;
  /** Page statements: forward or reverse, from the start or after a state key. */
  private readonly pages: Record<'asc' | 'ascAfter' | 'desc' | 'descAfter', Database.Statement<any[], Row>>;

  constructor(
    private readonly db: Database.Database,
    /** The committed value of a state key, read before the block's writes are applied. */
    private readonly committedValue: (key: string) => string | undefined,
  ) {
    db.exec(QUERY_INDEX_SCHEMA);
    this.put = db.prepare('INSERT OR IGNORE INTO query_index (name, ikey, skey) VALUES (?, ?, ?)');
    this.del = db.prepare('DELETE FROM query_index WHERE name = ? AND ikey = ? AND skey = ?');
    const select = 'SELECT skey FROM query_index WHERE name = ? AND ikey = ?';
    this.pages = {
      asc: db.prepare(`${select} ORDER BY skey LIMIT ?`),
      ascAfter: db.prepare(`${select} AND skey > ? ORDER BY skey LIMIT ?`),
      desc: db.prepare(`${select} ORDER BY skey DESC LIMIT ?`),
      descAfter: db.prepare(`${select} AND skey < ? ORDER BY skey DESC LIMIT ?`),
    };
  }

  /**
   * Takes the indexes this build declares: rebuilds each one whose stored version differs (or that
   * was never built) from the state table, and drops the rows of indexes no longer declared — one
   * transaction, so a node stopped half-way rebuilds again at its next start.
   */
  use(defs: readonly QueryIndexDef[], onError?: QueryIndexErrorSink): { rebuilt: string[]; dropped: string[] } {
    if (onError) this.onError = onError;
    const getMeta = this.db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?');
    const putMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    const stored = this.db.prepare<[string, string], { key: string }>('SELECT key FROM meta WHERE key >= ? AND key < ?').all(QUERY_INDEX_META, `${QUERY_INDEX_META}\uffff`);
    const declared = new Set(defs.map((d) => `${QUERY_INDEX_META}${d.name}`));
    const rebuilt: string[] = [];
    const dropped: string[] = [];
    this.db.transaction(() => {
      for (const { key } of stored) {
        if (declared.has(key)) continue;
        const name = key.slice(QUERY_INDEX_META.length);
        this.db.prepare('DELETE FROM query_index WHERE name = ?').run(name);
        this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
        dropped.push(name);
      }
      for (const def of defs) {
        const version = String(def.version);
        if (getMeta.get(`${QUERY_INDEX_META}${def.name}`)?.value.toString('utf8') === version) continue;
        this.rebuild(def);
        putMeta.run(`${QUERY_INDEX_META}${def.name}`, version);
        rebuilt.push(def.name);
      }
    })();
    this.defs = defs;
    return { rebuilt, dropped };
  }

  /**
   * Inside a block's (or genesis') transaction, before its state writes: the index rows they change.
   * A `keysOf` that throws never stops the commit (an index is not consensus state): that index goes
   * out of use, its stored version is marked failed in the same transaction so the next start rebuilds it (or drops it), and the
   * error sink is told.
   */
  apply(writes: ReadonlyMap<string, string | null>): void {
    if (this.defs.length === 0) return;
    for (const [key, value] of writes) {
      for (const def of this.defs) {
        if (!key.startsWith(def.prefix) || this.failed.has(def.name)) continue;
        let was: readonly string[];
        let now: readonly string[];
        try {
          const before = this.committedValue(key);
          was = before === undefined ? [] : def.keysOf(key, before);
          now = value === null ? [] : def.keysOf(key, value);
        } catch (err) {
          this.fail(def.name, err);
          continue;
        }
        for (const k of was) if (!now.includes(k)) this.del.run(def.name, k, key);
        for (const k of now) if (!was.includes(k)) this.put.run(def.name, k, key);
      }
    }
  }

  private fail(name: string, err: unknown): void {
    this.failed.add(name);
    // A version no build declares: the next start rebuilds the index, or drops its rows if it is gone.
    this.db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(Buffer.from(FAILED_VERSION), `${QUERY_INDEX_META}${name}`);
    this.onError(name, err);
  }

  stateKeys(index: string, indexKey: string, page: QueryIndexPage): string[] {
    if (this.failed.has(index)) throw QUERY_INDEX_ERRORS.QUERY_INDEX_UNAVAILABLE(`the node's index ${index} failed during a commit and is rebuilt at its next start; ask with prove=true meanwhile`);
    const statement = this.pages[`${page.reverse ? 'desc' : 'asc'}${page.after !== undefined ? 'After' : ''}` as const];
    const args = page.after !== undefined ? [index, indexKey, page.after, page.limit] : [index, indexKey, page.limit];
    return statement.all(...args).map((r) => r.skey);
  }

  private rebuild(def: QueryIndexDef): void {
    this.db.prepare('DELETE FROM query_index WHERE name = ?').run(def.name);
    const scan = (op: '>=' | '>') => this.db.prepare<[string, string], { key: string; value: string }>(`SELECT key, value FROM state WHERE key ${op} ? AND key < ? ORDER BY key LIMIT ${REBUILD_CHUNK}`);
    const [first, next] = [scan('>='), scan('>')];
    const end = `${def.prefix}\uffff`;
    let rows = first.all(def.prefix, end);
    for (;;) {
      for (const row of rows) for (const k of def.keysOf(row.key, row.value)) this.put.run(def.name, k, row.key);
      if (rows.length < REBUILD_CHUNK) return;
      rows = next.all(rows[rows.length - 1]!.key, end);
    }
  }
}
