import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { call, CLI_ERRORS, commandGroup, customCommand, globals, keyringOf, opt, pageText, parseTime, print, queryCommand, resolveAddress, signerAddress, signerName, txCommand } from '../../cli/kit.js';
import type { Msg } from '../../codec/tx.js';
import { formatUnits, isAmount } from './amount.js';
import { MSG } from './messages.js';
import { paymentsRoutes } from './routes.js';
import { signVoucher } from './voucher.js';

/**
 * CLI of the payments module: `tx pay …`, `tx escrow …`, `tx channel …`, `query pay|escrow|channel …`
 * and the offline `gridledger channel voucher …`. Amounts are whole micro-units (100 NOK = 100000000).
 * Addresses may be given as key names of the home's keyring.
 */

// ── option helpers ──

function amount(value: string, flag: string): string {
  if (!isAmount(value)) throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects whole micro-units (e.g. 100000000 for 100.000000), got ${JSON.stringify(value)}`);
  return value;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "24h", "7d", "1500ms" → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!m || !Number.isSafeInteger(ms)) throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects a duration such as 90s, 30m, 24h or 7d, got ${JSON.stringify(value)}`);
  return ms;
}


const codeOf = (asset: string) => asset.split('@')[0]!;
const units = (v: string, asset: string) => `${v} µ (${formatUnits(v, codeOf(asset))})`;
const memoOf = (cmd: Command) => {
  const memo = globals(cmd).memo;
  return memo ? { memo } : {};
};
const withDefined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** A voucher given as JSON text, @FILE, or - (stdin). */
function readVoucher(value: string): unknown {
  const text = value === '-' ? readFileSync(0, 'utf8') : value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  try {
    return JSON.parse(text);
  } catch {
    throw CLI_ERRORS.CLI_INVALID_OPTION('--voucher expects the JSON printed by `gridledger channel voucher`, @FILE or - (stdin)');
  }
}

/** --chain-id, else the chain id in the home's genesis.json (HOME/genesis.json next to HOME/keyring/): no node needed. */
function chainIdOffline(cmd: Command, given: string | undefined): string {
  if (given) return given;
  const genesis = join(dirname(keyringOf(cmd).dir), 'genesis.json');
  const chainId = existsSync(genesis) ? (JSON.parse(readFileSync(genesis, 'utf8')) as { chainId?: unknown }).chainId : undefined;
  if (typeof chainId !== 'string') throw CLI_ERRORS.CLI_INVALID_OPTION('--chain-id is required when the home has no genesis.json');
  return chainId;
}

/** Address from a positional argument (or the signing key when absent). */
function addressArg(cmd: Command, value: string | undefined): string {
  return value === undefined ? signerAddress(cmd) : resolveAddress(cmd, value, 'address');
}

// ── transactions ──

const assetOpt = opt.text('asset id, e.g. NOK@microgrid', { required: true, arg: 'asset' });
const amountOpt = (what: string) => opt.text(`${what} in micro-units`, { required: true, arg: 'µ' });
const idOpt = (what: string) => opt.text(what, { required: true, arg: 'id' });

