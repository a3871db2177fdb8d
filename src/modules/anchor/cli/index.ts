import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parseBitcoinTx, isBitcoinNetwork } from '../../../bitcoin/index.js';
import { CLI_ERRORS, customCommand, nodeUrl, opt, print, queryCommand, txCommand, verifyGroup } from '../../../cli/kit.js';
import { remoteError } from '../../../util/errors.js';
import { MSG } from '../messages.js';
import { anchorRoutes } from '../routes.js';
import type { CheckpointEntry } from '../queries.js';
import { readHexFile, verifyAnchorOverApi, verifyItemOverApi, type AnchorVerification, type VerifyAnchorOptions } from './verify.js';

/** `tx anchor …`, `query anchor …` and `verify anchor`. The operator's `anchor …` group is in ./operator.ts. */

/** Hex given inline, or the name of a file holding it. */
function hexOrFile(value: string, what: string): string {
  if (/^(?:[0-9a-f]{2})+$/.test(value) && !existsSync(value)) return value;
  return readHexFile(value, what);
}

function jsonOrFile(value: string, what: string): unknown {
  const text = value.trim().startsWith('{') ? value : readText(value, what);
  try {
    return JSON.parse(text);
  } catch {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`${what} is not valid JSON`);
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw CLI_ERRORS.CLI_ERROR(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

const isoOfUnix = (s: number) => new Date(s * 1000).toISOString();

function entryLine(c: CheckpointEntry): string {
  const where = c.bitcoinBlock ? `  in Bitcoin block ${c.bitcoinBlock.height} at ${isoOfUnix(c.bitcoinBlock.time)}` : '';
  return `${String(c.height).padStart(8)}  ${c.status.padEnd(9)}  digest ${c.digest}  ${c.itemCount} items${c.txid ? `  tx ${c.txid}` : ''}${where}`;
}

export function reportText(r: AnchorVerification): string {
  const lines = [`checkpoint ${r.height} (${r.network})  digest ${r.digest}`];
  if (r.coverage) lines.push(`  ✓ coverage       item ${r.coverage.item} is leaf ${r.coverage.index} of ${r.coverage.leafCount} under interval root ${r.coverage.intervalRoot}`);
  for (const c of r.checks) lines.push(`  ${c.ok ? '✓' : '✗'} ${c.name.padEnd(14)} ${c.detail}`);
  if (r.ok && r.anchoredIn) lines.push(`anchored in Bitcoin block ${r.anchoredIn.blockHeight} (${r.anchoredIn.blockHash}) at ${isoOfUnix(r.anchoredIn.time)}`);
  else if (r.failure) lines.push(`NOT VERIFIED: ${r.failure.code} (${r.failure.check})`);
  return lines.join('\n');
}

const verifyOptions = {
  height: opt.int('checkpoint height'),
  item: opt.text('verify that this item (meter fingerprint) is covered by an anchored checkpoint', { arg: 'hex' }),
  header: opt.text('check this Bitcoin block header (file with 160 hex digits, e.g. from bitcoin-cli getblockheader HASH false) instead of the recorded one', { arg: 'file' }),
  esplora: opt.text('fetch the recorded block header from this Esplora server', { arg: 'url' }),
  rawTx: opt.text('check this raw Bitcoin transaction (file with hex) instead of the recorded one', { arg: 'file' }),
  network: opt.text('Bitcoin network for the proof-of-work limit (default: the ledger parameter)', { arg: 'network' }),
};

export function registerAnchorCli({ tx, query }: { tx: Command; query: Command }): void {
  const txAnchor = tx.command('anchor').description('anchor records: the Bitcoin transaction carrying a checkpoint, and its block (anchor operator)');
  txCommand(txAnchor, 'record', {
    description: 'record the Bitcoin transaction whose OP_RETURN carries the checkpoint at --height',
    options: {
      height: opt.int('checkpoint height', { required: true }),
      rawTx: opt.text('the raw transaction: hex, or a file holding it (e.g. the offline backend\'s HEIGHT-TXID.hex)', { required: true, arg: 'hex|file' }),
      txid: opt.text('its txid (default: computed from the raw transaction)', { arg: 'hex' }),
    },
    msgs: (o) => {
      const rawTx = hexOrFile(o.rawTx, '--raw-tx');
      return [{ type: MSG.record, value: { height: o.height, txid: o.txid ?? parseBitcoinTx(rawTx).txid, rawTx } }];
    },
  });
  txCommand(txAnchor, 'confirm', {
    description: 'record the Bitcoin block that includes the anchor of --height: header and Merkle branch of the txid',
    options: {
      height: opt.int('checkpoint height', { required: true }),
      inclusion: opt.text('JSON (or a file) {blockHeader, blockHeight, branch: {index, txCount, siblings}[, blockHash]} as the backends return it', { arg: 'json|file' }),
      header: opt.text('the 80-byte block header: hex, or a file holding it', { arg: 'hex|file' }),
      blockHeight: opt.int('height of that block in the Bitcoin chain'),
      branch: opt.text('the txid\'s Merkle branch as JSON (or a file): {index, txCount, siblings}', { arg: 'json|file' }),
    },
    msgs: (o) => {
      if (o.inclusion !== undefined) {
        const inc = jsonOrFile(o.inclusion, '--inclusion') as Record<string, unknown>;
        const value = { height: o.height, blockHeader: inc.blockHeader, blockHeight: inc.blockHeight, branch: inc.branch, ...(inc.blockHash !== undefined ? { blockHash: inc.blockHash } : {}) };
        return [{ type: MSG.confirm, value }];
      }
      if (o.header === undefined || o.blockHeight === undefined || o.branch === undefined) throw CLI_ERRORS.CLI_INVALID_OPTION('give --inclusion, or --header, --block-height and --branch');
      return [{ type: MSG.confirm, value: { height: o.height, blockHeader: hexOrFile(o.header, '--header'), blockHeight: o.blockHeight, branch: jsonOrFile(o.branch, '--branch') } }];
    },
  });

  const qAnchor = query.command('anchor').description('checkpoints, anchors in Bitcoin, inclusion paths');
  queryCommand(qAnchor, 'status', {
    description: 'checkpoint interval, network, the latest checkpoint and counts',
    route: anchorRoutes.anchorStatus,
    input: () => ({}),
    text: (v) =>
      [
        `network          ${v.params.network}`,
        `interval         every ${v.params.checkpointInterval} blocks (next checkpoint: block ${v.nextCheckpointHeight})`,
        `latest           ${v.latest ? entryLine(v.latest).trim() : '(none yet)'}`,
        `anchors          ${v.anchors}`,
        `items            ${v.itemsCollected} collected, ${v.pendingItems} waiting for the next checkpoint`,
      ].join('\n'),
  });
  queryCommand(qAnchor, 'checkpoints', {
    description: 'checkpoints with their anchor status',
    options: { status: opt.choice(['pending', 'recorded'] as const)('only pending (no transaction) or recorded (not yet in a block)'), after: opt.int('page after this height'), limit: opt.int('page size (1–1000)', { default: '100' }), desc: opt.flag('newest first') },
    route: anchorRoutes.listCheckpoints,
    input: (o) => ({ query: { status: o.status, after: o.after, limit: o.limit, order: o.desc ? ('desc' as const) : ('asc' as const) } }),
    text: (v) => v.checkpoints.map(entryLine).join('\n') || '(none)',
  });
  queryCommand(qAnchor, 'checkpoint', {
    description: 'one checkpoint with its anchor record',
    args: ['height'],
    route: anchorRoutes.getCheckpoint,
    input: (_o, [height]) => ({ params: { height: Number(height) } }),
  });
  queryCommand(qAnchor, 'items', {
    description: 'the items (meter fingerprints) a checkpoint covers',
    args: ['height'],
    options: { cursor: opt.text('continue after this item (height/seq)', { arg: 'cursor' }), limit: opt.int('page size (1–10000)', { default: '1000' }) },
    route: anchorRoutes.checkpointItems,
    input: (o, [height]) => ({ params: { height: Number(height) }, query: { cursor: o.cursor, limit: o.limit } }),
    text: (v) => [...v.items.map((i) => `${i.item}  ${i.kind} ${i.meterId} slot ${i.slot}  height ${i.height}`), ...(v.next ? [`more: --cursor ${v.next}`] : [])].join('\n') || '(none)',
  });
  queryCommand(qAnchor, 'anchors', {
    description: 'anchor records (Bitcoin transactions) by checkpoint height',
    options: { after: opt.int('page after this height'), limit: opt.int('page size (1–1000)', { default: '100' }), desc: opt.flag('newest first') },
    route: anchorRoutes.listAnchors,
    input: (o) => ({ query: { after: o.after, limit: o.limit, order: o.desc ? ('desc' as const) : ('asc' as const) } }),
    text: (v) => v.anchors.map((a) => `${String(a.height).padStart(8)}  tx ${a.txid}${a.confirmation ? `  block ${a.confirmation.blockHeight} ${a.confirmation.blockHash}` : '  (not yet in a block)'}`).join('\n') || '(none)',
  });
  queryCommand(qAnchor, 'inclusion', {
    description: 'inclusion path from an item (meter fingerprint) to the checkpoint that covers it',
    args: ['item'],
    route: anchorRoutes.inclusion,
    input: (_o, [item]) => ({ params: { item: item! } }),
  });

  const program = tx.parent!;
  const verify = verifyGroup(program);
  customCommand(verify, 'anchor', {
    description: 'verify a checkpoint\'s anchor in Bitcoin: recompute the checkpoint from the ledger, check the transaction, its OP_RETURN, the Merkle branch and the header\'s proof of work',
    options: verifyOptions,
    run: async (o, cmd) => {
      if ((o.height === undefined) === (o.item === undefined)) throw CLI_ERRORS.CLI_INVALID_OPTION('give --height or --item');
      if (o.network !== undefined && !isBitcoinNetwork(o.network)) throw CLI_ERRORS.CLI_INVALID_OPTION(`--network must be mainnet, testnet, signet or regtest`);
      const options: VerifyAnchorOptions = {
        ...(o.header !== undefined ? { headerHex: readHexFile(o.header, '--header'), headerSource: o.header } : {}),
        ...(o.esplora !== undefined ? { esploraUrl: o.esplora } : {}),
        ...(o.rawTx !== undefined ? { rawTx: readHexFile(o.rawTx, '--raw-tx') } : {}),
        ...(o.network !== undefined && isBitcoinNetwork(o.network) ? { network: o.network } : {}),
      };
      const url = nodeUrl(cmd);
      const report = o.item !== undefined ? await verifyItemOverApi(url, o.item, options) : await verifyAnchorOverApi(url, o.height!, options);
      print(cmd, report, reportText);
      if (!report.ok && report.failure) throw remoteError(report.failure.code, `${report.failure.check}: ${report.failure.message}`, 400);
    },
  });
}
