import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../util/tz/version.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Genesis } from '../app/module.js';
import { genesisModuleSections, genesisStateVersions } from '../modules/index.js';
import { configSchema, ensureDirs, loadConfig, openKeyring, paths, writeJson } from '../home/home.js';
import { defineErrors } from '../util/errors.js';
import { claimPidLock, processAlive, readPidFile } from '../util/pid-lock.js';

export const DEVNET_ERRORS = defineErrors('devnet', {
  DEVNET_MISMATCH: { meaning: 'the devnet folder holds a devnet of another shape (validator count, chain id)' },
  DEVNET_INVALID_OPTION: { meaning: 'a devnet option is out of range' },
  DEVNET_RUNNING: { meaning: 'a devnet of that folder (its supervisor, or one of its nodes) is already running' },
  DEVNET_INCOMPLETE: { meaning: 'the devnet folder holds node homes but no devnet.json (an interrupted creation)' },
  DEVNET_START_FAILED: { meaning: 'a node of the devnet failed to start (the reason of each is printed); the others were stopped' },
});

/**
 * A local devnet: N validator homes sharing one genesis (every node's admin is a consortium
 * operator), each node dialling all others on loopback, started as N child processes of one
 * supervisor (`gridledger devnet`), which
 *  - refuses to start while a supervisor or a node of the same folder runs (`DIR/supervisor.pid`,
 *    the nodes' pid files), so two devnets never fight over one folder;
 *  - announces the devnet only once every node's API answers, and otherwise stops the nodes it
 *    started and fails with each node's start-up error (e.g. a port in use);
 *  - restarts a node that crashed (exit by a signal or a non-zero code) with exponential backoff,
 *    and gives up after repeated quick failures; a node stopped on purpose (exit code 0) stays
 *    stopped, and a node started by hand (`gridledger start --home DIR/nodeI`) is recorded in
 *    devnet.json but never signalled: the supervisor only ever signals its own children.
 */

export interface DevnetNode {
  name: string;
  home: string;
  api: string;
  p2p: string;
  nodeId: string;
  validator: string;
  admin: string;
  /** The process serving this node now (a child of the supervisor, or started by hand); null when none. */
  pid: number | null;
}

export interface DevnetManifest {
  chainId: string;
  /** Node i serves its API on basePort + 10i and P2P on basePort + 10i + 1. */
  basePort?: number;
  /** The running supervisor, null when none. */
  supervisorPid?: number | null;
  nodes: DevnetNode[];
}

export const DEFAULT_DEVNET = { validators: 4, basePort: 26600, chainId: 'gridledger-devnet' };

const BIN = resolve(fileURLToPath(new URL('../../bin/gridledger.mjs', import.meta.url)));

export function devnetPorts(basePort: number, i: number): { api: number; p2p: number } {
  return { api: basePort + i * 10, p2p: basePort + i * 10 + 1 };
}

export interface DevnetOptions {
  /** Default 4 for a new devnet; for an existing one, refused unless it matches. */
  validators?: number;
  /** Default 26600 for a new devnet; for an existing one, its ports are moved when it differs. */
  basePort?: number;
  /** Default gridledger-devnet for a new devnet; for an existing one, refused unless it matches. */
  chainId?: string;
  tuning?: { blockTimeMs?: number };
  /** Demo identities (name → roles) created in node0's keyring and admitted in genesis. */
  extraAccounts?: Record<string, string[]>;
}

export interface OpenedDevnet {
  manifest: DevnetManifest;
  created: boolean;
  /** The previous base port when `basePort` moved an existing devnet's ports. */
  movedFrom: number | null;
}

const manifestPath = (dir: string) => join(dir, 'devnet.json');

export function readDevnetManifest(dir: string): DevnetManifest | null {
  const path = manifestPath(dir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DevnetManifest) : null;
}

