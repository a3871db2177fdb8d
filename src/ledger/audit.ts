import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ModuleCore } from '../app/module.js';
import { blockHash, type Block, type BlockHeader, type Commit } from '../codec/block.js';
import { verifyCommit } from '../consensus/index.js';
import { loadConfig, loadGenesis, paths } from '../home/home.js';
import { canonicalJson } from '../util/canonical.js';
import { LedgerError } from '../util/errors.js';
import { LedgerNode } from './ledger.js';
import { StoredTreeReader, treeJournalUpdate } from '../store/sqlite.js';
import { StoredTxReader } from '../store/tx-index.js';

/**
 * `gridledger audit` (issue 17 #5): replays a node's stored chain from its genesis on a fresh replica
 * and compares everything the node stored with what the replay gives: each block row (its hash, the
 * header's link to the previous block), each commit (signatures of more than 2/3 of the power of the
 * set the replica derived), the last commit a block carries, every transaction signature (admission
 * in block order), each header root (transactions, results, state, validators, evidence), each stored
 * transaction result, and at the end the state and state-tree tables row by row. The first difference
 * is reported with its table, row and field.
 *
 * Resumable: the replica lives in a work folder (default HOME/data/audit) and keeps what it verified;
 * a later run continues after its height, once it has checked that the stored block there is still
 * the one it audited. The node's database is only read (it may keep running).
 */

export interface Divergence {
  height: number;
  /** Table of the node's database the difference is in, or `commit` / `block` for a rule broken by a stored block. */
  table: 'blocks' | 'txs' | 'state' | 'state_tree' | 'commit' | 'block';
  /** The row: the height, transaction hash, state key or tree path. */
  row: string;
  field?: string;
  stored?: string;
  replayed?: string;
  message: string;
}

export interface AuditReport {
  ok: boolean;
  chainId: string;
  /** First height checked by this run (1 on a fresh audit; later when resuming). */
  fromHeight: number;
  /** Last height verified (the replica's height). */
  verifiedHeight: number;
  storedHeight: number;
  blocks: number;
  txs: number;
  commitSignatures: number;
  /** Whether the state and state-tree tables were compared (only when the node did not move on meanwhile). */
  stateCompared: boolean;
  stateRows: number;
  divergence?: Divergence;
}

export interface AuditOptions {
  home: string;
  modules: readonly ModuleCore[];
  /** Where the replica lives (default HOME/data/audit). */
  work?: string;
  /** Start from genesis again, discarding an earlier run's replica. */
  restart?: boolean;
  /** Stop after this height (tests, and audits in portions). */
  toHeight?: number;
  onProgress?: (height: number, target: number) => void;
}

const HEADER_FIELDS: Array<keyof BlockHeader> = ['chainId', 'height', 'time', 'prevHash', 'txRoot', 'resultRoot', 'stateRoot', 'validatorsHash', 'nextValidatorsHash', 'lastCommitHash', 'evidenceHash', 'proposer'];

class Found extends Error {
  constructor(readonly divergence: Divergence) {
    super(divergence.message);
  }
}

