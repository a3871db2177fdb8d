import {
  buildTree,
  compareBytes,
  decodeChild,
  encodeChild,
  entryHashOf,
  HEAD_KEY,
  keyHashOf,
  leafChild,
  proveTree,
  updateTree,
  type Child,
  type LeafChange,
  type LeafEntry,
  type ProofNode,
  type TreeRows,
  type TreeUpdate,
} from './smt.js';
import type { StateReader } from './state.js';
import { lowerBound } from '../util/sorted.js';

/**
 * The state tree over the application state (ADR 0012): every state entry is a leaf of the sparse
 * Merkle tree (smt.ts) that also names the next key, and a head leaf with the empty key names the
 * first one. A block's writes become leaf changes here: the written keys, and for every inserted or
 * deleted key its predecessor, whose `next` changes.
 */

/** Committed state in key order, and the committed tree's inner nodes. */
export interface TreeState extends StateReader, TreeRows {
  /** The smallest committed key greater than `key`. */
  keyAfter(key: string): string | undefined;
  /** The largest committed key smaller than `key`. */
  keyBefore(key: string): string | undefined;
}

/** What recomputing leaves from the committed state reads (no scans). */
export type TreeReads = Pick<TreeState, 'getRaw' | 'keyAfter' | 'keyBefore' | 'treeRow'>;

/** Value of the head leaf (it holds no state). */
const HEAD_VALUE = '';

export function encodeRoot(root: Child): Uint8Array {
  return encodeChild(root);
}

export function decodeRoot(bytes: Uint8Array): Child {
  const { child, end } = decodeChild(bytes, 0);
  if (end !== bytes.length) throw new Error('corrupt state tree root');
  return child;
}

/** The tree of an empty state: the head leaf alone. */
export function emptyStateTree(): Child {
  const entry: LeafEntry = { key: HEAD_KEY, value: HEAD_VALUE, next: null };
  return leafChild(keyHashOf(HEAD_KEY), entryHashOf(entry));
}


/**
 * Neighbours in the state after a block: committed keys minus deletions plus insertions. The keys
 * asked about come sorted, and one committed-successor lookup answers every asked key up to that
 * successor (a run of inserted keys costs one lookup); runs of deleted keys are walked through the
 * answers already known, so nothing is looked up twice.
 *
 * Only inserted and deleted keys need their predecessor (whose `next` changes), so a rewritten key
 * that stays is not looked up backwards. And the committed successor of an inserted or deleted key's
 * predecessor p follows from what is known: no committed key lies between p and the key, so it is the
 * key itself when deleted, else the key's own committed successor — the predecessor's leaf, rewritten
 * for its new `next`, costs no forward lookup either (a forward query fewer per inserted or deleted
 * key, a backward one fewer per rewritten key that stays).
 */
class NewKeyOrder {
  /** committed successor of each asked key and of their predecessors; committed predecessor of inserted and deleted keys */
  private readonly succ = new Map<string, string | undefined>();
  private readonly pred = new Map<string, string | undefined>();

  constructor(
    private readonly state: TreeReads,
    /** every key asked about, sorted: the head and all changed keys */
    asked: readonly string[],
    private readonly inserted: readonly string[],
    private readonly deleted: ReadonlySet<string>,
    committed: ReadonlySet<string>,
  ) {
    let prev: string | undefined;
    for (const key of asked) {
      const known = prev !== undefined ? this.succ.get(prev) : undefined;
      const reuse = prev !== undefined && (known === undefined || key < known);
      this.succ.set(key, reuse ? known : state.keyAfter(key));
      if (key === HEAD_KEY) this.pred.set(key, undefined);
      else if (reuse) this.pred.set(key, committed.has(prev!) ? prev : this.pred.get(prev!));
      else if (prev !== undefined && known === key) this.pred.set(key, committed.has(prev) ? prev : this.pred.get(prev));
      else if (committed.has(key) && !deleted.has(key)) {
        // a key that stays: nobody asks for its predecessor
      } else this.pred.set(key, state.keyBefore(key));
      if (this.pred.has(key) && (deleted.has(key) || !committed.has(key))) this.knowSuccessorOfPredecessor(key, committed.has(key));
      prev = key;
    }
  }

  /** For an inserted or deleted key: its committed predecessor's committed successor (see the class comment). */
  private knowSuccessorOfPredecessor(key: string, isCommitted: boolean): void {
    const p = this.pred.get(key);
    if (p === undefined || this.succ.has(p)) return;
    this.succ.set(p, isCommitted ? key : this.succ.get(key));
  }

  /** The largest key (or the head) before `key` after the block. */
  before(key: string): string {
    const i = lowerBound(this.inserted, key);
    const ins = i > 0 ? this.inserted[i - 1] : undefined;
    const com = this.skipDeleted(key, this.pred, (k) => this.state.keyBefore(k));
    if (ins === undefined) return com ?? HEAD_KEY;
    return com === undefined || ins > com ? ins : com;
  }

  /** The smallest key after `key` after the block (null: none). */
  after(key: string): string | null {
    const i = lowerBound(this.inserted, key);
    const at = this.inserted[i];
    const ins = at === key ? this.inserted[i + 1] : at;
    const com = this.skipDeleted(key, this.succ, (k) => this.state.keyAfter(k));
    if (ins === undefined) return com ?? null;
    return com === undefined || ins < com ? ins : com;
  }

