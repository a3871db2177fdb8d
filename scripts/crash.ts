/**
 * `npm run crash [-- --kills N --mode single|devnet|both --seed S --min-ms A --max-ms B --block-time-ms T --tps R --catch-up --max-minutes M]`
 *
 * Crash durability: a validator is SIGKILLed at random points while a client streams transactions,
 * N times (default 100) — a single validator, and one validator (chosen at random each time) of a
 * 4-validator devnet. After each kill, with the node down, its database is audited (every
 * transaction acknowledged as committed up to its height is there at the same height and index;
 * stored, header and recomputed state roots agree; no evidence; its WAL's signed messages never
 * conflict with anything it signed before); after the restart (with --catch-up, after it caught up)
 * the victim's and another node's chains are compared block by block (same hashes, no evidence, no validator with two precommit signatures for
 * a height and round) and a sample of acknowledged transactions is looked up over its API. At the
 * end every acknowledged transaction is checked on every node and node0's chain is replayed from
 * genesis. The chain must also stay live: after the last kill it has to commit more acknowledged
 * transactions (a devnet stuck in a round loop passes every safety check; a run found exactly that),
 * and the report gives the longest stretch with no acknowledged commit. Prints a report; exits
 * non-zero on any violation. With --max-minutes (per mode), or on SIGINT, the kills stop early and
 * the final checks and the report still run, saying how many kills were done.
 */
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { App, applyValidatorUpdates } from '../src/app/host.js';
import { loadGenesis, paths } from '../src/home/home.js';
import { MODULE_CORES } from '../src/modules/index.js';
import { Storage } from '../src/store/sqlite.js';
import { ChainChecker, SignedHistory, Violations, auditOffline } from './lib/audit.js';
import { createCluster, signalNode, sleep, startNode, status, statusPatiently, stopAll, waitFor, waitServing, type ClusterNode } from './lib/cluster.js';
import { TxLoad } from './lib/load.js';
import { mulberry32 } from './lib/random.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '100' },
    mode: { type: 'string', default: 'both' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'min-ms': { type: 'string', default: '100' },
    'max-ms': { type: 'string', default: '3000' },
    'block-time-ms': { type: 'string', default: '200' },
    // The load's pace: the offline audit recomputes the state root from the whole state table, so an
    // unpaced load (state growing by thousands of accounts per kill) makes each kill slower than the last.
    tps: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
    // Wait for the restarted devnet node to catch up before the next kill (else the next kill may
    // hit a node that is still syncing — also a case worth crashing in; everything is compared at the end).
    'catch-up': { type: 'boolean', default: false },
    // A time budget per mode on a loaded machine: stop killing after M minutes, then check and report.
    'max-minutes': { type: 'string' },
  },
});

const kills = Number(values.kills);
const seed = Number(values.seed);
const minMs = Number(values['min-ms']);
const maxMs = Number(values['max-ms']);
const blockTimeMs = Number(values['block-time-ms']);
const tps = Number(values.tps);
const maxMinutes = values['max-minutes'] !== undefined ? Number(values['max-minutes']) : Infinity;
// SIGINT ends the kills early; the final checks and the report still run (a second SIGINT exits at once).
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('crash: interrupted, stopping after this kill (SIGINT again to exit now)\n');
});
const modes = values.mode === 'both' ? ['single', 'devnet'] : [values.mode];
if (!modes.every((m) => m === 'single' || m === 'devnet') || ![kills, seed, minMs, maxMs, blockTimeMs, tps].every(Number.isSafeInteger) || !(maxMinutes > 0) || tps < 1 || kills < 1 || maxMs < minMs) {
  process.stderr.write('usage: npm run crash -- [--kills N] [--mode single|devnet|both] [--seed S] [--min-ms A --max-ms B] [--block-time-ms T] [--tps R]\n');
  process.exit(2);
}

interface ModeReport {
  mode: string;
  kills: number;
  killsPlanned: number;
  acked: number;
  submitted: number;
  finalHeight: number;
  blocksCompared: number;
  ackedLookups: number;
  restartMs: { mean: number; max: number };
  catchUpMs: { mean: number; max: number };
  replayedBlocks: number;
  longestCommitGapMs: number;
  violations: string[];
  minutes: number;
}