/** Written to a temporary file and renamed, so readers (tests, scripts) never see half a manifest. */
export function saveDevnetManifest(dir: string, manifest: DevnetManifest): void {
  const tmp = `${manifestPath(dir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmp, manifestPath(dir));
}

/** The base port of a manifest (older manifests did not record it: node0's API port). */
export function basePortOf(manifest: DevnetManifest): number {
  return manifest.basePort ?? Number(new URL(manifest.nodes[0]!.api).port);
}

function checkBasePort(basePort: number, validators: number): void {
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + 10 * (validators - 1) + 1 > 65535) {
    throw DEVNET_ERRORS.DEVNET_INVALID_OPTION(`--base-port must be a whole number from 1024 such that every port (base + 10i + 1) stays below 65536, got ${basePort}`);
  }
}

/**
 * Opens the devnet of `dir`, creating it when it has no devnet.json. For an existing devnet a
 * different validator count or chain id is refused, and a different base port is applied (each
 * node's config and the manifest are rewritten; the devnet must not be running).
 */
export function openDevnet(dir: string, options: DevnetOptions = {}): OpenedDevnet {
  const existing = readDevnetManifest(dir);
  if (!existing) return { manifest: createDevnet(dir, options), created: true, movedFrom: null };
  if (options.validators !== undefined && existing.nodes.length !== options.validators) {
    throw DEVNET_ERRORS.DEVNET_MISMATCH(`${dir} holds a devnet of ${existing.nodes.length} validators, not ${options.validators} (use another --dir for another devnet)`);
  }
  if (options.chainId !== undefined && existing.chainId !== options.chainId) {
    throw DEVNET_ERRORS.DEVNET_MISMATCH(`${dir} holds the devnet of chain ${existing.chainId}, not ${options.chainId} (use another --dir for another devnet)`);
  }
  const current = basePortOf(existing);
  if (options.basePort === undefined || options.basePort === current) return { manifest: { ...existing, basePort: current }, created: false, movedFrom: null };
  return { manifest: moveDevnetPorts(dir, existing, options.basePort), created: false, movedFrom: current };
}

/** Kept for tests and scripts: opens (or creates) a devnet with positional options. */
export function prepareDevnet(
  dir: string,
  validators: number,
  basePort: number,
  chainId = DEFAULT_DEVNET.chainId,
  tuning: { blockTimeMs?: number } = {},
  extraAccounts: Record<string, string[]> = {},
): DevnetManifest {
  return openDevnet(dir, { validators, basePort, chainId, tuning, extraAccounts }).manifest;
}

/** Rewrites every node's API and P2P ports (and its peers' ports) for a new base port. */
function moveDevnetPorts(dir: string, manifest: DevnetManifest, basePort: number): DevnetManifest {
  checkBasePort(basePort, manifest.nodes.length);
  const running = runningNodes(manifest);
  if (running.length > 0) throw DEVNET_ERRORS.DEVNET_RUNNING(`cannot move the ports while ${running.map((r) => `${r.name} (pid ${r.pid})`).join(', ')} runs`);
  const nodes = manifest.nodes.map((n, i) => {
    const ports = devnetPorts(basePort, i);
    return { ...n, api: `http://127.0.0.1:${ports.api}`, p2p: `127.0.0.1:${ports.p2p}` };
  });
  for (const [i, n] of nodes.entries()) {
    const config = loadConfig(n.home);
    const ports = devnetPorts(basePort, i);
    config.api.port = ports.api;
    config.p2p.port = ports.p2p;
    config.p2p.persistentPeers = config.p2p.persistentPeers.map((peer) => {
      const j = nodes.findIndex((o) => o.nodeId === peer.id);
      return j < 0 ? peer : { ...peer, port: devnetPorts(basePort, j).p2p };
    });
    writeJson(paths(n.home).config, config);
  }
  const moved = { ...manifest, basePort, nodes };
  saveDevnetManifest(dir, moved);
  return moved;
}

/**
 * Creates the homes. They are built in a temporary folder inside `dir` and moved into place, and
 * devnet.json is written last, so a failure leaves no half-made devnet behind.
 */
