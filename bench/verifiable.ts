import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { childHash, bytesToHex } from '../src/app/smt.js';
import { applyWritesToLtHash, LtHash } from '../src/app/state.js';
import { applyWritesToTree, decodeRoot, emptyStateTree, encodeRoot, leafChangesOf } from '../src/app/state-tree.js';
import { updateTree } from '../src/app/smt.js';
import { buildStateProof, ProvenState, RecordingReader } from '../src/app/state-proof.js';
import { STATE_TREE_ROOT_META } from '../src/app/host.js';
import { Storage } from '../src/store/sqlite.js';
import { compareCommittedTxs } from './verifiable-txs.js';
import { auditRun, buildChain, indexerRun, removeChain } from './verifiable-chain.js';
import { calibrate } from './calibrate.js';
import { startPostgres } from '../test/helpers/postgres.js';

/**
 * `node bin/run-ts.mjs bench/verifiable.ts [--part state|txs|audit|indexer|all] [--base N] [--blocks B]`
 *
 * Parts `audit` and `indexer` (issue 17 #5/#6, bench/verifiable-chain.ts): a one-validator chain of
 * `--chain-blocks` blocks (default 10,000) with `--txs-per-block` admissions each is built in-process,
 * audited from genesis (`gridledger audit`'s code), then served by a node and its first
 * `--index-blocks` blocks indexed into a fresh PostgreSQL (rows/s). Every report carries the Ed25519
 * calibration of the same run, so figures can be read as ratios to it.
 *
 * Part `txs`: committed tx/s before (LtHash) and after (state tree) on 1 and 4 validators, as ratios to
 * the same run's calibration (bench/verifiable-txs.ts; `--rounds R --txs N --validators 1,4 --before COMMIT [--after COMMIT] [--patch COMMIT]…`).
 *
 * State-root cost per block (ADR 0012), on a real SQLite file holding N entries (default 100,000),
 * for blocks that write 1,000 and 10,000 keys (half new keys, half changed values, values of ~200
 * bytes like a meter reading): the LtHash root (before) and the state tree (after: leaf changes,
 * tree update, and the SQLite writes of its inner nodes inside the block's transaction). Then proof
 * size and verification time for point reads and a 100-row range. Times are CPU time of this
 * process (user + system), so other work on the machine does not inflate them. Not a test.
 */

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '100000' },
    blocks: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
    part: { type: 'string', default: 'state' },
    rounds: { type: 'string', default: '3' },
    txs: { type: 'string', default: '20000' },
    validators: { type: 'string', default: '1,4' },
    before: { type: 'string' },
    after: { type: 'string' },
    patch: { type: 'string', multiple: true },
    'chain-blocks': { type: 'string', default: '10000' },
    'txs-per-block': { type: 'string', default: '1' },
    'index-blocks': { type: 'string', default: '2000' },
  },
});
const BASE = Number(values.base);
const BLOCKS = Number(values.blocks);
const PARTS = ['state', 'txs', 'audit', 'indexer'];
const parts = values.part === 'all' ? PARTS : values.part.split(',');
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`--part takes ${PARTS.join('|')}|all (or a comma list), got ${p}`);

const valueOf = (i: number, round: number) => JSON.stringify({ meter: `meter-${i % 997}`, slot: 1_900_000 + i, importWh: (i * 7 + round) % 5000, exportWh: (i * 13 + round) % 3000, fingerprint: 'ab'.repeat(32), signer: `grid1${'q'.repeat(38)}` });
const keyOf = (i: number) => `metering/reading/${String(i % 997).padStart(6, '0')}/${String(i).padStart(12, '0')}`;

