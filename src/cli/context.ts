import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { callRoute } from '../api/client.js';
import { coreRoutes } from '../api/routes.js';
import type { RouteDef, RouteInput, RouteOutput } from '../api/route.js';
import { signTx, type Msg } from '../codec/tx.js';
import type { Keyring } from '../crypto/keyring.js';
import { loadConfig, openKeyring, paths, resolveHome } from '../node/home.js';
import { LedgerError } from '../util/errors.js';
import { parseSlot } from '../util/slots.js';

/** Options every command understands (set on the root program). */
export interface GlobalOptions {
  home?: string;
  node?: string;
  output: 'text' | 'json';
  from?: string;
  wait?: boolean;
  waitSeconds?: string;
  expiresIn?: string;
  memo?: string;
  nonce?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Node URL: --node, then GRIDLEDGER_NODE, then the API address in the home's config. */
export function nodeUrl(cmd: Command): string {
  const g = globals(cmd);
  if (g.node) return g.node;
  if (process.env.GRIDLEDGER_NODE) return process.env.GRIDLEDGER_NODE;
  const home = resolveHome(g.home);
  if (existsSync(paths(home).config)) {
    const { api } = loadConfig(home);
    const host = api.host === '0.0.0.0' ? '127.0.0.1' : api.host;
    return `http://${host}:${api.port}`;
  }
  return 'http://127.0.0.1:26657';
}

export function keyringOf(cmd: Command): Keyring {
  const home = resolveHome(globals(cmd).home);
  const backend = existsSync(paths(home).config) ? loadConfig(home).keyringBackend : 'file';
  return openKeyring(home, backend);
}

export function call<R extends RouteDef>(cmd: Command, route: R, input: RouteInput<R>): Promise<RouteOutput<R>> {
  return callRoute(nodeUrl(cmd), route, input);
}

/** Prints one result: exactly one JSON document with -o json, readable text otherwise. */
export function print(cmd: Command, value: unknown, text?: (v: any) => string): void {
  if (globals(cmd).output === 'json') process.stdout.write(JSON.stringify(value) + '\n');
  else process.stdout.write((text ? text(value) : JSON.stringify(value, null, 2)) + '\n');
}

function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${message}\n`);
}

/**
 * Builds, signs and submits a transaction with the messages, from the key named by --from
 * (default "admin"). With --wait it waits for the commit and fails unless the result is OK.
 */
export async function submit(cmd: Command, msgs: Msg[]): Promise<void> {
  const g = globals(cmd);
  const name = g.from ?? process.env.GRIDLEDGER_FROM ?? 'admin';
  const signer = keyringOf(cmd).signer(name);
  const sender = keyringOf(cmd).show(name).address;
  const nonceInfo = await call(cmd, coreRoutes.accountNonce, { params: { address: sender } });
  const status = await call(cmd, coreRoutes.status, {});
  const expiresIn = g.expiresIn ? Number(g.expiresIn) : 100;
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1) throw new LedgerError('CLI_INVALID_OPTION', '--expires-in must be a positive whole number of blocks');
  const nonce = g.nonce !== undefined ? Number(g.nonce) : nonceInfo.next;
  const tx = signTx({ chainId: status.chainId, sender, nonce, expiresAtHeight: status.height + expiresIn, msgs, memo: g.memo ?? '' }, signer);
  const admitted = await call(cmd, coreRoutes.submitTx, { body: tx });
  if (!g.wait) {
    print(cmd, { hash: admitted.hash, status: 'pending', admission: admitted.admission }, (v) => `submitted ${v.hash} (pending)`);
    return;
  }
  progress(`waiting for ${admitted.hash} to be committed…`);
  const waitSeconds = g.waitSeconds ? Number(g.waitSeconds) : 30;
  const res = await call(cmd, coreRoutes.getTx, { params: { hash: admitted.hash }, query: { wait: Math.min(60, waitSeconds) } });
  if (res.status !== 'committed' || !res.result) throw new LedgerError('TX_NOT_COMMITTED', `transaction ${admitted.hash} was not committed within ${waitSeconds} s`);
  if (res.result.code !== 'OK') throw new LedgerError(res.result.code, `${res.result.message} (tx ${admitted.hash} at height ${res.height})`);
  print(cmd, res, (v) => `committed ${v.hash} at height ${v.height}: OK`);
}

/** Runs a query route and prints the answer. */
export async function query<R extends RouteDef>(cmd: Command, route: R, input: RouteInput<R>, text?: (v: RouteOutput<R>) => string): Promise<void> {
  print(cmd, await call(cmd, route, input), text);
}

/** What modules get to build their CLI commands. */
export interface CliContext {
  submit: typeof submit;
  query: typeof query;
  call: typeof call;
  print: typeof print;
  keyring: typeof keyringOf;
  parseSlot: typeof parseSlot;
}

export const cliContext: CliContext = { submit, query, call, print, keyring: keyringOf, parseSlot };