function createDevnet(dir: string, options: DevnetOptions): DevnetManifest {
  const validators = options.validators ?? DEFAULT_DEVNET.validators;
  const basePort = options.basePort ?? DEFAULT_DEVNET.basePort;
  const chainId = options.chainId ?? DEFAULT_DEVNET.chainId;
  if (!Number.isInteger(validators) || validators < 1 || validators > 64) throw DEVNET_ERRORS.DEVNET_INVALID_OPTION('--validators must be between 1 and 64');
  checkBasePort(basePort, validators);
  mkdirSync(dir, { recursive: true });
  const leftovers = readdirSync(dir).filter((f) => /^node\d+$/.test(f));
  if (leftovers.length > 0) {
    throw DEVNET_ERRORS.DEVNET_INCOMPLETE(`${dir} holds ${leftovers.join(', ')} but no devnet.json (an interrupted creation?): remove them or choose another --dir`);
  }
  // A creation interrupted by a signal (the work is synchronous, so no cleanup ran) left its folder.
  for (const f of readdirSync(dir).filter((name) => name.startsWith('.creating-'))) rmSync(join(dir, f), { recursive: true, force: true });
  const staging = mkdtempSync(join(dir, '.creating-'));
  try {
    const built = buildDevnetHomes(staging, dir, validators, basePort, chainId, options);
    for (const n of built.nodes) renameSync(join(staging, n.name), n.home);
    rmSync(staging, { recursive: true, force: true });
    saveDevnetManifest(dir, built);
    return built;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    for (const f of readdirSync(dir).filter((name) => /^node\d+$/.test(name))) rmSync(join(dir, f), { recursive: true, force: true });
    throw err;
  }
}

function buildDevnetHomes(staging: string, dir: string, validators: number, basePort: number, chainId: string, options: DevnetOptions): DevnetManifest {
  const backend = process.env.GRIDLEDGER_PASSPHRASE ? 'file' : 'test';
  const nodes: DevnetNode[] = [];
  const validatorKeys: Genesis['validators'] = [];
  for (let i = 0; i < validators; i++) {
    const name = `node${i}`;
    const building = join(staging, name);
    mkdirSync(building, { recursive: true, mode: 0o700 });
    ensureDirs(building);
    const keyring = openKeyring(building, backend);
    const nodeKey = keyring.add('node');
    const validator = keyring.add('validator');
    const admin = keyring.add('admin');
    const ports = devnetPorts(basePort, i);
    nodes.push({ name, home: resolve(dir, name), api: `http://127.0.0.1:${ports.api}`, p2p: `127.0.0.1:${ports.p2p}`, nodeId: nodeKey.address, validator: validator.address, admin: admin.address, pid: null });
    validatorKeys.push({ address: validator.address, pubKey: validator.publicKey, power: '10', name, nodeId: nodeKey.address });
  }
  const firstKeyring = openKeyring(join(staging, nodes[0]!.name), backend);
  const accounts = Object.entries(options.extraAccounts ?? {}).map(([name, roles]) => ({ address: firstKeyring.add(name).address, roles }));
  const genesis: Genesis = { chainId, genesisTime: Date.now(), operators: nodes.map((n) => n.admin), validators: validatorKeys, accounts, modules: genesisModuleSections(), stateVersions: genesisStateVersions(), tzTable: { version: TZ_TABLE_VERSION, hash: TZ_TABLE_HASH } };
  nodes.forEach((n, i) => {
    const ports = devnetPorts(basePort, i);
    const peers = nodes.filter((o) => o !== n).map((o) => ({ id: o.nodeId, host: '127.0.0.1', port: Number(o.p2p.split(':')[1]) }));
    const config = configSchema.parse({
      chainId,
      moniker: n.name,
      keyringBackend: backend,
      api: { host: '127.0.0.1', port: ports.api },
      p2p: { host: '127.0.0.1', port: ports.p2p, persistentPeers: peers },
      consensus: { blockTimeMs: options.tuning?.blockTimeMs ?? 1000 },
    });
    writeJson(paths(join(staging, n.name)).genesis, genesis);
    writeJson(paths(join(staging, n.name)).config, config);
  });
  return { chainId, basePort, supervisorPid: null, nodes };
}

// ── processes ──

/** Guards against a recycled pid: on Linux, a live pid counts only if it runs gridledger. */
function runsGridledger(pid: number): boolean {
  if (!processAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gridledger');
  } catch {
    return false;
  }
}