  /** The committed neighbour of a key that survives the block (deleted keys are asked keys, so known). */
  private skipDeleted(key: string, neighbour: Map<string, string | undefined>, lookup: (k: string) => string | undefined): string | undefined {
    if (!neighbour.has(key)) neighbour.set(key, key === HEAD_KEY && neighbour === this.pred ? undefined : lookup(key));
    let c = neighbour.get(key);
    const visited: string[] = [];
    while (c !== undefined && this.deleted.has(c)) {
      visited.push(c);
      c = neighbour.get(c);
    }
    // Remember the surviving neighbour for the deleted keys walked through (a long run is walked once).
    for (const v of visited) neighbour.set(v, c);
    return c;
  }
}

/**
 * The leaf changes a block's writes cause, given the committed state they apply to: every key whose
 * value changes, and every key whose successor changes (the predecessors of inserted and deleted keys).
 */
export function leafChangesOf(state: TreeReads, writes: ReadonlyMap<string, string | null>): LeafChange[] {
  const inserted: string[] = [];
  const deleted = new Set<string>();
  const committed = new Set<string>();
  const valued = new Map<string, string>();
  for (const [key, next] of writes) {
    const prev = state.getRaw(key);
    if (prev === next || (prev === undefined && next === null)) continue;
    if (prev !== undefined) committed.add(key);
    if (next === null) deleted.add(key);
    else {
      valued.set(key, next);
      if (prev === undefined) inserted.push(key);
    }
  }
  inserted.sort();
  const asked = [HEAD_KEY, ...valued.keys(), ...deleted].sort();
  const order = new NewKeyOrder(state, asked, inserted, deleted, committed);
  const rewritten = new Set<string>(valued.keys());
  for (const k of inserted) rewritten.add(order.before(k));
  for (const k of deleted) rewritten.add(order.before(k));
  const changes: LeafChange[] = [];
  for (const key of rewritten) {
    const value = key === HEAD_KEY ? HEAD_VALUE : (valued.get(key) ?? state.getRaw(key));
    if (value === undefined) throw new Error(`state tree: no value for ${JSON.stringify(key)}`);
    changes.push({ keyHash: keyHashOf(key), entryHash: entryHashOf({ key, value, next: order.after(key) }) });
  }
  for (const key of deleted) changes.push({ keyHash: keyHashOf(key), entryHash: null });
  return changes.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
}

/** The tree after a block's writes (pure: storage is written only when the block commits). */
export function applyWritesToTree(state: TreeReads, root: Child, writes: ReadonlyMap<string, string | null>): TreeUpdate {
  return updateTree(state, root, leafChangesOf(state, writes));
}

/**
 * The tree of the state `state` holds now, from an older tree (`root`, whose rows `state` also reads)
 * and every key written since (ADR 0016: the rows of the last blocks reach storage later than their
 * state). A leaf differs between the two trees only if its key was written, or if its successor was
 * inserted or deleted — and then its key is the current predecessor of a written key (the smallest
 * inserted key after it, or the deleted one). So the leaves of the written keys and of their current
 * predecessors, read from the current state, are all the changes; writes that cancelled out change
 * nothing (an absent leaf removed, a leaf rewritten with its own hash).
 */
export function treeAfterWrittenKeys(state: TreeReads, root: Child, written: Iterable<string>): TreeUpdate {
  const affected = new Set<string>([HEAD_KEY]);
  for (const key of written) {
    affected.add(key);
    affected.add(state.keyBefore(key) ?? HEAD_KEY);
  }
  const changes: LeafChange[] = [];
  for (const key of affected) {
    const leaf = committedLeaf(state, key);
    changes.push({ keyHash: keyHashOf(key), entryHash: leaf ? entryHashOf(leaf) : null });
  }
  return updateTree(state, root, changes.sort((a, b) => compareBytes(a.keyHash, b.keyHash)));
}

/** The tree of a whole state given in key order (audit: rebuild from the state table). */
export function treeOfEntries(entries: Iterable<[string, string]>): TreeUpdate {
  const leaves = [];
  let prevKey = HEAD_KEY;
  let prevValue = HEAD_VALUE;
  for (const [key, value] of entries) {
    if (key <= prevKey && prevKey !== HEAD_KEY) throw new Error('state entries are not in key order');
    leaves.push(leafChild(keyHashOf(prevKey), entryHashOf({ key: prevKey, value: prevValue, next: key })));
    prevKey = key;
    prevValue = value;
  }
  leaves.push(leafChild(keyHashOf(prevKey), entryHashOf({ key: prevKey, value: prevValue, next: null })));
  return buildTree(leaves);
}

/** The leaf of a committed key (with its committed successor), or undefined when absent. */
export function committedLeaf(state: TreeReads, key: string): LeafEntry | undefined {
  const value = key === HEAD_KEY ? HEAD_VALUE : state.getRaw(key);
  if (value === undefined) return undefined;
  return { key, value, next: state.keyAfter(key) ?? null };
}

/** A tree proof for these keys (present or absent) in the committed tree. */
export function proveKeys(state: TreeState, root: Child, keys: Iterable<string>): ProofNode {
  const hashes = [...new Set(keys)].map(keyHashOf).sort(compareBytes);
  return proveTree(state, root, hashes);
}
