import type { ModuleQueryIndex } from './query-index.js';
import { padKey, type KVStore } from './state.js';

/**
 * Typed collections over a module's store: one object per kind of record, so state files stop
 * hand-rolling key building, lookups, range scans and pagination. Keys are the prefix followed by
 * the record's id parts joined with "/"; whole numbers in ids are zero-padded to 16 digits so
 * lexical order is numeric order.
 */

export type KeyPart = string | number;

/** Encodes id parts as a key suffix: strings as they are, numbers zero-padded. */
export function keyOf(parts: readonly KeyPart[]): string {
  return parts.map((p) => (typeof p === 'number' ? padKey(p) : p)).join('/');
}

export interface Page<T> {
  items: T[];
  /** Id to pass as `after` for the next page; undefined on the last page. */
  next?: string;
}

export class Collection<T> {
  /** `prefix` ends with "/" and lies under the module's own prefix, e.g. "metering/meter/". */
  constructor(readonly prefix: string) {
    if (!prefix.endsWith('/')) throw new Error(`collection prefix ${prefix} must end with "/"`);
  }

  key(...id: KeyPart[]): string {
    return this.prefix + keyOf(id);
  }

  get(store: KVStore, ...id: KeyPart[]): T | undefined {
    return store.get<T>(this.key(...id));
  }

  has(store: KVStore, ...id: KeyPart[]): boolean {
    return store.has(this.key(...id));
  }

  put(store: KVStore, value: T, ...id: KeyPart[]): void {
    store.set(this.key(...id), value);
  }

  delete(store: KVStore, ...id: KeyPart[]): void {
    store.delete(this.key(...id));
  }

  /** Records whose id starts with `within` (all when empty), in key order; `from`/`to` bound the next id part [from, to). */
  list(store: KVStore, within: readonly KeyPart[] = [], range: { from?: KeyPart; to?: KeyPart; limit?: number; reverse?: boolean } = {}): T[] {
    return this.entries(store, within, range).map(([, v]) => v);
  }

  /** Like `list`, with each record's id (the key without the prefix). */
  entries(store: KVStore, within: readonly KeyPart[] = [], range: { from?: KeyPart; to?: KeyPart; limit?: number; reverse?: boolean } = {}): Array<[string, T]> {
    const base = within.length > 0 ? `${this.prefix}${keyOf(within)}/` : this.prefix;
    return store
      .scan<T>(base, {
        ...(range.from !== undefined ? { start: base + keyOf([range.from]) } : {}),
        ...(range.to !== undefined ? { end: base + keyOf([range.to]) } : {}),
        ...(range.limit !== undefined ? { limit: range.limit } : {}),
        ...(range.reverse ? { reverse: true } : {}),
      })
      .map(([k, v]) => [k.slice(this.prefix.length), v]);
  }

  /** The first `limit` records that `keep` accepts, in id order or newest first (see firstMatching below). */
  firstMatching(store: KVStore, keep: Keep<T>, options: FirstMatchingOptions): T[] {
    return firstMatching(store, this.prefix, keep, options);
  }

  /** One page of the records `keep` accepts, in id order after `after` (exclusive); see matchingPage below. */
  matchingPage(store: KVStore, keep: Keep<T>, options: PageOptions): Page<T> {
    return matchingPage(store, this.prefix, keep, options);
  }

  /**
   * One page of the records a query-only index files under `indexKey` (ADR 0029 point 1), in id order
   * after `after` (exclusive, a key suffix as matchingPage's cursor): the same answer matchingPage
   * gives for the filter the index serves, read in O(page) rows instead of a bounded scan, so a page
   * is short only at the end. Each record is read from the state and checked with `keep` again.
   */
  indexedPage(store: KVStore, index: ModuleQueryIndex, name: string, indexKey: string, keep: Keep<T>, options: Omit<PageOptions, 'maxRows'>): Page<T> {
    const keys = index.stateKeys(name, indexKey, { limit: options.limit + 1, ...(options.after !== undefined ? { after: this.prefix + options.after } : {}), ...(options.reverse ? { reverse: true } : {}) });
    const items: T[] = [];
    for (const key of keys.slice(0, options.limit)) {
      const value = store.get<T>(key);
      if (value !== undefined && keep(value, key.slice(this.prefix.length))) items.push(value);
    }
    return keys.length > options.limit ? { items, next: keys[options.limit - 1]!.slice(this.prefix.length) } : { items };
  }

