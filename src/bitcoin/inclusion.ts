import { DOMAIN, domainBytes, merkleRoot, sha256 } from '../crypto/hash.js';
import { concatBytes, toHex } from '../util/bytes.js';
import { hash32 } from './bytes.js';
import { checkpointDigest, EMPTY_INTERVAL_ROOT, type Checkpoint } from './checkpoint.js';
import { ANCHOR_ERRORS as E } from './errors.js';

/**
 * "This item is covered by that checkpoint": inclusion paths in the tree whose root is a checkpoint's
 * interval root. The tree is GridLedger's own Merkle tree (`merkleRoot` in src/crypto/hash.ts:
 * domain-separated leaves and nodes, an odd last node promoted unchanged), reused here so the root is
 * computed by one function; this file adds the paths that function does not produce.
 *
 * Items are 32-byte hashes (a meter interval fingerprint, a statement hash), each already a
 * domain-separated hash of its own kind, so two kinds of item cannot be confused in one tree.
 */

export interface InclusionPath {
  /** Position of the item among the committed items (commit order). */
  index: number;
  /**
   * Number of items in the tree: tells at which levels the node is promoted (no sibling). The root does
   * not commit to it, so a path proves membership at `index`, not the count.
   */
  leafCount: number;
  /** Sibling hashes from the leaf level up (lowercase hex); a level where the node is promoted has none. */
  siblings: string[];
}

/** Largest tree accepted when verifying (a path for more items is refused before any hashing). */
export const MAX_INCLUSION_LEAVES = 2 ** 32;

function itemBytes(items: readonly string[]): Uint8Array[] {
  return items.map((item, i) => hash32(item, E.ANCHOR_INCLUSION_PATH_INVALID, `item ${i}`));
}

const leafHash = (leaf: Uint8Array) => sha256(domainBytes(DOMAIN.merkleLeaf, leaf));
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(domainBytes(DOMAIN.merkleNode, concatBytes(left, right)));

/** The interval root of a checkpoint: 32 zero bytes when there are no items, else the Merkle root of the items in order. */
export function intervalRoot(items: readonly string[]): string {
  if (items.length === 0) return EMPTY_INTERVAL_ROOT;
  return toHex(merkleRoot(itemBytes(items)));
}

/** The inclusion path of items[index]. */
export function inclusionPath(items: readonly string[], index: number): InclusionPath {
  if (!Number.isSafeInteger(index) || index < 0 || index >= items.length) throw E.ANCHOR_INCLUSION_PATH_INVALID(`index ${index} is outside 0..${items.length - 1}`);
  let level = itemBytes(items).map(leafHash);
  let i = index;
  const siblings: string[] = [];
  while (level.length > 1) {
    const promoted = i === level.length - 1 && level.length % 2 === 1;
    if (!promoted) siblings.push(toHex(level[i ^ 1]!));
    const next: Uint8Array[] = [];
    for (let k = 0; k + 1 < level.length; k += 2) next.push(nodeHash(level[k]!, level[k + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
    i >>= 1;
  }
  return { index, leafCount: items.length, siblings };
}

/** Recomputes the root from an item and its path; throws ANCHOR_INCLUSION_PATH_INVALID if the path does not fit the tree's shape. */
export function rootFromInclusionPath(item: string, path: InclusionPath): string {
  const { index, leafCount, siblings } = path;
  if (!Number.isSafeInteger(leafCount) || leafCount < 1 || leafCount > MAX_INCLUSION_LEAVES) throw E.ANCHOR_INCLUSION_PATH_INVALID(`leaf count ${leafCount} is out of range`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafCount) throw E.ANCHOR_INCLUSION_PATH_INVALID(`index ${index} is outside 0..${leafCount - 1}`);
  if (!Array.isArray(siblings) || siblings.length > 32) throw E.ANCHOR_INCLUSION_PATH_INVALID('siblings must be a list of at most 32 hashes');
  let node = leafHash(hash32(item, E.ANCHOR_INCLUSION_PATH_INVALID, 'item'));
  let i = index;
  let width = leafCount;
  let used = 0;
  while (width > 1) {
    const promoted = i === width - 1 && width % 2 === 1;
    if (!promoted) {
      if (used >= siblings.length) throw E.ANCHOR_INCLUSION_PATH_INVALID(`path has ${siblings.length} siblings, the tree of ${leafCount} items needs more`);
      const sibling = hash32(siblings[used++]!, E.ANCHOR_INCLUSION_PATH_INVALID, `sibling ${used - 1}`);
      node = i % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
    }
    i >>= 1;
    width = (width + 1) >> 1;
  }
  if (used !== siblings.length) throw E.ANCHOR_INCLUSION_PATH_INVALID(`path has ${siblings.length} siblings, the tree of ${leafCount} items needs ${used}`);
  return toHex(node);
}

/** Throws unless `item` is at `path.index` in the tree whose root is `root`. */
export function verifyInclusion(item: string, path: InclusionPath, root: string): void {
  const computed = rootFromInclusionPath(item, path);
  if (computed !== root) throw E.ANCHOR_INCLUSION_PATH_INVALID(`path leads to root ${computed}, expected ${root}`);
}

/** An item, the checkpoint that covers it, and the path from the item to the checkpoint's interval root. */
export interface CoverageProof {
  checkpoint: Checkpoint;
  path: InclusionPath;
}

/**
 * Checks that `item` is covered by the checkpoint in `proof` and returns that checkpoint's digest —
 * the value to find in the Bitcoin transaction's OP_RETURN (see verifyAnchor).
 */
export function verifyCoverage(item: string, proof: CoverageProof): string {
  verifyInclusion(item, proof.path, proof.checkpoint.intervalRoot);
  return checkpointDigest(proof.checkpoint);
}
