import { defineErrors } from '../util/errors.js';

/**
 * Query-only indexes kept by the node (ADR 0029 point 1). A module declares an index as a pure
 * function of its committed records; the node's storage keeps the index in a table of its own, in
 * the block's transaction, from the block's writes, and rebuilds it from the state at start when it
 * is missing or of another version. An index is never hashed, proven, sent or read by consensus code:
 * only query contexts over the committed state get a reader, so it cannot change a result; a query
 * answered with a proof (`?prove=true`) gets none and reads the state itself.
 */

export const QUERY_INDEX_ERRORS = defineErrors('kernel', {
  QUERY_INDEX_UNAVAILABLE: {
    status: 503,
    meaning: "a node's query index failed while a block was committed (the block committed; the index is rebuilt when the node starts again); the same query with prove=true reads the state itself",
  },
});

export interface QueryIndexDef {
  /** Unique within the module; stored as `<module>/<name>`. */
  readonly name: string;
  /** Raised whenever `keysOf` changes: a node rebuilds an index whose stored version differs. */
  readonly version: number;
  /** The records indexed: the state keys under this prefix (within the module's own prefix). */
  readonly prefix: string;
  /** The index keys of one record (its state key and stored JSON value); pure and deterministic. */
  keysOf(key: string, value: string): readonly string[];
}

export interface QueryIndexPage {
  /** A state key (exclusive): the page starts after it in the chosen order. */
  after?: string;
  /** Descending state-key order (newest first for height- or counter-keyed records). */
  reverse?: boolean;
  limit: number;
}

/** Told when an index's `keysOf` failed during a commit (the index is then out of use until rebuilt). */
export type QueryIndexErrorSink = (index: string, err: unknown) => void;

/** Reads an index: the state keys filed under one index key, in state-key order. */
export interface QueryIndexReader {
  stateKeys(index: string, indexKey: string, page: QueryIndexPage): string[];
}

/** A module's own indexes, by their names within the module. */
export interface ModuleQueryIndex {
  stateKeys(name: string, indexKey: string, page: QueryIndexPage): string[];
}

/** The node-wide name of a module's index. */
export function qualifiedIndexName(module: string, name: string): string {
  return `${module}/${name}`;
}

/** A module's declared indexes under their node-wide names, checked to index only the module's own state. */
export function qualifiedIndexes(module: string, defs: readonly QueryIndexDef[]): QueryIndexDef[] {
  const seen = new Set<string>();
  return defs.map((d) => {
    if (!d.prefix.startsWith(`${module}/`)) throw new Error(`module ${module}: index ${d.name} reads ${d.prefix}, outside the module's own state`);
    if (!Number.isSafeInteger(d.version) || d.version < 1) throw new Error(`module ${module}: index ${d.name} needs a positive integer version`);
    if (!/^[a-z][a-z0-9-]*$/.test(d.name) || seen.has(d.name)) throw new Error(`module ${module}: index name ${JSON.stringify(d.name)} is invalid or repeated`);
    seen.add(d.name);
    return { ...d, name: qualifiedIndexName(module, d.name) };
  });
}
