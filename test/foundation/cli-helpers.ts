/** Helpers for tests that drive `node bin/gridledger.mjs` as a separate process. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'gridledger.mjs');

/** Environment without any GRIDLEDGER_* variable of the caller. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GRIDLEDGER_')) env[k] = v;
  return { ...env, ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO, env: cleanEnv(env), maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Parses stdout as exactly one JSON document (one line) and returns it. */
export function oneJson(r: CliResult): any {
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected exactly one JSON line on stdout, got ${lines.length}: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(lines[0]!);
}

/** A free TCP port on 127.0.0.1 (listen on 0, read the port, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

export interface NodeProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `gridledger start --home HOME` as a child process and waits until /v1/health answers. */
export async function startNodeProcess(home: string, port: number, timeoutMs = 30_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--home', home, '--api', `127.0.0.1:${port}`], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    try {
      const res = await fetch(`${url}/v1/health`);
      if (res.status === 200) return { child, url, stderr: () => err, exited };
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!done) child.kill('SIGKILL');
  throw new Error(`node did not become healthy: ${err}`);
}

/** Stops a child we started (by its pid), with the given signal, and waits for it to exit. */
export async function stopNodeProcess(p: NodeProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

/**
 * The CLI as one user runs it: one `gridledger --home HOME --node URL -o json …` process per command,
 * as the end-to-end tests of the modules drive it. `via` gives the same user on another node.
 */
export interface UserCli {
  readonly home: string;
  readonly node: string;
  /** Runs a command and returns its JSON output; a failing command throws with its stderr. */
  json(...args: string[]): Promise<any>;
  /** Runs a command that must fail (exit code 1: refused; 2: a bad command line) and returns its error code. */
  fails(...args: string[]): Promise<string>;
  /** `--from FROM --wait tx …`: the transaction must commit with code OK; returns the CLI's answer. */
  tx(from: string, ...args: string[]): Promise<any>;
  via(node: string): UserCli;
}

export function userCli(home: string, node: string, options: { waitSeconds?: number } = {}): UserCli {
  const base = ['--home', home, '--node', node, '-o', 'json'];
  const wait = ['--wait', '--wait-seconds', String(options.waitSeconds ?? 60)];
  const json = async (...args: string[]) => {
    const r = await cli([...base, ...args]);
    if (r.code !== 0) throw new Error(`gridledger ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return {
    home,
    node,
    json,
    async fails(...args) {
      const r = await cli([...base, ...args]);
      expect([1, 2], `gridledger ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`).toContain(r.code);
      return JSON.parse(r.stderr).error.code;
    },
    async tx(from, ...args) {
      const res = await json('--from', from, ...wait, 'tx', ...args);
      expect(res.result.code, res.result.message).toBe('OK');
      return res;
    },
    via: (other) => userCli(home, other, options),
  };
}

/** The attributes of the first event of a type in a committed transaction's answer (`tx … --wait`). */
export function eventOf(res: any, type: string): Record<string, any> {
  const found = res.result.events.find((e: any) => e.type === type);
  if (!found) throw new Error(`no ${type} event in ${JSON.stringify(res.result.events)}`);
  return found.attributes;
}

/** `gridledger init` of a home whose API listens on `port`, then `patch` applied to its config.json. */
export async function initNodeHome(home: string, chainId: string, port: number, patch: (config: any) => void): Promise<void> {
  const init = await cli(['init', '--home', home, '--keyring-backend', 'test', '--chain-id', chainId, '--api', `127.0.0.1:${port}`, '-o', 'json']);
  expect(init.code, init.stderr).toBe(0);
  const configPath = join(home, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  patch(config);
  writeFileSync(configPath, JSON.stringify(config));
}
