import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RouteOutput } from '../api/route.js';
import { coreRoutes } from '../api/routes.js';
import { validateKeyName } from '../crypto/keyring.js';
import { loadConfig, openKeyring, paths, resolveHome } from '../home/home.js';
import { CHAIN_ID_RE, initHome } from '../runtime/init.js';
import { claimDevnet, DEFAULT_BACKOFF, openDevnet, runDevnet, type DevnetManifest } from '../runtime/devnet.js';
import { MODULES } from '../modules/index.js';
import { registryRoutes } from '../modules/registry/routes.js';
import { LedgerError } from '../util/errors.js';
import { call, cliCommand, displayPath, globals, humanContext, keyringOf, parseInteger, print, query, resolveAddress } from './kit.js';
import { CLI_ERRORS } from './kit.js';
import { registerVerifyCli } from './verify.js';
import { registerMessagingCli } from './msg.js';
import { addressText, localTime, type HumanContext } from './human.js';

/** The package version (read here rather than imported from the runtime, which loads the whole node). */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Exit code 2: the command line itself is wrong (as documented); 1 for every other failure.
 * These codes are only ever raised by the CLI's own parsing, before anything is sent.
 */
const USAGE_CODES = new Set(['CLI_USAGE', 'CLI_INVALID_OPTION', 'CLI_INVALID_ARGUMENT', 'KEY_NAME_INVALID', 'SLOT_INVALID', 'SLOT_NOT_ON_BOUNDARY', 'CLI_SLOT_RANGE_EMPTY', 'CLI_SLOT_NOT_FUTURE']);
import { addLoginCommands } from './login.js';

