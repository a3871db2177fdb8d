import { createHash } from 'node:crypto';
import { DOMAIN, domainBytes, sha256 } from '../crypto/hash.js';
import { toHex } from '../util/bytes.js';
import { canonicalJson } from '../util/canonical.js';
import { defineErrors } from '../util/errors.js';
import { lowerBound } from '../util/sorted.js';

export const STATE_ERRORS = defineErrors('state', {
  STATE_KEY_INVALID: { meaning: 'identifiers used in state keys must be printable ASCII, at most 512 characters in all' },
  STATE_FORMAT_OUTDATED: { status: 500, meaning: 'the database was written with the LtHash state root (before ADR 0012); the chain restarts from a new genesis' },
});

/**
 * Application state is an ordered key → value map. Keys are strings built by each module under its
 * own prefix ("registry/account/grid1…"); values are canonical JSON. Numbers inside keys are
 * zero-padded so lexical order equals numeric order and range scans work.
 */

export interface ScanOptions {
  /** inclusive lower bound (full key); defaults to the prefix */
  start?: string;
  /** exclusive upper bound (full key) */
  end?: string;
  limit?: number;
  reverse?: boolean;
}

export interface StateReader {
  getRaw(key: string): string | undefined;
  /** Sorted by key (descending when reverse). */
  scanRaw(prefix: string, options?: ScanOptions): Array<[string, string]>;
}

/** Typed access for modules: JSON values in, JSON values out. */
export interface KVStore {
  get<T>(key: string): T | undefined;
  has(key: string): boolean;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  scan<T>(prefix: string, options?: ScanOptions): Array<[string, T]>;
  /** A value's stored text (its canonical JSON), for code that edits large values without parsing them. */
  getEncoded(key: string): string | undefined;
  /**
   * Stores `json` as the value's text. It must be exactly `canonicalJson` of a value (state roots hash
   * this text): only for builders that produce canonical text by construction and are tested against it.
   */
  setEncoded(key: string, json: string): void;
}

const STATE_KEY_RE = /^[\x20-\x7e]{1,512}$/;

/**
 * State keys are printable ASCII (up to 512 chars): SQLite orders them bytewise and JavaScript by
 * UTF-16 code units, which agree only for ASCII, and range scans rely on that order.
 */
export function assertStateKey(key: string): void {
  if (!STATE_KEY_RE.test(key)) throw STATE_ERRORS.STATE_KEY_INVALID('identifiers used in state keys must be printable ASCII, at most 512 characters in all');
}

/** Pads a non-negative integer so that lexical order equals numeric order inside keys. */
export function padKey(n: number | bigint, width = 16): string {
  return n.toString().padStart(width, '0');
}


/** Up to this many keys written since the last scan are inserted one by one; more are merged. */
const FEW_FRESH_KEYS = 16;

/** Inserts a key that is not in it yet into a sorted array (binary search; appending is the common case). */
function insertSorted(keys: string[], key: string): void {
  const last = keys.length - 1;
  keys.splice(last >= 0 && keys[last]! < key ? keys.length : lowerBound(keys, key), 0, key);
}

/**
 * Pending writes on top of a parent state. A transaction runs in its own overlay over the block's
 * overlay, so a rejected transaction is discarded whole; the block overlay is written to storage in
 * the same SQLite transaction as the block.
 */
export class Overlay implements StateReader, KVStore {
  readonly writes = new Map<string, string | null>();
  /** Written keys in sorted order as of the last range scan, so a range scan is a binary search. */
  private sortedKeys: string[] = [];
  /**
   * Keys first written since then, merged in by the next range scan. (A sorted insert per write
   * moved half the array each time: a block writing 50,000 keys — a pay-as-clear gate of 10,000
   * orders — spent most of its end-of-block step there.)
   */
  private freshKeys: string[] = [];
  constructor(private readonly parent: StateReader) {}

  private noteKey(key: string): void {
    if (this.writes.has(key)) return;
    assertStateKey(key);
    this.freshKeys.push(key);
  }

