/**
 * Issue 19 point 7: a keyring name is accepted wherever the CLI expects an address, through one
 * resolver. The table of address-taking options and arguments is derived from the commander program
 * itself (options whose placeholder is `<address|key>`, arguments named `address`), so a new command
 * is tested as soon as it exists; a second check makes sure options and arguments that by their name
 * take an account are declared that way and cannot bypass the resolver.
 *
 * Each command runs in-process against a fake node that records every request: the key name must
 * arrive at the node as the key's address, and an unknown name must be refused before anything is
 * sent, with the resolver's usage error naming the option.
 */
import type { Argument, Command, Option } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS_ARGUMENT } from '../../src/cli/kit.js';
import { buildProgram, registerHeavyGroups } from '../../src/cli/main.js';
import { slotOfMs } from '../../src/util/slots.js';
import { startFakeNode, type FakeNode } from './fake-node.js';

interface Case {
  /** Command path, e.g. ["tx", "energy", "transfer"]. */
  path: string[];
  /** The option's long flag, or the argument's name. */
  target: string;
  kind: 'option' | 'argument';
}

const ADDRESS_PLACEHOLDER = '<address|key>';

function fullName(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function argumentsOf(cmd: Command): readonly Argument[] {
  return (cmd as unknown as { registeredArguments: readonly Argument[] }).registeredArguments;
}

function takesAddress(o: Option): boolean {
  return o.flags.includes(ADDRESS_PLACEHOLDER.slice(0, -1));
}

async function fullProgram(): Promise<Command> {
  const program = buildProgram();
  await registerHeavyGroups(program, ['--help']);
  return program;
}

function addressCases(program: Command): Case[] {
  const cases: Case[] = [];
  for (const cmd of allCommands(program)) {
    if (cmd.commands.length > 0 && argumentsOf(cmd).length === 0 && !cmd.options.some(takesAddress)) continue;
    for (const o of cmd.options) if (takesAddress(o)) cases.push({ path: fullName(cmd), target: o.long!, kind: 'option' });
    for (const a of argumentsOf(cmd)) if (a.name() === ADDRESS_ARGUMENT) cases.push({ path: fullName(cmd), target: a.name(), kind: 'argument' });
  }
  return cases;
}

/**
 * Option and argument names that by themselves say "an account". The list errs wide: a name here
 * that is not an address must be exempted below with the reason.
 */
const ACCOUNT_WORDS = /^(to|address|trader|party|payee|payer|mediator|member|utility|prosumer|consumer|seller|buyer|counterparty|owner|holder|issuer|recipient|operator|aggregator|customer|participant|add|remove|node-id|after)$/;
const NOT_ADDRESSES: Record<string, string> = {
  'tx energy reduce --remove': 'a label list',
  'tx plant register --participant': 'ADDRESS:UTILITY:PPM[:METER] specs, resolved part by part (tested below)',
  'tx plant set-key --participant': 'ADDRESS:UTILITY:PPM[:METER] specs, resolved part by part (tested below)',
  'query meter list --after': 'a meter id',
  'query plant list --after': 'a plant id',
  'query anchor checkpoints --after': 'a height',
  'query anchor anchors --after': 'a height',
  'verify samples --to': 'the end slot of a range',
  'query meter missing --after': 'a meter id',
  'query energy communities --after': 'a community id',
  'query energy children --after': 'a community id',
  'query energy trader-communities --after': 'a community id',
  'query energy meters --after': 'a meter id',
  'query market trades --after': 'a trade id',
  'query market contracts --after': 'a contract id',
  'query energy differences --after': "a cursor from the previous answer's next",
  'query energy adjustments --after': "a cursor from the previous answer's next",
  'query energy history --after': "a cursor from the previous answer's next",
  'query pay history --after': "a cursor from the previous answer's next",
  'query pay assets --after': 'an asset id',
  'query pay redemptions --after': "a cursor from the previous answer's next",
  'query escrow list --after': "a cursor from the previous answer's next",
  'query channel list --after': "a cursor from the previous answer's next",
  'query registry log --after': "a cursor from the previous answer's next",
  'query flex events --after': "a cursor from the previous answer's next",
  'query anon offers --after': "a cursor from the previous answer's next",
  'msg inbox --after': 'a message cursor',
  'msg watch --after': 'a message cursor',
  'msg send --to': 'a messaging address (gridmsg1…) or a local messaging key name (another namespace than accounts)',
  'msg send --reply-to': 'a messaging address (gridmsg1…) or a local messaging key name',
  'report --to': 'the last day of the period',
};

/** A valid-looking value for every other required option, by its placeholder. */
function filler(o: Option, nowSlot: number): string {
  const placeholder = /<([^>]+)>/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
  if (o.argChoices) return o.argChoices[0]!;
  if (o.long === '--to-slot' || o.long === '--end-slot') return String(nowSlot + 20);
  if (o.long === '--role') return 'consumer';
  const byPlaceholder: Record<string, string> = {
    'address|key': 'carol',
    slot: String(nowSlot + 10),
    tz: 'Europe/Amsterdam',
    asset: 'NOK@hood',
    'YYYY-MM-DD': '2030-01-02',
    'YYYY-MM': '2030-01',
    time: new Date((nowSlot + 10) * 900_000).toISOString(),
    duration: '2h',
    json: '{}',
    hex: '00'.repeat(32),
    spec: 'carol:carol:1000000',
    list: 'solar',
    'Wh,Wh,…': '100,100',
  };
  return byPlaceholder[placeholder] ?? (/^(n|W|Wh|µ|µ\/kWh|µ€\/kWh|s|height)$/.test(placeholder) ? '1' : 'x1');
}

/** A command line running `c` with `value` in its address slot and plausible values elsewhere. */
function commandLine(program: Command, c: Case, value: string, nowSlot: number): string[] {
  const cmd = c.path.reduce<Command>((at, name) => at.commands.find((x) => x.name() === name)!, program);
  const argv = [...c.path];
  for (const a of argumentsOf(cmd)) if (a.required || a.name() === c.target) argv.push(a.name() === c.target ? value : 'x1');
  for (const o of cmd.options) {
    if (c.kind === 'option' && o.long === c.target) argv.push(o.long, value);
    else if (o.mandatory) argv.push(o.long!, filler(o, nowSlot));
  }
  return argv;
}

/** Where the bill commands may write (removed after the tests). */
const OUT = mkdtempSync(join(tmpdir(), 'gridledger-names-statements-'));

/** Options some commands need together with the tested one (a member only makes sense with a community). */
const COMPANIONS: Record<string, string[]> = {
  'bill --member': ['--community', 'c1', '--from-day', '2030-01-02', '--out', OUT],
  'bill --utility': ['--from-day', '2030-01-02', '--out', OUT],
};

describe('key names wherever an address is expected (one resolver)', () => {
  let node: FakeNode;
  const nowSlot = slotOfMs(Date.now());
  const run = (argv: string[]) => node.run(argv);

  beforeAll(async () => {
    node = await startFakeNode({ bob: ['consumer'], carol: ['consumer'] });
  });
  afterAll(() => {
    rmSync(OUT, { recursive: true, force: true });
    return node?.close();
  });

  it('every option and argument whose name says "account" is declared as an address (or exempted with a reason)', async () => {
    const program = await fullProgram();
    const undeclared: string[] = [];
    for (const cmd of allCommands(program)) {
      const where = fullName(cmd).join(' ');
      for (const o of cmd.options) {
        const name = o.long?.slice(2) ?? '';
        if (ACCOUNT_WORDS.test(name) && !takesAddress(o) && NOT_ADDRESSES[`${where} ${o.long}`] === undefined) undeclared.push(`${where} ${o.long}`);
      }
      for (const a of argumentsOf(cmd)) if (ACCOUNT_WORDS.test(a.name()) && a.name() !== ADDRESS_ARGUMENT) undeclared.push(`${where} <${a.name()}>`);
    }
    expect(undeclared).toEqual([]);
  });

  it('the table covers every module and the core commands', async () => {
    const cases = addressCases(await fullProgram());
    const groups = new Set(cases.map((c) => c.path.slice(0, 2).join(' ')));
    for (const g of ['tx registry', 'tx energy', 'tx community', 'tx meter', 'tx plant', 'tx pay', 'tx escrow', 'tx channel', 'tx market', 'tx flex', 'query account', 'query registry', 'query energy', 'query plant', 'query pay', 'query market', 'query flex', 'query settlement', 'bill']) {
      expect(groups, g).toContain(g);
    }
    expect(cases.length).toBeGreaterThan(40);
  });

  it('each address option and argument takes a key name, which reaches the node as its address', async () => {
    const program = await fullProgram();
    const failures: string[] = [];
    for (const c of addressCases(program)) {
      const label = `${c.path.join(' ')} ${c.target}`;
      const argv = [...commandLine(program, c, 'bob', nowSlot), ...(COMPANIONS[label] ?? [])];
      const r = await run(argv);
      if (/CLI_INVALID_(OPTION|ARGUMENT)|SLOT_|CLI_USAGE/.test(r.stderr)) failures.push(`${label}: refused before sending: ${r.stderr.trim()}`);
      else if (!r.requests.some((q) => q.includes(node.addresses.bob!))) failures.push(`${label}: bob's address was not sent (${r.requests.length} requests; ${r.stderr.trim()})`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('an unknown name is refused before anything is sent, naming the option and the keyring', async () => {
    const program = await fullProgram();
    const failures: string[] = [];
    for (const c of addressCases(program)) {
      const label = `${c.path.join(' ')} ${c.target}`;
      const r = await run([...commandLine(program, c, 'nobody', nowSlot), ...(COMPANIONS[label] ?? [])]);
      const error = r.error;
      const expected = c.kind === 'option' ? 'CLI_INVALID_OPTION' : 'CLI_INVALID_ARGUMENT';
      const sentTx = r.requests.some((q) => q.startsWith('POST'));
      if (r.code !== 2 || error?.code !== expected || !error.message.includes(c.target) || !error.message.includes('bob') || sentTx) {
        failures.push(`${label}: exit ${r.code}, ${JSON.stringify(error)}, ${r.requests.length} requests`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('participant specs and `verify query` address parameters resolve key names too', async () => {
    const spec = await run(['tx', 'plant', 'register', '--plant', 'p1', '--timezone', 'Europe/Amsterdam', '--production-meter', 'pv', '--participant', 'bob:carol:1000000']);
    const sent = spec.requests.find((q) => q.startsWith('POST /v1/txs'));
    expect(sent).toContain(node.addresses.bob);
    expect(sent).toContain(node.addresses.carol);
    const badSpec = await run(['tx', 'plant', 'register', '--plant', 'p1', '--timezone', 'Europe/Amsterdam', '--production-meter', 'pv', '--participant', 'nobody:carol:1000000']);
    expect(badSpec.code).toBe(2);
    expect(badSpec.stderr).toContain('--participant');

    const trusted = join(node.home, 'genesis.json');
    const verified = await run(['verify', 'query', 'getAccount', 'address=bob', '--trusted', trusted]);
    expect(verified.requests.some((q) => q.includes(node.addresses.bob!))).toBe(true);
    const refused = await run(['verify', 'query', 'getAccount', 'address=nobody', '--trusted', trusted]);
    expect(refused.code).toBe(2);
    expect(refused.requests).toEqual([]);
  });
});
