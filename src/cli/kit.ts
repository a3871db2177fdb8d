import { Option, type Command } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callRoute } from '../api/client.js';
import { coreRoutes } from '../api/routes.js';
import type { RouteDef, RouteInput, RouteOutput } from '../api/route.js';
import { signTx, type Msg } from '../codec/tx.js';
import { ADDRESS_PREFIX } from '../crypto/address.js';
import type { Keyring } from '../crypto/keyring.js';
import { loadConfig, openKeyring, paths, resolveHome } from '../home/home.js';
import { defineErrors, LedgerError, remoteError } from '../util/errors.js';
import { cachedToken, login, LOGIN_CURES } from './session.js';
import { parseIsoTime, parseSlot, slotIso, slotOfMs } from '../util/slots.js';
import { humanizeText, renderValue, type HumanContext } from './human.js';

/**
 * The CLI toolkit every command uses: global options, the node URL, the keyring, option parsers
 * (whole numbers, slots, addresses or key names, label lists), the JSON files a command is given, sign-and-submit with `--wait`, and
 * declarative `tx` / `query` commands whose options are typed from their specs.
 */

export const CLI_ERRORS = defineErrors('cli', {
  CLI_INVALID_OPTION: { meaning: 'a command-line option has a value of the wrong form' },
  CLI_INVALID_ARGUMENT: { meaning: 'a command-line argument has a value of the wrong form' },
  CLI_USAGE: { status: 400, meaning: 'the command line is incomplete or names an unknown command or option (exit code 2)' },
  CLI_ERROR: { meaning: 'the command failed for a reason outside the ledger (e.g. a file could not be read)' },
  CLI_SLOT_RANGE_EMPTY: { meaning: 'a slot range given on the command line is empty or reversed (the end slot is exclusive); refused before signing (exit code 2)' },
  CLI_SLOT_NOT_FUTURE: { meaning: "a slot that must lie in the future has begun by this computer's clock; refused before signing (exit code 2)" },
});

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
  round?: boolean;
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

/** The signing key: --from, then GRIDLEDGER_FROM, then "admin". */
export function signerName(cmd: Command): string {
  return globals(cmd).from ?? process.env.GRIDLEDGER_FROM ?? 'admin';
}

export function signerAddress(cmd: Command): string {
  return keyringOf(cmd).show(signerName(cmd)).address;
}

/** The signing key as a login identity, if the home's keyring has it. */
function sessionIdentity(cmd: Command): { home: string; keyring: Keyring; name: string; address: string } | null {
  try {
    const keyring = keyringOf(cmd);
    const name = signerName(cmd);
    if (!keyring.has(name)) return null;
    return { home: resolveHome(globals(cmd).home), keyring, name, address: keyring.show(name).address };
  } catch {
    return null;
  }
}

/**
 * Calls a route as the --from key: sends its cached bearer token (gridledger login); when a
 * private route asks for one and none is cached (or it expired), logs in with the key once and
 * retries, so private reads work without a separate login step.
 */
export async function call<R extends RouteDef>(cmd: Command, route: R, input: RouteInput<R>): Promise<RouteOutput<R>> {
  const url = nodeUrl(cmd);
  const who = sessionIdentity(cmd);
  const token = who ? cachedToken(who.home, url, who.address)?.token : undefined;
  try {
    return await callRoute(url, route, input, { token });
  } catch (err) {
    if (!who || !(err instanceof LedgerError) || !LOGIN_CURES.has(err.code)) throw err;
    const fresh = await login(who.home, url, who.keyring, who.name);
    return callRoute(url, route, input, { token: fresh.token });
  }
}

/**
 * Prints one result: exactly one JSON document with -o json (the API's values, unchanged);
 * otherwise text for people: the command's own layout, or an indented rendering of the value, with
 * instants and slots in local time and addresses followed by their key names (see human.ts).
 */
export function print<T>(cmd: Command, value: T, text?: (v: T) => string, options: { annotate?: boolean } = {}): void {
  if (globals(cmd).output === 'json') {
    process.stdout.write(JSON.stringify(value) + '\n');
    return;
  }
  const ctx = humanContext(cmd);
  const out = text ? text(value) : renderValue(value, ctx);
  process.stdout.write((text && options.annotate !== false ? humanizeText(out, ctx) : out) + '\n');
}

