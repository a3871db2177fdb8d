/**
 * A block's state-tree rows and root as one buffer, so the tree worker's answer crosses threads as
 * one transferred ArrayBuffer instead of a structured clone of ~1,500 small arrays (ADR 0024).
 *
 * Layout (little-endian): root length u32, root bytes, row count u32, then per row: path length u32,
 * path bytes (latin1: a path is a string of byte values), node length i32 (−1: the row is deleted),
 * node bytes.
 */
export interface PackedTree {
  readonly root: Uint8Array;
  readonly rows: ReadonlyMap<string, Uint8Array | null>;
}

const DELETED = -1;

export function packTree(tree: PackedTree): ArrayBuffer {
  let size = 8 + tree.root.byteLength;
  for (const [path, node] of tree.rows) size += 8 + path.length + (node?.byteLength ?? 0);
  const buf = new ArrayBuffer(size);
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  let at = 0;
  const putBytes = (b: Uint8Array): void => {
    view.setUint32(at, b.byteLength, true);
    bytes.set(b, at + 4);
    at += 4 + b.byteLength;
  };
  putBytes(tree.root);
  view.setUint32(at, tree.rows.size, true);
  at += 4;
  for (const [path, node] of tree.rows) {
    view.setUint32(at, path.length, true);
    at += 4;
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c > 0xff) throw new Error('tree rows: a path is not a byte string');
      bytes[at + i] = c;
    }
    at += path.length;
    if (node === null) {
      view.setInt32(at, DELETED, true);
      at += 4;
    } else {
      view.setInt32(at, node.byteLength, true);
      bytes.set(node, at + 4);
      at += 4 + node.byteLength;
    }
  }
  return buf;
}

/**
 * The rows and root of a packed buffer. Every node is copied out (not a view): rows live on in the
 * storage's caches, and a view would keep the whole buffer of its block alive.
 */
export function unpackTree(buf: ArrayBuffer): { root: Uint8Array; rows: Map<string, Uint8Array | null> } {
  const view = new DataView(buf);
  const bytes = new Uint8Array(buf);
  let at = 0;
  const need = (n: number): void => {
    if (n < 0 || at + n > buf.byteLength) throw new Error('tree rows: truncated buffer');
  };
  need(4);
  const rootLength = view.getUint32(at, true);
  at += 4;
  need(rootLength);
  const root = bytes.slice(at, at + rootLength);
  at += rootLength;
  need(4);
  const count = view.getUint32(at, true);
  at += 4;
  const rows = new Map<string, Uint8Array | null>();
  for (let r = 0; r < count; r++) {
    need(4);
    const pathLength = view.getUint32(at, true);
    at += 4;
    need(pathLength);
    const path = Buffer.from(buf, at, pathLength).toString('latin1');
    at += pathLength;
    need(4);
    const nodeLength = view.getInt32(at, true);
    at += 4;
    if (nodeLength === DELETED) rows.set(path, null);
    else {
      need(nodeLength);
      rows.set(path, bytes.slice(at, at + nodeLength));
      at += nodeLength;
    }
  }
  if (at !== buf.byteLength) throw new Error('tree rows: trailing bytes');
  return { root, rows };
}
