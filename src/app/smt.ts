import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ByteArena } from '../util/byte-arena.js';

/**
 * The authenticated state (ADR 0012): a compact sparse Merkle tree of radix 16 over SHA-256(key)
 * (64 levels, one per hex digit of the key hash), where a subtree holding no leaf is EMPTY, a
 * subtree holding one leaf is that leaf (at the highest position where it is alone), and any other
 * subtree is an inner node with 16 child positions. The tree is therefore determined by its set of
 * leaves alone, whatever order they were written in.
 *
 *   keyHash   = SHA-256("GRIDLEDGER/SMT-KEY/V1" ‖ 0x00 ‖ key)
 *   entryHash = SHA-256("GRIDLEDGER/SMT-LEAF/V1" ‖ 0x00 ‖ u32be(|key|) ‖ key ‖ next ‖ value)
 *               next = 0xffffffff when the key is the last one, else u32be(|next|) ‖ next
 *   leaf      = SHA-256(0x00 ‖ keyHash ‖ entryHash)
 *   inner     = SHA-256(0x01 ‖ u16be(bitmap of non-empty children) ‖ their hashes in digit order)
 *
 * Radix 16 rather than 2: a key costs about log16(n) node updates, hashes and stored rows instead
 * of log2(n) (bench/verifiable.ts measured both), for proofs that carry up to 15 sibling hashes per
 * level instead of one.
 *
 * Each leaf also names the next key in key order, so the leaves form a sorted linked list (from a
 * head leaf with the empty key): a chain of proven leaves shows that no key lies between them,
 * which proves range queries complete.
 *
 * This file is pure (no node: imports, no Buffer) so the light client can use it in a browser.
 */

export const HASH_BYTES = 32;
/** Children per inner node; a level consumes one hex digit (4 bits) of the key hash. */
export const RADIX = 16;
/** Levels: hex digits of a 256-bit key hash. */
export const LEVELS = 64;
export const EMPTY_HASH = new Uint8Array(HASH_BYTES);
/** The key of the head leaf, before every state key (state keys are never empty). */
export const HEAD_KEY = '';

const KEY_DOMAIN = utf8ToBytes('GRIDLEDGER/SMT-KEY/V1\u0000');
const LEAF_DOMAIN = utf8ToBytes('GRIDLEDGER/SMT-LEAF/V1\u0000');
const LEAF_TAG = new Uint8Array([0]);
const INNER_TAG = new Uint8Array([1]);
const NO_NEXT = new Uint8Array([0xff, 0xff, 0xff, 0xff]);

/** One leaf of the tree: a state entry and the key after it (null for the last key). */
export interface LeafEntry {
  key: string;
  value: string;
  next: string | null;
}

/** A child position: empty, a leaf, or an inner node. */
export type Child = null | LeafChild | InnerChild;
export interface LeafChild {
  readonly leaf: true;
  readonly keyHash: Uint8Array;
  readonly entryHash: Uint8Array;
  readonly hash: Uint8Array;
}
export interface InnerChild {
  readonly leaf: false;
  readonly hash: Uint8Array;
}

/**
 * SHA-256 over concatenated parts (strings as UTF-8, numbers as u32be). @noble/hashes by default
 * (browser-safe); the node registers node:crypto's faster native hash through `useSha256`
 * (smt-node.ts). Both compute the same function.
 */
export type Sha256Parts = (...parts: Array<Uint8Array | string | number>) => Uint8Array;
let sha256Parts: Sha256Parts = (...parts) => {
  const h = sha256.create();
  for (const p of parts) h.update(typeof p === 'string' ? utf8ToBytes(p) : typeof p === 'number' ? u32(p) : p);
  return h.digest();
};