function blockWrites(size: number, round: number, nextNew: number): Map<string, string | null> {
  const writes = new Map<string, string | null>();
  for (let j = 0; j < size >> 1; j++) writes.set(keyOf(nextNew + j), valueOf(nextNew + j, round));
  for (let j = 0; writes.size < size; j++) {
    const i = (round * 7919 + j * 104_729) % BASE;
    writes.set(keyOf(i), valueOf(i, round + 1));
  }
  return writes;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** CPU time (user + system) of this process since t0, in ms: robust on a machine shared with other work. */
const cpuNow = () => {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
};
const ms = (t0: bigint) => Number(cpuNow() - t0) / 1e6;

function seed(storage: Storage): { lt: LtHash } {
  const writes = new Map<string, string | null>();
  for (let i = 0; i < BASE; i++) writes.set(keyOf(i), valueOf(i, 0));
  const lt = new LtHash();
  applyWritesToLtHash(lt, writes, storage);
  const tree = applyWritesToTree(storage, emptyStateTree(), writes);
  storage.writeGenesis(writes, [[STATE_TREE_ROOT_META, Buffer.from(encodeRoot(tree.root))]], tree.rows);
  return { lt };
}

function runSize(storage: Storage, lt: LtHash, size: number, height: { h: number; next: number }) {
  const ltMs: number[] = [];
  const treeMs: number[] = [];
  const changesMs: number[] = [];
  const rowsMs: number[] = [];
  const rowCounts: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const writes = blockWrites(size, height.h, height.next);
    // Execution reads (almost) every key it writes before the root is computed: warm the read cache as it would be.
    for (const key of writes.keys()) storage.getRaw(key);
    height.next += size >> 1;
    let t0 = cpuNow();
    const next = new LtHash(lt.lanes);
    applyWritesToLtHash(next, writes, storage);
    next.root();
    ltMs.push(ms(t0));
    const root = decodeRoot(new Uint8Array(storage.getMeta(STATE_TREE_ROOT_META)!));
    t0 = cpuNow();
    const changes = leafChangesOf(storage, writes);
    changesMs.push(ms(t0));
    const update = updateTree(storage, root, changes);
    bytesToHex(childHash(update.root));
    treeMs.push(ms(t0));
    rowCounts.push(update.rows.size);
    height.h++;
    const commit = { height: height.h, round: 0, blockHash: 'x', signatures: [] };
    // The block commit with its state writes, timed without and then with the tree's rows.
    t0 = cpuNow();
    storage.commitBlock({ block: { header: { height: height.h } } as never, hash: `h${height.h}`, results: [], txHashes: [], commit, writes, stateTree: { root: encodeRoot(update.root), rows: update.rows } });
    rowsMs.push(ms(t0));
    lt.lanes.set(next.lanes);
  }
  return { writtenKeys: size, ltHashMs: median(ltMs), stateTreeMs: median(treeMs), ofWhichLeafChangesMs: median(changesMs), commitWithTreeRowsMs: median(rowsMs), treeRowsWritten: median(rowCounts) };
}

function proofFigures(storage: Storage) {
  const root = decodeRoot(new Uint8Array(storage.getMeta(STATE_TREE_ROOT_META)!));
  const stateRoot = bytesToHex(childHash(root));
  const out: Record<string, unknown> = {};
  for (const [name, read] of [
    ['oneKey', (r: RecordingReader) => r.getRaw(keyOf(12345))],
    ['absentKey', (r: RecordingReader) => r.getRaw(keyOf(12345) + 'x')],
    ['range100', (r: RecordingReader) => r.scanRaw('metering/reading/000042/', { limit: 100 })],
  ] as const) {
    const rec = new RecordingReader(storage);
    read(rec);
    let t0 = cpuNow();
    const proof = buildStateProof(storage, root, rec.reads());
    const proveMs = ms(t0);
    const bytes = JSON.stringify(proof).length;
    t0 = cpuNow();
    const n = 50;
    for (let i = 0; i < n; i++) read(new RecordingReader(new ProvenState(stateRoot, proof)));
    out[name] = { proofBytes: bytes, proveMs: Number(proveMs.toFixed(2)), verifyMs: Number((ms(t0) / n).toFixed(3)) };
  }
  return out;
}

function stateRootPart() {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-verifiable-'));
  try {
    const storage = new Storage(join(dir, 'ledger.db'));
    process.stderr.write(`seeding ${BASE} entries…\n`);
    const { lt } = seed(storage);
    const height = { h: 0, next: BASE };
    const sizes = [1000, 10_000].map((size) => {
      process.stderr.write(`${BLOCKS} blocks of ${size} written keys…\n`);
      return runSize(storage, lt, size, height);
    });
    const report = { baseEntries: BASE, blocksPerSize: BLOCKS, stateRootPerBlock: sizes, proofs: proofFigures(storage) };
    storage.close();
    return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const report: Record<string, unknown> = { calibration: await calibrate() };
if (parts.includes('state')) report.stateRoot = stateRootPart();
if (parts.includes('txs')) {
  report.committedTxs = await compareCommittedTxs({ before: values.before, after: values.after, patches: values.patch, rounds: Number(values.rounds), txs: Number(values.txs), validators: values.validators.split(',').map(Number) });
}
if (parts.includes('audit') || parts.includes('indexer')) {
  const blocks = Number(values['chain-blocks']);
  const chain = await buildChain(blocks, Number(values['txs-per-block']));
  report.chain = { blocks, txs: chain.txs, buildSeconds: Number(chain.seconds.toFixed(1)) };
  try {
    if (parts.includes('audit')) report.audit = await auditRun(chain.home);
    if (parts.includes('indexer')) {
      const postgres = await startPostgres();
      try {
        report.indexer = await indexerRun(chain.home, await postgres.createDatabase('bench'), Math.min(blocks, Number(values['index-blocks'])));
      } finally {
        postgres.stop();
      }
    }
  } finally {
    removeChain(chain.home);
  }
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
