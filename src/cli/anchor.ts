import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { readFileSync, writeFileSync } from 'node:fs';
import { mineRegtestBlock } from '../bitcoin/regtest.js';
import { buildBitcoinMerkleBranch, isBitcoinNetwork, verifyAnchorInclusion } from '../bitcoin/index.js';
import { CLI_ERRORS, customCommand, globals, keyringOf, nodeUrl, opt, print } from './kit.js';
import { resolveHome, writeJson } from '../home/home.js';
import {
  anchorPaths,
  ensureWalletSeed,
  loadAnchorServiceConfig,
  parseAnchorServiceConfig,
  startAnchorService,
  walletFrom,
  type AnchorServiceConfigInput,
} from '../runtime/anchor-service.js';

/**
 * `gridledger anchor …`: the anchor operator's commands — set up the wallet and the service
 * (HOME/anchor.json, the seed in the keyring), show the wallet, run the service next to a node.
 */

function parseFunding(values: string[]): NonNullable<AnchorServiceConfigInput['funding']> {
  return values.map((v) => {
    const m = /^([0-9a-f]{64}):(\d+):(\d+)(?:@(\d+))?$/.exec(v);
    if (!m) throw CLI_ERRORS.CLI_INVALID_OPTION(`--funding expects TXID:VOUT:SATS[@ADDRESS_INDEX], got ${JSON.stringify(v)}`);
    return { txid: m[1]!, vout: Number(m[2]), value: m[3]!, addressIndex: m[4] === undefined ? 0 : Number(m[4]) };
  });
}

function walletView(cmd: Command) {
  const home = resolveHome(globals(cmd).home);
  const config = loadAnchorServiceConfig(home);
  if (!config) throw CLI_ERRORS.CLI_ERROR(`${anchorPaths(home).config} does not exist: run gridledger anchor init first`);
  const keyring = keyringOf(cmd);
  const wallet = walletFrom(keyring, config);
  return {
    network: config.network,
    operator: keyring.show(config.operatorKey).address,
    accountPath: wallet.accountPath,
    accountXpub: wallet.accountXpub,
    addresses: wallet.addresses().map((a) => ({ index: a.index, path: a.path, address: a.address })),
    backend: config.backend.kind,
    feeRate: config.feeRate,
  };
}

type WalletView = ReturnType<typeof walletView>;
const walletText = (v: WalletView) =>
  [
    `network     ${v.network}  (backend ${v.backend}, fee rate ${v.feeRate} sat/vB)`,
    `operator    ${v.operator}  (admit it with role anchor-operator)`,
    `account     ${v.accountPath}  ${v.accountXpub}`,
    ...v.addresses.map((a) => `address ${a.index}   ${a.address}  ${a.path}${a.index === 0 ? '  ← fund this one' : ''}`),
  ].join('\n');