function registerPayTx(tx: Command): void {
  const pay = tx.command('pay').alias('payments').description('fiat-backed credits: assets, mint, redeem, reserve attestations, transfers');
  txCommand(pay, 'create-asset', {
    description: 'create an asset you issue (role issuer); its id is CODE or CODE@SCOPE',
    options: { code: opt.text('currency code, e.g. NOK', { required: true, arg: 'code' }), scope: opt.text('community scope, e.g. microgrid', { arg: 'id' }), name: opt.text('display name', { required: true }) },
    msgs: (o) => [{ type: MSG.createAsset, value: withDefined({ code: o.code, scope: o.scope, name: o.name }) }],
  });
  txCommand(pay, 'mint', {
    description: 'mint credits against a fiat deposit (issuer); a deposit reference mints once',
    options: { asset: assetOpt, to: opt.address('recipient', { required: true }), amount: amountOpt('amount'), depositRef: opt.text('bank transfer id of the deposit', { required: true, arg: 'ref' }) },
    msgs: (o, cmd) => [{ type: MSG.mint, value: { asset: o.asset, to: o.to, amount: amount(o.amount, '--amount'), depositRef: o.depositRef, ...memoOf(cmd) } }],
  });
  txCommand(pay, 'redeem', {
    description: 'ask the issuer to pay credits back in fiat (the amount is locked at once; see the payments.redeem_requested event for the id)',
    options: { asset: assetOpt, amount: amountOpt('amount') },
    msgs: (o, cmd) => [{ type: MSG.redeem, value: { asset: o.asset, amount: amount(o.amount, '--amount'), ...memoOf(cmd) } }],
  });
  txCommand(pay, 'complete-redeem', {
    description: 'the fiat was paid out: burn the locked credits (issuer)',
    options: { id: idOpt('redemption id, e.g. r1'), payoutRef: opt.text('bank transfer id of the payout', { required: true, arg: 'ref' }) },
    msgs: (o) => [{ type: MSG.completeRedeem, value: { id: o.id, payoutRef: o.payoutRef } }],
  });
  txCommand(pay, 'reject-redeem', {
    description: 'refuse a redemption: the credits return to the holder (issuer)',
    options: { id: idOpt('redemption id'), reason: opt.text('why', { required: true }) },
    msgs: (o) => [{ type: MSG.rejectRedeem, value: { id: o.id, reason: o.reason } }],
  });
  txCommand(pay, 'transfer', {
    description: 'send credits to an admitted account (--memo travels with the transfer)',
    options: { asset: assetOpt, to: opt.address('recipient', { required: true }), amount: amountOpt('amount') },
    msgs: (o, cmd) => [{ type: MSG.transfer, value: { asset: o.asset, to: o.to, amount: amount(o.amount, '--amount'), ...memoOf(cmd) } }],
  });
  txCommand(pay, 'attest', {
    description: 'attest the fiat reserve behind an asset (issuer)',
    options: { asset: assetOpt, reserve: amountOpt('reserve'), ref: opt.text('audit or bank statement reference', { arg: 'ref' }) },
    msgs: (o, cmd) => [{ type: MSG.attest, value: withDefined({ asset: o.asset, reserve: amount(o.reserve, '--reserve'), ref: o.ref, ...memoOf(cmd) }) }],
  });
}

function registerEscrowTx(tx: Command): void {
  const esc = tx.command('escrow').description('m-of-n escrow with a mediator: open, approve, dispute, split, refund');
  const id = idOpt('escrow id, e.g. e1');
  txCommand(esc, 'open', {
    description: 'pay into an escrow for a payee (payer = --from); see the payments.escrow_opened event for the id',
    options: {
      asset: assetOpt,
      amount: amountOpt('amount'),
      payee: opt.address('payee', { required: true }),
      mediator: opt.address('mediator (e.g. the grid operator); needed for disputes'),
      party: opt.list('further parties', { arg: 'address|key' }),
      threshold: opt.int('approvals needed to release or refund (default 2)'),
      deadlineHeight: opt.int('deadline height', { arg: 'height' }),
      deadlineTime: opt.text('deadline block time: ISO time or ms since the epoch', { arg: 'time' }),
      deadlineIn: opt.text('deadline this long from now (client clock), e.g. 2h, 7d', { arg: 'duration' }),
    },
    msgs: (o, cmd) => {
      if (o.deadlineTime !== undefined && o.deadlineIn !== undefined) throw CLI_ERRORS.CLI_INVALID_OPTION('give --deadline-time or --deadline-in, not both');
      // CLI surface, not ledger code: the user's clock turns --deadline-in into the absolute time that is signed.
      const deadlineTime = o.deadlineTime !== undefined ? parseTime(o.deadlineTime, '--deadline-time') : o.deadlineIn !== undefined ? Date.now() + parseDuration(o.deadlineIn, '--deadline-in') : undefined; // allowed: client side
      const others = (o.party ?? []).map((p) => resolveAddress(cmd, p, '--party'));
      return [
        {
          type: MSG.escrowOpen,
          value: withDefined({
            asset: o.asset,
            amount: amount(o.amount, '--amount'),
            payee: o.payee,
            mediator: o.mediator,
            others: others.length > 0 ? others : undefined,
            threshold: o.threshold,
            deadlineHeight: o.deadlineHeight,
            deadlineTime,
            ...memoOf(cmd),
          }),
        },
      ];
    },
  });
  txCommand(esc, 'approve', {
    description: 'approve the release (to the payee) or the refund (to the payer); it executes at the threshold',
    options: { id, action: opt.choice(['release', 'refund'] as const)('release or refund', { required: true }) },
    msgs: (o) => [{ type: MSG.escrowApprove, value: { id: o.id, action: o.action } }],
  });
  txCommand(esc, 'dispute', {
    description: 'raise a dispute (a party, before the deadline); the mediator then proposes a split',
    options: { id, reason: opt.text('why', { required: true }) },
    msgs: (o) => [{ type: MSG.escrowDispute, value: { id: o.id, reason: o.reason } }],
  });
  txCommand(esc, 'propose-split', {
    description: 'the mediator proposes a split that sums to the escrowed amount',
    options: { id, payeeAmount: amountOpt('to the payee'), payerAmount: amountOpt('back to the payer') },
    msgs: (o) => [{ type: MSG.escrowProposeSplit, value: { id: o.id, payeeAmount: amount(o.payeeAmount, '--payee-amount'), payerAmount: amount(o.payerAmount, '--payer-amount') } }],
  });
  txCommand(esc, 'countersign', {
    description: "payer or payee countersigns the mediator's split; it executes at once (default amounts: the current proposal)",
    options: { id, payeeAmount: opt.text('expected payee amount', { arg: 'µ' }), payerAmount: opt.text('expected payer amount', { arg: 'µ' }) },
    msgs: async (o, cmd) => {
      let { payeeAmount, payerAmount } = o;
      if (payeeAmount === undefined || payerAmount === undefined) {
        const { escrow } = await call(cmd, paymentsRoutes.escrow, { params: { id: o.id } });
        const p = escrow.dispute?.proposal;
        if (!p) throw CLI_ERRORS.CLI_INVALID_OPTION(`escrow ${o.id} has no split proposal; give --payee-amount and --payer-amount`);
        payeeAmount ??= p.payeeAmount;
        payerAmount ??= p.payerAmount;
      }
      return [{ type: MSG.escrowCountersign, value: { id: o.id, payeeAmount: amount(payeeAmount, '--payee-amount'), payerAmount: amount(payerAmount, '--payer-amount') } }];
    },
  });
  txCommand(esc, 'reject-split', {
    description: "payer or payee rejects the mediator's split",
    options: { id, reason: opt.text('why') },
    msgs: (o) => [{ type: MSG.escrowRejectSplit, value: withDefined({ id: o.id, reason: o.reason }) }],
  });
  txCommand(esc, 'replace-mediator', {
    description: 'after both rejected the split, payer and payee each sign for the same new mediator',
    options: { id, mediator: opt.address('new mediator', { required: true }) },
    msgs: (o) => [{ type: MSG.escrowReplaceMediator, value: { id: o.id, mediator: o.mediator } }],
  });
  txCommand(esc, 'refund', {
    description: 'after the deadline with no release (and no dispute), return the funds to the payer (any party)',
    options: { id },
    msgs: (o) => [{ type: MSG.escrowRefund, value: { id: o.id } }],
  });
}