function diverge(d: Divergence): never {
  throw new Found(d);
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
/** Hex strings of bytes compare as the bytes do. */
const byHex = (p: string, q: string) => (p < q ? -1 : p > q ? 1 : 0);

/** The node's database, read only. */
class StoredChain {
  readonly db: Database.Database;
  private readonly q;
  private readonly txs: StoredTxReader;
  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.txs = new StoredTxReader(this.db);
    this.q = {
      latest: this.db.prepare<[], { h: number | null }>('SELECT MAX(height) AS h FROM blocks'),
      block: this.db.prepare<[number], { block: string; hash: string; commit_json: string }>('SELECT block, hash, commit_json FROM blocks WHERE height = ?'),
      state: this.db.prepare<[], { key: string; value: string }>('SELECT key, value FROM state ORDER BY key'),
      tree: this.db.prepare<[], { path: Buffer; node: Buffer }>('SELECT path, node FROM state_tree ORDER BY path'),
    };
  }
  latestHeight(): number {
    return this.q.latest.get()?.h ?? 0;
  }
  row(height: number) {
    return this.q.block.get(height);
  }
  tx(hash: string) {
    return this.txs.get(hash);
  }
  state() {
    return this.q.state.iterate();
  }
  /**
   * The node's state-tree rows at its latest height, by hex path: the table, plus the rows of the
   * blocks since its last batch recomputed from the journal (ADR 0016: a running node, or one that
   * stopped without writing them).
   */
  *tree(): Generator<[string, string]> {
    const found = treeJournalUpdate(new StoredTreeReader(this.db));
    const newer = [...(found?.update.rows ?? [])].map(([path, node]) => [hex(Buffer.from(path, 'latin1')), node && hex(node)] as const).sort((a, b) => byHex(a[0], b[0]));
    let i = 0;
    for (const row of this.q.tree.iterate()) {
      const path = hex(row.path);
      for (; i < newer.length && byHex(newer[i]![0], path) < 0; i++) if (newer[i]![1] !== null) yield newer[i] as [string, string];
      if (i < newer.length && newer[i]![0] === path) {
        if (newer[i]![1] !== null) yield newer[i] as [string, string];
        i++;
      } else yield [path, hex(row.node)];
    }
    for (; i < newer.length; i++) if (newer[i]![1] !== null) yield newer[i] as [string, string];
  }
}

function parseRow(height: number, row: { block: string; hash: string; commit_json: string }): { block: Block; commit: Commit } {
  let block: Block;
  let commit: Commit;
  try {
    block = JSON.parse(row.block) as Block;
  } catch {
    diverge({ height, table: 'blocks', row: String(height), field: 'block', message: `blocks row ${height}: the block is not valid JSON` });
  }
  try {
    commit = JSON.parse(row.commit_json) as Commit;
  } catch {
    diverge({ height, table: 'blocks', row: String(height), field: 'commit_json', message: `blocks row ${height}: the commit is not valid JSON` });
  }
  return { block, commit };
}

