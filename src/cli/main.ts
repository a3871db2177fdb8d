import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { coreRoutes } from '../api/routes.js';
import { isAddress } from '../crypto/address.js';
import { validateKeyName } from '../crypto/keyring.js';
import { paths, resolveHome } from '../home/home.js';
import { CHAIN_ID_RE, initHome } from '../runtime/init.js';
import { prepareDevnet, runDevnet } from '../runtime/devnet.js';
import { join, resolve } from 'node:path';
import { MODULES } from '../modules/index.js';
import { registerAnchorCommands } from './anchor.js';
import { startNode, VERSION } from '../runtime/service.js';
import { registryRoutes } from '../modules/registry/routes.js';
import { LedgerError } from '../util/errors.js';
import { call, globals, keyringOf, print, query } from './kit.js';
import { CLI_ERRORS } from './kit.js';
import { registerEdgeCli } from '../edge/cli.js';
import { registerVerifyCli } from './verify.js';
import { addLoginCommands } from './login.js';

const DEMO_IDENTITIES: Record<string, string[]> = { utility: ['utility'], gridop: ['grid-operator'], alice: ['prosumer', 'trader'], bob: ['consumer', 'trader'], carol: ['prosumer', 'trader'] };

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw CLI_ERRORS.CLI_INVALID_OPTION(`--api expects HOST:PORT, got ${JSON.stringify(value)}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** Runs until SIGINT/SIGTERM, then stops the node cleanly. */
async function runNode(home: string, api: string | undefined, banner: (url: string) => void): Promise<void> {
  const where: { host?: string; port?: number } = api ? parseHostPort(api) : {};
  const running = await startNode(home, { apiHost: where.host, apiPort: where.port });
  banner(running.url);
  await new Promise<void>((resolveStop) => {
    const stop = () => void running.stop().then(resolveStop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
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
        const keys = keyringOf(cmd).list();
        process.stdout.write(`GridLedger demo node is running.\n  API       ${url}/v1/status\n  OpenAPI   ${url}/v1/openapi.json\n  home      ${home}\n  identities (UNENCRYPTED test keyring):\n`);
        for (const k of keys) process.stdout.write(`    ${k.name.padEnd(10)} ${k.address}\n`);
        process.stdout.write(`Try: npx gridledger --home ${home} status\nCtrl-C stops the node.\n`);
      });
    });

  program
    .command('devnet')
    .description('create (or reuse) N validator homes in DIR, start them and supervise them in the foreground')
    .option('--validators <n>', 'number of validators', '4')
    .requiredOption('--dir <dir>', 'directory for the node homes and devnet.json')
    .option('--base-port <port>', 'node i serves its API on base+10i and P2P on base+10i+1', '26600')
    .option('--chain-id <id>', 'chain id of a new devnet', 'gridledger-devnet')
    .option('--no-demo-identities', 'do not create the demo identities (utility, gridop, alice, bob, carol) in node0')
    .action(async (opts: { validators: string; dir: string; basePort: string; chainId: string; demoIdentities: boolean }) => {
      const dir = resolve(opts.dir);
      const manifest = prepareDevnet(dir, Number(opts.validators), Number(opts.basePort), opts.chainId, {}, opts.demoIdentities ? DEMO_IDENTITIES : {});
      const report = (line: string) => process.stderr.write(`${line}\n`);
      process.stdout.write(`GridLedger devnet ${manifest.chainId}: ${manifest.nodes.length} validators (manifest ${join(dir, 'devnet.json')})\n`);
      for (const n of manifest.nodes) process.stdout.write(`  ${n.name}  API ${n.api}  P2P ${n.p2p}\n`);
      process.stdout.write(`Try: npx gridledger --home ${manifest.nodes[0]!.home} status\nCtrl-C stops every node.\n`);
      await runDevnet(dir, manifest, report);
    });

  program
    .command('status')
    .description('chain id, height, latest block, state root and validator of the node')
    .action(async (_o: unknown, cmd: Command) => {
      await query(cmd, coreRoutes.status, {}, (s) =>
        [`chain id      ${s.chainId}`, `height        ${s.height}`, `latest block  ${s.latestBlockHash}`, `block time    ${new Date(s.latestBlockTime).toISOString()}`, `state root    ${s.stateRoot}`, `validator     ${s.validator.address}`, `mempool       ${s.mempool.txs} txs`].join('\n'),
      );
    });
}

function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description('the keyring of the node home');
  keys
    .command('add <name>')
    .description('create a new key')
    .action((name: string, _o: unknown, cmd: Command) => {
      validateKeyName(name);
      print(cmd, keyringOf(cmd).add(name), (k) => `${k.name}  ${k.address}`);
    });
  keys
    .command('list')
    .description('all keys (names, addresses, public keys)')
    .action((_o: unknown, cmd: Command) => print(cmd, { keys: keyringOf(cmd).list() }, (v) => v.keys.map((k: { name: string; address: string }) => `${k.name.padEnd(12)} ${k.address}`).join('\n') || '(no keys)'));
  keys
    .command('show <name>')
    .description('one key')
    .action((name: string, _o: unknown, cmd: Command) => print(cmd, keyringOf(cmd).show(name), (k) => `${k.name}\n  address     ${k.address}\n  public key  ${k.publicKey}`));
}

function addQueryCommands(queryCmd: Command): void {
  queryCmd
    .command('account <address>')
    .description('nonce, roles and admission state of an account')
    .action(async (address: string, _o: unknown, cmd: Command) => {
      if (!isAddress(address)) throw CLI_ERRORS.CLI_INVALID_ARGUMENT(`${address} is not a grid1… address`);
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
          ...v.modules.map((m) => `${m.name.padEnd(12)} ${m.active ? 'active' : 'inactive'}${m.activeFrom ? ` from ${m.activeFrom}` : ''}${m.params ? `  ${JSON.stringify(m.params)}` : ''}`),
          ...v.scheduled.map((u) => `scheduled: ${u.kind} ${u.module} at height ${u.height}${u.params ? ` ${JSON.stringify(u.params)}` : ''}`),
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
    .showHelpAfterError();
  addNodeCommands(program);
  addKeyCommands(program);
  addLoginCommands(program);
  const tx = program.command('tx').description('sign and submit a transaction');
  const queryCmd = program.command('query').alias('q').description('query ledger state');
  addQueryCommands(queryCmd);
  for (const m of MODULES) m.surface.cli?.({ tx, query: queryCmd });
  registerEdgeCli(program);
  registerAnchorCommands(program);
  registerVerifyCli(program);
  return program;
}

function reportError(err: unknown, json: boolean): void {
  const e = err instanceof LedgerError ? err : CLI_ERRORS.CLI_ERROR((err as Error).message ?? String(err));
  if (json) process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
  else process.stderr.write(`error ${e.code}: ${e.message}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
    return 1;
  }
}