function registerChannelTx(tx: Command): void {
  const ch = tx.command('channel').description('unidirectional payment channels: open, close with a voucher, reclaim');
  const id = idOpt('channel id, e.g. ch1');
  txCommand(ch, 'open', {
    description: 'deposit into a channel to a seller (buyer = --from); see the payments.channel_opened event for the id',
    options: {
      seller: opt.address('seller', { required: true }),
      asset: assetOpt,
      deposit: amountOpt('deposit'),
      refundIn: opt.text('refund time after opening, e.g. 24h (default), 30m, 5s; within the chain parameters', { arg: 'duration' }),
    },
    msgs: (o, cmd) => [
      {
        type: MSG.channelOpen,
        value: withDefined({ seller: o.seller, asset: o.asset, deposit: amount(o.deposit, '--deposit'), refundDelayMs: o.refundIn !== undefined ? parseDuration(o.refundIn, '--refund-in') : undefined, ...memoOf(cmd) }),
      },
    ],
  });
  txCommand(ch, 'close', {
    description: 'the seller closes with a voucher of its choice before the refund time (payout to the seller, the rest to the buyer)',
    options: { id, voucher: opt.text('voucher JSON, @FILE or - (stdin)', { arg: 'json' }), withoutVoucher: opt.flag('close without a voucher: the whole deposit returns to the buyer') },
    msgs: (o): Msg[] => {
      if (o.voucher === undefined && !o.withoutVoucher) throw CLI_ERRORS.CLI_INVALID_OPTION('give --voucher (or --without-voucher to return the whole deposit)');
      return [{ type: MSG.channelClose, value: { id: o.id, ...(o.voucher !== undefined ? { voucher: readVoucher(o.voucher) } : {}) } }];
    },
  });
  txCommand(ch, 'reclaim', {
    description: 'after the refund time the buyer takes the whole deposit back',
    options: { id },
    msgs: (o) => [{ type: MSG.channelReclaim, value: { id: o.id } }],
  });
}

// ── offline voucher signing ──

