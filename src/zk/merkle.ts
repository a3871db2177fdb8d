import { E } from './errors.js';
import { assertScalarFieldElement } from './field.js';
import { poseidonHash } from './poseidon.js';

/**
 * Depth of the members' tree of the membership circuit: 2^16 = 65,536 identity commitments. A
 * different depth needs a recompiled circuit and new keys (zk/circuits/membership.circom).
 */
export const MEMBERS_TREE_DEPTH = 16;
/** Value of an empty (or revoked) leaf. No secret hashes to it (that would be a Poseidon preimage of 0). */
export const EMPTY_LEAF = 0n;

/**
 * Where the tree keeps its nodes. The default keeps them in a Map; the ledger can pass one backed
 * by its state store so a block updates DEPTH nodes instead of rebuilding the tree. Nodes never set
 * are empty subtrees. Levels count from 0 (leaves) to depth (root).
 */
export interface TreeNodeStore {
  getNode(level: number, index: number): bigint | undefined;
  setNode(level: number, index: number, value: bigint): void;
  /** Number of leaves appended so far (the next free index). */
  getSize(): number;
  setSize(size: number): void;
}

export class MapNodeStore implements TreeNodeStore {
  private readonly nodes = new Map<string, bigint>();
  private size = 0;
  getNode(level: number, index: number): bigint | undefined {
    return this.nodes.get(`${level}:${index}`);
  }
  setNode(level: number, index: number, value: bigint): void {
    this.nodes.set(`${level}:${index}`, value);
  }
  getSize(): number {
    return this.size;
  }
  setSize(size: number): void {
    this.size = size;
  }
}

/** A leaf's authentication path: the sibling at each level from the leaf up, as the circuit takes it. */
export interface MerklePath {
  leafIndex: number;
  leaf: bigint;
  siblings: bigint[];
  root: bigint;
}

const zeroCache = new Map<number, readonly bigint[]>();

/** zero[i] = root of an empty subtree of height i (zero[0] = EMPTY_LEAF). */
export function zeroHashes(depth: number): readonly bigint[] {
  const cached = zeroCache.get(depth);
  if (cached) return cached;
  const zeros = [EMPTY_LEAF];
  for (let i = 0; i < depth; i++) zeros.push(poseidonHash([zeros[i]!, zeros[i]!]));
  zeroCache.set(depth, zeros);
  return zeros;
}

/**
 * Fixed-depth binary Poseidon Merkle tree, node = Poseidon(left, right), empty leaf 0: the tree of
 * the membership circuit (and of Semaphore-style designs). Written here rather than taken from
 * @zk-kit/imt because that keeps every node in one in-memory array, while the ledger needs the
 * nodes in its own deterministic store (TreeNodeStore); the logic is a few lines.
 */
export class PoseidonMerkleTree {
  readonly depth: number;
  private readonly store: TreeNodeStore;
  private readonly zeros: readonly bigint[];

  constructor(depth: number = MEMBERS_TREE_DEPTH, store: TreeNodeStore = new MapNodeStore()) {
    // ≤ 31 keeps leaf indices below 2^31, so the bit operations on them below are exact.
    if (!Number.isSafeInteger(depth) || depth < 1 || depth > 31) throw new RangeError(`tree depth must be 1..31, got ${depth}`);
    this.depth = depth;
    this.store = store;
    this.zeros = zeroHashes(depth);
  }

  get capacity(): number {
    return 2 ** this.depth;
  }

  /** Leaves appended so far; removed leaves still count (their index is never reused). */
  get size(): number {
    return this.store.getSize();
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  leaf(index: number): bigint {
    this.checkIndex(index);
    return this.node(0, index);
  }

  /** Appends a non-empty leaf (an identity commitment) and returns its index. */
  insert(leaf: bigint): number {
    const index = this.size;
    if (index >= this.capacity) throw E.ZK_TREE_FULL(`the tree of depth ${this.depth} holds ${this.capacity} leaves`);
    if (assertScalarFieldElement(leaf, 'leaf') === EMPTY_LEAF) throw E.ZK_FIELD_ELEMENT_INVALID('a leaf must not be 0, the empty leaf');
    this.store.setSize(index + 1);
    this.write(index, leaf);
    return index;
  }

  /** Replaces an appended leaf (0 empties it: revocation removes the commitment from later roots). */
  update(index: number, leaf: bigint): void {
    this.checkIndex(index);
    if (index >= this.size) throw E.ZK_TREE_INDEX_INVALID(`leaf ${index} has not been appended (size ${this.size})`);
    this.write(index, assertScalarFieldElement(leaf, 'leaf'));
  }

  remove(index: number): void {
    this.update(index, EMPTY_LEAF);
  }

  path(index: number): MerklePath {
    this.checkIndex(index);
    const siblings: bigint[] = [];
    let i = index;
    for (let level = 0; level < this.depth; level++) {
      siblings.push(this.node(level, i ^ 1));
      i = i >>> 1;
    }
    return { leafIndex: index, leaf: this.node(0, index), siblings, root: this.root };
  }

  private write(index: number, leaf: bigint): void {
    let value = leaf;
    let i = index;
    this.store.setNode(0, i, value);
    for (let level = 0; level < this.depth; level++) {
      const sibling = this.node(level, i ^ 1);
      value = i % 2 === 0 ? poseidonHash([value, sibling]) : poseidonHash([sibling, value]);
      i = i >>> 1;
      this.store.setNode(level + 1, i, value);
    }
  }

  private node(level: number, index: number): bigint {
    return this.store.getNode(level, index) ?? this.zeros[level]!;
  }

  private checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.capacity) throw E.ZK_TREE_INDEX_INVALID(`leaf index ${index} outside 0..${this.capacity - 1}`);
  }
}

/** Recomputes the root from a leaf and its path (what the circuit does) and compares. */
export function verifyMerklePath(path: MerklePath, root: bigint): boolean {
  let value = path.leaf;
  let i = path.leafIndex;
  for (const sibling of path.siblings) {
    value = i % 2 === 0 ? poseidonHash([value, sibling]) : poseidonHash([sibling, value]);
    i = i >>> 1;
  }
  return i === 0 && value === root;
}