/** The demo identities `npm start` and `demo` create (name → roles). */
export const DEMO_IDENTITIES: Record<string, string[]> = { utility: ['utility'], gridop: ['grid-operator'], alice: ['prosumer', 'trader'], bob: ['consumer', 'trader'], carol: ['prosumer', 'trader'] };

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw CLI_ERRORS.CLI_INVALID_OPTION(`--api expects HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * Runs until SIGINT/SIGTERM, then stops the node cleanly. The handlers are in place before the node
 * starts: a stop asked for while it is still starting (opening the database, replaying the WAL) waits
 * for the start to finish and then stops it cleanly, instead of killing it half-started.
 */
async function runNode(home: string, api: string | undefined, banner: (url: string) => void): Promise<void> {
  const where: { host?: string; port?: number } = api ? parseHostPort(api) : {};
  let stopAsked = false;
  let askStop = (): void => {
    stopAsked = true;
  };
  const onSignal = (): void => askStop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Loaded on demand: the node (HTTP server, database, metrics) is most of the CLI's start-up cost.
    const { startNode } = await import('../runtime/service.js');
    const running = await startNode(home, { apiHost: where.host, apiPort: where.port });
    if (!stopAsked) {
      banner(running.url);
      await new Promise<void>((resolveStop) => {
        askStop = resolveStop;
      });
    }
    await running.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function addNodeCommands(program: Command): void {
  program
    .command('init')
    .description('create a node home: keys (node, validator, admin), genesis and config')
    .option('--chain-id <id>', 'chain id', 'gridledger-local')
    .option('--moniker <name>', 'node name', 'node0')
    .addOption(new Option('--keyring-backend <backend>', 'file = encrypted (GRIDLEDGER_PASSPHRASE or prompt); test = UNENCRYPTED, demos only').choices(['file', 'test']).default('file'))
    .option('--api <host:port>', 'API listen address', '127.0.0.1:26657')
    .action((opts: { chainId: string; moniker: string; keyringBackend: 'file' | 'test'; api: string }, cmd: Command) => {
      const home = resolveHome(globals(cmd).home);
      if (!CHAIN_ID_RE.test(opts.chainId)) throw CLI_ERRORS.CLI_INVALID_OPTION(`chain id must match ${CHAIN_ID_RE.source}`);
      const api = parseHostPort(opts.api);
      const result = initHome(home, { chainId: opts.chainId, moniker: opts.moniker, keyringBackend: opts.keyringBackend, apiHost: api.host, apiPort: api.port });
      print(cmd, result, (r) => `initialised ${r.home}\n  chain id   ${r.chainId}\n  admin      ${r.admin}\n  validator  ${r.validator}`);
    });

  program
    .command('start')
    .description('start the node in the foreground (Ctrl-C stops it)')
    .option('--api <host:port>', 'API listen address (overrides config)')
    .action(async (opts: { api?: string }, cmd: Command) => {
      const home = resolveHome(globals(cmd).home);
      await runNode(home, opts.api, (url) => process.stderr.write(`GridLedger node serving ${url} (home ${home})\n`));
    });

  program
    .command('demo')
    .description('the main job: initialise (once) and start a local node with demo identities')
    .option('--api <host:port>', 'API listen address', '127.0.0.1:26657')
    .action(async (opts: { api: string }, cmd: Command) => {
      const home = resolveHome(globals(cmd).home ?? '.gridledger-demo');
      if (!existsSync(paths(home).genesis)) {
        const api = parseHostPort(opts.api);
        initHome(home, {
          chainId: 'gridledger-demo',
          keyringBackend: 'test',
          apiHost: api.host,
          apiPort: api.port,
          extraAccounts: DEMO_IDENTITIES,
        });
      }
      await runNode(home, opts.api, (url) => {
        // The demo home's keyring (not the default home's, which --home did not name).
        const keys = openKeyring(home, loadConfig(home).keyringBackend).list();
        process.stdout.write(`GridLedger demo node is running.\n  API       ${url}/v1/status\n  OpenAPI   ${url}/v1/openapi.json\n  home      ${displayPath(home)}\n  identities (UNENCRYPTED test keyring):\n`);
        for (const k of keys) process.stdout.write(`    ${k.name.padEnd(10)} ${k.address}\n`);
        process.stdout.write(`Try: ${cliCommand()} --home ${displayPath(home)} status\nCtrl-C stops the node.\n`);
      });
    });

  program
    .command('devnet')
    .description('create (or reuse) N validator homes in DIR, start them and supervise them in the foreground')
    .option('--validators <n>', 'number of validators (a new devnet: default 4; an existing one must match)')
    .requiredOption('--dir <dir>', 'directory for the node homes and devnet.json')
    .option('--base-port <port>', 'node i serves its API on base+10i and P2P on base+10i+1 (default 26600); given for an existing devnet, its ports are moved')
    .option('--chain-id <id>', 'chain id of a new devnet (default gridledger-devnet)')
    .option('--no-demo-identities', 'do not create the demo identities (utility, gridop, alice, bob, carol) in node0')
    .option('--no-restart', 'do not restart nodes that crash (by default: restarted with backoff)')
    .option('--simulate <file>', "once every node answers, simulate this scenario's community on node0 (backfill, then real time)")
    .option('--simulate-days <n>', 'days the simulation backfills', '2')
    .action(async (opts: { validators?: string; dir: string; basePort?: string; chainId?: string; demoIdentities: boolean; restart: boolean; simulate?: string; simulateDays: string }, cmd: Command) => {
      const dir = resolve(opts.dir);
      const validators = opts.validators === undefined ? undefined : parseInteger(opts.validators, '--validators');
      const basePort = opts.basePort === undefined ? undefined : parseInteger(opts.basePort, '--base-port');
      if (opts.chainId !== undefined && !CHAIN_ID_RE.test(opts.chainId)) throw CLI_ERRORS.CLI_INVALID_OPTION(`chain id must match ${CHAIN_ID_RE.source}`);
      const report = (line: string) => process.stderr.write(`${line}\n`);
      // The scenario is read (and refused) before any node starts; the models load only when asked for.
      const simulation = opts.simulate === undefined ? undefined : { days: parseInteger(opts.simulateDays, '--simulate-days'), module: await import('./simulate.js') };
      const scenario = simulation && opts.simulate !== undefined ? simulation.module.readScenario(opts.simulate) : undefined;
      let running: { stop(): Promise<void> } | undefined;
      const stopSimulation = () => void running?.stop();
      // One supervisor per folder: a second `npm start` is refused before it touches anything.
      const release = claimDevnet(dir);
      try {
        const { manifest, created, movedFrom } = openDevnet(dir, { validators, basePort, chainId: opts.chainId, extraAccounts: opts.demoIdentities ? DEMO_IDENTITIES : {} });
        if (created) report(`created the devnet in ${displayPath(dir)}`);
        if (movedFrom !== null) report(`moved the devnet's ports from base ${movedFrom} to ${manifest.basePort}`);
        report(`starting ${manifest.nodes.length} nodes (logs in ${displayPath(join(dir, 'node0', 'node.log'))} …); waiting for every API to answer…`);
        await runDevnet(dir, manifest, {
          restart: opts.restart,
          command: cliCommand(),
          showPath: (p) => displayPath(p),
          report,
          ready: (m) => {
            print(cmd, m, (v) => devnetBanner(dir, v, opts.restart), { annotate: false });
            if (!simulation || !scenario) return;
            const node0 = m.nodes[0]!;
            report(`simulation: community ${scenario.community.id} (${scenario.community.name}) from ${displayPath(resolve(opts.simulate!))}, signed by node0's admin key; see it on the dashboard's Community page`);
            for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stopSimulation);
            running = simulation.module.startDevnetSimulation({ url: node0.api, home: node0.home, scenario, days: simulation.days, report });
          },
        });
      } finally {
        await running?.stop();
        release();
      }
    });

  program
    .command('status')
    .description('chain id, height, latest block, state root, validator, consensus, sync, peers and mempool of the node')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = humanContext(cmd);
      await query(cmd, coreRoutes.status, {}, (s) => statusText(s, ctx));
    });
}

