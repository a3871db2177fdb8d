import Database from 'better-sqlite3';
import { blockJson, resultJson, type Block, type Commit, type TxResult } from '../codec/block.js';
import { STATE_TREE_ROOT_META, type BlockCommitInput, type ChainStore } from '../app/host.js';
import type { ScanOptions } from '../app/state.js';
import { decodeRoot, encodeRoot, treeAfterWrittenKeys, treeOfEntries, type TreeReads } from '../app/state-tree.js';
import type { TreeUpdate } from '../app/smt.js';
import { BoundedCache } from '../util/bounded-cache.js';
import { ByteArena } from '../util/byte-arena.js';
import { TX_SCHEMA, TxIndex } from './tx-index.js';
import { QueryIndexes } from './query-index.js';
import type { QueryIndexDef, QueryIndexErrorSink, QueryIndexReader } from '../app/query-index.js';

/**
 * Embedded storage: one SQLite file (WAL, synchronous=FULL). A block, its results, its commit, the
 * state writes it caused and the state root are committed in one SQLite transaction, so a crash at
 * any moment leaves either the whole block or none of it. The state tree's rows (node-local, derived
 * from the state) follow in batches (ADR 0016): each block journals the keys it wrote instead, and a
 * start after a crash brings the rows up to date from the journal.
 */

export interface StoredTx {
  hash: string;
  height: number;
  index: number;
  result: TxResult;
}

/** What consensus needs of a stored block besides its transactions. */
export interface BlockInfo {
  hash: string;
  time: number;
  commit: Commit;
}

/** A key the database does not hold (lru-cache stores no null). */
const ABSENT = Symbol('absent');
type Cached<V> = V | typeof ABSENT;

/**
 * Bounds of the two read caches (issue 9: they were cleared only at 200,000 entries, so a soaking
 * node's heap grew with every new key read — ~3 cached reads per admitted transaction, ~330 B each —
 * for hours). Least recently used entries go first; each cache holds at most `entries` entries and
 * at most `bytes` of estimated size (key and value characters or bytes plus a fixed per-entry cost).
 */
export interface ReadCacheLimits {
  stateEntries: number;
  stateBytes: number;
  treeEntries: number;
  treeBytes: number;
}

/**
 * State: 20,000 entries (a few blocks' working sets of accounts, nonces and meters; measured ~330 B
 * of heap per entry, so ~7 MiB). Tree: 262,144 rows, at most ~192 MiB as estimated by
 * `treeRowCacheBytes` — a state of N entries has ~0.35 N rows (316,000 at 900,000 entries), and
 * every written key reads the rows on its path, so a cache that holds only the upper levels (the
 * former 8,192 rows: levels 0–3) sends each change deeper in the tree to SQLite: at 900,000 entries
 * the tree update took 244–296 µs per admission against 152–174 with this bound, for ~160 MiB more
 * resident memory (ADR 0030). The cache fills only as far as the tree has rows that blocks read, so
 * a small state costs nothing more.
 */
export const DEFAULT_READ_CACHE_LIMITS: ReadCacheLimits = {
  stateEntries: 20_000,
  stateBytes: 8 * 1024 * 1024,
  treeEntries: 262_144,
  treeBytes: 192 * 1024 * 1024,
};

/** Estimated bytes per cached tree row that the row bound assumes (the default: 262,144 rows in 192 MiB). */
const TREE_CACHE_BYTES_PER_ROW = 768;

/** The read-cache limits with a state-tree row cache of `mib` MiB (a node's `storage.treeCacheMiB`, ADR 0030). */
export function withTreeCacheMiB(mib: number, limits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS): ReadCacheLimits {
  const treeBytes = mib * 1024 * 1024;
  return { ...limits, treeBytes, treeEntries: Math.max(1, Math.floor(treeBytes / TREE_CACHE_BYTES_PER_ROW)) };
}

/**
 * Bytes of state-tree rows held in memory before they are written (ADR 0016): the copies made since
 * the last batch, rewritten rows' old ones included, and a Map entry per row (ADR 0025). A block of
 * ~90 transactions rewrites ~700 rows (~350 KB): written per block they were ~880 of its ~1,430 SQLite
 * pages; held for a few dozen blocks, the upper levels and shared pages are written once per batch.
 * 32 MiB: at 450,000–600,000 entries, 56–65 KiB written per admission against 69–84 with 16 MiB and
 * 46–55 with 64 MiB, whose slowest block took ~150 ms longer for no less CPU (ADR 0025).
 */
