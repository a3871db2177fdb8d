import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreRoutes } from '../../api/routes.js';
import { call, CLI_ERRORS, customCommand, jsonFilesIn, keyringOf, opt, pageText, print, queryCommand, signerAddress, signerName, txCommand, type ParsedOptions } from '../../cli/kit.js';
import { signTx } from '../../codec/tx.js';
import { LedgerError, remoteError } from '../../util/errors.js';
import { csvLine, decimal, statementHash } from '../settlement/keeper.js';
import { addStatementKind, type StatementCheck } from '../settlement/routes.js';
import { checkBill } from './cli/bill-check.js';
import { BILL_KIND, type MarketBill } from './billing.js';
import { MSG, type BillRef } from './messages.js';
import { billSchema, billStatementQuery as billQuery, marketRoutes } from './routes.js';

/** Loaded when used: src/cli/verify.ts needs the module list, which loads this surface (a static import would be a cycle). */
const statementProofs = () => import('../../cli/verify.js');

/**
 * CLI of the market module: `tx market …` (open, set-tariffs, offer, bid, cancel, contract …,
 * record-bills), `query market …`, and community bills through `gridledger bill --community` and
 * `gridledger verify statement` (the settlement module's commands, extended with this module's
 * statement kind). Prices are µ per kWh of the community's asset (0.25 NOK/kWh = 250000).
 */

const community = opt.text('community id', { required: true, arg: 'id' });
const slot = opt.slot('delivery slot (index or ISO time)', { required: true });
const price = (what: string) => opt.int(what, { required: true, arg: 'µ/kWh' });
const rangeOpts = { slot: opt.slot('one slot'), fromSlot: opt.slot('first slot'), toSlot: opt.slot('end slot (exclusive)') };
const range = (o: ParsedOptions<typeof rangeOpts>) => ({ slot: o.slot?.toString(), fromSlot: o.fromSlot?.toString(), toSlot: o.toSlot?.toString() });
const withDefined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const labelList = (labels: string[] | undefined) => (labels && labels.length > 0 ? { labels } : {});
const showLabels = (labels: readonly string[]) => (labels.length ? labels.join(',') : '-');
const pageSize = (bounds: string, fallback: string) => opt.int(`page size (${bounds})`, { default: fallback });
const afterId = (what: string) => opt.text(`continue after this ${what} (the previous answer's next)`, { arg: 'id' });
const afterAddress = (what: string) => opt.address(`continue after this ${what} (the previous answer's next)`);