/** Checks one stored height against the replica and commits it there. Returns the number of commit signatures checked. */
function auditHeight(replica: LedgerNode, stored: StoredChain, height: number): { txs: number; signatures: number } {
  const row = stored.row(height);
  if (!row) diverge({ height, table: 'blocks', row: String(height), message: `no block stored at height ${height} (the blocks table has a gap)` });
  const { block, commit } = parseRow(height, row);
  const header = block.header;
  const at = (field: string) => `blocks row ${height}, ${field}`;
  if (header?.height !== height) diverge({ height, table: 'blocks', row: String(height), field: 'block.header.height', stored: String(header?.height), replayed: String(height), message: `${at('block.header.height')}: ${header?.height}, expected ${height}` });
  const hash = blockHash(header);
  if (row.hash !== hash) diverge({ height, table: 'blocks', row: String(height), field: 'hash', stored: row.hash, replayed: hash, message: `${at('hash')}: the stored hash is not the hash of the stored header` });
  const prev = replica.latestHash() || undefined;
  if (height > 1 && header.prevHash !== prev) diverge({ height, table: 'blocks', row: String(height), field: 'block.header.prevHash', stored: header.prevHash, replayed: prev, message: `${at('block.header.prevHash')}: does not link to the audited block ${height - 1}` });
  const check = verifyCommit(commit, replica.valsetAt(height), replica.chainId, { height, blockHash: hash });
  if (!check.ok) diverge({ height, table: 'commit', row: String(height), field: 'commit_json', message: `commit of height ${height}: ${check.reason} (${check.detail})` });
  if (height > 1) {
    const last = block.lastCommit;
    const lastCheck = last ? verifyCommit(last, replica.valsetAt(height - 1), replica.chainId, { height: height - 1, blockHash: prev }) : { ok: false as const, reason: 'missing', detail: 'no last commit' };
    if (!lastCheck.ok) diverge({ height, table: 'block', row: String(height), field: 'block.lastCommit', message: `${at('block.lastCommit')}: not a valid commit of height ${height - 1}: ${lastCheck.reason} (${lastCheck.detail})` });
  }
  let executed;
  try {
    executed = replica.reexecute(block);
  } catch (e) {
    const why = e instanceof LedgerError ? `${e.code}: ${e.message}` : (e as Error).message;
    diverge({ height, table: 'block', row: String(height), field: 'block.txs', message: `block ${height} is not valid on replay: ${why}` });
  }
  for (const field of HEADER_FIELDS) {
    const a = executed.block.header[field];
    if (a !== header[field]) diverge({ height, table: 'blocks', row: String(height), field: `block.header.${field}`, stored: String(header[field]), replayed: String(a), message: `${at(`block.header.${field}`)}: stored ${String(header[field])}, the replay gives ${String(a)}` });
  }
  if (executed.block.txs.length !== block.txs.length) diverge({ height, table: 'blocks', row: String(height), field: 'block.txs', message: `${at('block.txs')}: ${block.txs.length} stored, ${executed.block.txs.length} admitted on replay` });
  executed.txHashes.forEach((txHash, i) => {
    const r = stored.tx(txHash);
    if (!r) diverge({ height, table: 'txs', row: txHash, message: `txs: no row for transaction ${i} (${txHash}) of block ${height}` });
    if (r.height !== height || r.idx !== i) diverge({ height, table: 'txs', row: txHash, field: 'height, idx', stored: `${r.height}, ${r.idx}`, replayed: `${height}, ${i}`, message: `txs row ${txHash}: stored at height ${r.height} index ${r.idx}, the replay puts it at height ${height} index ${i}` });
    let result: unknown;
    try {
      result = JSON.parse(r.result);
    } catch {
      diverge({ height, table: 'txs', row: txHash, field: 'result', message: `txs row ${txHash}: the result is not valid JSON` });
    }
    const want = canonicalJson(JSON.parse(JSON.stringify(executed.results[i])));
    const got = canonicalJson(result);
    if (want !== got) diverge({ height, table: 'txs', row: txHash, field: 'result', stored: got, replayed: want, message: `txs row ${txHash} (block ${height}, index ${i}): the stored result differs from the replay` });
  });
  replica.commitBlock(executed, commit);
  return { txs: executed.txHashes.length, signatures: commit.signatures.length };
}

/** Compares two key-ordered row streams; the first key present in one but not the other, or with another value. */
function firstDifference<K, V>(a: Iterable<[K, V]>, b: Iterable<[K, V]>, cmp: (x: K, y: K) => number, same: (x: V, y: V) => boolean): { key: K; stored?: V; replayed?: V } | undefined {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  try {
    return mergeFind(ia, ib, cmp, same);
  } finally {
    // close the SQLite statements (an open iterator keeps its connection busy)
    ia.return?.();
    ib.return?.();
  }
}

function mergeFind<K, V>(ia: Iterator<[K, V]>, ib: Iterator<[K, V]>, cmp: (x: K, y: K) => number, same: (x: V, y: V) => boolean): { key: K; stored?: V; replayed?: V } | undefined {
  let x = ia.next();
  let y = ib.next();
  while (!x.done || !y.done) {
    if (x.done) return { key: y.value![0], replayed: y.value![1] };
    if (y.done) return { key: x.value[0], stored: x.value[1] };
    const c = cmp(x.value[0], y.value[0]);
    if (c < 0) return { key: x.value[0], stored: x.value[1] };
    if (c > 0) return { key: y.value[0], replayed: y.value[1] };
    if (!same(x.value[1], y.value[1])) return { key: x.value[0], stored: x.value[1], replayed: y.value[1] };
    x = ia.next();
    y = ib.next();
  }
  return undefined;
}

function* rowsOf<T, K, V>(it: Iterable<T>, f: (r: T) => [K, V]): Generator<[K, V]> {
  for (const r of it) yield f(r);
}