export const DEFAULT_TREE_FLUSH_BYTES = 32 * 1024 * 1024;

/**
 * WAL frames after which a commit copies the WAL into the database file (SQLite's default: 1,000).
 * A block of ~90 transactions appends ~400 frames, most of them pages written again a few blocks
 * later; checkpointing every ~20 blocks instead of every ~2.5 copies each such page once, and took
 * the block's COMMIT from 11–13 ms to 8–9 ms in process (ADR 0017). The WAL file grows to ~32 MiB.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 8000;

/**
 * SQLite's page cache per connection, in KiB (its default: 2,000 KiB). With the default a validator's
 * reads that miss the node's own caches (new keys, neighbour lookups, range scans) re-read B-tree pages
 * from the OS: a random point read over 200,000 entries took 7.3 µs, 2.9 µs with 64 MiB; in process,
 * a registry admission's handler 34–41 → 21–25 µs and commit.store ~10 % less with 32 MiB (ADR 0017).
 * The cache fills only as pages are read, so an idle node does not hold it.
 */
export const PAGE_CACHE_KIB = 32 * 1024;

/** Range-query statements with a literal limit kept per connection (see Storage.limitedScan). */
const SCAN_STATEMENTS = 32;

interface ScanRow {
  key: string;
  value: string;
}

/** Meta key of the root of the tree the `state_tree` table holds while the journal is not empty. */
export const STATE_TREE_ROWS_ROOT_META = 'stateTreeRowsRoot';

/** What a start found in the state-tree journal and did about it. */
export interface TreeRecovery {
  blocks: number;
  keys: number;
  /** 'journal': the rows brought up to date from the journal; 'rebuilt': from the whole state table. */
  how: 'journal' | 'rebuilt';
}

/** What a Map entry, the LRU's slot and a string header cost besides the characters (measured order of magnitude). */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * What a cached state-tree row costs besides its bytes and path: the LRU's slot, the array object and
 * its own backing store outside the JavaScript heap (measured on Node 20 over 300,000 rows: ~520 B).
 */
const TREE_ROW_OVERHEAD_BYTES = 520;

/** The estimated memory of a cached state-tree row (an absent row: its slot only). */
export function treeRowCacheBytes(path: string, row: Uint8Array | undefined): number {
  return row === undefined ? ENTRY_OVERHEAD_BYTES + path.length : TREE_ROW_OVERHEAD_BYTES + path.length + row.byteLength;
}

/**
 * When a batch of held rows is written (ADR 0016): each cached row the batch changed takes its final
 * version. Until then the held rows answer for their paths (both readers look there first), so a
 * cached row is refreshed once per batch, not at every block that rewrites it. The cache keeps a copy:
 * a block's rows are views into slabs shared with its other rows and encodings (smt.ts), and a cached
 * view would keep its whole slab alive for as long as the row stays cached (with a 262,144-row cache,
 * 1.2 GiB of buffers at 900,000 entries instead of 85 MiB: ADR 0030).
 */
export function refreshCachedTreeRows<Absent extends Uint8Array | symbol>(
  cache: BoundedCache<Uint8Array | Absent>,
  held: ReadonlyMap<string, Uint8Array | null>,
  blockRows: ReadonlyMap<string, Uint8Array | null>,
  absent: Absent,
): void {
  const refresh = (path: string, row: Uint8Array | null) => {
    if (cache.has(path)) cache.set(path, row === null ? absent : row.slice());
  };
  for (const [path, row] of held) if (!blockRows.has(path)) refresh(path, row);
  for (const [path, row] of blockRows) refresh(path, row);
}

/** The estimated memory of a cached state value (an absent key: its slot only). */
export function stateValueCacheBytes(key: string, value: string | undefined): number {
  return ENTRY_OVERHEAD_BYTES + key.length + (value === undefined ? 0 : value.length);
}

function stateReadCache(maxEntries: number, maxBytes: number): BoundedCache<Cached<string>> {
  return new BoundedCache<Cached<string>>(maxEntries, maxBytes, (value, key) => stateValueCacheBytes(key, value === ABSENT ? undefined : value));
}