function devnetBanner(dir: string, m: DevnetManifest, restart: boolean): string {
  const b = DEFAULT_BACKOFF;
  return [
    `GridLedger devnet ${m.chainId}: ${m.nodes.length} validators, every API answers (manifest ${displayPath(join(dir, 'devnet.json'))})`,
    ...m.nodes.map((n) => `  ${n.name}  API ${n.api}  P2P ${n.p2p}  pid ${n.pid ?? '-'}`),
    `Dashboard: ${m.nodes[0]!.api}/ (any node serves it)`,
    `Try: ${cliCommand()} --home ${displayPath(m.nodes[0]!.home)} status`,
    `Ctrl-C stops every node. ${restart ? `A node that crashes is restarted (after ${b.initialMs / 1000} s, doubling up to ${b.maxMs / 1000} s; given up after ${b.giveUpAfter} quick failures in a row); one stopped on purpose (exit code 0) stays stopped.` : 'Nodes that stop are not restarted (--no-restart).'}`,
  ].join('\n');
}

type Status = RouteOutput<typeof coreRoutes.status>;

/** `status` for people: local times, key names, consensus progress, sync state and peers. */
export function statusText(s: Status, ctx: HumanContext): string {
  const c = s.consensus;
  const sync = s.sync ? (s.sync.syncing ? `catching up: best peer at height ${s.sync.bestPeerHeight}, ${Math.max(0, s.sync.bestPeerHeight - s.height)} behind` : `in sync (best peer height ${s.sync.bestPeerHeight})`) : 'no block sync (single node)';
  return [
    `chain id      ${s.chainId}`,
    `height        ${s.height}`,
    `latest block  ${s.latestBlockHash}`,
    `block time    ${s.height > 0 ? localTime(s.latestBlockTime, ctx.timeZone) : '-'}`,
    `state root    ${s.stateRoot}`,
    `validator     ${s.validator.address ? addressText(s.validator.address, ctx) : 'none (not a validator)'}`,
    `consensus     ${c ? `height ${c.height} round ${c.round} step ${c.step}${c.lastCommitTime > 0 ? `, last commit ${localTime(c.lastCommitTime, ctx.timeZone)}` : ''}` : '-'}`,
    `sync          ${sync}`,
    `peers         ${s.peers.length}`,
    ...s.peers.map((p) => `  ${addressText(p.id, ctx)}  ${p.address}  ${p.direction}  since ${localTime(p.connectedSince, ctx.timeZone)}`),
    `mempool       ${s.mempool.txs} txs, ${s.mempool.bytes} bytes`,
  ].join('\n');
}

