import type { TreeState } from '../../src/app/state-tree.js';
import { applyWritesToTree, emptyStateTree } from '../../src/app/state-tree.js';
import type { Child } from '../../src/app/smt.js';
import type { ScanOptions } from '../../src/app/state.js';

/** Committed state and state-tree rows in memory: the TreeState the tests drive blocks through. */
export class MemState implements TreeState {
  readonly map = new Map<string, string>();
  readonly rows = new Map<string, Uint8Array>();
  root: Child = emptyStateTree();
  private sorted: string[] | undefined;

  private keys(): string[] {
    this.sorted ??= [...this.map.keys()].sort();
    return this.sorted;
  }

  getRaw(key: string): string | undefined {
    return this.map.get(key);
  }

  scanRaw(prefix: string, options: ScanOptions = {}): Array<[string, string]> {
    const lower = options.start !== undefined && options.start > prefix ? options.start : prefix;
    const upper = options.end !== undefined && options.end < prefix + '\uffff' ? options.end : prefix + '\uffff';
    let rows = this.keys().filter((k) => k >= lower && k < upper && k.startsWith(prefix));
    if (options.reverse) rows = rows.reverse();
    if (options.limit !== undefined) rows = rows.slice(0, options.limit);
    return rows.map((k) => [k, this.map.get(k)!]);
  }

  keyAfter(key: string): string | undefined {
    return this.keys().find((k) => k > key);
  }

  keyBefore(key: string): string | undefined {
    return this.keys().filter((k) => k < key).at(-1);
  }

  treeRow(path: string): Uint8Array | undefined {
    return this.rows.get(path);
  }

  /** Commits a block's writes: state, tree rows and root. */
  commit(writes: Map<string, string | null>): void {
    const update = applyWritesToTree(this, this.root, writes);
    for (const [k, v] of writes) {
      if (v === null) this.map.delete(k);
      else this.map.set(k, v);
    }
    for (const [p, r] of update.rows) {
      if (r === null) this.rows.delete(p);
      else this.rows.set(p, r);
    }
    this.root = update.root;
    this.sorted = undefined;
  }
}
