/**
 * Issue 19 points 1–5: the devnet as a new user meets it — `npm start` and `gridledger devnet` in
 * real processes: a second devnet of the same folder is refused at once, busy ports fail loudly,
 * `--base-port` moves an existing devnet, signals to the npm process reach the devnet, the banner
 * comes once every API answers, crashed nodes are restarted with backoff, a node restarted by hand
 * keeps its pid in devnet.json and is never signalled, messages print commands that work, and
 * `npx gridledger demo` lists the demo home's identities.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { DevnetManifest } from '../../src/runtime/devnet.js';
import { freeBasePort, waitFor } from '../devnet/harness.js';
import { BIN, cleanEnv, freePort, isAlive, Proc, REPO } from './helpers.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'gridledger-firsthour-devnet-'));
const started: Proc[] = [];
const pids = new Set<number>();

afterAll(async () => {
  for (const p of started) if (!p.done) p.child.kill('SIGKILL');
  for (const pid of pids) if (isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gridledger')) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
}, 30_000);

function track(p: Proc): Proc {
  started.push(p);
  if (p.child.pid) pids.add(p.child.pid);
  return p;
}

/** `gridledger devnet …` as its own process (cwd: the repository, as after a clone). */
function devnet(args: string[]): Proc {
  return track(new Proc(spawn(process.execPath, [BIN, 'devnet', ...args], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })));
}

/** `npm start -- …` exactly as the README says, with the options passed through npm. */
function npmStart(args: string[]): Proc {
  return track(new Proc(spawn('npm', ['start', '--', ...args], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })));
}

function manifest(dir: string): DevnetManifest {
  return JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as DevnetManifest;
}

function livePids(dir: string): number[] {
  const m = manifest(dir);
  const all = m.nodes.map((n) => n.pid).filter((p): p is number => p !== null);
  for (const p of all) pids.add(p);
  return all;
}