/**
 * \`txs\` and its hash index: tx-index.ts (ADR 0026). Results are appended in block order (a few
 * pages per block); the hash index is written in batches with the state-tree rows. Databases created
 * before keep their layout: keyed by the hash (WITHOUT ROWID, before 2026-12-02: two pages per
 * transaction) or with a UNIQUE index on it (until 2026-12-04: one page per transaction).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, block TEXT NOT NULL, commit_json TEXT NOT NULL);
${TX_SCHEMA.trim()}
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_tree (path BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_tree_journal (height INTEGER PRIMARY KEY, keys TEXT NOT NULL);
`;

/** Journalled keys are printable ASCII (state.ts), so a newline separates them. */
const JOURNAL_SEPARATOR = '\n';

/** A Map entry, its path string and a row's view header besides the node bytes (order of magnitude). */
const PENDING_ROW_OVERHEAD_BYTES = 160;
/** Slabs for the copies of rows held in memory (a block's rows fill a few). */
const PENDING_ARENA_SLAB_BYTES = 256 * 1024;

/**
 * Reads what the state-tree journal needs straight from a node's tables, without caches and without
 * writing (start-up recovery, and the audit, which reads a running node's database).
 */
export class StoredTreeReader implements TreeReads {
  private readonly q;
  constructor(db: Database.Database) {
    this.q = {
      state: db.prepare<[string], { value: string }>('SELECT value FROM state WHERE key = ?'),
      after: db.prepare<[string], { key: string }>('SELECT key FROM state WHERE key > ? ORDER BY key LIMIT 1'),
      before: db.prepare<[string], { key: string }>('SELECT key FROM state WHERE key < ? ORDER BY key DESC LIMIT 1'),
      tree: db.prepare<[Buffer], { node: Buffer }>('SELECT node FROM state_tree WHERE path = ?'),
      meta: db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?'),
      journal: db.prepare<[], { keys: string }>('SELECT keys FROM state_tree_journal ORDER BY height'),
    };
  }
  getRaw(key: string): string | undefined {
    return this.q.state.get(key)?.value;
  }
  keyAfter(key: string): string | undefined {
    return this.q.after.get(key)?.key;
  }
  keyBefore(key: string): string | undefined {
    return this.q.before.get(key)?.key;
  }
  treeRow(path: string): Uint8Array | undefined {
    const row = this.q.tree.get(Buffer.from(path, 'latin1'))?.node;
    return row ? new Uint8Array(row.buffer, row.byteOffset, row.byteLength) : undefined;
  }
  getMeta(key: string): Buffer | undefined {
    return this.q.meta.get(key)?.value;
  }
  /** The union of the keys the journalled blocks wrote, and how many blocks. */
  journalKeys(): { blocks: number; keys: Set<string> } {
    const keys = new Set<string>();
    let blocks = 0;
    for (const row of this.q.journal.iterate()) {
      blocks++;
      if (row.keys !== '') for (const key of row.keys.split(JOURNAL_SEPARATOR)) keys.add(key);
    }
    return { blocks, keys };
  }
}

/**
 * A second, read-only connection to a node's database for the state-tree worker (ADR 0024). In WAL
 * mode its read transactions see the last committed block, whatever the node's own connection is
 * writing meanwhile.
 */
export class TreeSnapshotSource {
  private readonly db: Database.Database;
  private readonly reader: StoredTreeReader;
  private readonly q;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.reader = new StoredTreeReader(this.db);
    this.q = {
      begin: this.db.prepare('BEGIN'),
      end: this.db.prepare('ROLLBACK'),
      latest: this.db.prepare<[], { height: number | null }>('SELECT MAX(height) AS height FROM blocks'),
    };
  }

  /** Runs `read` in one read transaction, with the height and state root of the committed block it sees. */
  read<T>(read: (reader: StoredTreeReader, snapshot: { height: number; root: Buffer | undefined }) => T): T {
    this.q.begin.run();
    try {
      const height = this.q.latest.get()?.height ?? 0;
      return read(this.reader, { height, root: this.reader.getMeta(STATE_TREE_ROOT_META) });
    } finally {
      this.q.end.run();
    }
  }

  close(): void {
    this.db.close();
  }
}

/**
 * The rows the `state_tree` table lacks after blocks whose rows were still in memory when the
 * process stopped, or undefined when the table is up to date. Checked against the committed root.
 */
export function treeJournalUpdate(source: StoredTreeReader): { update: TreeUpdate; blocks: number; keys: number } | undefined {
  const { blocks, keys } = source.journalKeys();
  if (blocks === 0) return undefined;
  const rowsRoot = source.getMeta(STATE_TREE_ROWS_ROOT_META);
  if (!rowsRoot) throw new Error('storage: the state-tree journal has entries but no root for the stored rows');
  const update = treeAfterWrittenKeys(source, decodeRoot(new Uint8Array(rowsRoot)), keys);
  return { update, blocks, keys: keys.size };
}

