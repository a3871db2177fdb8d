import { defineErrors } from '../util/errors.js';
import { lowerBound, upperBound } from '../util/sorted.js';
import {
  bytesToHex,
  bytesEqualHash,
  entryHashOf,
  HEAD_KEY,
  keyHashOf,
  ProofError,
  proofLookup,
  proofRoot,
  type Child,
  type LeafEntry,
  type ProofNode,
} from './smt.js';
import type { ScanOptions, StateReader } from './state.js';
import { committedLeaf, proveKeys, type TreeState } from './state-tree.js';

/**
 * Proofs of state reads (ADR 0012). A query runs over a RecordingReader that notes every key it
 * reads and every range it scans; the node then proves exactly those reads: present keys by their
 * leaves, absent keys by the tree, and each scan by the chain of leaves (each naming the next key)
 * that spans the scanned range. The verifier (ProvenState) answers the same reads from the proof
 * alone, so the client re-runs the query's own code on proven data. Pure: no node: imports.
 */

export const PROOF_ERRORS = defineErrors('proof', {
  PROOF_INVALID: { meaning: 'a state proof is malformed, does not hash to the state root, or contradicts the values it carries' },
  PROOF_INCOMPLETE: { meaning: 'a query read a key or range that its proof does not cover' },
  PROOF_UNAVAILABLE: { status: 503, meaning: 'the chain moved on while a proven query ran, several times; retry' },
});

export interface ScanRecord {
  prefix: string;
  options: ScanOptions;
}

/** The reads a query made: keys read one by one, and ranges scanned. */
export interface RecordedReads {
  gets: string[];
  scans: ScanRecord[];
}

/** Leaves proven present (with the key after each), keys proven absent, and the tree proof of both. */
export interface StateProof {
  entries: LeafEntry[];
  absent: string[];
  tree: ProofNode;
}

/** Wraps a reader and records what is read through it. */
export class RecordingReader implements StateReader {
  private readonly gets = new Set<string>();
  private readonly scans: ScanRecord[] = [];
  constructor(private readonly inner: StateReader) {}

  getRaw(key: string): string | undefined {
    this.gets.add(key);
    return this.inner.getRaw(key);
  }

  scanRaw(prefix: string, options: ScanOptions = {}): Array<[string, string]> {
    this.scans.push({ prefix, options: { ...options } });
    return this.inner.scanRaw(prefix, options);
  }

  reads(): RecordedReads {
    return { gets: [...this.gets].sort(), scans: this.scans.map((s) => ({ prefix: s.prefix, options: { ...s.options } })) };
  }
}

/** The key range a scan covers: [lower, upper), as the store computes it. */
export function scanBounds(prefix: string, options: ScanOptions): { lower: string; upper: string } {
  const lower = options.start !== undefined && options.start > prefix ? options.start : prefix;
  const prefixEnd = prefix + '\uffff';
  const upper = options.end !== undefined && options.end < prefixEnd ? options.end : prefixEnd;
  return { lower, upper };
}

/** The largest committed key (or the head) below `key`. */
function keyBelow(state: TreeState, key: string): string {
  return key === HEAD_KEY ? HEAD_KEY : (state.keyBefore(key) ?? HEAD_KEY);
}

/** The committed keys a scan's proof must show as one linked chain (first … last, inclusive). */
function scanChain(state: TreeState, scan: ScanRecord): string[] {
  const { prefix, options } = scan;
  if (options.limit !== undefined && options.limit <= 0) return [];
  const { lower, upper } = scanBounds(prefix, options);
  if (lower >= upper) return [];
  const rows = state.scanRaw(prefix, options);
  const limitReached = options.limit !== undefined && rows.length >= options.limit;
  const lastRow = rows.length > 0 ? rows[rows.length - 1]![0] : undefined;
  let first: string;
  let last: string;
  if (!options.reverse) {
    first = keyBelow(state, lower);
    last = limitReached && lastRow !== undefined ? lastRow : keyBelow(state, upper);
  } else {
    last = keyBelow(state, upper);
    first = limitReached && lastRow !== undefined ? lastRow : keyBelow(state, lower);
  }
  const chain = [first];
  for (let k = first; k !== last; ) {
    const next = state.keyAfter(k);
    if (next === undefined || (last !== HEAD_KEY && next > last)) break;
    chain.push(next);
    k = next;
  }
  return chain;
}

/** Proves the recorded reads against the committed tree (the state must not change meanwhile). */
export function buildStateProof(state: TreeState, root: Child, reads: RecordedReads): StateProof {
  const present = new Set<string>();
  const absent = new Set<string>();
  for (const key of reads.gets) (state.getRaw(key) === undefined ? absent : present).add(key);
  for (const scan of reads.scans) for (const key of scanChain(state, scan)) present.add(key);
  const entries = [...present].sort().map((key) => committedLeaf(state, key)!);
  const absentKeys = [...absent].sort();
  return { entries, absent: absentKeys, tree: proveKeys(state, root, [...present, ...absentKeys]) };
}

function invalid(message: string): never {
  throw PROOF_ERRORS.PROOF_INVALID(message);
}

function incomplete(message: string): never {
  throw PROOF_ERRORS.PROOF_INCOMPLETE(message);
}

/**
 * Committed state as far as a proof shows it. Construction checks the proof against the state
 * root; reads outside what the proof covers throw PROOF_INCOMPLETE.
 */
