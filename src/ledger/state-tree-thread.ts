import { applyWritesToTree, decodeRoot, encodeRoot, type TreeReads } from '../app/state-tree.js';
import { DEFAULT_READ_CACHE_LIMITS, refreshCachedTreeRows, stateValueCacheBytes, treeRowCacheBytes, type ReadCacheLimits, type StoredTreeReader, type TreeSnapshotSource } from '../store/sqlite.js';
import { BoundedCache } from '../util/bounded-cache.js';
import { packTree } from './tree-rows-wire.js';

/**
 * The state-tree worker's side (ADR 0024): computes a block's state-tree update from the block's
 * writes, reading committed state through its own read-only connection. The rows the node holds in
 * memory instead of the table (ADR 0016) are mirrored here, and two read caches (tree rows and
 * state values, as the node's storage keeps) are kept exact, from the node's `committed`, `flushed`
 * and `reset` messages, which arrive in the order the node's storage changed. Every answer is checked
 * against the snapshot it read: if the node committed something the request did not build on, the
 * answer is `stale` (nothing read) and the node computes the tree itself; a mirror that lost track
 * refuses every request, and the node stops using the worker.
 */

type Rows = ReadonlyMap<string, Uint8Array | null>;
type Writes = ReadonlyMap<string, string | null>;

export type TreeThreadRequest =
  | { readonly type: 'compute'; readonly id: number; readonly height: number; readonly parentRoot: Uint8Array; readonly writes: Writes }
  /** A block was committed: its writes and rows are those of answer `id`, or given. */
  | { readonly type: 'committed'; readonly id?: number; readonly writes?: Writes; readonly rows?: Rows; readonly held: boolean; readonly flushed: boolean }
  /** The rows held in memory were written to the table. */
  | { readonly type: 'flushed' }
  /** Genesis was written: forget everything. */
  | { readonly type: 'reset' };

export type TreeThreadReply =
  | { readonly type: 'computed'; readonly id: number; readonly packed: ArrayBuffer }
  /** Committed state moved on since the request (a race the node expects): compute this one yourself. */
  | { readonly type: 'stale'; readonly id: number; readonly reason: string }
  /** This worker can no longer be trusted (its mirror lost track, or it failed): stop asking it. */
  | { readonly type: 'refused'; readonly id: number; readonly reason: string };

/** Answers kept for a later `committed` by id: the node commits one of its last few proposals. */
const KEPT_ANSWERS = 8;

/** Cached absence (the caches hold no null). */
const NO_ROW = new Uint8Array(0);
const NO_VALUE: unique symbol = Symbol('absent');

export class TreeThread {
  private readonly pending = new Map<string, Uint8Array | null>();
  private readonly answers = new Map<number, { writes: Writes; rows: Rows }>();
  private readonly rowCache: BoundedCache<Uint8Array>;
  private readonly valueCache: BoundedCache<string | typeof NO_VALUE>;
  /** Set when the mirror can no longer be trusted: every later request is refused. */
  private broken: string | undefined;

  /** `limits`: the node storage's, so the worker's caches are bounded alike. */
  constructor(
    private readonly source: TreeSnapshotSource,
    limits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS,
  ) {
    this.rowCache = new BoundedCache<Uint8Array>(limits.treeEntries, limits.treeBytes, (row, path) => treeRowCacheBytes(path, row === NO_ROW ? undefined : row));
    this.valueCache = new BoundedCache<string | typeof NO_VALUE>(limits.stateEntries, limits.stateBytes, (value, key) => stateValueCacheBytes(key, value === NO_VALUE ? undefined : value));
  }

  handle(request: TreeThreadRequest): TreeThreadReply | undefined {
    switch (request.type) {
      case 'compute':
        return this.compute(request);
      case 'committed':
        this.committed(request);
        return undefined;
      case 'flushed':
        this.flushed(new Map());
        return undefined;
      case 'reset':
        this.pending.clear();
        this.rowCache.clear();
        this.valueCache.clear();
        this.answers.clear();
        this.broken = undefined;
        return undefined;
    }
  }

  private compute(request: Extract<TreeThreadRequest, { type: 'compute' }>): TreeThreadReply {
    const { id } = request;
    if (this.broken) return { type: 'refused', id, reason: this.broken };
    return this.source.read((reader, snapshot) => {
      if (snapshot.height !== request.height - 1) return { type: 'stale', id, reason: `committed height ${snapshot.height}, not ${request.height - 1}` };
      if (!snapshot.root || Buffer.compare(snapshot.root, request.parentRoot) !== 0) return { type: 'stale', id, reason: 'committed state root differs' };
      const update = applyWritesToTree(this.committedView(reader), decodeRoot(request.parentRoot), request.writes);
      this.keep(id, { writes: request.writes, rows: update.rows });
      return { type: 'computed', id, packed: packTree({ root: encodeRoot(update.root), rows: update.rows }) };
    });
  }

  /** The committed tree and state as the node sees them: rows held in memory first, then the caches, then the tables. */
  private committedView(reader: StoredTreeReader): TreeReads {
    return {
      getRaw: (key) => {
        let value = this.valueCache.get(key);
        if (value === undefined) this.valueCache.set(key, (value = reader.getRaw(key) ?? NO_VALUE));
        return value === NO_VALUE ? undefined : value;
      },
      keyAfter: (key) => reader.keyAfter(key),
      keyBefore: (key) => reader.keyBefore(key),
      treeRow: (path) => {
        const held = this.pending.get(path);
        if (held !== undefined) return held ?? undefined;
        let row = this.rowCache.get(path);
        if (row === undefined) this.rowCache.set(path, (row = reader.treeRow(path) ?? NO_ROW));
        return row === NO_ROW ? undefined : row;
      },
    };
  }

  private keep(id: number, answer: { writes: Writes; rows: Rows }): void {
    this.answers.set(id, answer);
    for (const old of this.answers.keys()) {
      if (this.answers.size <= KEPT_ANSWERS) break;
      this.answers.delete(old);
    }
  }

  /** The held rows (and a flushing block's own) went to the table: the cache takes them, as the storage's does. */
  private flushed(blockRows: Rows): void {
    refreshCachedTreeRows(this.rowCache, this.pending, blockRows, NO_ROW);
    this.pending.clear();
  }

  /** Keeps the mirror and the caches what the node's storage now holds. */
  private committed(request: Extract<TreeThreadRequest, { type: 'committed' }>): void {
    const known = request.id !== undefined ? this.answers.get(request.id) : undefined;
    const writes = request.writes ?? known?.writes;
    const rows = request.rows ?? known?.rows;
    if (!writes || !rows) {
      this.broken = `the block of answer ${String(request.id)} is no longer known`;
      return;
    }
    for (const [key, value] of writes) if (this.valueCache.has(key)) this.valueCache.set(key, value ?? NO_VALUE);
    if (request.flushed) this.flushed(rows);
    else if (request.held) for (const [path, node] of rows) this.pending.set(path, node);
  }
}