async function health(api: string): Promise<number> {
  const res = await fetch(`${api}/v1/health`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

const BANNER = /every API answers/;

describe.sequential('npm start: signals, the banner, a second devnet of the same folder', () => {
  const dir = join(root, 'npm');
  let base = 0;

  it('the banner comes once every API answers, suggests a command that works, and a second devnet of the folder is refused at once', async () => {
    base = await freeBasePort(2);
    const first = npmStart(['--dir', dir, '--validators', '2', '--base-port', String(base)]);
    await first.waitFor(BANNER, 'the banner');
    // Right when the banner appears, every node answers (it used to come before they listened).
    const nodes = manifest(dir).nodes;
    expect(await Promise.all(nodes.map((n) => health(n.api)))).toEqual([200, 200]);
    const [pid0, pid1] = livePids(dir);

    // The banner's command is one that works from here (the repository): run it as printed.
    const suggested = first.stdout.match(/Try: (npx gridledger --home \S+ status)/)?.[1];
    expect(suggested, first.output).toBeDefined();
    const { stdout } = await run('sh', ['-c', suggested!], { cwd: REPO, env: cleanEnv() });
    expect(stdout).toMatch(/chain id\s+gridledger-devnet/);

    // A second devnet of the same folder: refused at once, naming the running supervisor.
    const second = devnet(['--dir', dir]);
    const result = await second.exited;
    expect(result.code).toBe(1);
    expect(second.stderr).toMatch(/DEVNET_RUNNING: a devnet of .* is already running \(supervisor pid \d+\)/);
    expect(second.stdout).not.toMatch(BANNER);
    const supervisorPid = Number(/supervisor pid (\d+)/.exec(second.stderr)![1]);
    expect(manifest(dir).supervisorPid).toBe(supervisorPid);
    // … and it touched nothing: the first devnet's nodes still run and answer.
    expect([isAlive(pid0!), isAlive(pid1!)]).toEqual([true, true]);
    expect(await Promise.all(nodes.map((n) => health(n.api)))).toEqual([200, 200]);
    expect(livePids(dir)).toEqual([pid0, pid1]);
  }, 180_000);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to the npm process stops the supervisor and every node (npm execs the supervisor)`, async () => {
      const npm = started.find((p) => !p.done && p.child.spawnfile === 'npm') ?? npmStart(['--dir', dir, '--validators', '2', '--base-port', String(base)]);
      await npm.waitFor(BANNER, 'the banner');
      const nodePids = livePids(dir);
      const supervisorPid = manifest(dir).supervisorPid!;
      expect(nodePids).toHaveLength(2);
      npm.child.kill(signal);
      const exit = await npm.exited;
      expect(exit, npm.output).toEqual({ code: 0, signal: null });
      for (const pid of [supervisorPid, ...nodePids]) await waitFor(() => !isAlive(pid), `pid ${pid} gone after ${signal} to npm`, 30_000, 50);
      expect(manifest(dir).nodes.map((n) => n.pid)).toEqual([null, null]);
      expect(manifest(dir).supervisorPid).toBeNull();
    }, 180_000);
  }
});

describe.sequential('gridledger devnet: busy ports, --base-port, restarts, nodes started by hand', () => {
  const dir = join(root, 'ports');
  let blocker: Server;
  let busyBase = 0;

  it('a busy port: each failing node says why, nothing is left running, no banner, non-zero exit', async () => {
    busyBase = await freeBasePort(2);
    blocker = createServer((socket) => socket.destroy()); // another program holding the port
    await new Promise<void>((r) => blocker.listen(busyBase + 10, '127.0.0.1', r)); // node1's API port
    const p = devnet(['--dir', dir, '--validators', '2', '--base-port', String(busyBase)]);
    const exit = await p.exited;
    expect(exit.code, p.output).toBe(1);
    expect(p.stdout).not.toMatch(BANNER);
    expect(p.stderr).toMatch(new RegExp(`node1 \\(pid \\d+\\) failed to start: exit code 1: CLI_ERROR: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${busyBase + 10} — a port of this devnet is taken`));
    expect(p.stderr).toMatch(/--base-port/);
    expect(p.stderr).toMatch(/error DEVNET_START_FAILED: the devnet did not start; node1: /);
    const m = manifest(dir);
    expect(m.nodes.map((n) => n.pid)).toEqual([null, null]);
    expect(m.supervisorPid).toBeNull();
    // node0 started fine and was stopped again: nothing answers on its port.
    await expect(health(m.nodes[0]!.api)).rejects.toThrow();
    await new Promise((r) => blocker.close(r));
  }, 180_000);

  let supervisor: Proc;
  let base = 0;

  it('--base-port on the existing devnet moves its ports (configs and devnet.json) and says so', async () => {
    base = await freeBasePort(2);
    supervisor = devnet(['--dir', dir, '--base-port', String(base)]);
    await supervisor.waitFor(BANNER, 'the banner');
    expect(supervisor.stderr).toMatch(new RegExp(`moved the devnet's ports from base ${busyBase} to ${base}`));
    const m = manifest(dir);
    expect(m.basePort).toBe(base);
    expect(m.nodes.map((n) => n.api)).toEqual([`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 10}`]);
    expect(await Promise.all(m.nodes.map((n) => health(n.api)))).toEqual([200, 200]);
    const config1 = JSON.parse(readFileSync(join(dir, 'node1', 'config.json'), 'utf8'));
    expect(config1.api.port).toBe(base + 10);
    expect(config1.p2p.port).toBe(base + 11);
    expect(config1.p2p.persistentPeers.map((p: { port: number }) => p.port)).toEqual([base + 1]);
    // and the two nodes found each other on the new P2P ports
    await waitFor(async () => {
      const st = (await (await fetch(`${m.nodes[0]!.api}/v1/status`)).json()) as { peers: unknown[] };
      return st.peers.length === 1;
    }, 'node0 connected to node1 on the moved ports');
  }, 180_000);

  it('a crashed node is restarted with backoff (and the supervisor says so); devnet.json gets its new pid', async () => {
    const [, victim] = livePids(dir);
    process.kill(victim!, 'SIGKILL');
    await supervisor.waitFor(new RegExp(`node1 \\(pid ${victim}\\) crashed \\(killed by SIGKILL\\); restarting it in 1 s \\(attempt 1 of 5\\)`), 'the restart notice');
    const [, again] = await supervisor.waitFor(/node1 restarted \(pid (\d+)\)/, 'node1 restarted');
    await waitFor(() => livePids(dir)[1] === Number(again), 'devnet.json records the restarted pid');
    await waitFor(async () => (await health(manifest(dir).nodes[1]!.api)) === 200, 'node1 answering again');
  }, 120_000);

  it('a node stopped on purpose stays stopped; restarted by hand it keeps its pid in devnet.json; the supervisor never signals it', async () => {
    const [, node1] = livePids(dir);
    process.kill(node1!, 'SIGTERM');
    await supervisor.waitFor(new RegExp(`node1 \\(pid ${node1}\\) stopped \\(exit code 0\\); a node stopped on purpose is not restarted: start it again with npx gridledger start --home \\S+`), 'the stopped notice');
    await waitFor(() => manifest(dir).nodes[1]!.pid === null, 'devnet.json without a pid for the stopped node1');
    const home = manifest(dir).nodes[1]!.home;
    const byHand = track(new Proc(spawn(process.execPath, [BIN, 'start', '--home', home], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })));
    await waitFor(() => manifest(dir).nodes[1]!.pid === byHand.child.pid, 'devnet.json records the pid of node1 started by hand', 30_000);

    const [node0] = livePids(dir);
    supervisor.child.kill('SIGTERM');
    expect(await supervisor.exited).toEqual({ code: 0, signal: null });
    expect(isAlive(node0!)).toBe(false);
    expect(byHand.done).toBe(false); // not its child: never signalled
    expect(supervisor.stderr).toMatch(new RegExp(`node1 \\(pid ${byHand.child.pid}\\) was not started by this supervisor and keeps running; stop it in its terminal or with kill -TERM ${byHand.child.pid}`));
    expect(manifest(dir).nodes.map((n) => n.pid)).toEqual([null, byHand.child.pid]);
    byHand.child.kill('SIGTERM');
    expect(await byHand.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});

describe('gridledger demo', () => {
  it("lists the demo home's identities (not those of the default home), and a command that works from where it runs", async () => {
    // As a user runs it: no --home (the demo home is ./.gridledger-demo), here from a folder outside
    // the project, where `npx gridledger` would not work. The default home ($HOME/.gridledger) is empty.
    const cwd = mkdtempSync(join(root, 'demo-'));
    const port = await freePort();
    const demo = track(new Proc(spawn(process.execPath, [BIN, 'demo', '--api', `127.0.0.1:${port}`], { cwd, env: cleanEnv({ HOME: join(root, 'empty-user-home') }), stdio: ['ignore', 'pipe', 'pipe'] })));
    await demo.waitFor(/Ctrl-C stops the node/, 'the demo banner');
    const { stdout } = await run(process.execPath, [BIN, 'keys', 'list', '--home', join(cwd, '.gridledger-demo'), '-o', 'json'], { cwd: REPO, env: cleanEnv() });
    const keys = (JSON.parse(stdout) as { keys: Array<{ name: string; address: string }> }).keys;
    for (const name of ['utility', 'gridop', 'alice', 'bob', 'carol', 'admin']) {
      const key = keys.find((k) => k.name === name)!;
      expect(demo.stdout, name).toMatch(new RegExp(`\\n\\s+${name}\\s+${key.address}\\n`));
    }
    const suggested = demo.stdout.match(/Try: (.+ status)\n/)?.[1];
    expect(suggested).toBe(`node ${BIN} --home .gridledger-demo status`);
    const status = await run('sh', ['-c', suggested!], { cwd, env: cleanEnv() });
    expect(status.stdout).toMatch(/chain id\s+gridledger-demo/);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
