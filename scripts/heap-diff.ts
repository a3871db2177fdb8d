/**
 * `node --max-old-space-size=3072 bin/run-ts.mjs scripts/heap-diff.ts A.heapsnapshot B.heapsnapshot [--top 25]`
 *
 * Compares two V8 heap snapshots of one process (issue 9): per constructor (node type + name) the
 * count and self size in each and the growth; and the largest Map/Set/Array objects of B with the
 * property path that holds them (first retainer chain), their entry count and the size of their
 * backing store, next to the same object in A (matched by the snapshot's stable node id).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);

interface Snapshot {
  types: string[];
  edgeTypes: string[];
  nodeFields: number;
  edgeFields: number;
  nodes: Uint32Array | number[];
  edges: Uint32Array | number[];
  strings: string[];
  firstEdge: Uint32Array;
  retainer: Int32Array;
  retainerEdge: Int32Array;
  byId: Map<number, number>;
  /** Self size of the node plus its descendants in the breadth-first retainer tree (an estimate of retained size). */
  treeSize: Float64Array;
}

function load(path: string): Snapshot {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const meta = raw.snapshot.meta;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const nodes: number[] = raw.nodes;
  const edges: number[] = raw.edges;
  const count = nodes.length / nodeFields;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += nodes[i * nodeFields + 4]! * edgeFields;
    firstEdge[i + 1] = e;
  }
  // One retainer per node (the first strong edge found from the root side, breadth first), for paths.
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge = new Int32Array(count).fill(-1);
  const weak = meta.edge_types[0].indexOf('weak');
  const queue = new Int32Array(count);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  retainer[0] = 0;
  while (head < tail) {
    const n = queue[head++]!;
    for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += edgeFields) {
      if (edges[e] === weak) continue;
      const to = edges[e + 2]! / nodeFields;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      retainerEdge[to] = e;
      queue[tail++] = to;
    }
  }
  const treeSize = new Float64Array(count);
  for (let i = 0; i < count; i++) treeSize[i] = nodes[i * nodeFields + 3]!;
  for (let q = tail - 1; q > 0; q--) {
    const n = queue[q]!;
    treeSize[retainer[n]!] = treeSize[retainer[n]!]! + treeSize[n]!;
  }
  const byId = new Map<number, number>();
  for (let i = 0; i < count; i++) byId.set(nodes[i * nodeFields + 2]!, i);
  return { types: meta.node_types[0], edgeTypes: meta.edge_types[0], nodeFields, edgeFields, nodes, edges, strings: raw.strings, firstEdge, retainer, retainerEdge, byId, treeSize };
}

const typeOf = (s: Snapshot, n: number) => s.types[s.nodes[n * s.nodeFields]!]!;
const nameOf = (s: Snapshot, n: number) => s.strings[s.nodes[n * s.nodeFields + 1]!]!;
const selfSize = (s: Snapshot, n: number) => s.nodes[n * s.nodeFields + 3]!;
const idOf = (s: Snapshot, n: number) => s.nodes[n * s.nodeFields + 2]!;

function edgeName(s: Snapshot, e: number): string {
  const type = s.edgeTypes[s.edges[e]!]!;
  const v = s.edges[e + 1]!;
  return type === 'element' || type === 'hidden' ? `[${v}]` : String(s.strings[v]);
}

function pathOf(s: Snapshot, n: number, depth = 9): string {
  const parts: string[] = [];
  let cur = n;
  for (let i = 0; i < depth && cur > 0 && s.retainer[cur]! >= 0; i++) {
    const parent = s.retainer[cur]!;
    parts.unshift(`${nameOf(s, parent).slice(0, 40)}.${edgeName(s, s.retainerEdge[cur]!)}`);
    cur = parent;
  }
  return parts.join(' → ');
}

function byConstructor(s: Snapshot): Map<string, { count: number; size: number }> {
  const out = new Map<string, { count: number; size: number }>();
  const count = s.nodes.length / s.nodeFields;
  for (let i = 0; i < count; i++) {
    const type = typeOf(s, i);
    const key = type === 'object' || type === 'native' || type === 'closure' ? `${type}:${nameOf(s, i)}` : type === 'hidden' || type === 'array' ? `${type}:${nameOf(s, i).slice(0, 60)}` : type;
    const got = out.get(key) ?? { count: 0, size: 0 };
    got.count += 1;
    got.size += selfSize(s, i);
    out.set(key, got);
  }
  return out;
}

/** Size of a collection: its own size plus its backing store (Map/Set `table`, Array `elements`). */
function collectionInfo(s: Snapshot, n: number): { backing: number; entries: number; retained: number } {
  let backing = selfSize(s, n);
  let entries = 0;
  for (let e = s.firstEdge[n]!; e < s.firstEdge[n + 1]!; e += s.edgeFields) {
    const name = edgeName(s, e);
    if (name === 'table' || name === 'elements') {
      const to = s.edges[e + 2]! / s.nodeFields;
      backing += selfSize(s, to);
      entries += (s.firstEdge[to + 1]! - s.firstEdge[to]!) / s.edgeFields;
    }
  }
  return { backing, entries, retained: s.treeSize[n]! };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const [pathA, pathB] = positionals;
if (!pathA || !pathB) {
  process.stderr.write('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot [--top N]\n');
  process.exit(2);
}
const a = load(pathA);
const b = load(pathB);
const ca = byConstructor(a);
const cb = byConstructor(b);
const total = (c: Map<string, { size: number }>) => [...c.values()].reduce((x, y) => x + y.size, 0);
process.stdout.write(`total self size: A ${mib(total(ca))} MiB, B ${mib(total(cb))} MiB\n\n`);
process.stdout.write(`growth by constructor (top ${top}):\n  Δ MiB     Δ count   B MiB     B count   name\n`);
const rows = [...new Set([...ca.keys(), ...cb.keys()])].map((k) => ({ k, a: ca.get(k) ?? { count: 0, size: 0 }, b: cb.get(k) ?? { count: 0, size: 0 } }));
rows.sort((x, y) => y.b.size - y.a.size - (x.b.size - x.a.size));
for (const r of rows.slice(0, top)) {
  process.stdout.write(`  ${mib(r.b.size - r.a.size).padStart(8)}  ${String(r.b.count - r.a.count).padStart(9)}  ${mib(r.b.size).padStart(8)}  ${String(r.b.count).padStart(9)}   ${r.k}\n`);
}

process.stdout.write(`\nlargest collections in B by retained size (≈: breadth-first retainer tree), backing-store slots; and the same object in A:\n`);
const collections: Array<{ n: number; backing: number; entries: number; retained: number }> = [];
const countB = b.nodes.length / b.nodeFields;
for (let i = 0; i < countB; i++) {
  const name = nameOf(b, i);
  if (typeOf(b, i) !== 'object' || !(name === 'Map' || name === 'Set' || name === 'Array' || name === 'Object')) continue;
  collections.push({ n: i, ...collectionInfo(b, i) });
}
collections.sort((x, y) => y.retained - x.retained);
for (const c of collections.slice(0, top)) {
  const inA = a.byId.get(idOf(b, c.n));
  const before = inA === undefined ? 'new' : (({ entries, backing, retained }) => `${entries} slots, ${mib(backing)} MiB, retained ≈ ${mib(retained)} MiB`)(collectionInfo(a, inA));
  process.stdout.write(`  ${nameOf(b, c.n)} ${c.entries} slots, ${mib(c.backing)} MiB, retained ≈ ${mib(c.retained)} MiB (A: ${before})\n    ${pathOf(b, c.n)}\n`);
}