function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description('the keyring of the node home');
  keys
    .command('add <name>')
    .description('create a new key')
    .action((name: string, _o: unknown, cmd: Command) => {
      validateKeyName(name);
      print(cmd, keyringOf(cmd).add(name), (k) => `${k.name}  ${k.address}`, { annotate: false });
    });
  keys
    .command('list')
    .description('all keys (names, addresses, public keys)')
    .action((_o: unknown, cmd: Command) => print(cmd, { keys: keyringOf(cmd).list() }, (v) => v.keys.map((k: { name: string; address: string }) => `${k.name.padEnd(12)} ${k.address}`).join('\n') || '(no keys)', { annotate: false }));
  keys
    .command('show <name>')
    .description('one key')
    .action((name: string, _o: unknown, cmd: Command) => print(cmd, keyringOf(cmd).show(name), (k) => `${k.name}\n  address     ${k.address}\n  public key  ${k.publicKey}`, { annotate: false }));
}

function addQueryCommands(queryCmd: Command): void {
  queryCmd
    .command('account <address>')
    .description('nonce, roles and admission state of an account (address or key name)')
    .action(async (text: string, _o: unknown, cmd: Command) => {
      const address = resolveAddress(cmd, text, 'address');
      await query(cmd, registryRoutes.getAccount, { params: { address } }, (a) =>
        [`address   ${a.address}`, `nonce     ${a.nonce}`, `status    ${a.account ? a.account.status : 'unknown'}`, `roles     ${a.roles.join(',') || '-'}`, ...(a.account ? [`admitted  height ${a.account.admittedAt.height} tx ${a.account.admittedAt.txHash}`] : []), ...(a.account?.revokedAt ? [`revoked   height ${a.account.revokedAt.height} tx ${a.account.revokedAt.txHash}`] : [])].join('\n'),
      );
    });
  queryCmd
    .command('block [height]')
    .description('a block (default: the latest)')
    .action(async (height: string | undefined, _o: unknown, cmd: Command) => {
      const out = height === undefined ? await call(cmd, coreRoutes.latestBlock, {}) : await call(cmd, coreRoutes.getBlock, { params: { height: Number(height) } });
      print(cmd, out);
    });
  queryCmd
    .command('evidence')
    .description('committed evidence of validator equivocation')
    .option('--limit <n>', 'entries', '100')
    .action(async (opts: { limit: string }, cmd: Command) => {
      await query(cmd, coreRoutes.evidence, { query: { limit: Number(opts.limit) } }, (v) =>
        v.evidence.map((e) => `height ${e.height}  ${JSON.stringify(e.evidence).slice(0, 160)}`).join('\n') || '(none)',
      );
    });
  queryCmd
    .command('modules')
    .description('application modules: active or not, parameters in force, scheduled upgrades')
    .action(async (_o: unknown, cmd: Command) => {
      await query(cmd, coreRoutes.modules, {}, (v) =>
        [
          ...v.modules.map((m) => `${m.name.padEnd(12)} ${m.active ? 'active' : 'inactive'}${m.activeFrom ? ` from ${m.activeFrom}` : ''}${stateVersionText(m)}${m.params ? `  ${JSON.stringify(m.params)}` : ''}`),
          ...v.scheduled.map((u) => `scheduled: ${u.kind} ${u.module}${u.stateVersion ? ` to state version ${u.stateVersion}` : ''} at height ${u.height}${u.params ? ` ${JSON.stringify(u.params)}` : ''}`),
        ].join('\n'),
      );
    });
  queryCmd
    .command('tx <hash>')
    .description('status and result of a transaction')
    .option('--wait-commit <seconds>', 'wait up to this long for the commit', '0')
    .action(async (hash: string, opts: { waitCommit: string }, cmd: Command) => {
      await query(cmd, coreRoutes.getTx, { params: { hash }, query: { wait: Number(opts.waitCommit) } });
    });
}