/** Signed µ (decimal string) → "1.234567" units, exactly. */
function micro(value: string): string {
  const v = BigInt(value);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

function amount(value: string, flag: string): string {
  if (!/^(0|[1-9][0-9]{0,23})$/.test(value)) throw CLI_ERRORS.CLI_INVALID_OPTION(`${flag} expects whole micro-units, got ${JSON.stringify(value)}`);
  return value;
}

function registerTx(tx: Command): void {
  const mk = tx.command('market').description('local energy market: open a market, offers and bids per slot, supply contracts, bill records');
  txCommand(mk, 'open', {
    description: "open the community's market (owner); its type is chosen once",
    options: {
      community,
      type: opt.choice(['continuous', 'pay-as-clear', 'pay-as-offer'] as const)('continuous (pay-as-bid), pay-as-clear or pay-as-offer', { required: true }),
      asset: opt.text('payments asset orders are paid in, e.g. NOK@hood', { required: true, arg: 'asset' }),
      importPrice: price("external supplier's import tariff"),
      exportPrice: price("external supplier's export (feed-in) tariff"),
      gateBefore: opt.int('trading of a slot closes this many seconds before it starts (default 300)', { arg: 's' }),
      gateAfter: opt.int('trading of an ended slot closes this many seconds after it (default 3600; 0: none)', { arg: 's' }),
      settleAfter: opt.int('delivery settles this many seconds after the slot at the latest (default 900)', { arg: 's' }),
    },
    msgs: (o) => [
      {
        type: MSG.open,
        value: withDefined({ community: o.community, type: o.type, asset: o.asset, importPrice: o.importPrice, exportPrice: o.exportPrice, gateBeforeStartSec: o.gateBefore, gateAfterEndSec: o.gateAfter, settleAfterSec: o.settleAfter }),
      },
    ],
  });
  txCommand(mk, 'set-tariffs', {
    description: 'change the external tariffs from a future slot on (owner)',
    options: { community, importPrice: price('import tariff'), exportPrice: price('export tariff'), fromSlot: opt.slot('first slot (must not have begun)', { required: true, future: true }) },
    msgs: (o) => [{ type: MSG.setTariffs, value: { community: o.community, importPrice: o.importPrice, exportPrice: o.exportPrice, fromSlot: o.fromSlot } }],
  });
  txCommand(mk, 'offer', {
    description: 'sell energy of a slot at a minimum price: an ended slot locks your labelled balance; a future slot is a delivery promise (locks a shortfall collateral)',
    options: { community, slot, wh: opt.int('energy', { required: true, arg: 'Wh' }), price: price('minimum price'), labels: opt.labels('labels of the energy sold, e.g. solar') },
    msgs: (o) => [{ type: MSG.offer, value: { community: o.community, slot: o.slot, wh: o.wh, price: o.price, ...labelList(o.labels) } }],
  });
  txCommand(mk, 'bid', {
    description: 'buy energy of a slot at a maximum price (locks the maximum payment at once)',
    options: { community, slot, wh: opt.int('energy', { required: true, arg: 'Wh' }), price: price('maximum price'), labels: opt.labels('labels every matching offer must carry, e.g. solar') },
    msgs: (o) => [{ type: MSG.bid, value: { community: o.community, slot: o.slot, wh: o.wh, price: o.price, ...labelList(o.labels) } }],
  });
  txCommand(mk, 'cancel', {
    description: 'cancel one of your open orders (its locks are released)',
    options: { id: opt.text('order id, e.g. o12', { required: true, arg: 'id' }) },
    msgs: (o) => [{ type: MSG.cancel, value: { id: o.id } }],
  });
  const k = mk.command('contract').description('supply contracts: propose, accept, end with notice, dispute a deposit, resolve (mediator)');
  const id = opt.text('contract id, e.g. sc1', { required: true, arg: 'id' });
  txCommand(k, 'propose', {
    description: 'propose a supply contract to another trader (a consumer proposing locks the payments at once)',
    options: {
      community,
      role: opt.choice(['consumer', 'prosumer'] as const)('your side', { required: true }),
      counterparty: opt.address('the other trader', { required: true }),
      startSlot: opt.slot('first slot (must not have begun)', { required: true, future: true }),
      endSlot: opt.slot('end slot (exclusive)', { required: true }),
      price: price('contract price'),
      maxPowerW: opt.int('maximum power (energy per slot ≤ W / 4 Wh)', { required: true, arg: 'W' }),
      noticeSlots: opt.int('notice period in slots (default 4)', { arg: 'slots' }),
      deposit: opt.text("consumer's security deposit held in escrow", { arg: 'µ' }),
      mediator: opt.address('who divides the deposit in a dispute (e.g. the grid operator)'),
    },
    msgs: (o) => [
      {
        type: MSG.contractPropose,
        value: withDefined({
          community: o.community,
          role: o.role,
          counterparty: o.counterparty,
          startSlot: o.startSlot,
          endSlot: o.endSlot,
          price: o.price,
          maxPowerW: o.maxPowerW,
          noticeSlots: o.noticeSlots,
          deposit: o.deposit !== undefined ? amount(o.deposit, '--deposit') : undefined,
          mediator: o.mediator,
        }),
      },
    ],
  });
  txCommand(k, 'accept', { description: 'accept a proposal made to you (a consumer accepting locks the payments)', options: { id }, msgs: (o) => [{ type: MSG.contractAccept, value: { id: o.id } }] });
  txCommand(k, 'end', { description: 'end a contract with notice (or withdraw / decline a proposal)', options: { id }, msgs: (o) => [{ type: MSG.contractEnd, value: { id: o.id } }] });
  txCommand(k, 'dispute', {
    description: 'dispute the deposit (a party, until it is returned)',
    options: { id, reason: opt.text('why', { required: true }) },
    msgs: (o) => [{ type: MSG.contractDispute, value: { id: o.id, reason: o.reason } }],
  });
  txCommand(k, 'resolve', {
    description: 'divide a disputed deposit (the mediator)',
    options: { id, toProsumer: opt.text('to the prosumer', { required: true, arg: 'µ' }), toConsumer: opt.text('back to the consumer', { required: true, arg: 'µ' }) },
    msgs: (o) => [{ type: MSG.contractResolve, value: { id: o.id, toProsumer: amount(o.toProsumer, '--to-prosumer'), toConsumer: amount(o.toConsumer, '--to-consumer') } }],
  });
  customCommand(mk, 'record-bills', {
    description: 'record the hashes of community bill JSON files (or directories of them) on the ledger (owner)',
    args: ['paths...'],
    run: (_o, cmd, paths) => recordBills(paths, cmd),
  });
}

// ── bills: files, record, verify ──

function readBill(file: string): MarketBill | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw CLI_ERRORS.CLI_ERROR(`${file}: ${(e as Error).message}`);
  }
  const parsed = billSchema.safeParse(raw);
  return parsed.success ? (raw as MarketBill) : undefined;
}

