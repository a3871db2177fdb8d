import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTree, bytesToHex, childHash, decodeRow, encodeRow, innerHash, leafChild, type Child } from '../../src/app/smt.js';
import '../../src/app/smt-node.js';

/**
 * Children decoded from a stored row keep their bytes in the row (smt.ts, StoredLeaf/StoredInner) and
 * are copied from it into a rewritten row and into the node's hash. Whatever a row holds, decoding it
 * and writing it again gives the same bytes, and its hash is the hash of the same children built anew.
 */

const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** The same children as plain objects (not backed by the row). */
function rebuilt(children: readonly Child[]): Child[] {
  return children.map((c) => (c === null ? null : c.leaf ? leafChild(new Uint8Array(c.keyHash), new Uint8Array(c.entryHash)) : { leaf: false as const, hash: new Uint8Array(c.hash) }));
}

describe('stored state-tree rows', () => {
  it('re-encode to the same bytes and hash like freshly built children, for every row of random trees', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(hash32, hash32), { minLength: 2, maxLength: 300, selector: ([k]) => bytesToHex(k) }), (pairs) => {
        const { rows } = buildTree(pairs.map(([k, e]) => leafChild(k, e)));
        for (const row of rows.values()) {
          const stored = decodeRow(row!);
          expect(encodeRow(stored)).toEqual(row);
          const fresh = rebuilt(stored);
          expect(bytesToHex(innerHash(stored))).toBe(bytesToHex(innerHash(fresh)));
          expect(encodeRow(fresh)).toEqual(row);
          stored.forEach((c, i) => expect(c === null ? null : bytesToHex(childHash(c))).toBe(fresh[i] === null ? null : bytesToHex(childHash(fresh[i]!))));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a row mixing stored and new children encodes and hashes each from where it lives', () => {
    const { rows } = buildTree(Array.from({ length: 64 }, (_, i) => leafChild(new Uint8Array(32).fill(i * 4 + 1), new Uint8Array(32).fill(255 - i))));
    const [path, row] = [...rows].find(([p]) => p.charCodeAt(0) === 0)!;
    expect(path.charCodeAt(0)).toBe(0);
    const stored = decodeRow(row!);
    const replaced = stored.map((c, i) => (i % 3 === 0 && c !== null ? leafChild(new Uint8Array(32).fill(7), new Uint8Array(32).fill(i)) : c));
    expect(bytesToHex(innerHash(replaced))).toBe(bytesToHex(innerHash(rebuilt(replaced))));
    expect(encodeRow(replaced)).toEqual(encodeRow(rebuilt(replaced)));
  });

  it('rows encoded one after another keep their own bytes (new rows are views into shared slabs)', () => {
    // Enough rows of every size to fill several slabs; each is compared with a copy taken at once.
    const sizes = Array.from({ length: 3000 }, (_, i) => 1 + (i % 16));
    const encoded = sizes.map((n, i) => {
      const children = Array.from({ length: 16 }, (_, d) => (d < n ? leafChild(new Uint8Array(32).fill(d + 1), new Uint8Array(32).fill((i + d) & 0xff)) : null));
      const row = encodeRow(children);
      return { row, copy: new Uint8Array(row), hash: bytesToHex(innerHash(children)) };
    });
    for (const { row, copy, hash } of encoded) {
      expect(row).toEqual(copy);
      expect(bytesToHex(innerHash(decodeRow(row)))).toBe(hash);
    }
  });
});