export function buildProgram(): Command {
  const program = new Command('gridledger')
    .description('GridLedger: a permissioned BFT ledger for local energy')
    .version(VERSION)
    .option('--home <dir>', 'node home (default $GRIDLEDGER_HOME or ~/.gridledger)')
    .option('--node <url>', 'node API URL (default from the home config, else http://127.0.0.1:26657)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--from <name>', 'key that signs transactions (default admin)')
    .option('--wait', 'wait for the commit and print the result')
    .option('--wait-seconds <n>', 'how long --wait waits (default 30)')
    .option('--expires-in <blocks>', 'transaction expires this many blocks from now (default 100)')
    .option('--memo <text>', 'memo stored with the transaction')
    .option('--nonce <n>', 'use this nonce instead of asking the node')
    .option('--round', 'accept ISO times inside a 15-minute slot and use that slot (default: a slot time must be a slot start)')
    .showHelpAfterError();
  addNodeCommands(program);
  addKeyCommands(program);
  addLoginCommands(program);
  const tx = program.command('tx').description('sign and submit a transaction');
  const queryCmd = program.command('query').alias('q').description('query ledger state');
  addQueryCommands(queryCmd);
  for (const m of MODULES) m.surface.cli?.({ tx, query: queryCmd });
  registerVerifyCli(program);
  registerMessagingCli(program);
  return program;
}

function reportError(err: unknown, json: boolean): void {
  const e = err instanceof LedgerError ? err : CLI_ERRORS.CLI_ERROR((err as Error).message ?? String(err));
  if (json) process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
  else process.stderr.write(`error ${e.code}: ${e.message}\n`);
}

/**
 * Command groups whose modules are heavy to load (the edge agent: HTTP server, SQLite, serial port,
 * MQTT; the anchor service: the Bitcoin wallet; the audit: the ledger node and a progress bar; the
 * indexer: the PostgreSQL client). They are registered only when the command line
 * names them, or asks for the full help, so every other call starts without loading them.
 */
const HEAVY_GROUPS: Array<{ words: readonly string[]; register: () => Promise<(program: Command) => void> }> = [
  { words: ['edge', 'verify', 'flex'], register: async () => (await import('../edge/cli.js')).registerEdgeCli },
  { words: ['anchor'], register: async () => (await import('./anchor.js')).registerAnchorCommands },
  // The community simulation loads its models and ECharts (for the report's charts).
  { words: ['simulate', 'report'], register: async () => (await import('./simulate.js')).registerSimulateCommands },
  { words: ['audit'], register: async () => (await import('./audit.js')).registerAuditCli },
  { words: ['indexer'], register: async () => (await import('./indexer.js')).registerIndexerCli },
];

/** The command named on the command line: the first word that is neither an option nor an option's value. */
export function commandWord(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (takesValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

export async function registerHeavyGroups(program: Command, argv: readonly string[]): Promise<void> {
  const word = commandWord(program, argv);
  const all = word === 'help' || (word === undefined && (argv.length === 0 || argv.includes('--help') || argv.includes('-h')));
  for (const group of HEAVY_GROUPS) if (all || (word !== undefined && group.words.includes(word))) (await group.register())(program);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  await registerHeavyGroups(program, argv);
  program.exitOverride();
  const json = argv.includes('-o') ? argv[argv.indexOf('-o') + 1] === 'json' : argv.includes('--output=json') || (argv.includes('--output') && argv[argv.indexOf('--output') + 1] === 'json');
  // With -o json, stderr carries exactly one JSON error document: commander's own text (usage error
  // plus help) is suppressed and reported as CLI_USAGE below.
  const output = { writeErr: (s: string) => (json ? undefined : process.stderr.write(s)) };
  // Subcommands copied their settings when they were created, so configure every one (otherwise a
  // usage error in a subcommand exits through process.exit without the JSON error document).
  const configure = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput(output);
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return 0;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      if (json) reportError(CLI_ERRORS.CLI_USAGE((err as Error).message), true);
      return 2;
    }
    reportError(err, json);
    return err instanceof LedgerError && USAGE_CODES.has(err.code) ? 2 : 1;
  }
}

/** A module's state version when it is not simply 1 of 1; the node's newest when the chain is behind it. */
function stateVersionText(m: { stateVersion: number | null; latestStateVersion: number }): string {
  if (m.latestStateVersion === 1 && (m.stateVersion ?? 1) === 1) return '';
  const v = m.stateVersion === null ? '' : `  state v${m.stateVersion}`;
  return m.stateVersion !== m.latestStateVersion ? `${v} (this node: up to v${m.latestStateVersion})` : v;
}