/** SQLite's order of TEXT keys (BINARY collation: UTF-8 bytes). */
const byteOrder = (p: string, q: string) => Buffer.compare(Buffer.from(p, 'utf8'), Buffer.from(q, 'utf8'));

/** The state and state-tree tables of the node against the replica's (same height). Returns the number of state rows. */
function compareState(replica: LedgerNode, stored: StoredChain, height: number): number {
  let count = 0;
  const stateDiff = firstDifference(
    rowsOf(stored.state(), (r) => {
      count++;
      return [r.key, r.value] as [string, string];
    }),
    rowsOf(replica.storage.db.prepare<[], { key: string; value: string }>('SELECT key, value FROM state ORDER BY key').iterate(), (r) => [r.key, r.value] as [string, string]),
    byteOrder,
    (p, q) => p === q,
  );
  if (stateDiff) {
    const what = stateDiff.stored === undefined ? 'missing from the node' : stateDiff.replayed === undefined ? 'not written by any block' : 'a different value';
    diverge({ height, table: 'state', row: stateDiff.key, field: 'value', stored: stateDiff.stored, replayed: stateDiff.replayed, message: `state row ${JSON.stringify(stateDiff.key)}: ${what} after height ${height}` });
  }
  replica.storage.flushTreeRows();
  const treeDiff = firstDifference(
    stored.tree(),
    rowsOf(replica.storage.db.prepare<[], { path: Buffer; node: Buffer }>('SELECT path, node FROM state_tree ORDER BY path').iterate(), (r) => [hex(r.path), hex(r.node)] as [string, string]),
    byHex,
    (p, q) => p === q,
  );
  if (treeDiff) diverge({ height, table: 'state_tree', row: treeDiff.key, field: 'node', stored: treeDiff.stored, replayed: treeDiff.replayed, message: `state_tree row ${treeDiff.key || '(root)'}: differs from the replayed tree after height ${height}` });
  return count;
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export async function auditChain(options: AuditOptions): Promise<AuditReport> {
  const { home } = options;
  const work = options.work ?? join(paths(home).data, 'audit');
  if (options.restart) rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const genesis = loadGenesis(home);
  const config = loadConfig(home);
  const stored = new StoredChain(paths(home).db);
  const replica = new LedgerNode({ config, genesis, dbPath: join(work, 'replica.db'), validatorSigner: null, modules: options.modules, logger: pino({ level: 'silent' }), verifyWorkers: 0 });
  const storedHeight = stored.latestHeight();
  const target = Math.min(storedHeight, options.toHeight ?? storedHeight);
  const fromHeight = replica.height + 1;
  const report: AuditReport = { ok: true, chainId: genesis.chainId, fromHeight, verifiedHeight: replica.height, storedHeight, blocks: 0, txs: 0, commitSignatures: 0, stateCompared: false, stateRows: 0 };
  try {
    try {
      // Resuming: the node's block at the replica's height must still be the one audited.
      if (replica.height > 0 && stored.row(replica.height)?.hash !== replica.latestHash()) {
        diverge({ height: replica.height, table: 'blocks', row: String(replica.height), field: 'hash', stored: stored.row(replica.height)?.hash, replayed: replica.latestHash(), message: `blocks row ${replica.height}: not the block an earlier run audited; audit again with --restart` });
      }
      for (let h = fromHeight; h <= target; h++) {
        const n = auditHeight(replica, stored, h);
        report.blocks++;
        report.txs += n.txs;
        report.commitSignatures += n.signatures;
        report.verifiedHeight = h;
        options.onProgress?.(h, target);
        if (h % 25 === 0) await yieldNow();
      }
      // The tables are compared only at the node's height (a running node moves on meanwhile).
      if (replica.height === stored.latestHeight()) {
        report.stateRows = compareState(replica, stored, replica.height);
        report.stateCompared = true;
      }
    } catch (e) {
      if (!(e instanceof Found)) throw e;
      report.ok = false;
      report.divergence = e.divergence;
    }
  } finally {
    replica.close();
    stored.db.close();
  }
  return report;
}
