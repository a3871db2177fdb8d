import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { prepareDevnet, startDevnetNode, type DevnetNode } from '../../src/runtime/devnet.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  api,
  BIN,
  exited,
  freeBasePort,
  isAlive,
  Load,
  mapLimit,
  Processes,
  readManifest,
  Rotation,
  startSupervisor,
  status,
  waitFor,
  type BlockEnvelope,
  type Status,
} from './harness.js';

/**
 * Acceptance, "processes on loopback": a 4-validator devnet run by `gridledger devnet` under a
 * continuous transaction load. Faults: SIGKILL + restart by hand, SIGSTOP/SIGCONT, killing the
 * latest proposer three times, SIGTERM of the supervisor (its own children stop, nodes restarted
 * by hand keep running and keep their pid in devnet.json) and a restart of all. The supervisor
 * runs with --no-restart here, so a killed node stays down until the test restarts it by hand
 * (test/firsthour covers the restarts with backoff).
 * After each: every node reports the same height, block hash and state root, every height has the
 * same block hash on every node, and every transaction an API reported committed is committed on
 * every node at the same height and index. No timing is asserted; deadlines only turn hangs into
 * failures.
 */

const run = promisify(execFile);
const CHAIN = 'gridledger-devnet-test';
const N = 4;

const procs = new Processes();
let dir: string;
let basePort: number;
let nodes: DevnetNode[];
let supervisor: ChildProcess;
let load: Load;
/** The current pid of each node (devnet child or started by hand). */
const pidOf = new Map<string, number>();
/** Nodes this test restarted by hand (its own children). */
const byHand = new Map<string, ChildProcess>();
let rotation: Rotation;
/** Blocks checked by converge(), by height (identical on all four nodes). */
const chain = new Map<number, BlockEnvelope>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridledger-devnet-'));
  basePort = await freeBasePort(N);
  nodes = prepareDevnet(dir, N, basePort, CHAIN, { blockTimeMs: 200 }).nodes;
  rotation = new Rotation(nodes[0]!.home);
});