export function useSha256(impl: Sha256Parts): void {
  sha256Parts = impl;
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** UTF-8 length of a string without encoding it (state keys are ASCII, so this is mostly s.length). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function keyHashOf(key: string): Uint8Array {
  return sha256Parts(KEY_DOMAIN, key);
}

export function entryHashOf(entry: LeafEntry): Uint8Array {
  // Lengths go in as numbers (u32be): no 4-byte array per length, and a block hashes thousands of entries.
  if (entry.next === null) return sha256Parts(LEAF_DOMAIN, utf8Length(entry.key), entry.key, NO_NEXT, entry.value);
  return sha256Parts(LEAF_DOMAIN, utf8Length(entry.key), entry.key, utf8Length(entry.next), entry.next, entry.value);
}

export function leafHash(keyHash: Uint8Array, entryHash: Uint8Array): Uint8Array {
  return sha256Parts(LEAF_TAG, keyHash, entryHash);
}

/** Hash of an inner node from its 16 children (null: empty). */
export function innerHash(children: readonly Child[]): Uint8Array {
  return hashOfChildren((digit, out, at) => {
    const c = children[digit];
    if (c === null || c === undefined) return false;
    writeHash(out, at, c);
    return true;
  });
}

/**
 * An inner node's hash: `hashInto` writes the hash of the child at each digit (returning false for an
 * empty position) into one reused buffer, tag ‖ bitmap ‖ the children's hashes.
 */
function hashOfChildren(hashInto: (digit: number, out: Uint8Array, at: number) => boolean): Uint8Array {
  const bytes = INNER_SCRATCH;
  bytes[0] = INNER_TAG[0]!;
  let bitmap = 0;
  let count = 0;
  for (let i = 0; i < RADIX; i++) {
    if (!hashInto(i, bytes, 3 + count * HASH_BYTES)) continue;
    bitmap |= 1 << (15 - i);
    count++;
  }
  bytes[1] = bitmap >> 8;
  bytes[2] = bitmap & 0xff;
  return sha256Parts(INNER_VIEWS[count]!);
}

/** Tag, bitmap and 16 hashes; hashing is synchronous, so one buffer serves every call. */
const INNER_SCRATCH = new Uint8Array(3 + RADIX * HASH_BYTES);
/** Its first 3 + 32·n bytes for n children, made once rather than a view per hash. */
const INNER_VIEWS = Array.from({ length: RADIX + 1 }, (_, n) => INNER_SCRATCH.subarray(0, 3 + n * HASH_BYTES));

/**
 * New rows are views into shared slabs (util/byte-arena.ts): a block encodes a thousand rows or more,
 * and a buffer of their own would cost 1–3 µs each. A slab lives while any row in it does, so a
 * long-lived row can keep a slab of shorter-lived ones: whoever keeps rows for long copies them
 * (the storage's rows held until a batch write, ADR 0016).
 */
const ROW_ARENA = new ByteArena(65536, 2048); // a full row is 1,554 bytes: every row fits in a slab

/**
 * A leaf child; its hash is computed when first needed (rows decoded for a path mostly are not
 * hashed), unless the row it was read from carried it.
 */
class Leaf implements LeafChild {
  readonly leaf = true as const;
  #hash: Uint8Array | undefined;
  constructor(
    readonly keyHash: Uint8Array,
    readonly entryHash: Uint8Array,
    hash?: Uint8Array,
  ) {
    this.#hash = hash;
  }
  get hash(): Uint8Array {
    this.#hash ??= leafHash(this.keyHash, this.entryHash);
    return this.#hash;
  }
}

export function leafChild(keyHash: Uint8Array, entryHash: Uint8Array): LeafChild {
  return new Leaf(keyHash, entryHash);
}

export function childHash(c: Child): Uint8Array {
  return c === null ? EMPTY_HASH : c.hash;
}

/** Hex digit `depth` of a 256-bit hash, most significant first. */
export function digitAt(hash: Uint8Array, depth: number): number {
  const byte = hash[depth >> 1]!;
  return (depth & 1) === 0 ? byte >> 4 : byte & 0x0f;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function bytesEqualHash(a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(a, b) === 0;
}

/** Whether the first `depth` hex digits of two hashes agree. */
export function samePrefix(a: Uint8Array, b: Uint8Array, depth: number): boolean {
  const whole = depth >> 1;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  return (depth & 1) === 0 || a[whole]! >> 4 === b[whole]! >> 4;
}

/**
 * Storage key of the inner node at `depth` on the path of `hash`: one char of depth, then the
 * first `depth` hex digits packed two per char (an odd last digit in the high half), latin1.
 */
export function pathKey(hash: Uint8Array, depth: number): string {
  const whole = depth >> 1;
  let s = String.fromCharCode(depth);
  for (let i = 0; i < whole; i++) s += String.fromCharCode(hash[i]!);
  if ((depth & 1) === 1) s += String.fromCharCode(hash[whole]! & 0xf0);
  return s;
}

// ───────────────────────────── stored inner nodes ─────────────────────────────

/**
 * An inner node's row: u16be bitmap of non-empty children, then each as tag 3 (leaf: keyHash ‖
 * entryHash ‖ leaf hash) or 2 (inner: hash). Tag 1 (leaf: keyHash ‖ entryHash) is what rows written
 * before the leaf hash was stored hold; it is still read. Storing the leaf hash spares rehashing
 * every sibling leaf of a changed leaf when its node is rehashed (~15 µs per admission); rows are
 * node-local storage, never hashed or sent, so the roots and proofs do not change.
 */
export function encodeRow(children: readonly Child[]): Uint8Array {
  return rowOf(
    (digit) => {
      const c = children[digit] ?? null;
      return c === null ? 0 : childLength(c);
    },
    (digit, out, at) => writeChild(out, at, children[digit]!),
  );
}

/** A row from the encoded length of the child at each digit (0: empty) and a writer of its bytes. */
function rowOf(lengthAt: (digit: number) => number, writeAt: (digit: number, out: Uint8Array, at: number) => void): Uint8Array {
  let size = 2;
  let bitmap = 0;
  for (let i = 0; i < RADIX; i++) {
    const length = lengthAt(i);
    if (length === 0) continue;
    bitmap |= 1 << (15 - i);
    size += length;
  }
  const out = ROW_ARENA.alloc(size);
  out[0] = bitmap >> 8;
  out[1] = bitmap & 0xff;
  let at = 2;
  for (let i = 0; i < RADIX; i++) {
    if ((bitmap & (1 << (15 - i))) === 0) continue;
    writeAt(i, out, at);
    at += lengthAt(i);
  }
  return out;
}

export function encodeChild(c: Child): Uint8Array {
  const out = new Uint8Array(childLength(c));
  writeChild(out, 0, c);
  return out;
}

function childLength(c: Child): number {
  return c === null ? 1 : c.leaf ? 97 : 33;
}

function writeChild(out: Uint8Array, at: number, c: Child): void {
  if (c === null) {
    out[at] = 0;
  } else if (c instanceof StoredLeaf) {
    out[at] = 3;
    copyBytes(c.row, c.at + 1, out, at + 1, 96);
  } else if (c.leaf) {
    out[at] = 3;
    out.set(c.keyHash, at + 1);
    out.set(c.entryHash, at + 33);
    out.set(c.hash, at + 65);
  } else {
    out[at] = 2;
    writeHash(out, at + 1, c);
  }
}

/**
 * Children decoded from a stored row keep their bytes in the row: a block rewrites one or two children
 * of each row it reads, and the others are only copied into the new row and hashed, so their key,
 * entry and leaf hashes are not cut out as separate arrays unless asked for.
 */
abstract class StoredChild {
  constructor(
    readonly row: Uint8Array,
    /** offset of the child's tag (3: leaf, 2: inner) in the row */
    readonly at: number,
  ) {}
  protected bytes(from: number, to: number): Uint8Array {
    return this.row.subarray(this.at + from, this.at + to);
  }
}

class StoredLeaf extends StoredChild implements LeafChild {
  readonly leaf = true as const;
  #keyHash: Uint8Array | undefined;
  /** Kept once cut out: placing a leaf among changed ones compares and digs into it repeatedly. */
  get keyHash(): Uint8Array {
    this.#keyHash ??= this.bytes(1, 33);
    return this.#keyHash;
  }
  get entryHash(): Uint8Array {
    return this.bytes(33, 65);
  }
  get hash(): Uint8Array {
    return this.bytes(65, 97);
  }
}

class StoredInner extends StoredChild implements InnerChild {
  readonly leaf = false as const;
  get hash(): Uint8Array {
    return this.bytes(1, 33);
  }
}

function copyBytes(from: Uint8Array, start: number, to: Uint8Array, at: number, length: number): void {
  // A view and a native copy beat a byte loop from about 64 bytes on.
  if (length >= 64) to.set(from.subarray(start, start + length), at);
  else for (let i = 0; i < length; i++) to[at + i] = from[start + i]!;
}

/** A child's hash written at `at` of `out` (from its row when it was read from one). */
function writeHash(out: Uint8Array, at: number, c: LeafChild | InnerChild): void {
  if (c instanceof StoredChild) copyBytes(c.row, storedHashAt(c.row, c.at), out, at, HASH_BYTES);
  else out.set(c.hash, at);
}

export function decodeChild(bytes: Uint8Array, offset = 0): { child: Child; end: number } {
  const tag = bytes[offset];
  if (tag === 0) return { child: null, end: offset + 1 };
  if (tag === 1) {
    if (bytes.length < offset + 65) throw new Error('corrupt tree row: short leaf');
    const keyHash = bytes.subarray(offset + 1, offset + 33);
    const entryHash = bytes.subarray(offset + 33, offset + 65);
    return { child: leafChild(keyHash, entryHash), end: offset + 65 };
  }
  if (tag === 3) {
    if (bytes.length < offset + 97) throw new Error('corrupt tree row: short leaf');
    return { child: new StoredLeaf(bytes, offset), end: offset + 97 };
  }
  if (tag === 2) {
    if (bytes.length < offset + 33) throw new Error('corrupt tree row: short inner hash');
    return { child: new StoredInner(bytes, offset), end: offset + 33 };
  }
  throw new Error(`corrupt tree row: child tag ${String(tag)}`);
}

export function decodeRow(bytes: Uint8Array): Child[] {
  if (bytes.length < 2) throw new Error('corrupt tree row: no bitmap');
  const bitmap = (bytes[0]! << 8) | bytes[1]!;
  const children: Child[] = new Array<Child>(RADIX).fill(null);
  let at = 2;
  for (let i = 0; i < RADIX; i++) {
    if ((bitmap & (1 << (15 - i))) === 0) continue;
    const { child, end } = decodeChild(bytes, at);
    if (child === null) throw new Error('corrupt tree row: empty child marked present');
    children[i] = child;
    at = end;
  }
  if (at !== bytes.length) throw new Error('corrupt tree row: trailing bytes');
  return children;
}

/** Reads committed inner nodes by path key. */
export interface TreeRows {
  treeRow(path: string): Uint8Array | undefined;
}

/** One leaf to write (entryHash) or remove (null), by key hash. */
export interface LeafChange {
  keyHash: Uint8Array;
  entryHash: Uint8Array | null;
}

export interface TreeUpdate {
  root: Child;
  /** Rows to store (or delete: null) by path key, so that storage holds the new tree. */
  rows: Map<string, Uint8Array | null>;
}

function rowChildren(rows: TreeRows, path: string): Child[] {
  const row = rows.treeRow(path);
  if (!row) throw new Error(`state tree: missing inner node at depth ${path.charCodeAt(0)}`);
  return decodeRow(row);
}

/**
 * A stored inner node that a block updates: its row, with the children the block changed laid over
 * it. A block changes one or two of a node's children, so the others stay bytes in the row — copied
 * into the new row and into the hash input as they are — instead of becoming an object each.
 */
class NodeUpdate {
  /** Offset of each child's tag in the row, -1 when the position is empty. */
  private readonly offsets = new Int16Array(RADIX);
  /** Children changed by the block (undefined: as stored). */
  private readonly changed: Array<Child | undefined> = new Array<Child | undefined>(RADIX);

  constructor(private readonly row: Uint8Array) {
    if (row.length < 2) throw new Error('corrupt tree row: no bitmap');
    const bitmap = (row[0]! << 8) | row[1]!;
    let at = 2;
    for (let i = 0; i < RADIX; i++) {
      if ((bitmap & (1 << (15 - i))) === 0) {
        this.offsets[i] = -1;
        continue;
      }
      this.offsets[i] = at;
      const tag = row[at];
      if (tag === 3 || tag === 2) {
        at += storedChildLength(row, at);
        if (at > row.length) throw new Error('corrupt tree row: short child');
        continue;
      }
      // A leaf of an old row (tag 1, no leaf hash) becomes its object, so that the new row stores its hash.
      const { child, end } = decodeChild(row, at);
      if (child === null) throw new Error('corrupt tree row: empty child marked present');
      this.changed[i] = child;
      at = end;
    }
    if (at !== row.length) throw new Error('corrupt tree row: trailing bytes');
  }

  get(digit: number): Child {
    const c = this.changed[digit];
    if (c !== undefined) return c;
    const at = this.offsets[digit]!;
    return at < 0 ? null : decodeChild(this.row, at).child;
  }

  set(digit: number, child: Child): void {
    this.changed[digit] = child;
  }

  /** The canonical node over the children (as `joined`): nothing, a lone leaf moved up, or an inner node. */
  joined(out: Map<string, Uint8Array | null>, path: string): Child {
    let present = 0;
    let only = -1;
    for (let i = 0; i < RADIX; i++) {
      if (!this.present(i)) continue;
      present++;
      only = i;
    }
    if (present === 0) {
      out.set(path, null);
      return null;
    }
    if (present === 1) {
      const lone = this.get(only);
      if (lone!.leaf) {
        out.set(path, null);
        return lone;
      }
    }
    out.set(path, this.encode());
    return { leaf: false, hash: this.hash() };
  }

  private present(digit: number): boolean {
    const c = this.changed[digit];
    return c === undefined ? this.offsets[digit]! >= 0 : c !== null;
  }

  /** The node's row (as encodeRow): unchanged children copied from the stored row. */
  private encode(): Uint8Array {
    return rowOf(
      (digit) => {
        if (!this.present(digit)) return 0;
        const c = this.changed[digit];
        return c === undefined ? storedChildLength(this.row, this.offsets[digit]!) : childLength(c);
      },
      (digit, out, at) => {
        const c = this.changed[digit];
        if (c !== undefined) writeChild(out, at, c);
        else copyBytes(this.row, this.offsets[digit]!, out, at, storedChildLength(this.row, this.offsets[digit]!));
      },
    );
  }

  /** The node's hash (as innerHash): unchanged children's hashes copied from the stored row. */
  private hash(): Uint8Array {
    return hashOfChildren((digit, out, at) => {
      if (!this.present(digit)) return false;
      const c = this.changed[digit];
      if (c !== undefined) writeHash(out, at, c!);
      else copyBytes(this.row, storedHashAt(this.row, this.offsets[digit]!), out, at, HASH_BYTES);
      return true;
    });
  }
}

/** Bytes of a stored child (tag 3 leaf or tag 2 inner; tag 1 leaves are never copied as stored). */
function storedChildLength(row: Uint8Array, at: number): number {
  return row[at] === 3 ? 97 : 33;
}

/** Where the hash of the stored child whose tag is at `at` begins (a leaf's after its key and entry hashes). */
function storedHashAt(row: Uint8Array, at: number): number {
  return at + (row[at] === 3 ? 65 : 1);
}

/**
 * Applies leaf changes (sorted by keyHash, one per key) to the tree under `root`. Pure: reads the
 * committed rows and returns the rows to write, so a block that is executed but not committed
 * leaves storage as it was. Every changed node is rehashed once, however many keys share it.
 */
export function updateTree(rows: TreeRows, root: Child, changes: readonly LeafChange[]): TreeUpdate {
  const out = new Map<string, Uint8Array | null>();
  const newRoot = updateAt(rows, out, root, 0, changes, 0, changes.length);
  return { root: newRoot, rows: out };
}

function updateAt(rows: TreeRows, out: Map<string, Uint8Array | null>, node: Child, depth: number, changes: readonly LeafChange[], lo: number, hi: number): Child {
  if (lo === hi) return node;
  if (node === null || node.leaf) {
    const leaves: LeafChild[] = [];
    let kept = node !== null;
    for (let i = lo; i < hi; i++) {
      const c = changes[i]!;
      if (node !== null && compareBytes(c.keyHash, node.keyHash) === 0) kept = false;
      if (c.entryHash !== null) leaves.push(leafChild(c.keyHash, c.entryHash));
    }
    if (kept && node !== null) insertSorted(leaves, node);
    return build(out, leaves, depth, 0, leaves.length);
  }
  const path = pathKey(changes[lo]!.keyHash, depth);
  const row = rows.treeRow(path);
  if (!row) throw new Error(`state tree: missing inner node at depth ${depth}`);
  const update = new NodeUpdate(row);
  let start = lo;
  while (start < hi) {
    const digit = digitAt(changes[start]!.keyHash, depth);
    let end = start + 1;
    while (end < hi && digitAt(changes[end]!.keyHash, depth) === digit) end++;
    update.set(digit, updateAt(rows, out, update.get(digit), depth + 1, changes, start, end));
    start = end;
  }
  return update.joined(out, path);
}

function build(out: Map<string, Uint8Array | null>, leaves: readonly LeafChild[], depth: number, lo: number, hi: number): Child {
  if (hi - lo === 0) return null;
  if (hi - lo === 1) return leaves[lo]!;
  if (depth >= LEVELS) throw new Error('state tree: two leaves with the same key hash');
  const children: Child[] = new Array<Child>(RADIX).fill(null);
  let start = lo;
  while (start < hi) {
    const digit = digitAt(leaves[start]!.keyHash, depth);
    let end = start + 1;
    while (end < hi && digitAt(leaves[end]!.keyHash, depth) === digit) end++;
    children[digit] = build(out, leaves, depth + 1, start, end);
    start = end;
  }
  const path = pathKey(leaves[lo]!.keyHash, depth);
  out.set(path, encodeRow(children));
  return { leaf: false, hash: innerHash(children) };
}

function insertSorted(leaves: LeafChild[], leaf: LeafChild): void {
  let i = 0;
  while (i < leaves.length && compareBytes(leaves[i]!.keyHash, leaf.keyHash) < 0) i++;
  leaves.splice(i, 0, leaf);
}

/** Builds a whole tree from its leaves (any order); returns the root and every row. */
export function buildTree(leaves: LeafChild[]): TreeUpdate {
  const sorted = [...leaves].sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  const out = new Map<string, Uint8Array | null>();
  return { root: build(out, sorted, 0, 0, sorted.length), rows: out };
}

// ───────────────────────────── proofs ─────────────────────────────

/**
 * A proof is the part of the tree that the proven keys' paths pass through:
 * `{e: 1}` an empty position, `{h}` a subtree no proven key enters (its hash only),
 * `{k, d}` a leaf (key hash and entry hash), `{n: [16 children]}` an inner node.
 */
export type ProofNode = { e: 1 } | { h: string } | { k: string; d: string } | { n: ProofNode[] };

/** The proof for the given key hashes (sorted, distinct) in the committed tree under `root`. */
export function proveTree(rows: TreeRows, root: Child, keyHashes: readonly Uint8Array[]): ProofNode {
  return proveAt(rows, root, 0, keyHashes, 0, keyHashes.length);
}

function proveAt(rows: TreeRows, node: Child, depth: number, keyHashes: readonly Uint8Array[], lo: number, hi: number): ProofNode {
  if (node === null) return { e: 1 };
  if (node.leaf) return { k: bytesToHex(node.keyHash), d: bytesToHex(node.entryHash) };
  if (lo === hi) return { h: bytesToHex(node.hash) };
  const children = rowChildren(rows, pathKey(keyHashes[lo]!, depth));
  const out: ProofNode[] = [];
  let at = lo;
  for (let digit = 0; digit < RADIX; digit++) {
    let end = at;
    while (end < hi && digitAt(keyHashes[end]!, depth) === digit) end++;
    out.push(proveAt(rows, children[digit]!, depth + 1, keyHashes, at, end));
    at = end;
  }
  return { n: out };
}

export type ProofErrorReason = 'malformed' | 'misplaced-leaf' | 'root-mismatch' | 'incomplete';

export class ProofError extends Error {
  constructor(
    readonly reason: ProofErrorReason,
    message: string,
  ) {
    super(message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function hexHash(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !HEX64.test(s)) throw new ProofError('malformed', `${what} is not a 32-byte lowercase hex hash`);
  return hexToBytes(s);
}

/** What a proof node stands for when its parent hashes it: its hash, or null when empty. */
type Computed = { hash: Uint8Array } | null;

/** The root a proof commits to; checks every leaf sits on its own key hash's path. */
export function proofRoot(proof: ProofNode): Uint8Array {
  let nodes = 0;
  const walk = (node: ProofNode, depth: number, path: Uint8Array): Computed => {
    if (++nodes > 1_000_000) throw new ProofError('malformed', 'proof has too many nodes');
    if (typeof node !== 'object' || node === null) throw new ProofError('malformed', 'proof node is not an object');
    const keys = Object.keys(node).sort().join(',');
    if (keys === 'e') {
      if ((node as { e: unknown }).e !== 1) throw new ProofError('malformed', 'empty marker must be 1');
      return null;
    }
    if (keys === 'h') return { hash: hexHash((node as { h: unknown }).h, 'subtree hash') };
    if (keys === 'd,k') {
      const kh = hexHash((node as { k: unknown }).k, 'leaf key hash');
      if (!samePrefix(kh, path, depth)) throw new ProofError('misplaced-leaf', `a leaf at depth ${depth} is not on its key's path`);
      return { hash: leafHash(kh, hexHash((node as { d: unknown }).d, 'leaf entry hash')) };
    }
    if (keys === 'n') {
      const list = (node as { n: unknown }).n;
      if (!Array.isArray(list) || list.length !== RADIX) throw new ProofError('malformed', `inner node needs ${RADIX} children`);
      if (depth >= LEVELS) throw new ProofError('malformed', `proof deeper than ${LEVELS} levels`);
      const children = list.map((child, digit) => {
        const sub = path.slice();
        sub[depth >> 1] = sub[depth >> 1]! | ((depth & 1) === 0 ? digit << 4 : digit);
        return walk(child as ProofNode, depth + 1, sub);
      });
      return { hash: innerHash(children.map((c) => (c === null ? null : { leaf: false, hash: c.hash }))) };
    }
    throw new ProofError('malformed', `unknown proof node with fields ${keys || '(none)'}`);
  };
  return walk(proof, 0, new Uint8Array(HASH_BYTES))?.hash ?? EMPTY_HASH;
}

/**
 * What the proof says about one key hash: the entry hash of its leaf, or null when the key is
 * absent (its path ends in an empty position or at another key's leaf). A path that ends in an
 * opaque subtree is not covered by the proof.
 */
export function proofLookup(proof: ProofNode, keyHash: Uint8Array): Uint8Array | null {
  let node = proof;
  for (let depth = 0; ; depth++) {
    if ('n' in node) {
      if (depth >= LEVELS) throw new ProofError('malformed', `proof deeper than ${LEVELS} levels`);
      node = node.n[digitAt(keyHash, depth)]!;
      continue;
    }
    if ('e' in node) return null;
    if ('k' in node) return node.k === bytesToHex(keyHash) ? hexToBytes(node.d) : null;
    throw new ProofError('incomplete', `the proof does not reach key hash ${bytesToHex(keyHash)}`);
  }
}

export { bytesToHex, hexToBytes };