/** One member's bill as CSV: key,value rows, the lines, then one row per day. */
export function billCsv(b: MarketBill): string {
  const head: Array<[string, string | number]> = [
    ['kind', b.kind],
    ['community', b.community],
    ['community_name', b.communityName],
    ['member', b.member],
    ['asset', b.asset],
    ['period', `${b.period.fromDay}..${b.period.toDay}`],
    ['slots', `${b.period.fromSlot}..${b.period.toSlot}`],
    ['tariffs', b.tariffs.map((t) => `from ${t.fromSlot}: import ${t.importPrice} export ${t.exportPrice}`).join('; ')],
    ['metered_import_kwh', decimal(b.energyWh.meteredImport, 3)],
    ['metered_export_kwh', decimal(b.energyWh.meteredExport, 3)],
    ['pending_trades', b.pendingTrades],
    ['settled', micro(b.totals.settledMicro)],
    ['due', micro(b.totals.dueMicro)],
    ['total', micro(b.totals.totalMicro)],
    ['bill_hash', b.hash ?? statementHash(b as unknown as Record<string, unknown>)],
  ];
  return [
    ...head.map(([key, value]) => csvLine([key, value])),
    '',
    csvLine(['item', 'kwh', 'amount', 'settled']),
    ...b.lines.map((l) => csvLine([l.item, decimal(l.wh, 3), micro(l.amountMicro), l.settled ? 'yes' : 'no'])),
    '',
    csvLine(['day', 'slots', 'metered_import_kwh', 'metered_export_kwh', 'bought_kwh', 'sold_kwh', 'residual_import_kwh', 'residual_export_kwh']),
    ...b.days.map((d) => csvLine([d.day, d.slots, decimal(d.meteredImportWh, 3), decimal(d.meteredExportWh, 3), decimal(d.boughtWh, 3), decimal(d.soldWh, 3), decimal(d.residualImportWh, 3), decimal(d.residualExportWh, 3)])),
  ].join('\n') + '\n';
}