/** The live process holding a node home's pid file (a node running on it), if any. */
export function nodeProcess(node: DevnetNode): number | null {
  const pid = readPidFile(paths(node.home).pid);
  return pid !== null && runsGridledger(pid) ? pid : null;
}

export function runningNodes(manifest: DevnetManifest): Array<{ name: string; pid: number }> {
  return manifest.nodes.flatMap((n) => {
    const pid = nodeProcess(n);
    return pid === null ? [] : [{ name: n.name, pid }];
  });
}

/** Claims `DIR/supervisor.pid`: one supervisor per devnet folder (src/util/pid-lock.ts). Returns the release function. */
export function claimDevnet(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'supervisor.pid');
  return claimPidLock(path, {
    holds: runsGridledger,
    refused: (pid) =>
      DEVNET_ERRORS.DEVNET_RUNNING(
        pid === null ? `could not claim ${path}` : `a devnet of ${dir} is already running (supervisor pid ${pid}); stop it with Ctrl-C in its terminal or kill -TERM ${pid}`,
      ),
  });
}

/** Refuses when a node of the devnet already runs (e.g. started by hand, or left by a killed supervisor). */
export function assertNoNodeRunning(manifest: DevnetManifest): void {
  const running = runningNodes(manifest);
  if (running.length === 0) return;
  const list = running.map((r) => `${r.name} (pid ${r.pid})`).join(', ');
  throw DEVNET_ERRORS.DEVNET_RUNNING(`${list} of this devnet ${running.length === 1 ? 'is' : 'are'} already running; stop ${running.length === 1 ? 'it' : 'them'} first (kill -TERM ${running.map((r) => r.pid).join(' ')})`);
}

/** Starts one node as a child process; its output is appended to HOME/node.log. */
/** `nodeArgs`: options for Node itself before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export function startDevnetNode(node: DevnetNode, nodeArgs: readonly string[] = []): ChildProcess {
  const log = createWriteStream(join(node.home, 'node.log'), { flags: 'a' });
  const child = spawn(process.execPath, [...nodeArgs, BIN, '--home', node.home, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

// ── supervisor ──

export interface SupervisorOptions {
  /** Restart crashed nodes (default true). */
  restart?: boolean;
  /** Backoff of restarts: first delay, cap, give up after this many quick failures in a row; a run this long counts as stable. */
  backoff?: { initialMs: number; maxMs: number; giveUpAfter: number; stableMs: number };
  /** How long every API has to answer at start-up (default 60 s). */
  readyTimeoutMs?: number;
  /** The command users type to run the CLI here (e.g. `npx gridledger`), for messages. */
  command?: string;
  /** A path as users can type it from where they are. */
  showPath?: (path: string) => string;
  /** Progress and incidents (stderr). */
  report(line: string): void;
  /** Called once, when every node's API answers. */
  ready(manifest: DevnetManifest): void;
}

export const DEFAULT_BACKOFF = { initialMs: 1000, maxMs: 30_000, giveUpAfter: 5, stableMs: 60_000 };

/**
 * Starts every node, announces the devnet once all APIs answer, and supervises until SIGINT,
 * SIGTERM or SIGHUP. The caller holds the folder's claim (claimDevnet). Resolves when all of its
 * own children have stopped; rejects with DEVNET_START_FAILED when a node failed to start.
 */
export async function runDevnet(dir: string, manifest: DevnetManifest, options: SupervisorOptions): Promise<void> {
  assertNoNodeRunning(manifest);
  await new Supervisor(dir, manifest, options).run();
}

interface Child {
  process: ChildProcess;
  startedAt: number;
  /** The last few KB of its stderr: the reason it failed, when it does. */
  tail: () => string;
}

class Supervisor {
  private readonly children = new Map<string, Child>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startupFailures = new Map<string, string>();
  private ready = false;
  private stopping = false;
  private readonly backoff: typeof DEFAULT_BACKOFF;
  private readonly command: string;
  private readonly show: (path: string) => string;

  constructor(
    private readonly dir: string,
    private readonly manifest: DevnetManifest,
    private readonly options: SupervisorOptions,
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.command = options.command ?? 'gridledger';
    this.show = options.showPath ?? ((p) => p);
  }