export function registerAnchorCommands(program: Command): void {
  const group = program.command('anchor').description('anchor operator: the Bitcoin wallet and the service that anchors checkpoints');
  customCommand(group, 'init', {
    description: 'create the wallet seed (keyring secret), the operator key and HOME/anchor.json',
    options: {
      network: opt.text('mainnet, testnet, signet or regtest (must equal the ledger parameter)', { required: true, arg: 'network' }),
      backend: opt.choice(['offline', 'esplora', 'bitcoind-rpc'] as const)('how transactions reach Bitcoin', { default: 'offline' }),
      dir: opt.text('offline: folder for the raw transactions and PSBTs (relative to the home)', { default: 'anchors', arg: 'dir' }),
      url: opt.text('esplora base URL, or bitcoind RPC URL', { arg: 'url' }),
      rpcUser: opt.text('bitcoind RPC user', { arg: 'user' }),
      rpcPassword: opt.text('bitcoind RPC password', { arg: 'password' }),
      cookieFile: opt.text('bitcoind .cookie file', { arg: 'file' }),
      feeRate: opt.int('fee rate in sat/vB', { default: '2' }),
      operatorKey: opt.text('keyring key that signs the anchor records (created if missing)', { default: 'anchor', arg: 'name' }),
      funding: opt.list('a UTXO funding the wallet: TXID:VOUT:SATS[@ADDRESS_INDEX] (repeatable; needed offline)', { arg: 'utxo' }),
      force: opt.flag('replace an existing anchor.json (the seed is never replaced)'),
    },
    run: (o, cmd) => {
      const home = resolveHome(globals(cmd).home);
      const path = anchorPaths(home).config;
      if (existsSync(path) && !o.force) throw CLI_ERRORS.CLI_ERROR(`${path} exists (use --force to replace it)`);
      if (!isBitcoinNetwork(o.network)) throw CLI_ERRORS.CLI_INVALID_OPTION('--network must be mainnet, testnet, signet or regtest');
      const backend =
        o.backend === 'offline' || o.backend === undefined
          ? { kind: 'offline' as const, dir: o.dir ?? 'anchors' }
          : o.backend === 'esplora'
            ? { kind: 'esplora' as const, baseUrl: o.url ?? '' }
            : { kind: 'bitcoind-rpc' as const, url: o.url ?? '', ...(o.rpcUser ? { username: o.rpcUser } : {}), ...(o.rpcPassword ? { password: o.rpcPassword } : {}), ...(o.cookieFile ? { cookieFile: o.cookieFile } : {}) };
      const raw: AnchorServiceConfigInput = { network: o.network, operatorKey: o.operatorKey ?? 'anchor', feeRate: o.feeRate ?? 2, backend, funding: parseFunding(o.funding ?? []) };
      const config = parseAnchorServiceConfig(raw, '--options');
      const keyring = keyringOf(cmd);
      ensureWalletSeed(keyring, config.seedSecret);
      if (!keyring.has(config.operatorKey)) keyring.add(config.operatorKey);
      writeJson(path, raw);
      print(cmd, walletView(cmd), walletText);
    },
  });
  customCommand(group, 'wallet', {
    description: 'the anchor wallet: network, account xpub, the addresses that take turns, the operator account',
    run: (_o, cmd) => print(cmd, walletView(cmd), walletText),
  });
  customCommand(group, 'inclusion', {
    description: 'build the inclusion for tx anchor confirm --inclusion from bitcoind output: getblock HASH 1 (JSON) and getblockheader HASH false (hex)',
    options: {
      txid: opt.text('the anchor transaction', { required: true, arg: 'txid' }),
      block: opt.text('file with the JSON of bitcoin-cli getblock HASH 1 (hash, height, tx list)', { required: true, arg: 'file' }),
      header: opt.text('file with the hex of bitcoin-cli getblockheader HASH false', { required: true, arg: 'file' }),
    },
    run: (o, cmd) => {
      const read = (path: string) => {
        try {
          return readFileSync(path, 'utf8');
        } catch (err) {
          throw CLI_ERRORS.CLI_ERROR(`cannot read ${path}: ${(err as Error).message}`);
        }
      };
      let block: { hash?: unknown; height?: unknown; tx?: unknown };
      try {
        block = JSON.parse(read(o.block));
      } catch (err) {
        if ((err as { code?: string }).code === 'CLI_ERROR') throw err;
        throw CLI_ERRORS.CLI_INVALID_OPTION(`--block ${o.block} is not JSON`);
      }
      const txids = Array.isArray(block.tx) ? block.tx.map((t) => (typeof t === 'string' ? t : (t as { txid?: string }).txid)) : [];
      const index = txids.indexOf(o.txid);
      if (index < 0) throw CLI_ERRORS.CLI_INVALID_OPTION(`transaction ${o.txid} is not in the block's tx list`);
      if (typeof block.hash !== 'string' || typeof block.height !== 'number') throw CLI_ERRORS.CLI_INVALID_OPTION('--block must have hash and height (bitcoin-cli getblock HASH 1)');
      const inclusion = { blockHeader: read(o.header).trim(), blockHash: block.hash, blockHeight: block.height, branch: buildBitcoinMerkleBranch(txids as string[], index) };
      verifyAnchorInclusion(o.txid, inclusion);
      print(cmd, inclusion, (v) => JSON.stringify(v));
    },
  });
  customCommand(group, 'regtest-block', {
    description: 'dry run without bitcoind: a synthetic regtest block holding the transactions (a coinbase stand-in first), as getblock HASH 1 (JSON) and getblockheader HASH false (hex) print it',
    options: {
      txid: opt.list('a transaction of the block (repeatable), e.g. the anchor\'s', { required: true, arg: 'txid' }),
      height: opt.int('the block\'s regtest height', { default: '101' }),
      prevBlock: opt.text('hash of the previous block (default: 64 zeros)', { arg: 'hash' }),
      block: opt.text('write the block JSON here (for anchor inclusion --block)', { required: true, arg: 'file' }),
      header: opt.text('write the header hex here (for anchor inclusion --header)', { required: true, arg: 'file' }),
    },
    run: (o, cmd) => {
      // The client's clock, as a miner's: the header time is the miner's word (docs/anchor.md §4).
      const time = Math.floor(Date.now() / 1000);
      const { header, coinbaseHex: _coinbase, ...block } = mineRegtestBlock({ txids: o.txid ?? [], height: o.height ?? 101, time, ...(o.prevBlock ? { prevBlockHash: o.prevBlock } : {}) });
      writeFileSync(o.block, `${JSON.stringify(block, null, 2)}\n`);
      writeFileSync(o.header, `${header}\n`);
      print(cmd, block, (b) => `regtest block ${b.height} ${b.hash}: ${b.nTx} transactions, written to ${o.block} and ${o.header}`);
    },
  });
  customCommand(group, 'run', {
    description: 'run the anchor service against the node (--node or the home\'s API) until Ctrl-C',
    options: { once: opt.flag('run one round and exit') },
    run: async (o, cmd) => {
      const home = resolveHome(globals(cmd).home);
      const logger = pino({ level: 'info', base: { service: 'anchor' } }, pino.destination(2));
      const service = await startAnchorService({ home, apiUrl: nodeUrl(cmd), logger, keyring: keyringOf(cmd), manual: Boolean(o.once) });
      if (!service) throw CLI_ERRORS.CLI_ERROR(`${anchorPaths(home).config} does not exist: run gridledger anchor init first`);
      if (o.once) {
        const result = await service.round();
        await service.stop();
        print(cmd, result, (r) => `recorded ${r.recorded.join(', ') || 'none'}; confirmed ${r.confirmed.join(', ') || 'none'}`);
        return;
      }
      await new Promise<void>((resolveStop) => {
        const stop = () => void service.stop().then(resolveStop);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    },
  });
}
