import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../util/tz/version.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Genesis } from '../app/module.js';
import { genesisModuleSections } from '../modules/index.js';
import { configSchema, ensureDirs, openKeyring, paths, writeJson } from '../home/home.js';
import { defineErrors } from '../util/errors.js';

export const DEVNET_ERRORS = defineErrors('devnet', {
  DEVNET_MISMATCH: { meaning: 'the devnet folder holds a devnet of another shape (validator count, ports)' },
  DEVNET_INVALID_OPTION: { meaning: 'a devnet option is out of range' },
});

/**
 * A local devnet: N validator homes sharing one genesis (every node's admin is a consortium
 * operator), each node dialling all others on loopback, started as N processes and supervised in
 * the foreground. `gridledger start --home DIR/nodeI` restarts one node by hand.
 */

export interface DevnetNode {
  name: string;
  home: string;
  api: string;
  p2p: string;
  nodeId: string;
  validator: string;
  admin: string;
  pid: number | null;
}

export interface DevnetManifest {
  chainId: string;
  nodes: DevnetNode[];
}

const BIN = resolve(fileURLToPath(new URL('../../bin/gridledger.mjs', import.meta.url)));

export function devnetPorts(basePort: number, i: number): { api: number; p2p: number } {
  return { api: basePort + i * 10, p2p: basePort + i * 10 + 1 };
}

/** Creates the homes (or reads the existing manifest when they already exist). */
export function prepareDevnet(
  dir: string,
  validators: number,
  basePort: number,
  chainId = 'gridledger-devnet',
  tuning: { blockTimeMs?: number } = {},
  /** Demo identities (name → roles) created in node0's keyring and admitted in genesis. */
  extraAccounts: Record<string, string[]> = {},
): DevnetManifest {
  const manifestPath = join(dir, 'devnet.json');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as DevnetManifest;
    if (manifest.nodes.length !== validators) throw DEVNET_ERRORS.DEVNET_MISMATCH(`${dir} holds a devnet of ${manifest.nodes.length} validators, not ${validators}`);
    return manifest;
  }
  if (!Number.isInteger(validators) || validators < 1 || validators > 64) throw DEVNET_ERRORS.DEVNET_INVALID_OPTION('--validators must be between 1 and 64');
  mkdirSync(dir, { recursive: true });
  const backend = process.env.GRIDLEDGER_PASSPHRASE ? 'file' : 'test';
  const nodes: DevnetNode[] = [];
  const validatorKeys: Genesis['validators'] = [];
  for (let i = 0; i < validators; i++) {
    const name = `node${i}`;
    const home = resolve(dir, name);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    ensureDirs(home);
    const keyring = openKeyring(home, backend);
    const nodeKey = keyring.add('node');
    const validator = keyring.add('validator');
    const admin = keyring.add('admin');
    const ports = devnetPorts(basePort, i);
    nodes.push({ name, home, api: `http://127.0.0.1:${ports.api}`, p2p: `127.0.0.1:${ports.p2p}`, nodeId: nodeKey.address, validator: validator.address, admin: admin.address, pid: null });
    validatorKeys.push({ address: validator.address, pubKey: validator.publicKey, power: '10', name, nodeId: nodeKey.address });
  }
  const firstKeyring = openKeyring(nodes[0]!.home, backend);
  const accounts = Object.entries(extraAccounts).map(([name, roles]) => ({ address: firstKeyring.add(name).address, roles }));
  const genesis: Genesis = {
    chainId,
    genesisTime: Date.now(),
    operators: nodes.map((n) => n.admin),
    validators: validatorKeys,
    accounts,
    modules: genesisModuleSections(),
    tzTable: { version: TZ_TABLE_VERSION, hash: TZ_TABLE_HASH },
  };
  nodes.forEach((n, i) => {
    const ports = devnetPorts(basePort, i);
    const peers = nodes.filter((o) => o !== n).map((o) => ({ id: o.nodeId, host: '127.0.0.1', port: Number(o.p2p.split(':')[1]) }));
    const config = configSchema.parse({
      chainId,
      moniker: n.name,
      keyringBackend: backend,
      api: { host: '127.0.0.1', port: ports.api },
      p2p: { host: '127.0.0.1', port: ports.p2p, persistentPeers: peers },
      consensus: { blockTimeMs: tuning.blockTimeMs ?? 1000 },
    });
    writeJson(paths(n.home).genesis, genesis);
    writeJson(paths(n.home).config, config);
  });
  const manifest = { chainId, nodes };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export function startDevnetNode(node: DevnetNode): ChildProcess {
  const log = createWriteStream(join(node.home, 'node.log'), { flags: 'a' });
  const child = spawn(process.execPath, [BIN, '--home', node.home, 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Starts every node, writes the manifest with pids, and supervises until SIGINT/SIGTERM. */
export async function runDevnet(dir: string, manifest: DevnetManifest, report: (line: string) => void): Promise<void> {
  const manifestPath = join(dir, 'devnet.json');
  const children = new Map<string, ChildProcess>();
  const save = () => writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  for (const n of manifest.nodes) {
    const child = startDevnetNode(n);
    n.pid = child.pid ?? null;
    children.set(n.name, child);
    child.on('exit', (code, signal) => {
      report(`${n.name} (pid ${child.pid}) exited ${signal ? `by ${signal}` : `with code ${code}`}; restart it with: gridledger start --home ${n.home}`);
      if (n.pid === child.pid) n.pid = null;
      children.delete(n.name);
      if (!stopping) save();
    });
  }
  save();
  let stopping = false;
  await new Promise<void>((resolveStop) => {
    // Signal handlers do not keep the event loop alive: without this timer the supervisor would
    // exit (code 13, unsettled top-level await) as soon as none of its own children is alive, e.g.
    // after every node crashed or was restarted by hand, and SIGTERM could no longer stop them.
    const keepAlive = setInterval(() => undefined, 60_000);
    const stop = () => {
      if (stopping) return;
      stopping = true;
      report('stopping the devnet…');
      const waits = [...children.values()].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r))));
      for (const c of children.values()) c.kill('SIGTERM');
      // Nodes restarted by hand (`gridledger start --home …`) are not our children: stop them by pid file.
      const handStarted = manifest.nodes.map((n) => handStartedPid(n, children)).filter((pid): pid is number => pid !== null);
      for (const pid of handStarted) process.kill(pid, 'SIGTERM');
      waits.push(...handStarted.map((pid) => waitForExit(pid)));
      void Promise.all(waits).then(() => {
        for (const n of manifest.nodes) n.pid = null;
        save();
        clearInterval(keepAlive);
        resolveStop();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function handStartedPid(node: DevnetNode, children: Map<string, ChildProcess>): number | null {
  const pidFile = paths(node.home).pid;
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || [...children.values()].some((c) => c.pid === pid)) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Polls until a process that is not our child has exited (at most 10 s). */
async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