function registerVoucherCommand(program: Command): void {
  const channel = commandGroup(program, 'channel', 'payment channel tools that work offline');
  customCommand(channel, 'voucher', {
    description: 'sign a channel voucher with the buyer key (--from) offline and print it as JSON',
    options: {
      channel: opt.text('channel id, e.g. ch1', { required: true, arg: 'id' }),
      amount: amountOpt('cumulative amount owed to the seller'),
      wh: opt.int('cumulative energy delivered', { required: true, arg: 'Wh' }),
      seq: opt.int('sequence number', { required: true }),
      chainId: opt.text("chain id (default: the home's genesis)", { arg: 'id' }),
    },
    run: (o, cmd) => {
      const signer = keyringOf(cmd).signer(signerName(cmd));
      let voucher;
      try {
        voucher = signVoucher(signer, { chainId: chainIdOffline(cmd, o.chainId), channel: o.channel, amount: amount(o.amount, '--amount'), wh: o.wh, seq: o.seq });
      } catch (err) {
        if ((err as { name?: string }).name === 'ZodError') throw CLI_ERRORS.CLI_INVALID_OPTION(`voucher: ${(err as { issues?: Array<{ message: string }> }).issues?.[0]?.message ?? 'invalid'}`);
        throw err;
      }
      print(cmd, voucher);
    },
  });
}

// ── queries ──

const statusOpt = opt.choice(['open', 'closed', 'all'] as const)('which (default open)', { default: 'open' });
const afterOpt = opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' });

