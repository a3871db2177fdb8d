import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import type { TestNode } from '../helpers/node.js';
import { communityNode, dbPath, readings, recentFirstSlot, writeReplay } from './agent-helpers.js';
import { BIN, REPO } from '../foundation/cli-helpers.js';
import { tempDir } from './helpers.js';

/**
 * The agent (the compiled `gridledger edge` command users run, in a child process) is killed with
 * SIGKILL at random points of a replay, at least 20 times, and restarted each time; then it runs to the
 * end. Every slot's reading must be on the ledger exactly once and equal what an uninterrupted run put
 * on another node.
 */

const SLOTS = 24;
const KILLS = 20;
// 120 telegrams/s: 20 kill windows (≤ 1.2 s of work each) cannot read the whole file, so every run is killed mid-replay.
const SPEED = '1200';

let nodeA: TestNode;
let nodeB: TestNode;
const tmp = tempDir('edge-agent-crash');
beforeAll(async () => {
  [nodeA, nodeB] = await Promise.all([communityNode(), communityNode()]);
});
afterAll(async () => {
  await Promise.all([nodeA?.cleanup(), nodeB?.cleanup()]);
  tmp.cleanup();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From spawn to the agent's "started" log line (undefined if it never got there). */
  startupMs?: number;
  stderr: string;
}

/**
 * Starts the agent for meter P1 on `node`. `kill`: SIGKILL it that many ms after spawn (`during:
 * 'startup'`) or after the agent reported it started (`during: 'work'`).
 */
function runAgent(node: TestNode, file: string, db: string, speed: string, kill?: { during: 'startup' | 'work'; ms: number }): Promise<Run> {
  const args = [BIN, '--home', node.home, '--node', node.url, '--from', 'pmeter', 'edge', '--meter', 'P1', '--p1-file', file, '--speed', speed, '--db', db, '--status', 'off', '--exit-when-done', '--poll-ms', '50', '--log-level', 'info'];
  return new Promise((resolve, reject) => {
    const spawned = Date.now();
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let startupMs: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (kill?.during === 'startup') timer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (startupMs === undefined && stderr.includes('"msg":"edge agent started"')) {
        startupMs = Date.now() - spawned;
        if (kill?.during === 'work') timer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, ...(startupMs !== undefined ? { startupMs } : {}), stderr: stderr.split('\n').filter((l) => !l.includes('"level":30')).join('\n') });
    });
  });
}

/** mulberry32: a seeded PRNG, so a failing run can be repeated with the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const comparable = (r: Awaited<ReturnType<typeof readings>>[number]) => ({
  slot: r.slot,
  importWh: r.importWh,
  exportWh: r.exportWh,
  importRegisterWh: r.importRegisterWh,
  exportRegisterWh: r.exportRegisterWh,
  seq: r.seq,
  fingerprint: r.fingerprint,
  sampleCount: r.sampleCount,
});

/** Results of every reading transaction the meter key sent, from the committed blocks. */
async function readingResults(node: TestNode, sender: string): Promise<string[]> {
  const latest = await node.call(coreRoutes.latestBlock, {});
  const height = (latest.block as { header: { height: number } }).header.height;
  const codes: string[] = [];
  for (let h = 1; h <= height; h++) {
    const b = await node.call(coreRoutes.getBlock, { params: { height: h } });
    const txs = (b.block as { txs: Array<{ body: { sender: string } }> }).txs;
    txs.forEach((tx, i) => {
      if (tx.body.sender === sender) codes.push(b.results[i]!.code);
    });
  }
  return codes;
}

describe('agent killed at random points during a replay', () => {
  it(`≥ ${KILLS} SIGKILLs: every slot's reading is on the ledger exactly once and equals the uninterrupted run`, async () => {
    const firstSlot = recentFirstSlot(SLOTS);
    const file = join(tmp.dir, 'replay.p1');
    writeReplay(file, firstSlot, SLOTS, { seed: 5 });

    // The readings do not depend on the pace (slots close by the data): the reference runs at full speed.
    const reference = await runAgent(nodeB, file, dbPath(tmp.dir, 'reference.db'), 'max');
    expect(reference.code, reference.stderr).toBe(0);
    const expected = (await readings(nodeB, 'P1')).map(comparable);
    expect(expected).toHaveLength(SLOTS);

    const seed = Date.now() % 100_000;
    const random = prng(seed);
    const db = dbPath(tmp.dir, 'killed.db');
    const progress: number[] = [];
    // Paced so the replay (6 hours of telegrams) lasts about 18 s: each run (re-reading what is stored
    // at full speed) gets a little further before it is killed, at a random point of its start-up (one
    // in five) or of its work (ingest, sealing, delivery: up to 1.2 s after it started).
    let startupMs = 700;
    for (let i = 0; i < KILLS; i++) {
      const kill = random() < 0.2 ? { during: 'startup' as const, ms: 50 + Math.floor(random() * startupMs) } : { during: 'work' as const, ms: Math.floor(random() * 1_200) };
      const run = await runAgent(nodeA, file, db, SPEED, kill);
      expect(run.signal, `seed ${seed}: the agent ended before it was killed: ${run.stderr}`).toBe('SIGKILL');
      if (run.startupMs !== undefined) startupMs = run.startupMs;
      progress.push((await readings(nodeA, 'P1')).length);
    }
    // The last run is not killed: it finishes the replay (at full speed: the pace does not change the readings).
    const final = await runAgent(nodeA, file, db, 'max');
    expect(final.code, `seed ${seed}: ${final.stderr}`).toBe(0);
    // Every run above was killed (asserted per run); some while readings were being delivered, not only before or after.
    expect(progress.some((n) => n > 0 && n < SLOTS), `seed ${seed}, readings on the ledger after each kill: ${progress.join(' ')}`).toBe(true);

    const onChain = (await readings(nodeA, 'P1')).map(comparable);
    expect(onChain).toEqual(expected);
    const meter = (await nodeA.call(meteringRoutes.getMeter, { params: { meterId: 'P1' } })).meter;
    expect(meter.readings).toBe(SLOTS);
    // Exactly once: every reading transaction that was committed OK is one slot; repeats were refused as duplicates.
    const codes = await readingResults(nodeA, meter.address);
    expect(codes.filter((c) => c === 'OK')).toHaveLength(SLOTS);
    expect(codes.filter((c) => c !== 'OK' && c !== 'METER_READING_DUPLICATE')).toEqual([]);
  });
});