afterAll(async () => {
  await Promise.race([load?.stop(), new Promise((r) => setTimeout(r, 20_000))]);
  await procs.killAll();
  if (!process.env.KEEP_DEVNET) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function pid(node: DevnetNode): number {
  const p = pidOf.get(node.name);
  if (!p) throw new Error(`no pid known for ${node.name}`);
  return p;
}

/** Waits until the supervisor has written a live pid for every node; records them. */
async function manifestPids(notIn: Set<number> = new Set()): Promise<number[]> {
  const manifest = await waitFor(() => {
    const m = readManifest(dir);
    return m.nodes.every((n) => typeof n.pid === 'number' && isAlive(n.pid) && !notIn.has(n.pid)) ? m : null;
  }, 'devnet.json lists a live pid for every node');
  for (const n of manifest.nodes) {
    procs.track(n.pid, n.name);
    pidOf.set(n.name, n.pid!);
  }
  byHand.clear();
  return manifest.nodes.map((n) => n.pid!);
}

async function allServing(): Promise<Status[]> {
  return waitFor(async () => {
    const st = await Promise.all(nodes.map(status));
    // Connected to the three others (the P2P layer authenticated them by node id).
    const full = st.every((s, i) => {
      const others = nodes.filter((_, j) => j !== i).map((n) => n.nodeId);
      return others.every((id) => s.peers.some((p) => p.id === id));
    });
    return full ? st : null;
  }, 'all nodes serving their API and connected to the other three');
}

/** Kills a node with SIGKILL and waits until it is gone. */
async function kill9(node: DevnetNode): Promise<void> {
  const p = pid(node);
  load.markDown(node.name);
  process.kill(p, 'SIGKILL');
  const child = byHand.get(node.name);
  if (child) await exited(child);
  await waitFor(() => !isAlive(p), `${node.name} (pid ${p}) gone after SIGKILL`, 15_000, 20);
}

/** `gridledger start --home DIR/nodeI`, as an operator would after a crash. */
async function restartByHand(node: DevnetNode): Promise<void> {
  const child = procs.child(startDevnetNode(node), `${node.name} by hand`);
  expect(child.pid).toBeTypeOf('number');
  pidOf.set(node.name, child.pid!);
  byHand.set(node.name, child);
  await waitFor(() => status(node), `${node.name} serving its API again`);
  // The supervisor records the pid of a node restarted by hand (it does not turn it into null).
  await waitFor(() => readManifest(dir).nodes.find((n) => n.name === node.name)!.pid === child.pid, `devnet.json records the pid of ${node.name} restarted by hand`, 15_000);
  load.markUp(node.name);
}

async function heightOf(some: DevnetNode[]): Promise<number> {
  const st = await Promise.all(some.map(status));
  return Math.min(...st.map((s) => s.height));
}

/** Waits until every node in `some` has committed at least `height`. */
async function reach(some: DevnetNode[], height: number, what: string): Promise<void> {
  await waitFor(async () => (await heightOf(some)) >= height, `${some.map((n) => n.name).join(',')} reach height ${height} (${what})`, 90_000);
}

/**
 * The acceptance check after each fault: the load pauses, all four report the same height, latest
 * block hash and state root; the block hash at every height agrees on all four; every transaction
 * an API reported committed is committed on all four at the same height and index.
 */
async function converge(label: string): Promise<number> {
  await load.pause();
  try {
    const snapshot = await waitFor(
      async () => {
        const st = await Promise.all(nodes.map(status));
        const a = st[0]!;
        return a.height > 0 && st.every((s) => s.height === a.height && s.latestBlockHash === a.latestBlockHash && s.stateRoot === a.stateRoot) ? st : null;
      },
      `all four nodes at one height, block hash and state root after ${label}`,
      90_000,
      50,
    );
    const height = snapshot[0]!.height;
    const heights = Array.from({ length: height }, (_, i) => i + 1);
    const forks: string[] = [];
    const invalid: string[] = [];
    await mapLimit(heights, 8, async (h) => {
      const blocks = (await Promise.all(nodes.map((n) => api(n.api, coreRoutes.getBlock, { params: { height: h } })))) as unknown as BlockEnvelope[];
      const hashes = new Set(blocks.map((b) => b.hash));
      if (hashes.size !== 1) forks.push(`height ${h}: ${[...hashes].join(' / ')}`);
      const b = blocks[0]!;
      chain.set(h, b);
      // No validator double-signed across crashes and restarts: no evidence was ever committed.
      if (b.block.evidence.length > 0) invalid.push(`height ${h} carries evidence ${JSON.stringify(b.block.evidence)}`);
      // The block was proposed by the scheduled proposer of its commit round or an earlier round.
      const allowed = Array.from({ length: b.commit.round + 1 }, (_, r) => rotation.proposer(h, r));
      if (!allowed.includes(b.block.header.proposer)) invalid.push(`height ${h} (round ${b.commit.round}) proposed by ${b.block.header.proposer}, scheduled ${allowed.join(',')}`);
    });
    expect(forks, `block hashes differ after ${label}`).toEqual([]);
    expect(invalid, `invalid blocks after ${label}`).toEqual([]);

    const missing: string[] = [];
    await mapLimit([...load.committed], 8, async ([hash, reported]) => {
      for (const n of nodes) {
        try {
          const got = await api(n.api, coreRoutes.getTx, { params: { hash }, query: { wait: 0 } });
          if (got.status !== 'committed' || got.height !== reported.height || got.index !== reported.index) {
            missing.push(`${hash} on ${n.name}: ${got.status} at ${got.height}/${got.index}, reported ${reported.height}/${reported.index} by ${reported.reportedBy}`);
          }
        } catch (err) {
          missing.push(`${hash} on ${n.name}: ${(err as Error).message}`);
        }
      }
    });
    expect(missing, `transactions reported committed but missing after ${label}`).toEqual([]);
    return height;
  } finally {
    load.resume();
  }
}

describe.sequential('a 4-validator devnet on loopback under continuous transaction load', () => {
  it('`gridledger devnet` writes devnet.json with a pid per node; the four validators connect and commit', async () => {
    supervisor = procs.child(startSupervisor(dir, basePort, N), 'gridledger devnet');
    const pids = await manifestPids();
    const manifest = readManifest(dir);
    expect(manifest.chainId).toBe(CHAIN);
    expect(manifest.nodes.map((n) => [n.name, n.home, n.api, n.p2p, n.nodeId, n.validator])).toEqual(nodes.map((n) => [n.name, n.home, n.api, n.p2p, n.nodeId, n.validator]));
    expect(new Set(pids).size).toBe(N);
    expect(pids).not.toContain(supervisor.pid);

    const st = await allServing();
    expect(st.map((s) => s.chainId)).toEqual(nodes.map(() => CHAIN));
    expect(st.map((s) => s.validator.address)).toEqual(nodes.map((n) => n.validator));

    load = new Load(nodes, CHAIN, { maxTxs: 4000, deadlineMs: 240_000, batch: 2 });
    load.start();
    await load.moreCommitted(8, 'fresh devnet');
    await converge('start');
  }, 120_000);

  it('a governed parameter change: three of the four operators approve through the CLI; every node applies it from the stated height', async () => {
    const cli = async (home: string, ...args: string[]) => {
      const { stdout } = await run('node', [BIN, '--home', home, '-o', 'json', '--wait', '--wait-seconds', '60', ...args], { cwd: process.cwd() });
      return JSON.parse(stdout) as { result: { code: string } };
    };
    const modulesOf = (node: DevnetNode) => api(node.api, coreRoutes.modules, {});
    const metering = async (node: DevnetNode) => (await modulesOf(node)).modules.find((m) => m.name === 'metering')!;
    expect((await metering(nodes[0]!)).params).toEqual({ readingWindowSlots: 672 });
    await load.pause(); // the load signs with the same admin keys: no nonce races with the CLI
    let height = 0;
    try {
      height = (await heightOf(nodes)) + 12;
      const proposed = await cli(nodes[0]!.home, 'tx', 'registry', 'propose-params', '--id', 'reading-window', '--module', 'metering', '--params', '{"readingWindowSlots":96}', '--height', String(height));
      expect(proposed.result.code).toBe('OK');
      // A majority of the four operators (each node's admin) is three: the proposer and two approvals.
      for (const n of [nodes[1]!, nodes[2]!]) expect((await cli(n.home, 'tx', 'registry', 'approve', 'reading-window')).result.code).toBe('OK');
      const scheduled = await modulesOf(nodes[3]!);
      expect(scheduled.scheduled).toEqual([{ module: 'metering', kind: 'params', params: { readingWindowSlots: 96 }, height }]);
      expect((await metering(nodes[3]!)).params).toEqual({ readingWindowSlots: 672 });
    } finally {
      load.resume(); // the load keeps blocks coming until the stated height
    }
    await reach(nodes, height, 'the stated height');
    for (const n of nodes) expect((await metering(n)).params, n.name).toEqual({ readingWindowSlots: 96 });
    expect((await modulesOf(nodes[1]!)).scheduled).toEqual([]);
    await converge('a governed parameter change');
  }, 150_000);

  it('SIGKILL of one validator: the other three go on, it restarts by hand and catches up; nothing committed is lost', async () => {
    const victim = nodes[1]!;
    const before = await heightOf(nodes);
    await kill9(victim);
    // The supervisor notices and clears the pid in devnet.json.
    await waitFor(() => readManifest(dir).nodes[1]!.pid === null, 'devnet.json shows node1 without a pid');
    const others = nodes.filter((n) => n !== victim);
    await reach(others, before + 3, 'three of four validators keep committing');
    await load.moreCommitted(4, 'while node1 is down');

    await restartByHand(victim);
    await load.moreCommitted(6, 'after node1 restarted');
    await converge('SIGKILL and restart of node1');
  }, 150_000);

  it('SIGSTOP of one validator for many rounds, then SIGCONT: the others change rounds past it, it catches up and agrees', async () => {
    const victim = nodes[2]!;
    const others = nodes.filter((n) => n !== victim);
    load.markDown(victim.name);
    const before = await heightOf(others);
    // Heights from before+4 on cannot have been started by node2 before it stopped (each needs the
    // previous one decided by a quorum). Stay stopped for at least 8 heights and until one of them
    // was node2's turn to propose in round 0.
    const firstClean = before + 4;
    let until = before + 8;
    while (![...Array(until - firstClean + 1).keys()].some((i) => rotation.proposer(firstClean + i, 0) === victim.validator)) until++;
    process.kill(pid(victim), 'SIGSTOP');
    try {
      await reach(others, until, 'while node2 is stopped');
      await load.moreCommitted(4, 'while node2 is stopped');
    } finally {
      process.kill(pid(victim), 'SIGCONT');
    }
    await waitFor(() => status(victim), 'node2 answering after SIGCONT');
    load.markUp(victim.name);
    await load.moreCommitted(6, 'after node2 resumed');
    await converge('SIGSTOP/SIGCONT of node2');

    // Where node2 should have proposed in round 0, the others timed out and decided a later round's block.
    const skipped = [...Array(until - firstClean + 1).keys()].map((i) => firstClean + i).filter((h) => rotation.proposer(h, 0) === victim.validator);
    expect(skipped.length).toBeGreaterThan(0);
    for (const h of skipped) {
      const b = chain.get(h)!;
      expect(b.commit.round, `round in which height ${h} was decided`).toBeGreaterThan(0);
      expect(b.block.header.proposer).not.toBe(victim.validator);
    }
  }, 150_000);

  it('killing the proposer three times (kill -9, restart by hand): the others change rounds past it; the chain goes on and agrees', async () => {
    const victims: Array<{ name: string; validator: string; height: number }> = [];
    for (let k = 0; k < 3; k++) {
      // The latest block's header names a devnet validator as its proposer. The victim is the
      // round-0 proposer of the height three ahead of the one in progress: it cannot have proposed
      // for it yet (two heights must be decided first, each after blockTimeMs), so that height
      // can only be decided in a later round, by another proposer.
      const live = nodes.filter((n) => isAlive(pid(n)));
      const latest = (await api(live[0]!.api, coreRoutes.latestBlock, {})) as unknown as BlockEnvelope;
      expect(nodes.map((n) => n.validator)).toContain(latest.block.header.proposer);
      const inProgress = Math.max(...(await Promise.all(live.map(status))).map((s) => Math.max(s.height, s.consensus?.height ?? 0)));
      const height = inProgress + 3;
      const victim = nodes.find((n) => n.validator === rotation.proposer(height, 0))!;
      expect(victim, `round-0 proposer of height ${height} is a devnet validator`).toBeDefined();
      const others = nodes.filter((n) => n !== victim);
      await kill9(victim);
      victims.push({ name: victim.name, validator: victim.validator, height });
      await reach(others, height + 1, `after killing ${victim.name}, the proposer of height ${height}`);
      await restartByHand(victim);
      // Back in the game before the next kill, so at most one validator is ever down.
      const target = await heightOf(others);
      await reach([victim], target, `${victim.name} catches up after restart`);
    }
    await load.moreCommitted(6, 'after the proposer kills');
    await converge(`killing the proposer three times (${victims.map((v) => `${v.name}@${v.height}`).join(', ')})`);
    for (const v of victims) {
      const b = chain.get(v.height)!;
      expect(b.commit.round, `round in which height ${v.height} was decided without its proposer ${v.name}`).toBeGreaterThan(0);
      expect(b.block.header.proposer).not.toBe(v.validator);
    }
  }, 180_000);

  it('`gridledger devnet` keeps supervising when every node has been restarted by hand (none is its child any more)', async () => {
    for (const node of nodes.filter((n) => !byHand.has(n.name))) {
      const others = nodes.filter((n) => n !== node);
      await kill9(node);
      await restartByHand(node);
      await reach([node], await heightOf(others), `${node.name} catches up after restart`);
    }
    expect(byHand.size).toBe(N);
    await load.moreCommitted(4, 'with every node restarted by hand');
    // Still in the foreground: it must be there to stop the nodes on SIGTERM.
    expect({ code: supervisor.exitCode, signal: supervisor.signalCode }).toEqual({ code: null, signal: null });
    expect(isAlive(supervisor.pid!)).toBe(true);
  }, 150_000);

  it('SIGTERM to `gridledger devnet` stops its own children only: nodes restarted by hand keep running and keep their pids; a new supervisor refuses while they run and resumes the chain after', async () => {
    const before = await converge('before stopping all');
    const old = nodes.map(pid);
    const hand = [...byHand.entries()];
    expect(hand.length).toBe(N);
    supervisor.kill('SIGTERM');
    const result = await exited(supervisor);
    expect(result).toEqual({ code: 0, signal: null });
    // Not its children: still running, still in devnet.json, and the supervisor said so.
    for (const [name, child] of hand) expect(isAlive(child.pid!), `${name} restarted by hand still runs`).toBe(true);
    const kept = readManifest(dir);
    expect(kept.nodes.map((n) => n.pid)).toEqual(nodes.map((n) => byHand.get(n.name)!.pid));
    expect(kept.supervisorPid).toBeNull();
    expect(readFileSync(join(dir, 'supervisor.log'), 'utf8')).toMatch(/node0 \(pid \d+\) was not started by this supervisor and keeps running/);

    // A new supervisor refuses at once while a node of the devnet runs, and starts nothing.
    const refused = procs.child(startSupervisor(dir, basePort, N), 'gridledger devnet (refused)');
    expect(await exited(refused)).toEqual({ code: 1, signal: null });
    expect(readFileSync(join(dir, 'supervisor.log'), 'utf8')).toMatch(/DEVNET_RUNNING: node0 \(pid \d+\), node1 \(pid \d+\).* already running/);
    for (const [name, child] of hand) expect(isAlive(child.pid!), `${name} untouched by the refused supervisor`).toBe(true);

    for (const [, child] of hand) child.kill('SIGTERM');
    const stopped = await Promise.all(hand.map(([, child]) => exited(child)));
    // A node that did not stop cleanly says why in its log (the end of it goes into the failure).
    const logTail = (name: string) => readFileSync(join(nodes.find((n) => n.name === name)!.home, 'node.log'), 'utf8').split('\n').slice(-15).join('\n');
    for (const [i, [name]] of hand.entries()) expect(stopped[i], `${name} stopped by SIGTERM; its log ends:\n${logTail(name)}`).toEqual({ code: 0, signal: null });
    for (const [i, p] of old.entries()) {
      await waitFor(() => !isAlive(p), `${nodes[i]!.name} (pid ${p}) stopped`, 15_000, 20);
    }

    supervisor = procs.child(startSupervisor(dir, basePort, N), 'gridledger devnet (restart)');
    await manifestPids(new Set(old));
    await allServing();
    await load.moreCommitted(8, 'after restarting all four');
    const after = await converge('stopping and restarting all four');
    expect(after).toBeGreaterThan(before);

    await load.stop();
    const final = await converge('the end of the load');
    expect(load.committed.size).toBeGreaterThan(0);
    const laterRounds = [...chain.values()].filter((b) => b.commit.round > 0).length;
    console.info(`devnet: ${load.committed.size} transactions reported committed and checked on all four nodes; height ${final}; ${laterRounds} heights decided after round 0`);
  }, 180_000);
});
