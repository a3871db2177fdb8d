import { createHash } from 'node:crypto';

/**
 * A second, deliberately naive implementation of the state tree (ADR 0012), written from the
 * specification alone with node:crypto: the root of a whole state computed from scratch by
 * recursive splitting on the key hash's hex digits. The production code updates incrementally with
 * @noble/hashes; the tests require both to agree.
 */

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (s: string) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);

export function naiveKeyHash(key: string): Buffer {
  return sha(Buffer.from('GRIDLEDGER/SMT-KEY/V1\0'), Buffer.from(key, 'utf8'));
}

export function naiveEntryHash(key: string, value: string, next: string | null): Buffer {
  return sha(Buffer.from('GRIDLEDGER/SMT-LEAF/V1\0'), str(key), next === null ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : str(next), Buffer.from(value, 'utf8'));
}

/** Hex digit i of the key hash, read from its hex spelling. */
const digit = (h: Buffer, i: number) => parseInt(h.toString('hex')[i]!, 16);

/** null: an empty subtree (it contributes nothing to its parent's hash). */
function subtree(leaves: Array<{ kh: Buffer; eh: Buffer }>, depth: number): Buffer | null {
  if (leaves.length === 0) return null;
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!.kh, leaves[0]!.eh);
  const children = Array.from({ length: 16 }, (_, d) => subtree(leaves.filter((l) => digit(l.kh, depth) === d), depth + 1));
  const bitmap = children.reduce((m, c, d) => (c === null ? m : m + 2 ** (15 - d)), 0);
  const bm = Buffer.alloc(2);
  bm.writeUInt16BE(bitmap);
  return sha(Buffer.from([1]), bm, ...children.filter((c): c is Buffer => c !== null));
}

/** The state root of a whole state: the head leaf ('' → first key) and one leaf per entry. */
export function naiveStateRoot(state: Map<string, string>): string {
  const keys = [...state.keys()].sort();
  const all = ['', ...keys];
  const leaves = all.map((k, i) => ({ kh: naiveKeyHash(k), eh: naiveEntryHash(k, k === '' ? '' : state.get(k)!, all[i + 1] ?? null) }));
  return (subtree(leaves, 0) ?? Buffer.alloc(32)).toString('hex');
}