async function billCommunity(options: { community: string; fromDay: string; toDay: string; out: string; member?: string; trusted?: string }, cmd: Command): Promise<void> {
  const dir = join(options.out, options.community);
  mkdirSync(dir, { recursive: true });
  const written: Array<{ member: string; hash: string; json: string; csv: string; totalMicro: string }> = [];
  let after: string | undefined;
  for (;;) {
    const page = await call(cmd, marketRoutes.bills, { params: { community: options.community }, query: withDefined({ fromDay: options.fromDay, toDay: options.toDay, member: options.member, after, limit: 100 }) as never });
    for (const listed of page.bills as MarketBill[]) {
      // With --prove each member's bill is asked for again, alone: its proof then holds only the values it used.
      const bill = options.trusted ? await (await statementProofs()).proveStatement<MarketBill & Record<string, unknown>>(cmd, options.trusted, billQuery(listed as unknown as Record<string, unknown>)) : listed;
      const base = join(dir, `${bill.member}_${bill.period.fromDay}_${bill.period.toDay}`);
      writeFileSync(`${base}.json`, JSON.stringify(bill, null, 2) + '\n');
      writeFileSync(`${base}.csv`, billCsv(bill));
      written.push({ member: bill.member, hash: bill.hash!, json: `${base}.json`, csv: `${base}.csv`, totalMicro: bill.totals.totalMicro });
    }
    if (page.next === undefined) break;
    after = page.next;
  }
  const summary = join(dir, `bills_${options.fromDay}_${options.toDay}.csv`);
  writeFileSync(summary, [csvLine(['member', 'from_day', 'to_day', 'total_micro', 'hash']), ...written.map((w) => csvLine([w.member, options.fromDay, options.toDay, w.totalMicro, w.hash]))].join('\n') + '\n');
  print(cmd, { community: options.community, fromDay: options.fromDay, toDay: options.toDay, dir, summary, bills: written }, (v) => `${v.bills.length} bills of community ${v.community} (${v.fromDay} … ${v.toDay}) in ${v.dir}\nsummary ${v.summary}`);
}