  /** One page in id order after `after` (exclusive): the pagination cursor of list routes. */
  page(store: KVStore, options: { after?: string; limit: number }): Page<T> {
    const start = options.after !== undefined ? `${this.prefix}${options.after}\u0000` : undefined;
    const rows = store.scan<T>(this.prefix, { ...(start ? { start } : {}), limit: options.limit + 1 });
    const items = rows.slice(0, options.limit).map(([, v]) => v);
    const last = rows.length > options.limit ? rows[options.limit - 1] : undefined;
    return { items, ...(last ? { next: last[0].slice(this.prefix.length) } : {}) };
  }
}

export interface FirstMatchingOptions {
  limit: number;
  reverse?: boolean;
  /** Key suffixes bounding the read: from (inclusive) … to (exclusive), e.g. keyOf([fromSlot]). */
  from?: string;
  to?: string;
  /** Rows read per scan (default: the limit, between 16 and 256 — an unfiltered list reads once). */
  chunk?: number;
}

/**
 * The first `limit` values under `prefix` (in key order, or descending with `reverse`) that `keep`
 * accepts, read `chunk` rows at a time: a filtered list route reads until it has enough, not the
 * whole prefix (a filter that matches rarely still reads on, up to everything).
 */
export function firstMatching<T>(store: KVStore, prefix: string, keep: Keep<T>, options: FirstMatchingOptions): T[] {
  return readMatching(store, prefix, keep, options).found.map(([, value]) => value);
}

/**
 * One page of the values under `prefix` that `keep` accepts, in key order (or descending with
 * `reverse`) after the key suffix `after` (exclusive); `next` is the suffix to continue after when
 * more may follow (one match beyond the page is read to know). With `maxRows`, a request reads at
 * most that many rows: a rare filter then answers a short (even empty) page whose `next` is the last
 * key read, so the work per request stays bounded and the client pages on to the end.
 */
export function matchingPage<T>(store: KVStore, prefix: string, keep: Keep<T>, options: PageOptions): Page<T> {
  // `after` is exclusive: forward, reading starts just past it; newest first (reverse), just below it
  const cursor = options.after === undefined ? {} : options.reverse ? { to: options.after } : { from: `${options.after}\u0000` };
  const read = readMatching(store, prefix, keep, { limit: options.limit + 1, ...cursor, ...(options.reverse ? { reverse: true } : {}), ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}) });
  const items = read.found.slice(0, options.limit).map(([, value]) => value);
  if (read.found.length > options.limit) return { items, next: read.found[options.limit - 1]![0] };
  return { items, ...(read.stoppedAt !== undefined ? { next: read.stoppedAt } : {}) };
}

/** Rows a filtered list request reads at most where no index serves the filter (a rare match answers a short page with `next`). */
export const FILTER_SCAN_ROWS = 10_000;

export interface PageOptions {
  /** The previous page's `next` (exclusive). */
  after?: string;
  limit: number;
  /** Descending key order (newest first for height-keyed records). */
  reverse?: boolean;
  /** Rows a request reads at most; a short page then ends at the last row read. */
  maxRows?: number;
}

/** A list filter: the value, and its key without the prefix (for filters on what the key encodes). */
export type Keep<T> = (value: T, key: string) => boolean;

/**
 * The matches (key suffix, value) read chunk by chunk; `stoppedAt` is the last key suffix read when
 * `maxRows` ended the read before the prefix or range did.
 */
function readMatching<T>(store: KVStore, prefix: string, keep: Keep<T>, options: FirstMatchingOptions & { maxRows?: number }): { found: Array<[string, T]>; stoppedAt?: string } {
  const chunk = options.chunk ?? Math.min(256, Math.max(16, options.limit));
  const maxRows = options.maxRows ?? Infinity;
  const found: Array<[string, T]> = [];
  let start = options.from !== undefined ? prefix + options.from : undefined;
  let end = options.to !== undefined ? prefix + options.to : undefined;
  let rowsRead = 0;
  while (found.length < options.limit) {
    const want = Math.min(chunk, maxRows - rowsRead);
    const rows = store.scan<T>(prefix, { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}), limit: want, ...(options.reverse ? { reverse: true } : {}) });
    rowsRead += rows.length;
    for (const [key, value] of rows) {
      if (found.length >= options.limit) break;
      const suffix = key.slice(prefix.length);
      if (keep(value, suffix)) found.push([suffix, value]);
    }
    if (rows.length < want) break;
    const last = rows[rows.length - 1]![0];
    if (rowsRead >= maxRows) return found.length < options.limit ? { found, stoppedAt: last.slice(prefix.length) } : { found };
    // forward: from just after the last key; reverse: below it (end is exclusive)
    if (options.reverse) end = last;
    else start = `${last}\u0000`;
  }
  return { found };
}

export function collection<T>(prefix: string): Collection<T> {
  return new Collection<T>(prefix);
}