/**
 * A list answer as text: its lines, `empty` when there are none, and how to ask for the rest when the
 * answer is one page of more (`next` → --after, `nextSlot` → --from-slot).
 */
export function pageText(lines: string[], page: { next?: string; nextSlot?: number }, empty = '(none)'): string {
  return [
    ...lines,
    ...(lines.length === 0 ? [empty] : []),
    ...(page.next ? [`more: --after ${page.next}`] : []),
    ...(page.nextSlot !== undefined ? [`more: --from-slot ${page.nextSlot}`] : []),
  ].join('\n');
}

/** Key names of the home's keyring by address (none when the home has no keyring). */
export function humanContext(cmd: Command): HumanContext {
  const names = new Map<string, string>();
  try {
    const home = resolveHome(globals(cmd).home);
    if (existsSync(paths(home).keyring)) for (const k of openKeyring(home, 'test').list()) names.set(k.address, k.name);
  } catch {
    /* a damaged key file: show addresses without names */
  }
  return { names };
}

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs this CLI from `cwd`, for messages that suggest one: `npx gridledger` inside
 * the project (npx finds the project's own bin there, and only there), else node with the full path.
 */
export function cliCommand(cwd = process.cwd()): string {
  const rel = relative(PACKAGE_ROOT, cwd);
  const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  return inside ? 'npx gridledger' : `node ${shellWord(join(PACKAGE_ROOT, 'bin', 'gridledger.mjs'))}`;
}

/** A path as the user can type it from `cwd`: relative when below it, absolute otherwise. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return shellWord(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path);
}

function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${message}\n`);
}

/**
 * Builds, signs and submits a transaction with the messages, from the --from key. With --wait it
 * waits for the commit and fails unless the result is OK.
 */
export async function submit(cmd: Command, msgs: Msg[]): Promise<void> {
  const g = globals(cmd);
  const keyring = keyringOf(cmd);
  const name = signerName(cmd);
  const signer = keyring.signer(name);
  const sender = keyring.show(name).address;
  const nonceInfo = await call(cmd, coreRoutes.accountNonce, { params: { address: sender } });
  const status = await call(cmd, coreRoutes.status, {});
  const expiresIn = g.expiresIn !== undefined ? parseInteger(g.expiresIn, '--expires-in') : 100;
  if (expiresIn < 1) throw CLI_ERRORS.CLI_INVALID_OPTION('--expires-in must be a positive whole number of blocks');
  const nonce = g.nonce !== undefined ? parseInteger(g.nonce, '--nonce') : nonceInfo.next;
  const tx = signTx({ chainId: status.chainId, sender, nonce, expiresAtHeight: status.height + expiresIn, msgs, memo: g.memo ?? '' }, signer);
  const admitted = await call(cmd, coreRoutes.submitTx, { body: tx });
  if (!g.wait) {
    print(cmd, { hash: admitted.hash, status: 'pending', admission: admitted.admission }, (v) => `submitted ${v.hash} (pending; --wait waits for the commit and shows the result and its events)`);
    return;
  }
  progress(`waiting for ${admitted.hash} to be committed…`);
  const waitSeconds = g.waitSeconds !== undefined ? parseInteger(g.waitSeconds, '--wait-seconds') : 30;
  const res = await call(cmd, coreRoutes.getTx, { params: { hash: admitted.hash }, query: { wait: Math.min(60, waitSeconds) } });
  if (res.status !== 'committed' || !res.result) throw remoteError('TX_NOT_COMMITTED', `transaction ${admitted.hash} was not committed within ${waitSeconds} s`, 408);
  if (res.result.code !== 'OK') throw remoteError(res.result.code, `${res.result.message} (tx ${admitted.hash} at height ${res.height})`, 400);
  // The events carry what the ledger assigned (e.g. the id of a new community), so people see it.
  print(cmd, res, (v) => [`committed ${v.hash} at height ${v.height}: OK`, ...(v.result?.events ?? []).map(eventText)].join('\n'));
}

function eventText(e: { type: string; attributes: Record<string, string> }): string {
  const attrs = Object.entries(e.attributes)
    .filter(([, value]) => value !== '')
    .map(([k, value]) => `${k}=${value}`);
  return `  ${e.type}  ${attrs.join('  ')}`;
}

/** Runs a query route and prints the answer. */
export async function query<R extends RouteDef>(cmd: Command, route: R, input: RouteInput<R>, text?: (v: RouteOutput<R>) => string): Promise<void> {
  print(cmd, await call(cmd, route, input), text);
}

// ── option parsers ──

/** A whole number (Wh, W, sequence numbers, limits); negative only when allowed. */
/** The .json files among `paths`: files as named, directories searched recursively in name order. */
export function jsonFilesIn(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (p.endsWith('.json')) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

export function parseInteger(value: string, name: string, options: { signed?: boolean } = {}): number {
  const re = options.signed ? /^[+-]?\d+$/ : /^\d+$/;
  const n = Number(value);
  if (!re.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`${name} expects a whole number${options.signed ? '' : ' ≥ 0'}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * An instant: whole ms since the epoch, or an ISO time with a zone (Z, +01:00 or +0100). A time
 * without a zone is refused: the runtime would read it in its own time zone.
 */
export function parseTime(value: string, flag: string): number {
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) : parseIsoTime(value);
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < 0) {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects an ISO time with a zone (e.g. 2026-06-01T18:00:00+02:00 or +0200) or ms since the epoch, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** "solar,local" → ["solar","local"]; "" or "-" → [] (unlabelled). */
export function parseLabels(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s !== '-');
}

/**
 * An address, or the name of a key in the home's keyring: the one resolver every command uses for
 * every option and argument that names an account (`opt.address`, arguments named `address`,
 * `--participant` specs, `verify query` address parameters). `what` is the flag (`--to`) or the
 * argument's name; a neither-nor value is a usage error (exit 2) that lists the keyring's names.
 */
export function resolveAddress(cmd: Command, value: string, what: string): string {
  // Anything shaped like an address goes to the ledger, which answers a malformed one with its own code.
  if (value.startsWith(`${ADDRESS_PREFIX}1`)) return value;
  const keyring = keyringOf(cmd);
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(value) && keyring.has(value)) return keyring.show(value).address;
  const names = keyNames(keyring);
  const fail = what.startsWith('-') ? CLI_ERRORS.CLI_INVALID_OPTION : CLI_ERRORS.CLI_INVALID_ARGUMENT;
  throw fail(`${what} expects a ${ADDRESS_PREFIX}1… address or the name of a key in the keyring (${names.length > 0 ? `keys: ${names.join(', ')}` : 'it has no keys'}), got ${JSON.stringify(value)}`);
}

function keyNames(keyring: Keyring): string[] {
  try {
    return keyring.list().map((k) => k.name);
  } catch {
    return [];
  }
}

/** Positional arguments with this name take an address or key name (declared as `address` or `[address]`). */
export const ADDRESS_ARGUMENT = 'address';

/**
 * Slots the ledger accepts only before they begin (link periods, key changes, tariffs, contracts):
 * checked against this computer's clock before signing, so a late command costs no nonce. The
 * ledger still decides by the block time; a clock far behind only means the ledger refuses instead.
 */
export function requireFutureSlot(slot: number, flag: string, nowMs = Date.now()): void {
  const current = slotOfMs(nowMs);
  if (slot <= current) {
    throw CLI_ERRORS.CLI_SLOT_NOT_FUTURE(`${flag} ${slot} (${slotIso(slot)}) has begun: the current slot is ${current} (${slotIso(current)}); give slot ${current + 1} (${slotIso(current + 1)}) or later`);
  }
}

/** A slot range [from, to) must hold at least one slot (the end is exclusive). */
export function requireSlotRange(fromSlot: number, toSlot: number, fromFlag: string, toFlag: string): void {
  if (toSlot <= fromSlot) {
    const why = toSlot === fromSlot ? `is empty (the end is exclusive: one slot is ${toFlag} = ${fromFlag} + 1)` : 'is reversed (it ends before it starts)';
    throw CLI_ERRORS.CLI_SLOT_RANGE_EMPTY(`the range ${fromFlag} ${fromSlot} (${slotIso(fromSlot)}) … ${toFlag} ${toSlot} (${slotIso(toSlot)}) ${why}`);
  }
}

/** Options that form a slot range [first, end): checked together once both are given. */
const SLOT_RANGES: ReadonlyArray<readonly [string, string]> = [
  ['fromSlot', 'toSlot'],
  ['startSlot', 'endSlot'],
];

// ── declarative commands ──

interface OptSpec<T, Req extends boolean> {
  description: string;
  /** Placeholder shown in help, e.g. "Wh". */
  arg?: string;
  required: Req;
  default?: string;
  choices?: readonly string[];
  boolean?: boolean;
  /** Repeatable (`<item...>`): the parser sees the values joined by commas. */
  variadic?: boolean;
  parse(value: string, cmd: Command, flag: string): T;
}

type AnyOpt = OptSpec<unknown, boolean>;
export type ParsedOptions<S extends Record<string, AnyOpt>> = {
  [K in keyof S]: S[K] extends OptSpec<infer T, infer Req> ? (Req extends true ? T : T | undefined) : never;
};

interface OptSettings {
  required?: boolean;
  default?: string;
  arg?: string;
}

/** An option factory: `required: true` types the parsed value as always present. */
interface OptFactory<T, X = unknown> {
  (description: string, settings: OptSettings & X & { required: true }): OptSpec<T, true>;
  (description: string, settings?: OptSettings & X): OptSpec<T, false>;
}

function factory<T, X = unknown>(arg: string, parse: (value: string, cmd: Command, flag: string, settings: OptSettings & X) => T, extra: Partial<OptSpec<T, boolean>> = {}): OptFactory<T, X> {
  return ((description: string, settings: OptSettings & X = {} as OptSettings & X) => ({
    description,
    required: settings.required ?? false,
    default: settings.default,
    arg: settings.arg ?? arg,
    parse: (value: string, cmd: Command, flag: string) => parse(value, cmd, flag, settings),
    ...extra,
  })) as OptFactory<T, X>;
}

/** Option specs; the flag is derived from the key (`maxPowerW` → `--max-power-w`). */
export const opt = {
  text: factory<string>('text', (v) => v),
  int: factory<number, { signed?: boolean }>('n', (v, _c, flag, s) => parseInteger(v, flag, { signed: s.signed })),
  /** A slot index or an ISO slot start (--round: any time inside it); `future`: refused once it has begun. */
  slot: factory<number, { future?: boolean }>('slot', (v, cmd, flag, s) => {
    const slot = parseSlot(v, { round: globals(cmd).round === true });
    if (s.future) requireFutureSlot(slot, flag);
    return slot;
  }),
  address: factory<string>('address|key', (v, cmd, flag) => resolveAddress(cmd, v, flag)),
  labels: factory<string[]>('list', (v) => parseLabels(v)),
  /** Repeatable and comma-separated: `--role a --role b,c` → ["a","b","c"]. */
  list: factory<string[]>('item', (v) => parseLabels(v), { variadic: true }),
  choice: <const C extends readonly string[]>(choices: C) => factory<C[number]>('choice', (v) => v as C[number], { choices }),
  flag: (description: string): OptSpec<boolean, false> => ({ description, required: false, boolean: true, parse: () => true }),
};

function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function addOptions(command: Command, options: Record<string, AnyOpt>): void {
  for (const [key, o] of Object.entries(options)) {
    const flag = flagOf(key);
    const option = new Option(o.boolean ? flag : `${flag} <${o.arg ?? 'value'}${o.variadic ? '...' : ''}>`, o.description);
    if (o.choices) option.choices(o.choices);
    if (o.default !== undefined) option.default(o.default);
    if (o.required) option.makeOptionMandatory();
    command.addOption(option);
  }
}

function parseOptions<S extends Record<string, AnyOpt>>(options: S, raw: Record<string, unknown>, cmd: Command): ParsedOptions<S> {
  const out: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(options)) {
    const value = raw[key];
    const text = Array.isArray(value) ? value.join(',') : String(value);
    out[key] = value === undefined ? undefined : o.boolean ? value === true : o.parse(text, cmd, flagOf(key));
  }
  for (const [first, end] of SLOT_RANGES) {
    const [a, b] = [out[first], out[end]];
    if (typeof a === 'number' && typeof b === 'number' && options[first]?.arg === 'slot' && options[end]?.arg === 'slot') requireSlotRange(a, b, flagOf(first), flagOf(end));
  }
  return out as ParsedOptions<S>;
}

/** Values of positional arguments, one string per declared name (a variadic `name...` collects the rest). */
export type ArgValues<A extends readonly string[]> = { -readonly [K in keyof A]: string };

interface CommandSpec<S extends Record<string, AnyOpt>, A extends readonly string[] = readonly string[]> {
  description: string;
  /** Positional arguments, e.g. ["meterId"]; `[name]` marks an optional one, `name...` a variadic one. */
  args?: A;
  options?: S;
  aliases?: readonly string[];
}

function declare<S extends Record<string, AnyOpt>, A extends readonly string[]>(parent: Command, name: string, s: CommandSpec<S, A>): Command {
  const command = parent.command([name, ...((s.args ?? []) as readonly string[]).map((a) => (a.startsWith('[') ? a : `<${a}>`))].join(' ')).description(s.description);
  for (const alias of s.aliases ?? []) command.alias(alias);
  addOptions(command, (s.options ?? {}) as Record<string, AnyOpt>);
  return command;
}

/** The action's arguments: positional values first, then options, then the command. */
function actionInput(argsCount: number, actionArgs: unknown[]): { args: string[]; raw: Record<string, unknown>; cmd: Command } {
  const args = actionArgs.slice(0, argsCount).flat() as string[];
  return { args, raw: actionArgs[argsCount] as Record<string, unknown>, cmd: actionArgs[argsCount + 1] as Command };
}

/** `tx <group> <name>`: parses the options, builds the messages, signs and submits them. */
export function txCommand<S extends Record<string, AnyOpt>, const A extends readonly string[] = []>(
  parent: Command,
  name: string,
  s: CommandSpec<S, A> & { msgs(o: ParsedOptions<S>, cmd: Command, args: ArgValues<A>): Msg[] | Promise<Msg[]> },
): Command {
  const command = declare(parent, name, s);
  command.action(async (...actionArgs: unknown[]) => {
    const { args, raw, cmd } = actionInput(s.args?.length ?? 0, actionArgs);
    await submit(cmd, await s.msgs(parseOptions((s.options ?? {}) as S, raw, cmd), cmd, args as ArgValues<A>));
  });
  return command;
}

/** `query <group> <name>`: parses the options, calls the route and prints its answer. */
export function queryCommand<S extends Record<string, AnyOpt>, R extends RouteDef, const A extends readonly string[] = []>(
  parent: Command,
  name: string,
  s: CommandSpec<S, A> & { route: R; input(o: ParsedOptions<S>, args: ArgValues<A>, cmd: Command): RouteInput<R>; text?(v: RouteOutput<R>): string },
): Command {
  const command = declare(parent, name, s);
  command.action(async (...actionArgs: unknown[]) => {
    const { args, raw, cmd } = actionInput(s.args?.length ?? 0, actionArgs);
    await query(cmd, s.route, s.input(parseOptions((s.options ?? {}) as S, raw, cmd), args as ArgValues<A>, cmd), s.text);
  });
  return command;
}

/** A command that is neither a plain transaction nor a plain query (files, several calls). */
export function customCommand<S extends Record<string, AnyOpt>, const A extends readonly string[] = []>(
  parent: Command,
  name: string,
  s: CommandSpec<S, A> & { run(o: ParsedOptions<S>, cmd: Command, args: string[]): Promise<void> | void },
): Command {
  const command = declare(parent, name, s);
  command.action(async (...actionArgs: unknown[]) => {
    const { args, raw, cmd } = actionInput(s.args?.length ?? 0, actionArgs);
    await s.run(parseOptions((s.options ?? {}) as S, raw, cmd), cmd, args);
  });
  return command;
}

/** The subcommand group `name` of `parent`: the one another module's CLI already added, or a new one (groups like `verify` hold several modules' commands). */
export function commandGroup(parent: Command, name: string, description: string): Command {
  return parent.commands.find((c) => c.name() === name) ?? parent.command(name).description(description);
}

/** The `verify` group: checks of documents and answers against the ledger, added to by the settlement, anchor and edge CLIs and the CLI's own `verify query`. */
export function verifyGroup(program: Command): Command {
  return commandGroup(program, 'verify', 'verify documents against the ledger');
}
