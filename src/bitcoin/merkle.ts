import { bytesEqual, concatBytes } from '../util/bytes.js';
import { fromDisplayHex, sha256d, toDisplayHex } from './bytes.js';
import { ANCHOR_ERRORS as E } from './errors.js';

/**
 * Bitcoin's transaction Merkle tree: leaves are txids, a node is SHA-256d(left || right) over
 * internal-order bytes, and a level of odd length duplicates its last node. That duplication makes
 * two different transaction lists share a root ([a,b,c] and [a,b,c,c]: CVE-2012-2459), so:
 *
 * - computing a root from a block's txids reports the list as mutated when two adjacent hashes of a
 *   pair are equal at any level (as Bitcoin Core's ComputeMerkleRoot does) and such a list is refused;
 * - a branch carries the block's transaction count, which fixes the tree's shape: its depth must be
 *   ceil(log2(txCount)); where the node is the duplicated last node of an odd level the sibling must
 *   equal the node; everywhere else the sibling must differ from the node (an equal pair is the
 *   mutation). So a branch has exactly one reading, and the index it proves is the real position.
 *
 * The transaction count is not in the header, but a wrong count cannot make a false branch verify:
 * the root still has to match, and a wrong depth would need a 64-byte transaction posing as an inner
 * node; verifyAnchor also requires the leaf to be the txid of a parsed transaction that is not 64 bytes.
 */

/** More transactions than fit in a block (4,000,000 weight units / 240 per minimal transaction ≈ 16,667). */
export const MAX_BLOCK_TXS = 100_000;

export interface BitcoinMerkleBranch {
  /** Position of the transaction in the block (0 = coinbase). */
  index: number;
  /** Number of transactions in the block. */
  txCount: number;
  /** Sibling hashes from the leaves up, display-order hex (as Esplora's /merkle-proof and Electrum give them). */
  siblings: string[];
}

const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256d(concatBytes(left, right));

/** ceil(log2(n)) for n ≥ 1: the number of levels above the leaves. */
export function merkleDepth(txCount: number): number {
  let depth = 0;
  while (2 ** depth < txCount) depth++;
  return depth;
}

function txidList(txids: readonly string[]): Uint8Array[] {
  if (!Array.isArray(txids) || txids.length === 0 || txids.length > MAX_BLOCK_TXS) throw E.ANCHOR_BTC_TXIDS_INVALID(`a block has 1..${MAX_BLOCK_TXS} transactions, got ${Array.isArray(txids) ? txids.length : 'no list'}`);
  return txids.map((t, i) => fromDisplayHex(t, E.ANCHOR_BTC_TXIDS_INVALID, `txid ${i}`));
}

/** One level up; `mutated` when a pair of equal hashes is hashed together (not counting the duplicated last node). */
function nextLevel(level: Uint8Array[]): { next: Uint8Array[]; mutated: boolean } {
  const next: Uint8Array[] = [];
  let mutated = false;
  for (let k = 0; k < level.length; k += 2) {
    const left = level[k]!;
    const right = level[k + 1];
    if (right && bytesEqual(left, right)) mutated = true;
    next.push(nodeHash(left, right ?? left));
  }
  return { next, mutated };
}

/** Merkle root (display hex) of a block's txids, and whether the list is mutated (CVE-2012-2459). */
export function bitcoinMerkleRoot(txids: readonly string[]): { root: string; mutated: boolean } {
  let level = txidList(txids);
  let mutated = false;
  while (level.length > 1) {
    const step = nextLevel(level);
    mutated ||= step.mutated;
    level = step.next;
  }
  return { root: toDisplayHex(level[0]!), mutated };
}

/** The branch of txids[index]; refuses a mutated list (a real block never is one). */
export function buildBitcoinMerkleBranch(txids: readonly string[], index: number): BitcoinMerkleBranch {
  let level = txidList(txids);
  if (!Number.isSafeInteger(index) || index < 0 || index >= level.length) throw E.ANCHOR_BTC_TXIDS_INVALID(`index ${index} is outside 0..${level.length - 1}`);
  const siblings: string[] = [];
  let i = index;
  while (level.length > 1) {
    siblings.push(toDisplayHex(level[i ^ 1] ?? level[i]!));
    const step = nextLevel(level);
    if (step.mutated) throw E.ANCHOR_BTC_TXIDS_INVALID('transaction list is mutated (two equal hashes paired; CVE-2012-2459)');
    level = step.next;
    i >>= 1;
  }
  return { index, txCount: txids.length, siblings };
}

/**
 * The Merkle root (display hex) that `txid` and its branch lead to, after the shape checks described
 * above; throws ANCHOR_BTC_MERKLE_BRANCH_INVALID when the branch does not fit a block of `txCount`.
 */
export function merkleRootFromBranch(txid: string, branch: BitcoinMerkleBranch): string {
  const { index, txCount, siblings } = branch;
  if (!Number.isSafeInteger(txCount) || txCount < 1 || txCount > MAX_BLOCK_TXS) throw E.ANCHOR_BTC_MERKLE_BRANCH_INVALID(`transaction count ${txCount} is outside 1..${MAX_BLOCK_TXS}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= txCount) throw E.ANCHOR_BTC_MERKLE_BRANCH_INVALID(`index ${index} is outside 0..${txCount - 1}`);
  const depth = merkleDepth(txCount);
  if (!Array.isArray(siblings) || siblings.length !== depth) throw E.ANCHOR_BTC_MERKLE_BRANCH_INVALID(`a block of ${txCount} transactions needs ${depth} siblings, the branch has ${Array.isArray(siblings) ? siblings.length : 'none'}`);
  let node = fromDisplayHex(txid, E.ANCHOR_BTC_MERKLE_BRANCH_INVALID, 'txid');
  let i = index;
  let width = txCount;
  for (let level = 0; level < depth; level++) {
    const sibling = fromDisplayHex(siblings[level]!, E.ANCHOR_BTC_MERKLE_BRANCH_INVALID, `sibling ${level}`);
    const duplicatedLast = i === width - 1 && width % 2 === 1;
    if (duplicatedLast !== bytesEqual(sibling, node)) {
      throw E.ANCHOR_BTC_MERKLE_BRANCH_INVALID(
        duplicatedLast
          ? `at level ${level} the node is the last of an odd level, so its sibling must be itself`
          : `at level ${level} the sibling equals the node: a duplicated pair (CVE-2012-2459), not a real block's branch`,
      );
    }
    node = i % 2 === 0 ? nodeHash(node, sibling) : nodeHash(sibling, node);
    i >>= 1;
    width = (width + 1) >> 1;
  }
  return toDisplayHex(node);
}

/** Throws unless `txid` with `branch` leads to `merkleRoot` (display hex, as in the block header). */
export function verifyBitcoinMerkleBranch(txid: string, branch: BitcoinMerkleBranch, merkleRoot: string): void {
  const computed = merkleRootFromBranch(txid, branch);
  if (computed !== merkleRoot) throw E.ANCHOR_BTC_MERKLE_ROOT_MISMATCH(`branch of ${txid} leads to Merkle root ${computed}, the header has ${merkleRoot}`);
}