export class ProvenState implements StateReader {
  private readonly entries = new Map<string, LeafEntry>();
  private readonly sortedKeys: string[];
  private readonly absent = new Set<string>();
  /** entry whose `next` is the key */
  private readonly previous = new Map<string, LeafEntry>();

  constructor(stateRoot: string, proof: StateProof) {
    if (typeof proof !== 'object' || proof === null || !Array.isArray(proof.entries) || !Array.isArray(proof.absent)) invalid('a state proof has entries, absent and tree');
    let computed: Uint8Array;
    try {
      computed = proofRoot(proof.tree);
    } catch (e) {
      if (e instanceof ProofError) invalid(`tree proof: ${e.message}`);
      throw e;
    }
    if (bytesToHex(computed) !== stateRoot) invalid(`the proof hashes to root ${bytesToHex(computed)}, not the header's state root ${stateRoot}`);
    for (const e of proof.entries) this.addEntry(proof.tree, e);
    for (const key of proof.absent) {
      if (typeof key !== 'string') invalid('an absent key is not a string');
      if (lookup(proof.tree, key) !== null) invalid(`key ${JSON.stringify(key)} is claimed absent but the proof holds its leaf`);
      if (this.entries.has(key)) invalid(`key ${JSON.stringify(key)} is claimed both present and absent`);
      this.absent.add(key);
    }
    this.sortedKeys = [...this.entries.keys()].sort();
  }

  private addEntry(tree: ProofNode, e: LeafEntry): void {
    if (typeof e !== 'object' || e === null || typeof e.key !== 'string' || typeof e.value !== 'string' || (e.next !== null && typeof e.next !== 'string')) {
      invalid('an entry is not {key, value, next}');
    }
    if (this.entries.has(e.key)) invalid(`key ${JSON.stringify(e.key)} appears twice`);
    if (e.next !== null && e.next <= e.key) invalid(`entry ${JSON.stringify(e.key)} names a next key that is not after it`);
    const proven = lookup(tree, e.key);
    if (proven === null) invalid(`the proof shows key ${JSON.stringify(e.key)} absent, but the answer carries a value for it`);
    if (!bytesEqualHash(proven, entryHashOf(e))) invalid(`the value (or next key) given for ${JSON.stringify(e.key)} is not the committed one`);
    const entry = { key: e.key, value: e.value, next: e.next };
    this.entries.set(e.key, entry);
    if (e.next !== null) this.previous.set(e.next, entry);
  }

  /** Proven entries (state keys only, not the head), in key order. */
  provenEntries(): Array<[string, string]> {
    return this.sortedKeys.filter((k) => k !== HEAD_KEY).map((k) => [k, this.entries.get(k)!.value]);
  }

  getRaw(key: string): string | undefined {
    const e = this.entries.get(key);
    if (e) return e.value;
    if (this.absent.has(key)) return undefined;
    const below = this.entryAtOrBelow(key);
    if (below && (below.next === null || below.next > key)) return undefined;
    return incomplete(`the proof does not cover key ${JSON.stringify(key)}`);
  }

  scanRaw(prefix: string, options: ScanOptions = {}): Array<[string, string]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    const { lower, upper } = scanBounds(prefix, options);
    if (lower >= upper) return [];
    const rows = options.reverse ? this.scanBackward(lower, upper, options.limit) : this.scanForward(lower, upper, options.limit);
    return rows.map((e) => [e.key, e.value]);
  }

  private scanForward(lower: string, upper: string, limit: number | undefined): LeafEntry[] {
    const start = this.entryAtOrBelow(lower);
    if (!start || (start.key !== lower && start.next !== null && start.next < lower)) incomplete(`the proof does not bound the range starting at ${JSON.stringify(lower)}`);
    const out: LeafEntry[] = [];
    let cur = start;
    for (;;) {
      if (cur.key !== HEAD_KEY && cur.key >= lower && cur.key < upper) out.push(cur);
      if (limit !== undefined && out.length >= limit) return out;
      if (cur.next === null || cur.next >= upper) return out;
      cur = this.entries.get(cur.next) ?? incomplete(`the proof's chain breaks after ${JSON.stringify(cur.key)} inside the scanned range`);
    }
  }

  private scanBackward(lower: string, upper: string, limit: number | undefined): LeafEntry[] {
    const end = this.entryAtOrBelow(upper, true);
    if (!end || (end.next !== null && end.next < upper)) incomplete(`the proof does not bound the range ending at ${JSON.stringify(upper)}`);
    const out: LeafEntry[] = [];
    let cur = end;
    for (;;) {
      if (cur.key !== HEAD_KEY && cur.key >= lower && cur.key < upper) out.push(cur);
      if (limit !== undefined && out.length >= limit) return out;
      if (cur.key <= lower) return out;
      cur = this.previous.get(cur.key) ?? incomplete(`the proof's chain breaks before ${JSON.stringify(cur.key)} inside the scanned range`);
    }
  }

  /** The proven entry with the largest key ≤ key (< key when strict). */
  private entryAtOrBelow(key: string, strict = false): LeafEntry | undefined {
    const lo = strict ? lowerBound(this.sortedKeys, key) : upperBound(this.sortedKeys, key);
    return lo > 0 ? this.entries.get(this.sortedKeys[lo - 1]!) : undefined;
  }
}

function lookup(tree: ProofNode, key: string): Uint8Array | null {
  try {
    return proofLookup(tree, keyHashOf(key));
  } catch (e) {
    if (e instanceof ProofError) return e.reason === 'incomplete' ? incomplete(`the proof does not reach key ${JSON.stringify(key)}`) : invalid(e.message);
    throw e;
  }
}