/**
 * Told of every change to committed state and to the state-tree rows held in memory, in order
 * (ADR 0024: the state-tree worker mirrors the rows and keeps its caches exact with them, since its
 * own connection sees only the tables).
 */
export interface TreeRowsListener {
  /** A block committed its writes and rows: the rows joined those held in memory (`held`), or all held rows went to the table with them (`flushed`). */
  committed(block: { writes: ReadonlyMap<string, string | null>; rows: ReadonlyMap<string, Uint8Array | null>; held: boolean; flushed: boolean }): void;
  /** The rows held in memory were written to the table. */
  flushed(): void;
  /** Genesis was written: nothing cached or held applies any more. */
  reset(): void;
}

export class Storage implements ChainStore {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(
    path: string,
    /** Bounds of the read caches (the state-tree worker bounds its own alike). */
    readonly cacheLimits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS,
    readonly treeFlushBytes: number = DEFAULT_TREE_FLUSH_BYTES,
  ) {
    this.readCache = stateReadCache(cacheLimits.stateEntries, cacheLimits.stateBytes);
    this.treeCache = new BoundedCache<Cached<Uint8Array>>(cacheLimits.treeEntries, cacheLimits.treeBytes, (row, path) => treeRowCacheBytes(path, row === ABSENT ? undefined : row));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    this.db.exec(SCHEMA);
    this.stmts = {
      begin: this.db.prepare('BEGIN'),
      end: this.db.prepare('ROLLBACK'),
      getState: this.db.prepare<[string], { value: string }>('SELECT value FROM state WHERE key = ?'),
      putState: this.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      delState: this.db.prepare('DELETE FROM state WHERE key = ?'),
      putBlock: this.db.prepare('INSERT INTO blocks (height, hash, block, commit_json) VALUES (?, ?, ?, ?)'),
      getBlock: this.db.prepare<[number], { block: string; hash: string; commit_json: string }>('SELECT block, hash, commit_json FROM blocks WHERE height = ?'),
      latest: this.db.prepare<[], { height: number | null }>('SELECT MAX(height) AS height FROM blocks'),
      getBlockInfo: this.db.prepare<[number], { hash: string; time: number; commit_json: string }>("SELECT hash, json_extract(block, '$.header.time') AS time, commit_json FROM blocks WHERE height = ?"),
      getMeta: this.db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      allState: this.db.prepare<[], { key: string; value: string }>('SELECT key, value FROM state ORDER BY key'),
      keyAfter: this.db.prepare<[string], { key: string }>('SELECT key FROM state WHERE key > ? ORDER BY key LIMIT 1'),
      keyBefore: this.db.prepare<[string], { key: string }>('SELECT key FROM state WHERE key < ? ORDER BY key DESC LIMIT 1'),
      getTreeRow: this.db.prepare<[Buffer], { node: Buffer }>('SELECT node FROM state_tree WHERE path = ?'),
      putTreeRow: this.db.prepare('INSERT INTO state_tree (path, node) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET node = excluded.node'),
      delTreeRow: this.db.prepare('DELETE FROM state_tree WHERE path = ?'),
      clearTree: this.db.prepare('DELETE FROM state_tree'),
      putJournal: this.db.prepare('INSERT INTO state_tree_journal (height, keys) VALUES (?, ?)'),
      clearJournal: this.db.prepare('DELETE FROM state_tree_journal'),
    };
    try {
      this.txIndex = new TxIndex(this.db, (key, value) => this.stmts.putMeta.run(key, value));
      this.queryIndexes = new QueryIndexes(this.db, (key) => this.getRaw(key));
      this.treeRecovery = this.recoverTreeRows();
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** Writes the state-tree rows still in memory, then closes the database. */
  close(): void {
    if (this.db.open) this.flushTreeRows();
    this.db.close();
  }

  /**
   * Read-through cache of committed state (hot keys: accounts, nonces, meters). Kept exact: the
   * writes of every committed block update it in the same call that commits them. Bounded (LRU).
   */
  private readonly readCache: BoundedCache<Cached<string>>;
  private cachedHeight: number | undefined;

  /** Entries and estimated bytes of the two read caches (for /metrics). */
  cacheStats(): { state: { entries: number; bytes: number }; tree: { entries: number; bytes: number } } {
    return {
      state: { entries: this.readCache.size, bytes: this.readCache.bytes },
      tree: { entries: this.treeCache.size, bytes: this.treeCache.bytes },
    };
  }

  /** For code that writes the state table directly (genesis, bulk imports): forget cached reads. */
  clearReadCache(): void {
    this.readCache.clear();
    this.cachedHeight = undefined;
  }

  getRaw(key: string): string | undefined {
    const hit = this.readCache.get(key);
    if (hit !== undefined) return hit === ABSENT ? undefined : hit;
    const value = this.stmts.getState.get(key)?.value;
    this.readCache.set(key, value ?? ABSENT);
    return value;
  }

  private readonly limitedScans = new Map<string, Database.Statement<[string, string], ScanRow>>();
  private readonly boundScans = new Map<string, Database.Statement<[string, string, number], ScanRow>>();

  /**
   * The range query for an order and limit, with the limit written into the statement: bound as a
   * parameter, the same one-row range query took twice as long (15–16 µs against 8 µs over 200,000
   * entries; e.g. the energy module's link in force, once per meter reading). Queries use few limits
   * (1, page sizes, none); past SCAN_STATEMENTS distinct ones, undefined (then the limit is bound).
   */
  private limitedScan(order: 'ASC' | 'DESC', limit: number): Database.Statement<[string, string], ScanRow> | undefined {
    const name = `${order} ${limit}`;
    let stmt = this.limitedScans.get(name);
    if (!stmt && Number.isSafeInteger(limit) && this.limitedScans.size < SCAN_STATEMENTS) {
      stmt = this.db.prepare<[string, string], ScanRow>(`SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key ${order} LIMIT ${String(limit)}`);
      this.limitedScans.set(name, stmt);
    }
    return stmt;
  }

  private boundScan(order: 'ASC' | 'DESC'): Database.Statement<[string, string, number], ScanRow> {
    let stmt = this.boundScans.get(order);
    if (!stmt) {
      stmt = this.db.prepare<[string, string, number], ScanRow>(`SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key ${order} LIMIT ?`);
      this.boundScans.set(order, stmt);
    }
    return stmt;
  }

  scanRaw(prefix: string, options: ScanOptions = {}): Array<[string, string]> {
    const lower = options.start !== undefined && options.start > prefix ? options.start : prefix;
    const prefixEnd = prefix + '\uffff';
    const upper = options.end !== undefined && options.end < prefixEnd ? options.end : prefixEnd;
    const order = options.reverse ? 'DESC' : 'ASC';
    const limit = options.limit ?? -1;
    const rows = this.limitedScan(order, limit)?.all(lower, upper) ?? this.boundScan(order).all(lower, upper, limit);
    const out: Array<[string, string]> = [];
    for (const r of rows) if (r.key.startsWith(prefix)) out.push([r.key, r.value]);
    return out;
  }

  /**
   * Runs `read` as one SQLite read transaction. Outside a transaction every statement is its own, and
   * in WAL mode each one takes and releases its locks with system calls (~20 per registry admission
   * while executing a block, measured with strace); one transaction over a block's thousands of reads
   * takes them once. `read` must not write (the transaction is rolled back). Inside a transaction it simply runs.
   */
  readTransaction<T>(read: () => T): T {
    if (this.db.inTransaction) return read();
    this.stmts.begin.run();
    this.reading = true;
    try {
      return read();
    } finally {
      this.reading = false;
      this.stmts.end.run();
    }
  }

  private reading = false;

  /** A write inside a read transaction would be rolled back with it: a bug, refused loudly. */
  private refuseWriteWhileReading(what: string): void {
    if (this.reading) throw new Error(`storage: ${what} inside a read transaction`);
  }

  /** The smallest committed key greater than `key` (the state tree's key order). */
  keyAfter(key: string): string | undefined {
    return this.stmts.keyAfter.get(key)?.key;
  }

  /** The largest committed key smaller than `key`. */
  keyBefore(key: string): string | undefined {
    return this.stmts.keyBefore.get(key)?.key;
  }

  /**
   * Cache of the state tree's inner nodes (ADR 0012) by path: the upper levels are read by every
   * block (and so stay in the LRU). Kept exact like the state cache: a committed block's nodes
   * update it after its transaction.
   */
  private readonly treeCache: BoundedCache<Cached<Uint8Array>>;

  treeRow(path: string): Uint8Array | undefined {
    const pending = this.pendingTree.get(path);
    if (pending !== undefined) return pending ?? undefined;
    const hit = this.treeCache.get(path);
    if (hit !== undefined) return hit === ABSENT ? undefined : hit;
    const row = this.stmts.getTreeRow.get(Buffer.from(path, 'latin1'))?.node;
    const node = row ? new Uint8Array(row.buffer, row.byteOffset, row.byteLength) : undefined;
    this.treeCache.set(path, node ?? ABSENT);
    return node;
  }

  /**
   * Committed state-tree rows not yet in the `state_tree` table (ADR 0016), by path (null: deleted).
   * Read before the cache and the table; written in batches.
   */
  private readonly pendingTree = new Map<string, Uint8Array | null>();
  /**
   * Copies of the rows held: a block's rows are views into slabs shared with its other rows and
   * their encodings (smt.ts), so holding them as they come would keep every block's slabs alive until
   * the batch is written (measured: 345 MiB of buffers for a 64 MiB bound). Rewritten rows' old copies
   * stay until the batch, and are counted.
   */
  private readonly pendingArena = new ByteArena(PENDING_ARENA_SLAB_BYTES);
  /** Every copy made since the last batch (rewritten rows' old ones too) and a Map entry per row. */
  private get pendingTreeBytes(): number {
    return this.pendingArena.bytesHandedOut() + this.pendingTree.size * PENDING_ROW_OVERHEAD_BYTES;
  }
  /** What the next batch writes, tree rows and transaction hashes (ADR 0026) alike, against `treeFlushBytes`. */
  private get pendingBatchBytes(): number {
    return this.pendingTreeBytes + this.txIndex.pendingStats().bytes;
  }
  /** Blocks whose written keys are in the journal (those since the last batch of rows). */
  private journalledBlocks = 0;
  /** Results by transaction hash, the index written in batches (ADR 0026). */
  private readonly txIndex: TxIndex;
  /** The node's query-only indexes (ADR 0029 point 1); `useQueryIndexes` names them. */
  private readonly queryIndexes: QueryIndexes;

  /** Takes the modules' query-only indexes: builds those missing or outdated, drops those no longer declared. */
  useQueryIndexes(defs: readonly QueryIndexDef[], onError?: QueryIndexErrorSink): { rebuilt: string[]; dropped: string[] } {
    this.refuseWriteWhileReading('useQueryIndexes');
    return this.queryIndexes.use(defs, onError);
  }

  /** Reads a query-only index (for query contexts over committed state). */
  readonly queryIndex: QueryIndexReader = { stateKeys: (index, indexKey, page) => this.queryIndexes.stateKeys(index, indexKey, page) };
  /** What opening the database did with a non-empty journal (a crash with rows in memory). */
  readonly treeRecovery: TreeRecovery | undefined;

  /** Rows held in memory and the bytes they take (for /metrics and tests). */
  pendingTreeStats(): { rows: number; bytes: number; journalledBlocks: number } {
    return { rows: this.pendingTree.size, bytes: this.pendingTreeBytes, journalledBlocks: this.journalledBlocks };
  }

  /** Transaction hashes waiting for the next batch to be indexed (ADR 0026; for /metrics and tests). */
  pendingTxIndexStats(): { entries: number; bytes: number } {
    return this.txIndex.pendingStats();
  }

  /** Writes the rows held in memory to the `state_tree` table, empties the journal and indexes the held transaction hashes. */
  flushTreeRows(): void {
    this.refuseWriteWhileReading('flushTreeRows');
    if (this.journalledBlocks === 0 && this.pendingTree.size === 0 && this.txIndex.pendingStats().entries === 0) return;
    this.db.transaction(() => {
      this.writePendingTreeRows(new Map());
      this.txIndex.writeBatch([]);
    })();
    refreshCachedTreeRows(this.treeCache, this.pendingTree, new Map(), ABSENT);
    this.dropPendingBatch();
    this.treeRowsListener?.flushed();
  }

  /**
   * At open: blocks committed after the last batch of rows left their written keys in the journal;
   * their rows are recomputed from the state table and checked against the committed root. If that
   * fails (a damaged journal), the whole tree is rebuilt from the state table and checked again.
   * Read straight from the tables (the same reader the audit uses), so no cache holds a stale row.
   */
  private recoverTreeRows(): TreeRecovery | undefined {
    const found = treeJournalUpdate(new StoredTreeReader(this.db));
    if (!found) return undefined;
    const committed = this.getMeta(STATE_TREE_ROOT_META);
    if (committed && Buffer.compare(Buffer.from(rootBytes(found.update)), committed) === 0) {
      this.db.transaction(() => {
        this.writeTreeRows(found.update.rows);
        this.stmts.clearJournal.run();
      })();
      return { blocks: found.blocks, keys: found.keys, how: 'journal' };
    }
    const rebuilt = treeOfEntries(this.allState());
    if (!committed || Buffer.compare(Buffer.from(rootBytes(rebuilt)), committed) !== 0) {
      throw new Error('storage: the state table does not match the committed state root (the database is damaged)');
    }
    this.db.transaction(() => {
      this.stmts.clearTree.run();
      this.writeTreeRows(rebuilt.rows);
      this.stmts.clearJournal.run();
    })();
    return { blocks: found.blocks, keys: found.keys, how: 'rebuilt' };
  }

  /** Inside a block's transaction: every row held in memory, then the block's own, and no journal. */
  private writePendingTreeRows(blockRows: ReadonlyMap<string, Uint8Array | null>): void {
    const rows = new Map(this.pendingTree);
    for (const [path, node] of blockRows) rows.set(path, node);
    // In key order (latin1 strings compare as their bytes do), the B-tree's pages are visited once each.
    const paths = [...rows.keys()].sort();
    for (const path of paths) this.writeTreeRow(path, rows.get(path) ?? null);
    this.stmts.clearJournal.run();
  }

  /**
   * Told of every change to the rows held in memory, in order (ADR 0024: the state-tree worker keeps
   * a copy of them, since its own connection sees only the table).
   */
  treeRowsListener: TreeRowsListener | undefined;

  private dropPendingBatch(): void {
    this.txIndex.dropPending();
    this.pendingTree.clear();
    this.pendingArena.reset();
    this.journalledBlocks = 0;
  }

  /** After a block's transaction: copies of its rows join those held in memory. */
  private holdTreeRows(rows: ReadonlyMap<string, Uint8Array | null>): void {
    for (const [path, node] of rows) this.pendingTree.set(path, node && this.pendingArena.copy(node));
  }

  private writeTreeRow(path: string, node: Uint8Array | null): void {
    const key = Buffer.from(path, 'latin1');
    if (node === null) this.stmts.delTreeRow.run(key);
    else this.stmts.putTreeRow.run(key, Buffer.from(node.buffer, node.byteOffset, node.byteLength));
  }

  private writeTreeRows(rows: ReadonlyMap<string, Uint8Array | null>): void {
    for (const [path, node] of rows) this.writeTreeRow(path, node);
  }

  /** Every state entry in key order (for recomputing the state root from storage). */
  *allState(): IterableIterator<[string, string]> {
    for (const row of this.stmts.allState.iterate()) yield [row.key, row.value];
  }

  getMeta(key: string): Buffer | undefined {
    return this.stmts.getMeta.get(key)?.value;
  }

  putMeta(key: string, value: Buffer | string): void {
    this.refuseWriteWhileReading('putMeta');
    this.stmts.putMeta.run(key, value);
  }

  latestHeight(): number {
    this.cachedHeight ??= this.stmts.latest.get()?.height ?? 0;
    return this.cachedHeight;
  }

  /**
   * A stored block's hash, time and commit without parsing the block: consensus asks for the previous
   * block's at every height and the status route for the latest hash, and a block of a thousand
   * transactions is ~0.5 MB of JSON (parsing it for its hash was ~5 KB of garbage per transaction).
   * The latest committed block's are kept from its commit.
   */
  blockInfo(height: number): BlockInfo | undefined {
    if (this.latestInfo?.height === height) return this.latestInfo.info;
    const row = this.stmts.getBlockInfo.get(height);
    return row ? { hash: row.hash, time: row.time, commit: JSON.parse(row.commit_json) as Commit } : undefined;
  }

  private latestInfo: { height: number; info: BlockInfo } | undefined;

  getBlock(height: number): { block: Block; hash: string; commit: Commit } | undefined {
    const row = this.stmts.getBlock.get(height);
    if (!row) return undefined;
    return { block: JSON.parse(row.block) as Block, hash: row.hash, commit: JSON.parse(row.commit_json) as Commit };
  }

  getTx(hash: string): StoredTx | undefined {
    const row = this.txIndex.get(hash);
    if (!row) return undefined;
    return { hash: row.hash, height: row.height, index: row.idx, result: JSON.parse(row.result) as TxResult };
  }

  /** Writes genesis state and its metadata into an empty database, atomically. */
  writeGenesis(entries: Map<string, string | null>, meta: Array<[string, Buffer | string]>, treeRows: ReadonlyMap<string, Uint8Array | null> = new Map()): void {
    this.refuseWriteWhileReading('writeGenesis');
    this.dropPendingBatch();
    this.treeRowsListener?.reset();
    this.db.transaction(() => {
      this.stmts.clearJournal.run();
      this.queryIndexes.apply(entries);
      for (const [k, v] of entries) if (v !== null) this.stmts.putState.run(k, v);
      for (const [k, v] of meta) this.stmts.putMeta.run(k, v);
      this.writeTreeRows(treeRows);
    })();
    this.clearReadCache();
    this.treeCache.clear();
  }

  /**
   * Writes one block with everything it caused, atomically. Its state-tree rows are held in memory
   * and its written keys journalled, until the rows held reach `treeFlushBytes`: then this block's
   * transaction writes them all and empties the journal.
   */
  commitBlock(input: BlockCommitInput): void {
    this.refuseWriteWhileReading('commitBlock');
    const blockRows = input.stateTree.rows;
    const flush = this.pendingBatchBytes + estimatedRowBytes(blockRows) + this.txIndex.bytesToHold(input.txHashes.length) >= this.treeFlushBytes;
    let txRows: Array<[string, number]> = [];
    const tx = this.db.transaction(() => {
      const { block } = input;
      this.stmts.putBlock.run(block.header.height, input.hash, blockJson(block), JSON.stringify(input.commit));
      txRows = input.txHashes.map((hash, i) => this.txIndex.append(hash, block.header.height, i, resultJson(input.results[i]!)));
      // Before the state rows change: the index rows of the values they replace are found from them.
      this.queryIndexes.apply(input.writes);
      for (const [key, value] of input.writes) {
        if (value === null) this.stmts.delState.run(key);
        else this.stmts.putState.run(key, value);
      }
      if (flush) {
        this.writePendingTreeRows(blockRows);
        this.txIndex.writeBatch(txRows);
      } else if (blockRows.size > 0) this.journal(block.header.height, input.writes);
      this.stmts.putMeta.run(STATE_TREE_ROOT_META, Buffer.from(input.stateTree.root));
      for (const [k, v] of input.meta ?? []) this.stmts.putMeta.run(k, v);
    });
    tx();
    this.cachedHeight = input.block.header.height;
    this.latestInfo = { height: input.block.header.height, info: { hash: input.hash, time: input.block.header.time, commit: input.commit } };
    for (const [key, value] of input.writes) if (this.readCache.has(key)) this.readCache.set(key, value ?? ABSENT);
    if (flush) {
      refreshCachedTreeRows(this.treeCache, this.pendingTree, blockRows, ABSENT);
      this.dropPendingBatch();
    } else this.txIndex.hold(txRows);
    if (!flush && blockRows.size > 0) {
      this.holdTreeRows(blockRows);
      this.journalledBlocks++;
    }
    this.treeRowsListener?.committed({ writes: input.writes, rows: blockRows, held: !flush && blockRows.size > 0, flushed: flush });
  }

  /**
   * Inside a block's transaction: the keys it wrote. The first journalled block also records the
   * root of the tree the table holds (the committed root before this block).
   */
  private journal(height: number, writes: ReadonlyMap<string, string | null>): void {
    if (this.journalledBlocks === 0) {
      const rowsRoot = this.getMeta(STATE_TREE_ROOT_META);
      if (!rowsRoot) throw new Error('storage: no committed state root before the first journalled block');
      this.stmts.putMeta.run(STATE_TREE_ROWS_ROOT_META, rowsRoot);
    }
    this.stmts.putJournal.run(height, [...writes.keys()].join(JOURNAL_SEPARATOR));
  }
}

function estimatedRowBytes(rows: ReadonlyMap<string, Uint8Array | null>): number {
  let bytes = 0;
  for (const node of rows.values()) bytes += PENDING_ROW_OVERHEAD_BYTES + (node?.byteLength ?? 0);
  return bytes;
}

function rootBytes(update: TreeUpdate): Uint8Array {
  return encodeRoot(update.root);
}

