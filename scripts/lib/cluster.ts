import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetrics } from '../../bench/cpu-report.js';
import { BUNDLE } from '../../bin/compiled-cli.mjs';
import { distStatus } from '../../bin/dist.mjs';
import type { Signer } from '../../src/crypto/ed25519.js';
import { loadConfig, openKeyring, paths } from '../../src/home/home.js';
import { prepareDevnet } from '../../src/runtime/devnet.js';
import { initHome } from '../../src/runtime/init.js';
import { freeBasePort } from '../../test/devnet/harness.js';

/**
 * Nodes in their own processes on loopback for the long-running batteries (crash, soak): homes for
 * one validator or an N-validator devnet, start/stop/kill/pause of each node process, JSON calls to
 * their APIs with deadlines. Every process started here is remembered and killed by `stopAll`.
 */

export const BIN = resolve(fileURLToPath(new URL('../../bin/gridledger.mjs', import.meta.url)));
const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const LAUNCHER = resolve(fileURLToPath(new URL('./run-compiled.mjs', import.meta.url)));
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClusterNode {
  name: string;
  home: string;
  api: string;
  /** host:port of its P2P listener (devnets). */
  p2p: string | undefined;
  validator: string;
  admin: { address: string; signer: Signer };
  proc: ChildProcess | undefined;
  /** Process starts, including the first. */
  starts: number;
  /** The compiled code this node runs at every start (the same for every node of the cluster). */
  code: CodePin;
}

/**
 * The compiled CLI a battery's nodes run, fixed when the cluster is created (issue 9, soak run 2).
 * bin/gridledger.mjs decides at every start between dist/ and the TypeScript sources (through tsx,
 * when src/ changed since the last build). In soak run 2, a merge into the checkout 9 minutes into
 * the run changed src/: every node restarted after it ran from the sources — 100–130 MiB more RSS
 * there (+62–89 MiB at 70 tx/s in the reproduction, mostly outside the main V8 heap: tsx's module
 * hooks thread, malloc arenas; docs/issue9/catchup-rss.md) and not the code its peers ran — which
 * the soak's RSS rule read as growth "after a catch-up".
 */
export interface CodePin {
  /** dist/bundle/cli.cjs, started through scripts/lib/run-compiled.mjs. */
  entry: string;
  /** SHA-256 of dist/.stamp.json when pinned. */
  stamp: string;
  /** dist/ was rebuilt since (a restart would then run other compiled code than its peers). */
  changedSince(): boolean;
}

const stampHash = (dist: string) => createHash('sha256').update(readFileSync(join(dist, '.stamp.json'))).digest('hex');

/**
 * Pins the compiled CLI of `root` (this checkout by default): builds dist/ first when it is not the
 * compiled form of the current src/ (unless `build` is false: then a stale dist/ is an error).
 */
