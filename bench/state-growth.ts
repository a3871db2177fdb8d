/**
 * `npm run bench:state-growth [-- --txs N --per-block B --every E --readings-of M --tree-cache-entries T --tree-flush-mib M --pragma 'name = value'… --path FILE]`
 *
 * What a validator spends per transaction as its state grows (issue 18, and why the soak measures
 * saturation at both ends): one process commits blocks of B `registry/admit` transactions (each adds
 * a new account, its registry log entry and index entries to the state) to an SQLite file on disk,
 * or with `--readings-of M`, of B meter readings (`metering/reading`) of M meters linked to one
 * community, slot after slot (each block at least one second after the last, and after the end of
 * the slot its readings report; the meters' admission and linking first, unmeasured). A reading adds
 * its record and its booked energy's history entry, and changes its meter, its day's series row and
 * its trader's balance of the slot —
 * N in all, and every E transactions prints the CPU of the App's phases per transaction over the last
 * E (µs; commit.store = the block's SQLite transaction, state.root = the tree update). Signing is
 * outside the phases. Each line also gives the bytes the process wrote per transaction over the window
 * (Linux `wchar`: WAL frames and checkpoints, what random B-tree writes cost), its resident memory
 * (ArrayBuffers in brackets) and the wall time of its slowest block (executing and committing it).
 * The state tree's node cache (T entries) and the state-tree rows held before a write (M MiB, ADR
 * 0016/0025) can be changed to see what they buy, and any SQLite pragma set (repeatable:
 * `--pragma 'cache_size = -65536'` for a 64 MiB page cache). FILE must not exist yet (default: a new
 * file in the temp folder, removed at the end).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bech32m } from '@scure/base';
import { AdmissionChain, phaseUsPerTx } from './execute.js';
import { benchSigner } from './foundation.js';
import type { Msg, SignedTx } from '../src/codec/tx.js';
import { DEFAULT_READ_CACHE_LIMITS, DEFAULT_TREE_FLUSH_BYTES } from '../src/store/sqlite.js';
import { toHex } from '../src/util/bytes.js';
import { SLOT_MS, slotOfMs } from '../src/util/slots.js';

const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '300000' },
    'per-block': { type: 'string', default: '200' },
    every: { type: 'string', default: '25000' },
    'tree-cache-entries': { type: 'string' },
    'tree-flush-mib': { type: 'string' },
    'readings-of': { type: 'string' },
    path: { type: 'string' },
    pragma: { type: 'string', multiple: true, default: [] },
  },
});
const total = Number(values.txs);
const perBlock = Number(values['per-block']);
const every = Number(values.every);
const treeEntries = Number(values['tree-cache-entries'] ?? DEFAULT_READ_CACHE_LIMITS.treeEntries);
const treeFlushMib = Number(values['tree-flush-mib'] ?? DEFAULT_TREE_FLUSH_BYTES / 2 ** 20);
const meters = values['readings-of'] === undefined ? undefined : Number(values['readings-of']);
const positive = (x: number) => Number.isSafeInteger(x) && x > 0;
if (![total, perBlock, every, treeEntries, treeFlushMib, meters ?? 1].every(positive) || every % perBlock !== 0) {
  process.stderr.write('usage: npm run bench:state-growth -- [--txs N] [--per-block B] [--every E, a multiple of B] [--readings-of M] [--tree-cache-entries T] [--tree-flush-mib M] [--pragma "name = value"]… [--path FILE]\n');
  process.exit(2);
}

if (values.path !== undefined && existsSync(values.path)) {
  process.stderr.write(`${values.path} exists: give a path for a new database (the run starts from genesis)\n`);
  process.exit(2);
}
const dir = values.path === undefined ? mkdtempSync(join(tmpdir(), 'state-growth-')) : undefined;
const path = values.path ?? join(dir!, 'state.sqlite');
// The tree cache's byte bound scales with its entry bound (the default's ratio).
const treeBytes = Math.round((DEFAULT_READ_CACHE_LIMITS.treeBytes * treeEntries) / DEFAULT_READ_CACHE_LIMITS.treeEntries);
const chain = new AdmissionChain(path, { ...DEFAULT_READ_CACHE_LIMITS, treeEntries, treeBytes }, treeFlushMib * 2 ** 20);

/** Bytes this process has passed to write calls so far (Linux), or null elsewhere. */
function bytesWritten(): number | null {
  try {
    const match = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
for (const p of values.pragma) chain.storage.db.pragma(p);
const randomMember = () => bech32m.encode('grid', bech32m.toWords(randomBytes(20)));

/** The next block's transactions, and the time it must not be earlier than. */
type NextBlock = () => { txs: SignedTx[]; atMs: number };

const COMMUNITY = 'growth';
const METERS_PER_SETUP_TX = 32;
/** Each reading exports this much (a 10 kW meter may report up to 2,500 Wh a slot). */
const EXPORT_WH = 100;

/**
 * Admits `count` meters and links them to one community as producers of one trader (unmeasured
 * blocks), then yields their readings: every meter's reading of a slot, then of the next; a block
 * of readings is dated after the end of their slot.
 */
function meterReadings(count: number): NextBlock {
  const trader = benchSigner('growth', 'trader');
  const keys = Array.from({ length: count }, (_, m) => benchSigner('growth', `meter-${m}`));
  const setup: SignedTx[] = [
    chain.signOperatorTx([
      { type: 'registry/admit', value: { address: trader.address, roles: ['trader'] } },
      { type: 'energy/create-community', value: { id: COMMUNITY, name: 'State growth', timezone: 'Europe/Amsterdam' } },
      { type: 'energy/add-trader', value: { community: COMMUNITY, address: trader.address } },
    ]),
  ];
  for (let first = 0; first < count; first += METERS_PER_SETUP_TX) {
    const msgs: Msg[] = [];
    for (let m = first; m < Math.min(count, first + METERS_PER_SETUP_TX); m++) {
      const { signer, address } = keys[m]!;
      msgs.push({ type: 'registry/admit', value: { address, roles: ['meter'] } });
      msgs.push({ type: 'energy/add-meter', value: { community: COMMUNITY, meterId: `m${m}`, kind: 'producer', trader: trader.address, labels: ['solar'], address, pubKey: toHex(signer.publicKey), maxPowerW: 10_000 } });
    }
    setup.push(chain.signOperatorTx(msgs));
  }
  for (let i = 0; i < setup.length; i += perBlock) chain.commitBlock(setup.slice(i, i + perBlock));
  // The first slot that starts after the set-up: linked meters may report it once it has ended.
  const firstSlot = slotOfMs(chain.blockTime) + 1;
  let next = 0;
  return () => {
    const txs: SignedTx[] = [];
    let slot = firstSlot;
    for (let i = 0; i < perBlock; i++, next++) {
      const m = next % count;
      const seq = Math.floor(next / count) + 1;
      slot = firstSlot + seq - 1;
      const value = { meterId: `m${m}`, slot, importWh: 0, exportWh: EXPORT_WH, importRegisterWh: 0, exportRegisterWh: EXPORT_WH * seq, seq };
      txs.push(chain.signTxFrom(keys[m]!, seq - 1, [{ type: 'metering/reading', value }]));
    }
    // After the end of the latest slot the block's readings report.
    return { txs, atMs: (slot + 1) * SLOT_MS + 1000 };
  };
}

const nextBlock: NextBlock = meters === undefined ? () => ({ txs: chain.signAdmissions(perBlock, randomMember), atMs: 0 }) : meterReadings(meters);
const kind = meters === undefined ? 'admissions' : 'readings';

process.stdout.write(`state growth: ${total} ${meters === undefined ? 'admissions' : `readings of ${meters} meters`} in blocks of ${perBlock} into ${path}, tree cache ${treeEntries} nodes, tree rows held up to ${treeFlushMib} MiB${values.pragma.length ? `, ${values.pragma.join(', ')}` : ''}\n`);
process.stdout.write(`${kind.padStart(10)}  entries  tree rows (cached)  KiB written/tx  RSS MiB (buffers)  slowest block ms   µs/tx: all phases of the last window = the phases of ≥ 5 µs\n`);
try {
  let before = chain.phases.snapshot();
  let writtenBefore = bytesWritten();
  let slowestBlockMs = 0;
  for (let done = perBlock; done <= total; done += perBlock) {
    const { txs, atMs } = nextBlock();
    const started = process.hrtime.bigint();
    chain.commitBlock(txs, atMs);
    slowestBlockMs = Math.max(slowestBlockMs, Number(process.hrtime.bigint() - started) / 1e6);
    if (done % every !== 0) continue;
    const after = chain.phases.snapshot();
    const all = Object.entries(phaseUsPerTx(after, before, every)).sort((a, b) => b[1] - a[1]);
    const sum = all.reduce((s, [, us]) => s + us, 0);
    const phases = all.filter(([, us]) => us >= 5);
    const entries = chain.storage.db.prepare('SELECT count(*) AS n FROM state').get() as { n: number };
    // Rows in the table (those held for the next batch aside) and in the node's read cache.
    const treeRows = chain.storage.db.prepare('SELECT count(*) AS n FROM state_tree').get() as { n: number };
    const tree = `${treeRows.n} (${chain.storage.cacheStats().tree.entries})`;
    const written = bytesWritten();
    const kibPerTx = written === null || writtenBefore === null ? '-' : ((written - writtenBefore) / 1024 / every).toFixed(1);
    const memory = process.memoryUsage();
    const rssMib = `${(memory.rss / 2 ** 20).toFixed(0)} (${(memory.arrayBuffers / 2 ** 20).toFixed(0)})`;
    process.stdout.write(`${String(done).padStart(10)} ${String(entries.n).padStart(8)}  ${tree.padStart(18)}  ${kibPerTx.padStart(14)}  ${rssMib.padStart(17)}  ${slowestBlockMs.toFixed(0).padStart(16)}   ${sum.toFixed(0)} = ${phases.map(([p, us]) => `${p} ${us.toFixed(0)}`).join(', ')}\n`);
    before = after;
    writtenBefore = written;
    slowestBlockMs = 0;
  }
} finally {
  chain.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
