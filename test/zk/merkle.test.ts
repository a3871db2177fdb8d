import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_LEAF, MEMBERS_TREE_DEPTH, MapNodeStore, PoseidonMerkleTree, verifyMerklePath, zeroHashes } from '../../src/zk/merkle.js';
import { poseidonHash } from '../../src/zk/poseidon.js';

/** Root of a full tree over `leaves` (padded with empty leaves), recomputed level by level. */
function naiveRoot(depth: number, leaves: bigint[]): bigint {
  let level = [...leaves, ...Array<bigint>(2 ** depth - leaves.length).fill(EMPTY_LEAF)];
  for (let d = 0; d < depth; d++) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(poseidonHash([level[i]!, level[i + 1]!]));
    level = next;
  }
  return level[0]!;
}

describe('PoseidonMerkleTree', () => {
  it('an empty tree has the root of empty subtrees (depth 16 by default)', () => {
    const tree = new PoseidonMerkleTree();
    expect(tree.depth).toBe(MEMBERS_TREE_DEPTH);
    expect(tree.root).toBe(zeroHashes(16)[16]);
    expect(zeroHashes(1)[1]).toBe(poseidonHash([0n, 0n]));
  });

  it('insert, update and remove agree with a full recomputation; paths verify', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n, max: 1n << 200n }), { minLength: 1, maxLength: 8 }), fc.nat(), (leaves, pick) => {
        const depth = 3;
        const tree = new PoseidonMerkleTree(depth);
        leaves.forEach((leaf, i) => expect(tree.insert(leaf)).toBe(i));
        expect(tree.root).toBe(naiveRoot(depth, leaves));
        const index = pick % leaves.length;
        const path = tree.path(index);
        expect(path.leaf).toBe(leaves[index]);
        expect(verifyMerklePath(path, tree.root)).toBe(true);
        expect(verifyMerklePath({ ...path, leaf: path.leaf + 1n }, tree.root)).toBe(false);
        tree.remove(index);
        const expected = [...leaves];
        expected[index] = EMPTY_LEAF;
        expect(tree.root).toBe(naiveRoot(depth, expected));
        expect(verifyMerklePath(path, tree.root)).toBe(false);
        expect(tree.size).toBe(leaves.length);
      }),
      { numRuns: 25 },
    );
  });

  it('keeps its nodes in the given store, so a second tree over the same store sees the same root', () => {
    const store = new MapNodeStore();
    const a = new PoseidonMerkleTree(16, store);
    a.insert(11n);
    a.insert(12n);
    const b = new PoseidonMerkleTree(16, store);
    expect(b.root).toBe(a.root);
    expect(b.size).toBe(2);
    expect(b.insert(13n)).toBe(2);
    expect(a.root).toBe(b.root);
  });

  it('refuses the empty leaf, non-field leaves, a full tree and bad indices', () => {
    const tree = new PoseidonMerkleTree(1);
    expect(() => tree.insert(0n)).toThrow(expect.objectContaining({ code: 'ZK_FIELD_ELEMENT_INVALID' }));
    expect(() => tree.insert(-5n)).toThrow(expect.objectContaining({ code: 'ZK_FIELD_ELEMENT_INVALID' }));
    tree.insert(1n);
    tree.insert(2n);
    expect(() => tree.insert(3n)).toThrow(expect.objectContaining({ code: 'ZK_TREE_FULL' }));
    expect(() => tree.path(2)).toThrow(expect.objectContaining({ code: 'ZK_TREE_INDEX_INVALID' }));
    expect(() => tree.leaf(-1)).toThrow(expect.objectContaining({ code: 'ZK_TREE_INDEX_INVALID' }));
    expect(() => new PoseidonMerkleTree(2).update(0, 5n)).toThrow(expect.objectContaining({ code: 'ZK_TREE_INDEX_INVALID' }));
  });
});