export function pinCompiledCode(root = REPO, options: { build?: boolean } = {}): CodePin {
  const src = join(root, 'src');
  const dist = join(root, 'dist');
  let status = distStatus(src, dist);
  if (!status.fresh && options.build !== false) {
    process.stderr.write(`cluster: ${status.reason}; building dist/ so every node runs the same compiled code\n`);
    execFileSync(process.execPath, [join(root, 'bin', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    status = distStatus(src, dist);
  }
  if (!status.fresh) throw new Error(`cluster: dist/ is not the compiled form of src/ (${status.reason}); run \`npm run build\``);
  const stamp = stampHash(dist);
  return {
    entry: join(dist, 'bundle', BUNDLE),
    stamp,
    changedSince: () => stampHash(dist) !== stamp,
  };
}

/** The command line that starts `node` (`gridledger --home HOME start` on the pinned compiled CLI). */
export function nodeCommand(node: Pick<ClusterNode, 'home' | 'code'>): string[] {
  return [process.execPath, LAUNCHER, node.code.entry, '--home', node.home, 'start'];
}

export interface ClusterOptions {
  validators: number;
  blockTimeMs: number;
  chainId: string;
  dir?: string;
  /** Extra config changes per node (e.g. P2P addresses rewritten to go through a delay proxy). */
  tune?: (config: Record<string, any>, index: number) => void;
}

function tuneHome(home: string, options: ClusterOptions, index: number): void {
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.logLevel = 'warn';
  config.api.rateLimitPerSecond = 1_000_000;
  // One client (this script) holds the load's long polls and the checks' look-ups at once.
  config.api.maxConnectionsPerClient = 1000;
  config.api.maxConnections = 2000;
  config.mempool = { ...config.mempool, maxTxs: 100_000, maxBytes: 256 * 1024 * 1024, nonceWindow: 100_000 };
  config.consensus.blockTimeMs = options.blockTimeMs;
  options.tune?.(config, index);
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
}

/** Creates the homes (one validator, or a devnet) in a fresh temporary folder unless `dir` is given. */
export async function createCluster(options: ClusterOptions): Promise<{ dir: string; nodes: ClusterNode[] }> {
  const code = pinCompiledCode();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'gridledger-battery-'));
  const nodes: ClusterNode[] = [];
  const adminOf = (home: string) => {
    const keyring = openKeyring(home, 'test');
    return { address: keyring.show('admin').address, signer: keyring.signer('admin') };
  };
  if (options.validators === 1) {
    const home = join(dir, 'node0');
    const port = await freeBasePort(1);
    const init = initHome(home, { chainId: options.chainId, keyringBackend: 'test', apiPort: port });
    nodes.push({ name: 'node0', home, api: `http://127.0.0.1:${port}`, p2p: undefined, validator: init.validator, admin: adminOf(home), proc: undefined, starts: 0, code });
  } else {
    const base = await freeBasePort(options.validators);
    const manifest = prepareDevnet(dir, options.validators, base, options.chainId, { blockTimeMs: options.blockTimeMs });
    for (const n of manifest.nodes) nodes.push({ name: n.name, home: n.home, api: n.api, p2p: n.p2p, validator: n.validator, admin: adminOf(n.home), proc: undefined, starts: 0, code });
  }
  nodes.forEach((n, i) => tuneHome(n.home, options, i));
  return { dir, nodes };
}

/**
 * Starts the node's process (`gridledger start` on the pinned compiled code); output goes to
 * HOME/node.log. `fromSources` starts it through bin/gridledger.mjs on the TypeScript sources instead
 * (GRIDLEDGER_FROM_SOURCES=1), for measuring what that costs.
 */
export function startNode(node: ClusterNode, options: { fromSources?: boolean } = {}): void {
  const log = createWriteStream(join(node.home, 'node.log'), { flags: 'a' });
  if (!options.fromSources && node.code.changedSince() && !warnedCodeChange) {
    warnedCodeChange = true;
    process.stderr.write(`cluster: dist/ was rebuilt since the cluster started; ${node.name} and later restarts run the new compiled code\n`);
  }
  const [exe, ...args] = options.fromSources ? [process.execPath, BIN, '--home', node.home, 'start'] : nodeCommand(node);
  const env = options.fromSources ? { ...process.env, GRIDLEDGER_FROM_SOURCES: '1' } : process.env;
  const child = spawn(exe!, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  node.proc = child;
  node.starts += 1;
  running.add(child);
  child.once('exit', () => running.delete(child));
}

const running = new Set<ChildProcess>();
let warnedCodeChange = false;

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Sends `signal` to the node's process; for SIGKILL/SIGTERM waits until it is gone. */
export async function signalNode(node: ClusterNode, signal: NodeJS.Signals): Promise<void> {
  const child = node.proc;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (signal === 'SIGKILL' || signal === 'SIGTERM') {
    await exited(child);
    node.proc = undefined;
  }
}

/** SIGCONT then SIGKILL for every process started here (a stopped process must be continued to die cleanly). */
export async function stopAll(): Promise<void> {
  const all = [...running];
  for (const c of all) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
  await Promise.all(all.map(exited));
}

export class CallError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** One JSON call with a deadline; a non-2xx answer throws CallError with the API's error code. */
export async function call<T = any>(base: string, path: string, init: { method?: string; body?: unknown; timeoutMs?: number } = {}): Promise<T> {
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? undefined : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new CallError(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status, json?.error?.code);
  return json as T;
}

/**
 * Runs a call again while it fails with a timeout or a refused connection (a node that is busy on a
 * saturated machine, or still starting), up to `deadlineMs`; then the last error is thrown.
 */
export async function retrying<T>(fn: () => Promise<T>, deadlineMs = 120_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CallError && err.status !== 429 && err.status !== 503) throw err; // an answer, not a busy node
      if (Date.now() - start > deadlineMs) throw err;
      await sleep(250);
    }
  }
}

/** Polls `probe` until it returns a value; the deadline turns a hang into a clear error. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, deadlineMs = 120_000, everyMs = 100): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

export interface NodeStatus {
  height: number;
  latestBlockHash: string;
  stateRoot: string;
  peers: Array<{ id: string }>;
}

export const status = (node: ClusterNode, timeoutMs = 5000) => call<NodeStatus>(node.api, '/v1/status', { timeoutMs });

/** Status, retried while the node is busy or starting (for checks that must not fail on a slow answer). */
export const statusPatiently = (node: ClusterNode) => retrying(() => status(node, 10_000));

export async function waitServing(node: ClusterNode, deadlineMs = 120_000): Promise<NodeStatus> {
  return waitFor(() => status(node, 2000), `${node.name} serving its API`, deadlineMs, 100);
}

/** The node's RSS in bytes from /proc (Linux), or undefined. */
export function rssOf(node: ClusterNode): number | undefined {
  const pid = node.proc?.pid;
  if (!pid) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Bytes the node's two read caches hold (state and state tree, `gridledger_cache_bytes` in its
 * /metrics), or undefined when it does not answer. They fill up to a fixed bound as the state grows
 * (192 MiB of tree rows by default, ADR 0030), so the soak's leak rule reads RSS less them.
 */
export async function readCacheBytesOf(node: ClusterNode, timeoutMs = 2000): Promise<number | undefined> {
  try {
    const res = await fetch(`${node.api}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const values = parseMetrics(await res.text());
    const state = values.get('gridledger_cache_bytes{cache="state"}');
    const tree = values.get('gridledger_cache_bytes{cache="state_tree"}');
    return state === undefined || tree === undefined ? undefined : state + tree;
  } catch {
    return undefined;
  }
}

export { loadConfig };