/** The longest time between two acknowledged commits (the chain makes no progress in between). */
function longestCommitGap(commitTimes: number[]): number {
  const sorted = [...commitTimes].sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

/** Liveness after the kills: the load must see `more` further acknowledged commits within the deadline. */
async function expectProgress(load: TxLoad, more: number, violations: Violations): Promise<void> {
  const target = load.acked.size + more;
  try {
    await waitFor(() => load.acked.size >= target, `${more} more acknowledged txs`, 180_000, 200);
  } catch {
    violations.add(`liveness: only ${load.acked.size - (target - more)} of ${more} further txs committed within 180 s of the last restart`);
  }
}

const stats = (xs: number[]) => ({ mean: xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0, max: xs.length ? Math.max(...xs) : 0 });

async function maxHeight(nodes: ClusterNode[]): Promise<number> {
  const heights = await Promise.all(nodes.map((n) => statusPatiently(n).then((s) => s.height).catch(() => 0)));
  return Math.max(...heights);
}

/** Re-executes every stored block of a stopped node from genesis in a fresh App: headers and state must come out the same. */
function replayFromGenesis(node: ClusterNode, violations: Violations): number {
  const genesis = loadGenesis(node.home);
  const stored = new Storage(paths(node.home).db);
  const fresh = new Storage(':memory:');
  try {
    const replay = new App(fresh, { chainId: genesis.chainId, modules: MODULE_CORES });
    replay.initGenesis(genesis);
    let validators = applyValidatorUpdates(genesis.validators, []);
    const H = stored.latestHeight();
    for (let h = 1; h <= H; h++) {
      const { block, hash, commit } = stored.getBlock(h)!;
      const executed = replay.executeBlock({ height: h, time: block.header.time, proposer: block.header.proposer, prevHash: block.header.prevHash, txs: block.txs, lastCommit: block.lastCommit, evidence: block.evidence, validators });
      if (executed.hash !== hash) {
        violations.add(`${node.name}: replaying block ${h} from genesis gives another header (state root ${executed.block.header.stateRoot} vs ${block.header.stateRoot})`);
        return h;
      }
      validators = executed.nextValidators;
      replay.commitBlock(executed, commit);
    }
    return H;
  } finally {
    stored.close();
    fresh.close();
  }
}

async function runMode(mode: string, rnd: () => number): Promise<ModeReport> {
  const started = Date.now();
  const validators = mode === 'single' ? 1 : 4;
  const chainId = `crash-${mode}`;
  const { dir, nodes } = await createCluster({ validators, blockTimeMs, chainId });
  const violations = new Violations();
  const history = new SignedHistory();
  const checker = new ChainChecker(violations);
  const restartMs: number[] = [];
  const catchUpMs: number[] = [];
  let ackedLookups = 0;
  process.stderr.write(`crash/${mode}: ${validators} validator(s) in ${dir}, ${kills} kills, delays ${minMs}–${maxMs} ms, load ${tps} tx/s\n`);
  for (const n of nodes) startNode(n);
  await Promise.all(nodes.map((n) => waitServing(n)));
  if (validators > 1) await waitFor(async () => (await Promise.all(nodes.map(status))).every((s) => s.peers.length === validators - 1), 'all peers connected');
  const load = new TxLoad(nodes, { chainId, batch: 20, waitSeconds: 15, ratePerSec: tps });
  load.start();
  let killed = 0;
  try {
    for (let k = 1; k <= kills; k++) {
      if (interrupted || Date.now() - started > maxMinutes * 60_000) break;
      // Some kills come right after a restart (during recovery), most while the node is busy.
      const delay = rnd() < 0.15 ? Math.floor(rnd() * 300) : minMs + Math.floor(rnd() * (maxMs - minMs));
      await sleep(delay);
      const victim = nodes[Math.floor(rnd() * nodes.length)]!;
      load.markDown(victim);
      await signalNode(victim, 'SIGKILL');
      const audit = auditOffline(victim, load.acked, history, violations);
      const t0 = Date.now();
      startNode(victim);
      await waitServing(victim);
      restartMs.push(Date.now() - t0);
      load.markUp(victim);
      if (validators > 1 && values['catch-up']) {
        const target = await maxHeight(nodes.filter((n) => n !== victim));
        const t1 = Date.now();
        await waitFor(async () => (await status(victim)).height >= target, `${victim.name} catching up to ${target}`, 180_000, 100);
        catchUpMs.push(Date.now() - t1);
      }
      // The victim and one other node each time (every node is compared in full at the end).
      const other = nodes.filter((n) => n !== victim)[Math.floor(rnd() * (nodes.length - 1))];
      for (const n of other ? [victim, other] : [victim]) await checker.check(n, (await statusPatiently(n)).height);
      // Only what the victim can have yet (without --catch-up it may still be syncing).
      const victimHeight = (await statusPatiently(victim)).height;
      ackedLookups += await checker.checkAcked(victim, new Map([...load.acked].filter(([, a]) => a.height <= victimHeight)), 50);
      killed = k;
      process.stderr.write(`  kill ${k}/${kills}: ${victim.name} after ${delay} ms at height ${audit.height}; ${audit.ackedChecked} acked txs found offline; ${load.acked.size} acked so far; violations ${violations.list.length}\n`);
    }
    await expectProgress(load, Math.max(20, tps * 5), violations);
  } finally {
    await load.stop();
  }
  // Converge, compare everything, then a clean stop and a replay from genesis.
  const top = await maxHeight(nodes);
  await waitFor(async () => (await Promise.all(nodes.map(status))).every((s) => s.height >= top), 'all nodes at the same height', 180_000);
  for (const n of nodes) {
    await checker.check(n, top);
    ackedLookups += await checker.checkAcked(n, new Map([...load.acked].filter(([, a]) => a.height <= top)), 'all');
  }
  for (const n of nodes) await signalNode(n, 'SIGTERM');
  for (const n of nodes) auditOffline(n, load.acked, history, violations);
  const replayedBlocks = replayFromGenesis(nodes[0]!, violations);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  return {
    mode,
    kills: killed,
    killsPlanned: kills,
    acked: load.acked.size,
    submitted: load.submitted,
    finalHeight: top,
    blocksCompared: checker.blocksChecked,
    ackedLookups,
    restartMs: stats(restartMs),
    catchUpMs: stats(catchUpMs),
    replayedBlocks,
    longestCommitGapMs: longestCommitGap(load.latencies.map((l) => l.at)),
    violations: violations.list,
    minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
  };
}

function abortedReport(mode: string, err: unknown): ModeReport {
  const none = { mean: 0, max: 0 };
  const message = err instanceof Error ? err.message : String(err);
  return { mode, kills: 0, killsPlanned: kills, acked: 0, submitted: 0, finalHeight: 0, blocksCompared: 0, ackedLookups: 0, restartMs: none, catchUpMs: none, replayedBlocks: 0, longestCommitGapMs: 0, violations: [`aborted (see the kill lines above for what was done): ${message}`], minutes: 0 };
}

const reports: ModeReport[] = [];
try {
  const rnd = mulberry32(seed);
  process.stderr.write(`crash: seed ${seed}\n`);
  for (const mode of modes) {
    if (interrupted) break;
    try {
      reports.push(await runMode(mode, rnd));
    } catch (err) {
      // A check that cannot run (a node that stops answering) fails the mode; the report of the other mode survives.
      reports.push(abortedReport(mode, err));
    }
  }
} finally {
  await stopAll();
}
process.stdout.write(`\ncrash report (seed ${seed})\n`);
for (const r of reports) {
  process.stdout.write(
    `${r.violations.length === 0 ? 'ok  ' : 'FAIL'} ${r.mode}: ${r.kills} SIGKILLs${r.kills < r.killsPlanned ? ` (of ${r.killsPlanned} planned: stopped early)` : ''} in ${r.minutes} min; ${r.acked} of ${r.submitted} submitted txs acknowledged, all found after every restart; ` +
      `final height ${r.finalHeight}, ${r.blocksCompared} blocks compared across nodes, ${r.ackedLookups} API look-ups, ${r.replayedBlocks} blocks replayed from genesis; ` +
      `restart to serving ${r.restartMs.mean} ms mean / ${r.restartMs.max} ms max` +
      (r.catchUpMs.max > 0 ? `, catch-up ${r.catchUpMs.mean} ms mean / ${r.catchUpMs.max} ms max` : '') +
      `; longest stretch without an acknowledged commit ${(r.longestCommitGapMs / 1000).toFixed(1)} s` +
      `; violations: ${r.violations.length}\n`,
  );
  for (const v of r.violations.slice(0, 20)) process.stdout.write(`    ${v}\n`);
}
const failed = reports.filter((r) => r.violations.length > 0).length;
process.stdout.write(`${reports.length - failed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