  private save(): void {
    saveDevnetManifest(this.dir, this.manifest);
  }

  private startCommand(node: DevnetNode): string {
    return `${this.command} start --home ${this.show(node.home)}`;
  }

  async run(): Promise<void> {
    this.manifest.supervisorPid = process.pid;
    for (const n of this.manifest.nodes) this.spawn(n);
    this.save();
    let stopRequested: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stopRequested = r));
    const onSignal = () => stopRequested();
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
    // Nodes started by hand are recorded in devnet.json (never signalled). The interval also keeps
    // the event loop alive while none of the nodes is our child.
    const watch = setInterval(() => this.recordHandStarted(), 1000);
    try {
      const startup = await Promise.race([this.waitReady(), stopped.then(() => 'stopped' as const)]);
      if (startup === 'failed') {
        await this.stopChildren();
        const lines = [...this.startupFailures].map(([name, why]) => `${name}: ${why}`);
        throw DEVNET_ERRORS.DEVNET_START_FAILED(`the devnet did not start; ${lines.join('; ')}`);
      }
      if (startup === 'ready') {
        this.ready = true;
        this.options.ready(this.manifest);
        await stopped;
      }
      this.options.report('stopping the devnet…');
      await this.stopChildren();
    } finally {
      clearInterval(watch);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
      this.manifest.supervisorPid = null;
      this.save();
    }
  }

  private spawn(node: DevnetNode): void {
    const child = startDevnetNode(node);
    let tail = '';
    child.stderr?.on('data', (d: Buffer) => {
      tail = (tail + d.toString('utf8')).slice(-8192);
    });
    const entry: Child = { process: child, startedAt: Date.now(), tail: () => tail };
    this.children.set(node.name, entry);
    node.pid = child.pid ?? null;
    child.once('exit', (code, signal) => this.exited(node, entry, code, signal));
    // A process that could not be spawned at all (no 'exit' follows): a start-up failure.
    child.once('error', (err) => {
      if (child.pid !== undefined) return;
      entry.tail = () => `error CLI_ERROR: ${err.message}`;
      this.exited(node, entry, 1, null);
    });
  }

  /** 'ready' when every node's API answers for this chain; 'failed' when a node exited first (or the deadline passed). */
  private async waitReady(): Promise<'ready' | 'failed'> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 60_000);
    const answering = new Set<string>();
    for (;;) {
      if (this.stopping) return 'failed';
      if (this.startupFailures.size > 0) {
        // Give the other nodes a moment to fail too, so every reason is reported at once.
        await sleep(1500);
        return 'failed';
      }
      await Promise.all(
        this.manifest.nodes.filter((n) => !answering.has(n.name)).map(async (n) => {
          if (await answersForChain(n.api, this.manifest.chainId)) answering.add(n.name);
        }),
      );
      if (answering.size === this.manifest.nodes.length && this.startupFailures.size === 0) return 'ready';
      if (Date.now() > deadline) {
        for (const n of this.manifest.nodes) if (!answering.has(n.name)) this.startupFailures.set(n.name, `its API ${n.api} did not answer within ${Math.round((this.options.readyTimeoutMs ?? 60_000) / 1000)} s (see ${this.show(join(n.home, 'node.log'))})`);
        return 'failed';
      }
      await sleep(200);
    }
  }

  private exited(node: DevnetNode, child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.children.get(node.name) === child) this.children.delete(node.name);
    if (node.pid === child.process.pid) node.pid = null;
    if (this.stopping) return;
    this.save();
    const pid = child.process.pid;
    const why = failureReason(child.tail(), code, signal, this.show(join(node.home, 'node.log')));
    if (!this.ready) {
      this.startupFailures.set(node.name, why);
      this.options.report(`${node.name} (pid ${pid}) failed to start: ${this.startupFailures.get(node.name)}`);
      return;
    }
    if (code === 0 && signal === null) {
      // A clean exit is a deliberate stop (e.g. kill -TERM of that node): leave it stopped. A short
      // delay keeps this message out of the way when Ctrl-C reached the node and the supervisor at once.
      this.later(250, () => this.options.report(`${node.name} (pid ${pid}) stopped (exit code 0); a node stopped on purpose is not restarted: start it again with ${this.startCommand(node)}`));
      return;
    }
    if (this.options.restart === false) {
      this.options.report(`${node.name} (pid ${pid}) stopped (${why}); this devnet does not restart nodes (--no-restart): start it again with ${this.startCommand(node)}`);
      return;
    }
    const quick = Date.now() - child.startedAt < this.backoff.stableMs;
    const failures = quick ? (this.failures.get(node.name) ?? 0) + 1 : 1;
    this.failures.set(node.name, failures);
    if (failures > this.backoff.giveUpAfter) {
      this.options.report(`${node.name} (pid ${pid}) stopped (${why}); it failed ${failures} times in a row, so it is not restarted again: see ${this.show(join(node.home, 'node.log'))} and start it with ${this.startCommand(node)}`);
      return;
    }
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (failures - 1));
    this.options.report(`${node.name} (pid ${pid}) crashed (${why}); restarting it in ${formatSeconds(delay)} (attempt ${failures} of ${this.backoff.giveUpAfter})`);
    this.later(delay, () => this.restart(node));
  }

  private restart(node: DevnetNode): void {
    const byHand = nodeProcess(node);
    if (byHand !== null) {
      node.pid = byHand;
      this.save();
      this.options.report(`${node.name} is already running again (pid ${byHand}, started by hand): not restarted`);
      return;
    }
    this.spawn(node);
    this.save();
    this.options.report(`${node.name} restarted (pid ${node.pid})`);
  }

  /** Records in devnet.json which process serves each node that is not our child (e.g. started by hand). */
  private recordHandStarted(): void {
    if (this.stopping) return;
    let changed = false;
    for (const n of this.manifest.nodes) {
      if (this.children.has(n.name)) continue;
      const pid = nodeProcess(n);
      if (pid !== n.pid) {
        n.pid = pid;
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping) fn();
    }, ms);
    this.timers.add(timer);
  }

  /** SIGTERM to each child (SIGKILL after 20 s); nodes started by hand are left running, and said so. */
  private async stopChildren(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const ours = [...this.children.entries()];
    await Promise.all(ours.map(([, c]) => stopChild(c.process)));
    for (const [name] of ours) {
      const node = this.manifest.nodes.find((n) => n.name === name)!;
      node.pid = null;
    }
    this.children.clear();
    for (const n of this.manifest.nodes) {
      const pid = nodeProcess(n);
      n.pid = pid;
      if (pid !== null) this.options.report(`${n.name} (pid ${pid}) was not started by this supervisor and keeps running; stop it in its terminal or with kill -TERM ${pid}`);
    }
    this.save();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Why a node stopped: the signal, or for an exit code the reason it gave (the CLI's
 * `error CODE: message` line, else its last error or fatal log entry).
 */
export function failureReason(stderrTail: string, code: number | null, signal: NodeJS.Signals | null, log: string): string {
  if (signal) return `killed by ${signal}`;
  const lines = stderrTail.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  let reason = [...lines].reverse().find((l) => /^error [A-Z0-9_]+: /.test(l))?.replace(/^error /, '');
  for (const line of [...lines].reverse()) {
    if (reason) break;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string };
      if ((entry.level ?? 0) >= 50 && entry.msg) reason = entry.msg;
    } catch {
      /* not a log entry */
    }
  }
  if (!reason) return `exit code ${code}; see ${log}`;
  if (/EADDRINUSE/.test(reason)) reason += ' — a port of this devnet is taken by another process; choose free ones with --base-port (npm start -- --base-port P)';
  return `exit code ${code}: ${reason}`;
}

/**
 * Whether the node of this devnet answers at `api`: its status names the devnet's chain. Another
 * program on that port (another devnet's node, say, while this node finds the port taken and exits)
 * does not count, so the banner never points at someone else's chain.
 */
export async function answersForChain(api: string, chainId: string): Promise<boolean> {
  try {
    const res = await fetch(`${api}/v1/status`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { chainId?: unknown };
    return res.ok && body.chainId === chainId;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function formatSeconds(ms: number): string {
  return `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
}