function registerQueries(query: Command): void {
  const pay = query.command('pay').alias('payments').description('assets, supply vs reserve, balances, history, redemptions, locks');
  queryCommand(pay, 'assets', {
    description: 'assets with supply vs attested reserve, in id order, a page at a time',
    options: { after: opt.text('continue after this asset id (the previous answer\'s next)', { arg: 'asset' }), limit: opt.int('at most this many (up to 500)', { default: '100' }) },
    route: paymentsRoutes.listAssets,
    input: (o) => ({ query: withDefined({ after: o.after, limit: o.limit }) }),
    text: (v) =>
      pageText(
        v.supply.map((s) => `${s.asset.padEnd(20)} supply ${formatUnits(s.supply, s.code)}  reserve ${s.reserve === null ? '-' : formatUnits(s.reserve, s.code)}  ${s.covered === null ? 'no attestation' : s.covered ? 'covered' : 'UNDER-COVERED'}  issuer ${s.issuer}`),
        v,
        '(no assets)',
      ),
  });
  queryCommand(pay, 'supply', {
    description: 'supply vs attested reserve of one asset, with the latest attestations and the newest pending redemptions',
    args: ['asset'],
    options: { attestations: opt.int('attestations to show', { default: '10' }), pending: opt.int('pending redemption ids to show (newest first)', { default: '100' }) },
    route: paymentsRoutes.getAsset,
    input: (o, [asset]) => ({ params: { asset: asset! }, query: { attestations: o.attestations, pending: o.pending } }),
    text: (v) => {
      const s = v.supply;
      return [
        `asset        ${s.asset} (${v.asset.name}), issuer ${s.issuer}`,
        `supply       ${units(s.supply, s.asset)}`,
        `circulating  ${units(s.circulating, s.asset)}`,
        `held         redeeming ${s.held.redeeming}, locked ${s.held.locked}, escrowed ${s.held.escrowed}, channels ${s.held.channels}`,
        `reserve      ${s.reserve === null ? '(never attested)' : `${units(s.reserve, s.asset)} at height ${s.reserveAt!.height}; reserve − supply ${s.reserveMinusSupply} µ (${s.covered ? 'covered' : 'UNDER-COVERED'})`}`,
        `pending      ${v.pendingRedemptions.join(', ') || '-'}`,
        ...(v.pendingRedemptionsNext ? [`more pending: query pay redemptions --asset ${s.asset} --status pending --after ${v.pendingRedemptionsNext}`] : []),
      ].join('\n');
    },
  });
  queryCommand(pay, 'balances', {
    description: 'free and held balances of an account (default: the --from key)',
    args: ['[address]'],
    route: paymentsRoutes.balances,
    input: (_o, [address], cmd) => ({ params: { address: addressArg(cmd, address) } }),
    text: (v) => v.balances.map((b) => `${b.asset.padEnd(20)} free ${formatUnits(b.free, b.code)}  total ${formatUnits(b.total, b.code)}`).join('\n') || '(no balances)',
  });
  queryCommand(pay, 'history', {
    description: "balance changes of an account, newest first, with the transaction behind each (default: the --from key)",
    args: ['[address]'],
    options: {
      asset: opt.text('only this asset', { arg: 'asset' }),
      beforeHeight: opt.int('start with entries below this height', { arg: 'height' }),
      after: opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' }),
      limit: opt.int('at most this many', { default: '100' }),
    },
    route: paymentsRoutes.history,
    input: (o, [address], cmd) => ({ params: { address: addressArg(cmd, address) }, query: withDefined({ asset: o.asset, beforeHeight: o.beforeHeight, after: o.after, limit: o.limit }) }),
    text: (v) => pageText(v.entries.map((e) => `${String(e.height).padStart(8)}  ${e.kind.padEnd(17)} ${e.delta.padStart(16)} µ ${e.asset}  balance ${e.balance}${e.ref ? `  ref ${e.ref}` : ''}${e.counterparty ? `  with ${e.counterparty}` : ''}  tx ${e.txHash}`), v, '(no history)'),
  });
  queryCommand(pay, 'redemptions', {
    description: 'redemption requests (of an asset or a party), newest first, a page at a time',
    options: {
      asset: opt.text('asset', { arg: 'asset' }),
      party: opt.address('holder or issuer'),
      status: opt.choice(['pending', 'closed', 'all'] as const)('which (default all)', { default: 'all' }),
      after: afterOpt,
      limit: opt.int('at most', { default: '100' }),
    },
    route: paymentsRoutes.redemptions,
    input: (o) => ({ query: withDefined({ asset: o.asset, party: o.party, status: o.status, after: o.after, limit: o.limit }) }),
    text: (v) => pageText(v.redemptions.map((r) => `${r.id.padEnd(6)} ${r.status.padEnd(9)} ${units(r.amount, r.asset)} ${r.asset} holder ${r.holder}${r.payoutRef ? ` payout ${r.payoutRef}` : ''}${r.reason ? ` (${r.reason})` : ''}`), v),
  });
  queryCommand(pay, 'redemption', {
    description: 'one redemption request',
    args: ['id'],
    route: paymentsRoutes.redemption,
    input: (_o, [id]) => ({ params: { id: id! } }),
  });
  queryCommand(pay, 'locks', {
    description: 'funds of an account locked by modules (default: the --from key)',
    args: ['[address]'],
    route: paymentsRoutes.locks,
    input: (_o, [address], cmd) => ({ params: { address: addressArg(cmd, address) } }),
    text: (v) => v.locks.map((l) => `${l.id}  ${units(l.amount, l.asset)} ${l.asset}`).join('\n') || '(no locks)',
  });

  const esc = query.command('escrow').description('escrows');
  queryCommand(esc, 'show', { description: 'one escrow', args: ['id'], route: paymentsRoutes.escrow, input: (_o, [id]) => ({ params: { id: id! } }) });
  queryCommand(esc, 'list', {
    description: 'escrows of a party, newest first, a page at a time (default: open ones of the --from key)',
    options: { party: opt.address('party (default: the --from key)'), status: statusOpt, after: afterOpt, limit: opt.int('at most', { default: '100' }) },
    route: paymentsRoutes.escrows,
    input: (o, _a, cmd) => ({ query: withDefined({ party: o.party ?? signerAddress(cmd), status: o.status, after: o.after, limit: o.limit }) }),
    text: (v) => pageText(v.escrows.map((e) => `${e.id.padEnd(6)} ${e.status.padEnd(8)} ${units(e.amount, e.asset)} ${e.asset} ${e.payer} → ${e.payee}  ${e.threshold}-of-${e.parties.length}${e.dispute ? '  DISPUTED' : ''}`), v),
  });

  const ch = query.command('channel').description('payment channels');
  queryCommand(ch, 'show', { description: 'one channel', args: ['id'], route: paymentsRoutes.channel, input: (_o, [id]) => ({ params: { id: id! } }) });
  queryCommand(ch, 'list', {
    description: 'channels of a party, newest first, a page at a time (default: open ones of the --from key)',
    options: { party: opt.address('buyer or seller (default: the --from key)'), status: statusOpt, after: afterOpt, limit: opt.int('at most', { default: '100' }) },
    route: paymentsRoutes.channels,
    input: (o, _a, cmd) => ({ query: withDefined({ party: o.party ?? signerAddress(cmd), status: o.status, after: o.after, limit: o.limit }) }),
    text: (v) =>
      pageText(
        v.channels.map((c) => `${c.id.padEnd(6)} ${c.status.padEnd(9)} deposit ${units(c.deposit, c.asset)} ${c.buyer} → ${c.seller}  refund time ${new Date(c.refundTime).toISOString()}${c.payout ? `  paid ${c.payout}` : ''}`),
        v,
      ),
  });
}

export function registerPaymentsCli({ tx, query }: { tx: Command; query: Command }): void {
  registerPayTx(tx);
  registerEscrowTx(tx);
  registerChannelTx(tx);
  registerQueries(query);
  registerVoucherCommand(tx.parent!);
}
