import type Database from 'better-sqlite3';

/**
 * Where a transaction's result is found by its hash (ADR 0026). Results are appended to `txs` in
 * block order (a few pages per block); the hash → row index is written in batches, sorted by hash,
 * with the state-tree rows (ADR 0016): an index maintained by SQLite on every insert put each
 * transaction's hash on a random page of a B-tree that grows with the whole history (one WAL frame,
 * and soon one disk read, per transaction). Rows not yet indexed are those after
 * `meta.txIndexedThrough`; a node keeps their hashes in memory and rebuilds that map at start.
 *
 * Databases created before keep their layout (`txs` keyed by hash, or with a UNIQUE hash index) and
 * SQLite's own index.
 */

/** Meta key of the last `txs.id` the `tx_index` table covers (decimal). */
export const TX_INDEXED_THROUGH_META = 'txIndexedThrough';

/** What holding one unindexed hash costs in memory (the string, the Map entry), order of magnitude. */
export const PENDING_TX_ENTRY_BYTES = 200;

export const TX_SCHEMA = `
CREATE TABLE IF NOT EXISTS txs (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, height INTEGER NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tx_index (hash TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface StoredTxRow {
  hash: string;
  height: number;
  idx: number;
  result: string;
}

/** 'batched': results by id, hashes indexed in batches; 'sqlite': a database written before, indexed by SQLite. */
export type TxLayout = 'batched' | 'sqlite';

export function txLayoutOf(db: Database.Database): TxLayout {
  const columns = db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'txs\')').all();
  return columns.some((c) => c.name === 'id') ? 'batched' : 'sqlite';
}

function indexedThrough(db: Database.Database): number {
  const value = db.prepare<[string], { value: Buffer }>('SELECT value FROM meta WHERE key = ?').get(TX_INDEXED_THROUGH_META)?.value;
  return value === undefined ? 0 : Number(value.toString('latin1'));
}

/**
 * Finds results by hash straight from a node's tables, without writing (the audit reads a running or
 * killed node's database): the index first, then the hashes of the rows it does not cover yet.
 */
export class StoredTxReader {
  readonly layout: TxLayout;
  /** The index (batched layout) or the table itself (SQLite's index). */
  private readonly byHash: Database.Statement<[string], StoredTxRow>;
  private readonly byIdStmt: Database.Statement<[number], StoredTxRow> | undefined;
  private unindexed: Map<string, number> | undefined;

  constructor(private readonly db: Database.Database) {
    this.layout = txLayoutOf(db);
    if (this.layout === 'batched') {
      this.byHash = db.prepare<[string], StoredTxRow>('SELECT t.hash, t.height, t.idx, t.result FROM tx_index i JOIN txs t ON t.id = i.id WHERE i.hash = ?');
      this.byIdStmt = db.prepare<[number], StoredTxRow>('SELECT hash, height, idx, result FROM txs WHERE id = ?');
    } else {
      this.byHash = db.prepare<[string], StoredTxRow>('SELECT hash, height, idx, result FROM txs WHERE hash = ?');
    }
  }

  /** A result the index covers (every result, for a database indexed by SQLite). */
  indexed(hash: string): StoredTxRow | undefined {
    return this.byHash.get(hash);
  }

  /**
   * Any stored result. The hashes the index does not cover yet are read on the first lookup that needs
   * them, and again when a hash is in neither (a running node has committed or indexed more since).
   */
  get(hash: string): StoredTxRow | undefined {
    const found = this.indexed(hash);
    if (found || this.layout === 'sqlite') return found;
    let id = this.unindexed?.get(hash);
    if (id === undefined) {
      this.unindexed = unindexedTxs(this.db);
      id = this.unindexed.get(hash);
    }
    return id === undefined ? this.indexed(hash) : this.byId(id);
  }

  /** A result by its row id (batched layout). */
  byId(id: number): StoredTxRow | undefined {
    return this.byIdStmt?.get(id);
  }
}

/** Hash → id of the rows the index does not cover yet. */
function unindexedTxs(db: Database.Database): Map<string, number> {
  const rows = db.prepare<[number], { id: number; hash: string }>('SELECT id, hash FROM txs WHERE id > ? ORDER BY id').iterate(indexedThrough(db));
  const out = new Map<string, number>();
  for (const row of rows) out.set(row.hash, row.id);
  return out;
}

/**
 * The node's writer side: appends results, holds the hashes of rows not yet indexed, and writes them
 * into the index in hash order when the storage writes its batch.
 */
export class TxIndex {
  private readonly reader: StoredTxReader;
  private readonly q;
  /** Hash → id of rows after meta.txIndexedThrough. */
  private readonly pending: Map<string, number>;

  constructor(
    db: Database.Database,
    /** The storage's own meta upsert, inside the batch's transaction. */
    private readonly putMeta: (key: string, value: Buffer) => void,
  ) {
    this.reader = new StoredTxReader(db);
    this.pending = this.reader.layout === 'batched' ? unindexedTxs(db) : new Map();
    this.q = {
      put: db.prepare<[string, number, number, string]>('INSERT INTO txs (hash, height, idx, result) VALUES (?, ?, ?, ?)'),
      index: db.prepare<[string, number]>('INSERT INTO tx_index (hash, id) VALUES (?, ?)'),
    };
  }

  get batched(): boolean {
    return this.reader.layout === 'batched';
  }

  /** Hashes waiting for the next batch, and what they cost in memory. */
  pendingStats(): { entries: number; bytes: number } {
    return { entries: this.pending.size, bytes: this.pending.size * PENDING_TX_ENTRY_BYTES };
  }

  /** What holding `count` more hashes would cost (nothing for a database indexed by SQLite). */
  bytesToHold(count: number): number {
    return this.batched ? count * PENDING_TX_ENTRY_BYTES : 0;
  }

  /** Inside a block's transaction: appends a result; returns what `hold` takes once the transaction committed. */
  append(hash: string, height: number, index: number, result: string): [string, number] {
    const id = Number(this.q.put.run(hash, height, index, result).lastInsertRowid);
    return [hash, id];
  }

  /** After a block's transaction: its rows wait for the next batch (batched layout). */
  hold(rows: ReadonlyArray<[string, number]>): void {
    if (!this.batched) return;
    for (const [hash, id] of rows) this.pending.set(hash, id);
  }

  /** Inside the batch's transaction: every held hash and the block's own, in hash order. */
  writeBatch(blockRows: ReadonlyArray<[string, number]>): void {
    if (!this.batched) return;
    const rows = [...this.pending, ...blockRows].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let last = -1;
    for (const [hash, id] of rows) {
      this.q.index.run(hash, id);
      if (id > last) last = id;
    }
    if (last >= 0) this.putMeta(TX_INDEXED_THROUGH_META, Buffer.from(String(last), 'latin1'));
  }

  /** After the batch's transaction committed. */
  dropPending(): void {
    this.pending.clear();
  }

  get(hash: string): StoredTxRow | undefined {
    const id = this.pending.get(hash);
    return id === undefined ? this.reader.indexed(hash) : this.reader.byId(id);
  }
}
