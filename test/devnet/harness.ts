import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bech32m } from '@scure/base';
import { callRoute } from '../../src/api/client.js';
import type { RouteDef, RouteInput, RouteOutput } from '../../src/api/route.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx } from '../../src/codec/tx.js';
import type { Block, Commit } from '../../src/codec/block.js';
import { ProposerSchedule, ValidatorSet } from '../../src/consensus/index.js';
import type { Signer } from '../../src/crypto/ed25519.js';
import { startDevnetNode, type DevnetManifest, type DevnetNode } from '../../src/runtime/devnet.js';
import { loadConfig, loadGenesis, openKeyring } from '../../src/home/home.js';
import { LedgerError } from '../../src/util/errors.js';

/**
 * Helpers for the loopback devnet acceptance test: free ports, process bookkeeping (every pid the
 * test starts or learns about is killed in afterAll), API calls with retries, a bounded transaction
 * load generator, and the convergence check.
 */

export const BIN = fileURLToPath(new URL('../../bin/gridledger.mjs', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value (not a timing assertion: the deadline turns a hang into a clear failure). */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, deadlineMs = 60_000, everyMs = 100): Promise<T> {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - start > deadlineMs) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for: ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port of Linux's default ephemeral range. */
const EPHEMERAL_FIRST_PORT = 32_768;

/**
 * Test files that run at the same time (vitest workers, VITEST_POOL_ID 1, 2, …) draw their ranges from
 * disjoint slices: a port that looks free may belong to another file's node that is down for a moment
 * (killed and about to restart, or still starting), and taking it let that file's banner point at
 * this one's chain (seen once with two devnet files paired).
 */
const WORKER_SLICES = 4;

function workerSlice(): number | undefined {
  const id = Number(process.env.VITEST_POOL_ID);
  return Number.isInteger(id) && id > 0 ? (id - 1) % WORKER_SLICES : undefined;
}

/**
 * A base port such that base+10i (API) and base+10i+1 (P2P) are free for i < n, chosen below Linux's
 * ephemeral range (32768–60999 by default): a port checked free there can be taken as the source
 * port of some outgoing connection before the node binds it (a devnet test's node0 failed so on
 * port 52000), or while a killed node is down.
 */
export async function freeBasePort(n: number): Promise<number> {
  const slots = Math.floor((EPHEMERAL_FIRST_PORT - 20_000) / 10);
  const slice = workerSlice();
  const perSlice = Math.floor(slots / WORKER_SLICES);
  // A range of n nodes spans n slots: it must end inside its slice.
  const [first, end] = slice === undefined ? [0, slots - n] : [slice * perSlice, (slice + 1) * perSlice - n];
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + randomInt(first, end) * 10;
    const ports = Array.from({ length: n }, (_, i) => [base + 10 * i, base + 10 * i + 1]).flat();
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process this test started or that the devnet started for it; afterAll kills the live ones. */
export class Processes {
  private readonly pids = new Map<number, string>();
  private readonly children = new Set<ChildProcess>();

  track(pid: number | null | undefined, what: string): void {
    if (pid) this.pids.set(pid, what);
  }

  child(child: ChildProcess, what: string): ChildProcess {
    this.children.add(child);
    this.track(child.pid, what);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** SIGCONT (in case it was stopped) then SIGKILL every tracked live process. */
  async killAll(): Promise<void> {
    for (const [pid, what] of this.pids) {
      if (!isAlive(pid) || !looksLikeOurs(pid, what)) continue;
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + 10_000;
    while ([...this.pids.keys()].some(isAlive) && Date.now() < deadline) await sleep(50);
    this.pids.clear();
  }
}

/** Guards against pid reuse: on Linux, only kill a pid whose command line is a gridledger process. */
function looksLikeOurs(pid: number, _what: string): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(cmdline, 'utf8').includes('gridledger');
  } catch {
    return false;
  }
}

/** The last `lines` lines of a node's HOME/node.log (where startDevnetNode writes its output). */
export function nodeLogTail(node: DevnetNode, lines = 30): string {
  try {
    return readFileSync(join(node.home, 'node.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no node.log)';
  }
}

/**
 * Starts every node of a prepared devnet as a child process (`startDevnetNode`, tracked by `procs`)
 * and waits until each API answers with all the other validators as peers. A node that exits, or
 * is not there by the deadline, fails the wait with the tail of its node.log.
 */
export async function startDevnetProcesses(manifest: DevnetManifest, procs: Processes, deadlineMs = 120_000): Promise<void> {
  const others = manifest.nodes.length - 1;
  await Promise.all(
    manifest.nodes.map(async (n) => {
      const child = procs.child(startDevnetNode(n), n.name);
      const seen: { exit?: { code: number | null; signal: NodeJS.Signals | null } } = {};
      void exited(child).then((e) => (seen.exit = e));
      const log = () => `\n--- ${n.name} node.log ---\n${nodeLogTail(n)}`;
      try {
        await waitFor(async () => seen.exit ?? (await api(n.api, coreRoutes.status, {}, 5_000)).peers.length >= others, `${n.name} answers, connected to its ${others} peers`, deadlineMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}${log()}`);
      }
      if (seen.exit) throw new Error(`${n.name} exited (${seen.exit.code ?? seen.exit.signal})${log()}`);
    }),
  );
}

/** Spawns `gridledger devnet --no-restart` as one supervisor child; its output goes to DIR/supervisor.log. */
export function startSupervisor(dir: string, basePort: number, validators: number): ChildProcess {
  const log = createWriteStream(join(dir, 'supervisor.log'), { flags: 'a' });
  const child = spawn(process.execPath, [BIN, 'devnet', '--validators', String(validators), '--dir', dir, '--base-port', String(basePort), '--no-restart'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export function readManifest(dir: string): DevnetManifest {
  return JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as DevnetManifest;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** callRoute with a bound on how long one call may take and a retry on the API's rate limit. */
export async function api<R extends RouteDef>(url: string, route: R, input: RouteInput<R>, timeoutMs = 15_000): Promise<RouteOutput<R>> {
  for (let attempt = 0; ; attempt++) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LedgerError('CALL_TIMEOUT', `${url} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([callRoute(url, route, input), deadline]);
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'RATE_LIMITED' && attempt < 50) {
        await sleep(50);
        continue;
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

export type Status = RouteOutput<typeof coreRoutes.status>;

export function status(node: DevnetNode): Promise<Status> {
  return api(node.api, coreRoutes.status, {}, 5_000);
}

export function randomAddress(): string {
  return bech32m.encode('grid', bech32m.toWords(randomBytes(20)));
}

export interface CommittedTx {
  height: number;
  index: number;
  reportedBy: string;
}

/**
 * Continuous load: one worker per node's operator key, each sending small batches of registry
 * admissions to the nodes in turn and recording every transaction an API reported committed.
 * Bounded by a transaction count and a deadline; nodes marked down are skipped (a SIGSTOPped node
 * accepts TCP connections but never answers).
 */
export class Load {
  readonly committed = new Map<string, CommittedTx>();
  submitted = 0;
  failures = 0;
  private readonly down = new Set<string>();
  private stopped = false;
  private paused = false;
  private readonly busy: boolean[];
  private workers: Promise<void>[] = [];
  private readonly signers: Signer[];

  constructor(
    private readonly nodes: DevnetNode[],
    private readonly chainId: string,
    private readonly limits: { maxTxs: number; deadlineMs: number; batch: number },
  ) {
    this.busy = nodes.map(() => false);
    this.signers = nodes.map((n) => openKeyring(n.home, loadConfig(n.home).keyringBackend).signer('admin'));
  }

  start(): void {
    const until = Date.now() + this.limits.deadlineMs;
    this.workers = this.nodes.map((_, w) => this.worker(w, until));
  }

  markDown(name: string): void {
    this.down.add(name);
  }
  markUp(name: string): void {
    this.down.delete(name);
  }

  /** Stops starting new batches and waits until no batch is in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    await waitFor(() => this.busy.every((b) => !b), 'load workers idle', 60_000, 20);
  }
  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  /** Waits until `count` more transactions than now have been reported committed. */
  async moreCommitted(count: number, what: string): Promise<void> {
    const target = this.committed.size + count;
    await waitFor(() => this.committed.size >= target, `${count} more committed transactions (${what})`, 90_000);
  }

  private async worker(w: number, until: number): Promise<void> {
    const sender = this.nodes[w]!.admin;
    const signer = this.signers[w]!;
    let turn = w;
    while (!this.stopped && this.submitted < this.limits.maxTxs && Date.now() < until) {
      if (this.paused) {
        await sleep(20);
        continue;
      }
      const node = this.nodes[turn++ % this.nodes.length]!;
      if (this.down.has(node.name)) {
        await sleep(5);
        continue;
      }
      this.busy[w] = true;
      try {
        const nonce = await api(node.api, coreRoutes.accountNonce, { params: { address: sender } }, 5_000);
        const txs = Array.from({ length: this.limits.batch }, (_, i) =>
          signTx(
            {
              chainId: this.chainId,
              sender,
              nonce: nonce.next + i,
              expiresAtHeight: nonce.height + 10_000,
              msgs: [{ type: 'registry/admit', value: { address: randomAddress(), roles: ['consumer'] } }],
              memo: `load ${w}`,
            },
            signer,
          ),
        );
        this.submitted += txs.length;
        const res = await api(node.api, coreRoutes.submitTxBatch, { body: { txs } }, 5_000);
        for (const r of res.results) {
          if (r.code !== 'OK' || !r.hash) continue;
          const got = await api(node.api, coreRoutes.getTx, { params: { hash: r.hash }, query: { wait: 5 } }, 10_000);
          if (got.status === 'committed') this.committed.set(r.hash, { height: got.height!, index: got.index!, reportedBy: node.name });
        }
      } catch {
        // The node is down, restarting or stopped: try the next one.
        this.failures++;
        await sleep(100);
      } finally {
        this.busy[w] = false;
      }
    }
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * The proposer rotation of a chain whose validator set never changes (the devnet's): the set of
 * height h is the genesis set advanced h−1 times (ValidatorSet.nextHeight), and round r's proposer
 * comes from a ProposerSchedule over that set — the same rules the nodes use.
 */
export class Rotation {
  private readonly sets: ValidatorSet[];
  private readonly schedules = new Map<number, ProposerSchedule>();

  constructor(home: string) {
    const genesis = loadGenesis(home);
    this.sets = [ValidatorSet.genesis(genesis.validators.map((v) => ({ address: v.address, pubKey: v.pubKey, power: BigInt(v.power) })))];
  }

  proposer(height: number, round: number): string {
    while (this.sets.length < height) this.sets.push(this.sets[this.sets.length - 1]!.nextHeight());
    let schedule = this.schedules.get(height);
    if (!schedule) this.schedules.set(height, (schedule = new ProposerSchedule(this.sets[height - 1]!)));
    return schedule.proposerAt(round);
  }
}

export type BlockEnvelope = { hash: string; block: Block; commit: Commit };