  /**
   * The written keys in order: a few fresh keys are inserted in place, many are sorted and merged
   * in one pass (linear in the keys, however many were written since the last scan).
   */
  private sorted(): string[] {
    const fresh = this.freshKeys;
    if (fresh.length === 0) return this.sortedKeys;
    this.freshKeys = [];
    if (fresh.length <= FEW_FRESH_KEYS) {
      for (const key of fresh) insertSorted(this.sortedKeys, key);
      return this.sortedKeys;
    }
    fresh.sort((a, b) => (a < b ? -1 : 1)); // the keys are distinct
    const old = this.sortedKeys;
    const merged = new Array<string>(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < old.length && j < fresh.length) merged[n++] = old[i]! < fresh[j]! ? old[i++]! : fresh[j++]!;
    while (i < old.length) merged[n++] = old[i++]!;
    while (j < fresh.length) merged[n++] = fresh[j++]!;
    this.sortedKeys = merged;
    return merged;
  }

  /** Local writes whose keys fall in the scan range, in key order. */
  private localRange(prefix: string, options: ScanOptions): Array<[string, string | null]> {
    const keys = this.sorted();
    const lower = options.start !== undefined && options.start > prefix ? options.start : prefix;
    const lo = lowerBound(keys, lower);
    const out: Array<[string, string | null]> = [];
    for (let i = lo; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.startsWith(prefix) || (options.end !== undefined && k >= options.end)) break;
      out.push([k, this.writes.get(k)!]);
    }
    return out;
  }

  getRaw(key: string): string | undefined {
    const w = this.writes.get(key);
    if (w !== undefined) return w === null ? undefined : w;
    return this.parent.getRaw(key);
  }

  scanRaw(prefix: string, options: ScanOptions = {}): Array<[string, string]> {
    const local = this.localRange(prefix, options);
    if (local.length === 0) return this.parent.scanRaw(prefix, options);
    // Deleted keys may hide parent rows, so read the parent range without the limit and merge.
    const merged = new Map<string, string | null>(this.parent.scanRaw(prefix, { ...options, limit: undefined }));
    for (const [k, v] of local) merged.set(k, v);
    const rows = [...merged.entries()].filter((e): e is [string, string] => e[1] !== null);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (options.reverse) rows.reverse();
    return options.limit === undefined ? rows : rows.slice(0, options.limit);
  }

  get<T>(key: string): T | undefined {
    const raw = this.getRaw(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  has(key: string): boolean {
    return this.getRaw(key) !== undefined;
  }
  set(key: string, value: unknown): void {
    this.noteKey(key);
    this.writes.set(key, canonicalJson(value));
  }
  delete(key: string): void {
    this.noteKey(key);
    this.writes.set(key, null);
  }
  scan<T>(prefix: string, options?: ScanOptions): Array<[string, T]> {
    return this.scanRaw(prefix, options).map(([k, v]) => [k, JSON.parse(v) as T]);
  }
  getEncoded(key: string): string | undefined {
    return this.getRaw(key);
  }
  setEncoded(key: string, json: string): void {
    this.setRaw(key, json);
  }

  /** Moves this overlay's writes into its parent overlay. */
  mergeInto(target: Overlay): void {
    for (const [k, v] of this.writes) target.setRaw(k, v);
  }

  /** Sets an already-encoded value (or null for a deletion). */
  setRaw(key: string, value: string | null): void {
    this.noteKey(key);
    this.writes.set(key, value);
  }
}

/** Read-only typed view over committed state, for queries. */
export class ReadOnlyStore implements KVStore {
  constructor(private readonly reader: StateReader) {}
  get<T>(key: string): T | undefined {
    const raw = this.reader.getRaw(key);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  has(key: string): boolean {
    return this.reader.getRaw(key) !== undefined;
  }
  set(): void {
    throw new Error('read-only state');
  }
  delete(): void {
    throw new Error('read-only state');
  }
  scan<T>(prefix: string, options?: ScanOptions): Array<[string, T]> {
    return this.reader.scanRaw(prefix, options).map(([k, v]) => [k, JSON.parse(v) as T]);
  }
  getEncoded(key: string): string | undefined {
    return this.reader.getRaw(key);
  }
  setEncoded(): void {
    throw new Error('read-only state');
  }
}

const LANES = 1024;

/**
 * Lattice hash (LtHash16, as in Bellare–Micciancio / Facebook's LtHash): a homomorphic multiset hash of
 * all (key, value) entries. Adding or removing an entry costs one SHAKE256 expansion, so the state root
 * commits to the whole state while each block only pays for the keys it changed, and any node can
 * recompute it from its state table to prove its storage matches the chain.
 */
export class LtHash {
  readonly lanes: Uint16Array;
  constructor(lanes?: Uint16Array) {
    this.lanes = lanes ? Uint16Array.from(lanes) : new Uint16Array(LANES);
  }

  /** Lanes from their serialised form: 1024 little-endian 16-bit integers. */
  static fromBytes(bytes: Uint8Array): LtHash {
    return new LtHash(readLanesLE(bytes));
  }

  /** The lanes as 1024 little-endian 16-bit integers, whatever the platform's byte order. */
  toBytes(): Uint8Array {
    return lanesToLE(this.lanes);
  }

  add(key: string, value: string): void {
    const h = entryLanes(key, value);
    for (let i = 0; i < LANES; i++) this.lanes[i] = (this.lanes[i]! + h[i]!) & 0xffff;
  }

  remove(key: string, value: string): void {
    const h = entryLanes(key, value);
    for (let i = 0; i < LANES; i++) this.lanes[i] = (this.lanes[i]! - h[i]!) & 0xffff;
  }

  /** The 32-byte state root: SHA-256 of the lanes. */
  root(): string {
    return toHex(sha256(this.toBytes()));
  }
}

function entryLanes(key: string, value: string): Uint16Array {
  const k = Buffer.from(key, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(k.length);
  const h = createHash('shake256', { outputLength: LANES * 2 });
  h.update(domainBytes(DOMAIN.stateEntry, Buffer.concat([len, k, Buffer.from(value, 'utf8')])));
  return readLanesLE(h.digest());
}

/** Whether this platform stores integers little-endian (then typed-array views already read LE). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads 1024 lanes as little-endian 16-bit integers. On a little-endian host a copy viewed as
 * Uint16Array is that already (and fast); elsewhere each lane is read with an explicit byte order.
 * `littleEndianHost` is a parameter only so tests can run the portable path on any machine.
 */
export function readLanesLE(bytes: Uint8Array, littleEndianHost = HOST_LITTLE_ENDIAN): Uint16Array {
  if (bytes.length !== LANES * 2) throw new Error(`LtHash lanes need ${LANES * 2} bytes, got ${bytes.length}`);
  if (littleEndianHost) return new Uint16Array(new Uint8Array(bytes).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lanes = new Uint16Array(LANES);
  for (let i = 0; i < LANES; i++) lanes[i] = view.getUint16(i * 2, true);
  return lanes;
}

/** Serialises lanes as little-endian 16-bit integers (see readLanesLE). */
export function lanesToLE(lanes: Uint16Array, littleEndianHost = HOST_LITTLE_ENDIAN): Uint8Array {
  if (littleEndianHost) return new Uint8Array(lanes.buffer.slice(lanes.byteOffset, lanes.byteOffset + LANES * 2));
  const out = new Uint8Array(LANES * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < LANES; i++) view.setUint16(i * 2, lanes[i]!, true);
  return out;
}

/** Applies a block's writes to an LtHash, given the committed values they replace. */
export function applyWritesToLtHash(lt: LtHash, writes: Map<string, string | null>, committed: StateReader): void {
  for (const [key, next] of writes) {
    const prev = committed.getRaw(key);
    if (prev === next || (prev === undefined && next === null)) continue;
    if (prev !== undefined) lt.remove(key, prev);
    if (next !== null) lt.add(key, next);
  }
}