/** Signs and submits bill hashes in transactions of at most 150, waiting for each commit. */
async function recordBills(paths: string[], cmd: Command): Promise<void> {
  const files = jsonFilesIn(paths);
  const byCommunity = new Map<string, BillRef[]>();
  for (const file of files) {
    const b = readBill(file);
    if (!b) continue; // summaries and other JSON files are not bills
    const hash = statementHash(b as unknown as Record<string, unknown>);
    if (b.hash !== undefined && b.hash !== hash) throw CLI_ERRORS.CLI_INVALID_ARGUMENT(`${file}: the hash field does not match the content`);
    byCommunity.set(b.community, [...(byCommunity.get(b.community) ?? []), { member: b.member, fromSlot: b.period.fromSlot, toSlot: b.period.toSlot, hash }]);
  }
  if (byCommunity.size === 0) throw CLI_ERRORS.CLI_INVALID_ARGUMENT('no community bill .json files found');
  const signer = keyringOf(cmd).signer(signerName(cmd));
  const sender = signerAddress(cmd);
  const status = await call(cmd, coreRoutes.status, {});
  let nonce = (await call(cmd, coreRoutes.accountNonce, { params: { address: sender } })).next;
  const txs: Array<{ hash: string; height: number | null; bills: number }> = [];
  for (const [c, refs] of [...byCommunity.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let i = 0; i < refs.length; i += 150) {
      const chunk = refs.slice(i, i + 150);
      const tx = signTx({ chainId: status.chainId, sender, nonce: nonce++, expiresAtHeight: status.height + 100, msgs: [{ type: MSG.recordBills, value: { community: c, bills: chunk } }], memo: '' }, signer);
      const { hash } = await call(cmd, coreRoutes.submitTx, { body: tx });
      const res = await call(cmd, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
      const code = res.result?.code ?? 'NOT_COMMITTED';
      if (code !== 'OK') throw remoteError(code === 'NOT_COMMITTED' ? 'TX_NOT_COMMITTED' : code, `${res.result?.message ?? 'not committed within 30 s'} (tx ${hash})`, 400);
      txs.push({ hash, height: res.height ?? null, bills: chunk.length });
    }
  }
  const count = [...byCommunity.values()].reduce((s, r) => s + r.length, 0);
  print(cmd, { recorded: count, txs }, (v) => `recorded ${v.recorded} bill hashes in ${v.txs.length} transaction(s)`);
}

/** The ledger checks of `gridledger verify statement` for a community bill (bill-check.ts, shared with the dashboard). */
async function verifyBill(statement: Record<string, unknown>, _hash: string, cmd: Command): Promise<StatementCheck[]> {
  const verdict = await checkBill(statement, {
    record: async (hash) => {
      try {
        return await call(cmd, marketRoutes.billRecord, { params: { hash } });
      } catch (e) {
        if (e instanceof LedgerError && e.code === 'MARKET_BILL_NOT_FOUND') return undefined;
        throw e;
      }
    },
    recompute: async (b) => (await call(cmd, marketRoutes.bills, { params: { community: b.community }, query: { fromDay: b.fromDay, toDay: b.toDay, member: b.member } as never })).bills[0]?.hash,
  });
  // `verify statement` reports the hash field itself
  return verdict.checks.filter((c) => c.name !== 'hash');
}

// ── queries ──

function registerQueries(query: Command): void {
  const q = query.command('market').description('markets, order books, adverts, orders, trades, clearing, contracts, producers, bills');
  queryCommand(q, 'show', {
    description: "a community's market and its tariff versions",
    options: { community },
    route: marketRoutes.market,
    input: (o) => ({ params: { community: o.community } }),
    text: (v) => [`${v.market.community}: ${v.market.type} market in ${v.market.asset}, gates ${v.market.gateBeforeStartSec} s before / ${v.market.gateAfterEndSec} s after, settles ≤ ${v.market.settleAfterSec} s after a slot`, ...v.tariffs.map((t) => `  from slot ${t.fromSlot}: import ${t.importPrice} µ/kWh, export ${t.exportPrice} µ/kWh`)].join('\n'),
  });
  queryCommand(q, 'book', {
    description: 'order book depth of a slot (price levels)',
    options: { community, slot },
    route: marketRoutes.book,
    input: (o) => ({ params: { community: o.community }, query: { slot: String(o.slot) } }),
    text: (v) =>
      v.sessions
        .map((s) => [`slot ${v.slot} (${v.slotIso}) ${s.session}${s.closed ? ' (closed)' : ''}`, ...s.offers.map((l) => `  offer ${String(l.price).padStart(12)}  ${l.wh} Wh (${l.orders})`), ...s.bids.map((l) => `  bid   ${String(l.price).padStart(12)}  ${l.wh} Wh (${l.orders})`)].join('\n'))
        .join('\n') || '(empty)',
  });
  queryCommand(q, 'offers', {
    description: 'the advert board: open offers by slot range, price, labels, seller',
    options: { community, ...rangeOpts, maxPrice: opt.int('at most this price', { arg: 'µ/kWh' }), labels: opt.labels('offers carrying every one of these labels'), seller: opt.address('one producer'), limit: opt.int('at most', { default: '200' }) },
    route: marketRoutes.offers,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ ...range(o), maxPrice: o.maxPrice, labels: o.labels?.join(','), seller: o.seller, limit: o.limit }) as never }),
    text: (v) => v.offers.map((o) => `${o.id.padEnd(8)} slot ${o.slot} ${o.session.padEnd(4)} ${String(o.remainingWh).padStart(9)} Wh @ ${o.price} [${showLabels(o.labels)}] ${o.trader}`).join('\n') || '(none)',
  });
  queryCommand(q, 'orders', {
    description: 'your orders (or a trader’s), newest first',
    options: { community, trader: opt.address('trader (default --from)'), status: opt.choice(['open', 'closed', 'all'] as const)('which', { default: 'open' }), limit: opt.int('at most', { default: '200' }) },
    route: marketRoutes.orders,
    input: (o, _a, cmd) => ({ params: { community: o.community }, query: { trader: o.trader ?? signerAddress(cmd), status: o.status, limit: o.limit } as never }),
    text: (v) => v.orders.map((o) => `${o.id.padEnd(8)} ${o.side.padEnd(5)} slot ${o.slot} ${o.status.padEnd(9)} ${o.remainingWh}/${o.wh} Wh @ ${o.price}`).join('\n') || '(none)',
  });
  queryCommand(q, 'order', { description: 'one order with its trades', args: ['id'], route: marketRoutes.order, input: (_o, [orderId]) => ({ params: { id: orderId! } }) });
  queryCommand(q, 'trades', {
    description: 'trades by slot (range); --trader for your own',
    options: { community, ...rangeOpts, trader: opt.address('buyer or seller'), after: afterId('trade'), limit: pageSize('1–10000', '1000') },
    route: marketRoutes.trades,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ ...range(o), trader: o.trader, after: o.after, limit: o.limit }) }),
    text: (v) =>
      pageText(
        v.trades.map((t) => `${t.id.padEnd(8)} slot ${t.slot} ${t.wh} Wh @ ${t.price} = ${t.valueMicro} µ  ${t.seller} → ${t.buyer}  ${t.status}${t.delivery && t.delivery.shortfallWh > 0 ? ` short ${t.delivery.shortfallWh} Wh` : ''}`),
        v,
      ),
  });
  queryCommand(q, 'clearing', {
    description: 'price and volume per slot (pay-as-clear: the clearing; otherwise from the trades)',
    options: { community, ...rangeOpts, limit: opt.int('at most this many rows (whole slots)', { default: '1000' }) },
    route: marketRoutes.clearing,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ ...range(o), limit: o.limit }) }),
    text: (v) => pageText(v.slots.map((s) => `slot ${s.slot} ${s.slotIso} ${s.session.padEnd(4)} price ${s.price ?? '-'} µ/kWh  volume ${s.volumeWh} Wh  trades ${s.trades}`), v),
  });
  queryCommand(q, 'contracts', {
    description: 'supply contracts of the community (or of a party)',
    options: {
      community,
      party: opt.address('consumer or prosumer'),
      status: opt.choice(['proposed', 'active', 'finished', 'withdrawn', 'declined', 'lapsed'] as const)('only this status'),
      after: afterId('contract'),
      limit: pageSize('1–1000', '200'),
    },
    route: marketRoutes.contracts,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ party: o.party, status: o.status, after: o.after, limit: o.limit }) }),
    text: (v) => pageText(v.contracts.map((k) => `${k.id.padEnd(6)} ${k.status.padEnd(9)} ${k.prosumer} → ${k.consumer} slots [${k.startSlot}, ${k.endSlot}) @ ${k.price} ≤ ${k.maxPowerW} W  covered ${k.coveredWh} Wh paid ${k.paidMicro} µ`), v),
  });
  queryCommand(q, 'contract', { description: 'one supply contract with its settled slots', args: ['id'], route: marketRoutes.contract, input: (_o, [cid]) => ({ params: { id: cid! } }) });
  queryCommand(q, 'producers', {
    description: 'producers of the community with their labels and open offers',
    options: { community, slot: opt.slot('at this slot (default: current)'), after: afterAddress('trader'), limit: pageSize('1–500', '100') },
    route: marketRoutes.producers,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ slot: o.slot?.toString(), after: o.after, limit: o.limit }) }),
    text: (v) => pageText(v.producers.map((p) => `${p.trader}  ${p.meters.map((m) => `${m.meterId}[${showLabels(m.labels)}]`).join(' ')}  ${p.openOffers} offers, ${p.offeredWh} Wh, best ${p.bestPrice ?? '-'}`), v),
  });
  queryCommand(q, 'bills', {
    description: 'members’ bills computed from ledger data (use `gridledger bill --community` to write the files)',
    options: {
      community,
      fromDay: opt.text('first local day', { required: true, arg: 'YYYY-MM-DD' }),
      toDay: opt.text('last local day (inclusive)', { required: true, arg: 'YYYY-MM-DD' }),
      member: opt.address('one member'),
      after: afterAddress('member'),
      limit: pageSize('1–1000', '100'),
    },
    route: marketRoutes.bills,
    input: (o) => ({ params: { community: o.community }, query: withDefined({ fromDay: o.fromDay, toDay: o.toDay, member: o.member, after: o.after, limit: o.limit }) as never }),
    text: (v) => pageText(v.bills.map((b) => `${b.member}  settled ${micro(b.totals.settledMicro)}  due ${micro(b.totals.dueMicro)}  total ${micro(b.totals.totalMicro)}  ${b.hash}`), v),
  });
  queryCommand(q, 'bill-record', { description: 'a bill hash recorded on the ledger', args: ['hash'], route: marketRoutes.billRecord, input: (_o, [hash]) => ({ params: { hash: hash! } }) });
}

export function registerMarketCli({ tx, query }: { tx: Command; query: Command }): void {
  registerTx(tx);
  registerQueries(query);
  addStatementKind(tx, { kind: BILL_KIND, verify: verifyBill, billCommunity, statementQuery: billQuery });
}
