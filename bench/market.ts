import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { Overlay, ReadOnlyStore } from '../src/app/state.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { login } from '../src/cli/session.js';
import { openKeyring } from '../src/home/home.js';
import { energyCore } from '../src/modules/energy/module.js';
import { setBalance } from '../src/modules/energy/state.js';
import { communityBills } from '../src/modules/market/billing.js';
import { clearUniform, type ClearOrder } from '../src/modules/market/clearing.js';
import { marketCore } from '../src/modules/market/module.js';
import { marketRoutes } from '../src/modules/market/routes.js';
import { clearings, numberOf, orders as orderRecords, pending, trades as tradeRecords } from '../src/modules/market/state.js';
import { meteringCore } from '../src/modules/metering/module.js';
import { readSeries, SERIES_SLOTS, writeSeriesDay } from '../src/modules/metering/state.js';
import { paymentsCore } from '../src/modules/payments/module.js';
import { registryCore } from '../src/modules/registry/module.js';
import { settlementCore } from '../src/modules/settlement/module.js';
import { sharesCore } from '../src/modules/shares/module.js';
import { SLOT_MS, slotOfMs } from '../src/util/slots.js';
import { account, TestChain, type TestAccount } from '../test/helpers/chain.js';
import { calibrate } from './calibrate.js';
import { withVerifyRatios } from './ratios.js';
import { benchSigner as sharedBenchSigner, waitCommitted, CommitWatcher, measureSaturation, presignAdmissions, startBenchNetwork, submitBatches } from './foundation.js';
import { admissionsWorkload, chunk, commitBlock, rate } from './payments.js';

/**
 * Market benchmark (issue 12, docs/market.md "Benchmark").
 *
 * (a) Committed order placements/s — pre-signed `market/bid` and `market/offer` transactions, one
 *     order each, half the traders buying and half selling, forward slots of the next day, prices
 *     that partly cross (so the continuous market trades) — with the foundation's transaction
 *     (registry admissions from the operator) measured by the same harness in the same run, and
 *     the ratio. In process like bench/payments.ts (app host over SQLite in memory, signatures
 *     verified in the block, block by block in alternation), for a continuous and a pay-as-clear
 *     market; over node processes (bench/foundation.ts's harness: HTTP, event-stream commit times)
 *     on n validators, in alternating rounds.
 * (b) Pay-as-clear of 10,000 orders (5,000 bids, 5,000 offers from 1,000 members) in one slot: the
 *     block at the gate closure is executed by the real app host, and the market's production
 *     end-of-block hook is timed around its call (the whole block's execute + commit too).
 * (c) Bills for 1,000 members × 30 days with `communityBills` (the code behind `gridledger bill` and
 *     GET …/bills) from ledger state: the clearing's trades settled against real meter readings,
 *     plus 30 days of meter series and energy balances written in bulk through the metering and
 *     energy modules' own state writers (30 days of readings cannot be sent on a new chain: the
 *     reading window is 7 days, and 2.9 M reading transactions would be the benchmark instead).
 *
 * `node bin/run-ts.mjs bench/market.ts [--orders N --clearing-orders N --members N --days N] [--network --validators N --orders N]`
 * prints JSON (every `…PerSec` with its ratio to the one-core verify rate of the same run).
 */

const C = 'bench';
const ASSET = 'NOK@bench';
const MSGS_PER_TX = 64;
const SEED_BALANCE = 1_000_000_000_000n; // 1,000,000 NOK each
const IMPORT_PRICE = 250_000; // µ per kWh
const EXPORT_PRICE = 50_000;
const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
const NOW_SLOT = slotOfMs(GENESIS_TIME);
/** Forward slots the order load spreads over (one day ahead). */
const ORDER_SLOTS = 96;
type MarketType = 'continuous' | 'pay-as-clear';

// ── deterministic order load ──

/**
 * The i-th order of the load: trader i mod T; the first half of the traders buy, the second half
 * sell; each trader's k-th order is for the k-th slot from `firstSlot`. Bids 0.20–0.30 NOK/kWh,
 * offers 0.25–0.35 (so some cross), 100–1,999 Wh; a third of the offers are `solar`, a fifth of the
 * bids require `solar`.
 */
function orderMsg(i: number, traders: number, firstSlot: number, slots = ORDER_SLOTS): { trader: number; msg: Msg } {
  const trader = i % traders;
  const k = Math.floor(i / traders);
  const slot = firstSlot + (k % slots);
  const wh = 100 + ((i * 7919) % 1900);
  if (trader < traders / 2) {
    const labels = i % 5 === 0 ? { labels: ['solar'] } : {};
    return { trader, msg: { type: 'market/bid', value: { community: C, slot, wh, price: 200_000 + ((i * 104_729) % 100_001), ...labels } } };
  }
  const labels = i % 3 === 0 ? { labels: ['solar'] } : {};
  return { trader, msg: { type: 'market/offer', value: { community: C, slot, wh, price: 250_000 + ((i * 15_485_863) % 100_001), ...labels } } };
}

// ── in process ──

interface Community {
  chain: TestChain;
  owner: TestAccount;
  members: TestAccount[];
  meters: TestAccount[];
}

const memberName = (i: number) => `bench-member-${i}`;
const meterName = (i: number) => `bench-meter-${i}`;
const meterId = (i: number) => `bench-m${i}`;
const isSeller = (i: number, members: number) => i >= members / 2;

/**
 * A community of `members` traders (the second half prosumers with a `solar` producer meter, the
 * first half consumers with a consumer meter), every member funded, and a market of `type`, all set
 * up through signed transactions. `endBlock` replaces the market module's end-of-block hook (used
 * to time the production hook around its call).
 */
function marketCommunity(members: number, type: MarketType, endBlock?: typeof marketCore.endBlock): Community {
  const accounts: Record<string, string[]> = { 'bench-owner': ['utility'], 'bench-issuer': ['issuer'] };
  for (let i = 0; i < members; i++) {
    accounts[memberName(i)] = [isSeller(i, members) ? 'prosumer' : 'consumer', 'trader'];
    accounts[meterName(i)] = ['meter'];
  }
  const market = endBlock ? { ...marketCore, endBlock } : marketCore;
  const chain = new TestChain({ modules: [registryCore, meteringCore, energyCore, sharesCore, settlementCore, paymentsCore, market], genesisTime: GENESIS_TIME, accounts });
  const owner = account('bench-owner');
  const issuer = account('bench-issuer');
  const people = Array.from({ length: members }, (_, i) => account(memberName(i)));
  const meters = Array.from({ length: members }, (_, i) => account(meterName(i)));
  const setup: SignedTx[] = [chain.tx(owner, [{ type: 'energy/create-community', value: { id: C, name: 'Bench neighbourhood', timezone: 'Europe/Oslo' } }])];
  for (const group of chunk(people.map((p, i) => i), MSGS_PER_TX / 2)) {
    const msgs: Msg[] = [];
    for (const i of group) {
      msgs.push({ type: 'energy/add-trader', value: { community: C, address: people[i]!.address } });
      const seller = isSeller(i, members);
      msgs.push({
        type: 'energy/add-meter',
        value: { community: C, meterId: meterId(i), address: meters[i]!.address, maxPowerW: 200_000, kind: seller ? 'producer' : 'consumer', trader: people[i]!.address, ...(seller ? { labels: ['solar'] } : {}) },
      });
    }
    setup.push(chain.tx(owner, msgs));
  }
  setup.push(chain.tx(issuer, [{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } }]));
  chunk(people, MSGS_PER_TX).forEach((group, g) =>
    setup.push(chain.tx(issuer, group.map((p, i): Msg => ({ type: 'payments/mint', value: { asset: ASSET, to: p.address, amount: SEED_BALANCE.toString(), depositRef: `SEED-${g}-${i}` } })))),
  );
  setup.push(chain.tx(owner, [{ type: 'market/open', value: { community: C, type, asset: ASSET, importPrice: IMPORT_PRICE, exportPrice: EXPORT_PRICE } }]));
  commitBlock(chain, setup);
  return { chain, owner, members: people, meters };
}

/** Order placements: `count` one-order transactions of `traders` members, pre-signed in each trader's nonce order. */
function ordersWorkload(count: number, traders: number, type: MarketType): { chain: TestChain; txs: SignedTx[] } {
  const { chain, members } = marketCommunity(traders, type);
  const txs: SignedTx[] = [];
  // Orders for slots from 2 ahead (their gate, 5 min before the start, is ≥ 25 min after the load starts).
  for (let i = 0; i < count; i++) {
    const { trader, msg } = orderMsg(i, traders, NOW_SLOT + 2);
    txs.push(chain.tx(members[trader]!, [msg]));
  }
  return { chain, txs };
}

/** Committed admissions/s and order placements/s, block by block in alternation (the ratio is the point). */
export function interleavedOrders(count: number, traders: number, batch: number, type: MarketType): { admissionsPerSec: number; ordersPerSec: number; trades: number } {
  const a = admissionsWorkload(count);
  const o = ordersWorkload(count, traders, type);
  const aBlocks = chunk(a.txs, batch);
  const oBlocks = chunk(o.txs, batch);
  let aMs = 0;
  let oMs = 0;
  for (let i = 0; i < aBlocks.length; i++) {
    aMs += commitBlock(a.chain, aBlocks[i]!);
    oMs += commitBlock(o.chain, oBlocks[i]!);
  }
  const placed = orderRecords.list(o.chain.store).length;
  if (placed !== count) throw new Error(`${placed} of ${count} orders were recorded`);
  const trades = tradeRecords.list(o.chain.store).length;
  a.chain.storage.close();
  o.chain.storage.close();
  return { admissionsPerSec: rate(count, aMs), ordersPerSec: rate(count, oMs), trades };
}

// ── (b) pay-as-clear of 10,000 orders in one slot ──

interface ClearingRun {
  community: Community;
  slot: number;
  bids: number;
  offers: number;
  volumeWh: number;
  trades: number;
  clearingMs: number;
  blockMs: number;
  emptyBlockMs: number;
}

/** Same bids and offers through the pure function: the ledger's cleared volume must equal it (a check that the block really cleared). */
function pureVolume(chain: TestChain, community: string, slot: number): number {
  const bids: ClearOrder[] = [];
  const offers: ClearOrder[] = [];
  for (const o of orderRecords.list(chain.store)) {
    if (o.community !== community || o.slot !== slot) continue;
    (o.side === 'bid' ? bids : offers).push({ id: o.id, seq: numberOf(o.id), price: o.price, wh: o.wh, labels: o.labels });
  }
  return clearUniform(bids, offers).reduce((s, p) => s + p.volumeWh, 0);
}

export function clearingRun(orders: number, members: number): ClearingRun {
  const hook = marketCore.endBlock!;
  let lastHookMs = 0;
  const timed: typeof hook = (ctx) => {
    const t0 = performance.now();
    const result = hook(ctx);
    lastHookMs = performance.now() - t0;
    return result;
  };
  const community = marketCommunity(members, 'pay-as-clear', timed);
  const { chain } = community;
  const slot = NOW_SLOT + 4;
  const perMember = orders / members;
  if (!Number.isInteger(perMember)) throw new Error('orders must be a multiple of members');
  // Each member posts its orders for the slot in one transaction (up to 64 messages).
  const txs = community.members.map((m, t) =>
    chain.tx(
      m,
      Array.from({ length: perMember }, (_, k) => orderMsg(k * members + t, members, slot, 1).msg),
    ),
  );
  for (const block of chunk(txs, 250)) commitBlock(chain, block);
  // An empty block before the gate: the cost of a block with nothing due, for comparison.
  const emptyBlockMs = commitBlock(chain, []);
  const gate = slot * SLOT_MS - 300_000;
  const t0 = performance.now();
  chain.block([], gate);
  const blockMs = performance.now() - t0;
  if (chain.internalErrors.length > 0) throw new Error(`end of block failed: ${String(chain.internalErrors[0]!.err)}`);
  const result = clearings.get(chain.store, C, slot, 'fwd');
  if (!result) throw new Error('the gate block did not clear the session');
  const expected = pureVolume(chain, C, slot);
  if (result.volumeWh !== expected) throw new Error(`cleared ${result.volumeWh} Wh, the pure clearing gives ${expected} Wh`);
  return {
    community,
    slot,
    bids: result.bids,
    offers: result.offers,
    volumeWh: result.volumeWh,
    trades: result.classes.reduce((s, c) => s + c.trades, 0),
    clearingMs: lastHookMs,
    blockMs,
    emptyBlockMs,
  };
}

// ── (c) bills for 1,000 members × 30 days ──

/** Metered Wh of member i at slot s (a day profile: consumers import all day, prosumers export by day). */
function meterWh(i: number, members: number, slot: number): { importWh: number; exportWh: number } {
  const hour = Math.floor((slot % SERIES_SLOTS) / 4);
  if (isSeller(i, members)) {
    const sun = hour >= 6 && hour < 20 ? 14 - Math.abs(13 - hour) : 0;
    return { importWh: sun === 0 ? 20 + (i % 30) : 0, exportWh: sun * (100 + ((i * 37 + slot) % 200)) };
  }
  return { importWh: 150 + ((i * 53 + slot * 7) % 400), exportWh: 0 };
}

/** Readings for the cleared slot through real transactions: the trades settle against them. */
function settleCleared(run: ClearingRun): void {
  const { chain, meters } = run.community;
  const members = meters.length;
  const after = (run.slot + 1) * SLOT_MS + 1000;
  const readings = meters.map((meter, i) => {
    const { importWh, exportWh } = meterWh(i, members, run.slot);
    // A quarter of the sellers produce nothing in that slot: their trades settle with a shortfall.
    const exp = isSeller(i, members) && i % 4 !== 0 ? 5_000 + ((i * 37) % 20_000) : exportWh;
    return chain.tx(meter, [{ type: 'metering/reading', value: { meterId: meterId(i), slot: run.slot, importWh, exportWh: exp, importRegisterWh: importWh, exportRegisterWh: exp, seq: 1 } }]);
  });
  const results = chain.block(readings, after);
  const bad = results.find((r) => r.code !== 'OK');
  if (bad) throw new Error(`reading refused: ${bad.code} ${bad.message}`);
  // Past the settlement deadline: every trade of the slot is settled.
  chain.block([], after + 900_000);
  const left = pending.list(chain.store, [C, run.slot]).length;
  if (left > 0) throw new Error(`${left} trades still await delivery`);
}

/**
 * 30 days of meter series and energy balances, written in bulk through the metering and energy
 * modules' own writers (`writeSeriesDay`, `setBalance`), straight into storage after the last block
 * (the cleared slot keeps the values its real readings booked).
 */
function writeMonth(run: ClearingRun, fromSlot: number, toSlot: number): number {
  const { chain } = run.community;
  const members = run.community.members.length;
  const insert = chain.storage.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  let rows = 0;
  const flush = (staging: Overlay) => {
    chain.storage.db.transaction(() => {
      for (const [k, v] of staging.writes) if (v !== null) insert.run(k, v);
    })();
    rows += staging.writes.size;
  };
  const store = new ReadOnlyStore(chain.storage);
  for (let i = 0; i < members; i++) {
    const staging = new Overlay(chain.storage);
    const trader = run.community.members[i]!.address;
    const labels = isSeller(i, members) ? ['solar'] : [];
    const real = new Map(readSeries(store, meterId(i), fromSlot, toSlot).map((v) => [v.slot, v]));
    for (let day = Math.floor(fromSlot / SERIES_SLOTS); day * SERIES_SLOTS < toSlot; day++) {
      const entries: Array<[number, number, number]> = [];
      for (let k = 0; k < SERIES_SLOTS; k++) {
        const slot = day * SERIES_SLOTS + k;
        if (slot < fromSlot || slot >= toSlot) continue;
        const booked = real.get(slot);
        if (booked) {
          entries.push([k, booked.importWh, booked.exportWh]);
          continue;
        }
        const { importWh, exportWh } = meterWh(i, members, slot);
        entries.push([k, importWh, exportWh]);
        // As the energy module books a reading: production with the meter's labels, consumption without.
        if (exportWh > 0) setBalance(staging, C, trader, slot, labels, exportWh);
        if (importWh > 0) setBalance(staging, C, trader, slot, [], -importWh);
      }
      writeSeriesDay(staging, meterId(i), day, entries);
    }
    flush(staging);
  }
  chain.storage.clearReadCache();
  return rows;
}

interface BillingRun {
  bills: number;
  memberDays: number;
  billingMs: number;
  rowsWritten: number;
  settledTrades: number;
  totalMicroChecksum: string;
}

export function billingRun(run: ClearingRun, days: number): BillingRun {
  settleCleared(run);
  const { chain } = run.community;
  const fromDay = '2026-06-01';
  const toDay = new Date(Date.UTC(2026, 5, days)).toISOString().slice(0, 10);
  // Days in Europe/Oslo (UTC+2 in June): [fromDay 00:00 local, toDay 24:00 local).
  const fromSlot = slotOfMs(Date.UTC(2026, 5, 1) - 2 * 3_600_000);
  const toSlot = slotOfMs(Date.UTC(2026, 5, days + 1) - 2 * 3_600_000);
  const rowsWritten = writeMonth(run, fromSlot, toSlot);
  const ctx = chain.queryContext('market', new ReadOnlyStore(chain.storage));
  const t0 = performance.now();
  const { bills } = communityBills(ctx as never, { community: C, fromDay, toDay });
  const billingMs = performance.now() - t0;
  if (bills.length !== run.community.members.length) throw new Error(`${bills.length} bills for ${run.community.members.length} members`);
  if (bills[0]!.period.fromSlot !== fromSlot || bills[0]!.period.toSlot !== toSlot) throw new Error('the bench wrote another period than the bills cover');
  const settledTrades = tradeRecords.list(chain.store).filter((t) => t.status === 'settled').length;
  const total = bills.reduce((s, b) => s + BigInt(b.totals.totalMicro), 0n);
  return { bills: bills.length, memberDays: bills.length * days, billingMs, rowsWritten, settledTrades, totalMicroChecksum: total.toString() };
}

// ── the part ──

export interface MarketBenchOptions {
  orders?: number;
  traders?: number;
  batch?: number;
  clearingOrders?: number;
  members?: number;
  days?: number;
  /** The one-core Ed25519 verify rate of this run (measured here when not given). */
  verifyPerSecOneCore?: number;
}

export async function benchMarket(options: MarketBenchOptions = {}): Promise<Record<string, number | string>> {
  const orders = options.orders ?? 20_000;
  const traders = options.traders ?? 200;
  const batch = options.batch ?? 500;
  const clearingOrders = options.clearingOrders ?? 10_000;
  const members = options.members ?? 1_000;
  const days = options.days ?? 30;
  const verifyPerSec = options.verifyPerSecOneCore ?? (await calibrate()).verifyPerSecOneCore;
  const continuous = interleavedOrders(orders, traders, batch, 'continuous');
  const uniform = interleavedOrders(orders, traders, batch, 'pay-as-clear');
  const clearing = clearingRun(clearingOrders, members);
  const billing = billingRun(clearing, days);
  clearing.community.chain.storage.close();
  const ratio = (x: number, y: number) => Number((x / y).toFixed(3));
  return {
    mode: 'in-process (app host, SQLite in memory, signatures verified in the block)',
    orders,
    traders,
    batch,
    continuousOrdersPerSec: continuous.ordersPerSec,
    continuousTrades: continuous.trades,
    continuousFoundationAdmissionsPerSec: continuous.admissionsPerSec,
    continuousOrdersRatioToFoundation: ratio(continuous.ordersPerSec, continuous.admissionsPerSec),
    payAsClearOrdersPerSec: uniform.ordersPerSec,
    payAsClearFoundationAdmissionsPerSec: uniform.admissionsPerSec,
    payAsClearOrdersRatioToFoundation: ratio(uniform.ordersPerSec, uniform.admissionsPerSec),
    clearingBids: clearing.bids,
    clearingOffers: clearing.offers,
    clearingMembers: members,
    clearingTrades: clearing.trades,
    clearingVolumeWh: clearing.volumeWh,
    clearingEndBlockMs: Number(clearing.clearingMs.toFixed(1)),
    clearingEquivalentVerifies: Math.round((clearing.clearingMs / 1000) * verifyPerSec),
    clearingBlockMs: Number(clearing.blockMs.toFixed(1)),
    emptyBlockMs: Number(clearing.emptyBlockMs.toFixed(1)),
    clearedOrdersPerSec: rate(clearing.bids + clearing.offers, clearing.clearingMs),
    billMembers: billing.bills,
    billDays: days,
    billSettledTrades: billing.settledTrades,
    billStateRowsWritten: billing.rowsWritten,
    billingMs: Math.round(billing.billingMs),
    billMsPerMember: Number((billing.billingMs / billing.bills).toFixed(2)),
    billsPerSec: rate(billing.bills, billing.billingMs),
    billMemberDaysPerSec: rate(billing.memberDays, billing.billingMs),
    billTotalMicroChecksum: billing.totalMicroChecksum,
    verifyPerSecOneCore: verifyPerSec,
  };
}

// ── over the network ──

const benchSigner = (label: string) => sharedBenchSigner('market', label);

/** Rounds of alternation in the network benchmark. */
const ROUNDS = 4;

/**
 * Order placements over node processes on `validators` validators: a continuous market of
 * `traders` members set up by transactions, then admissions and order placements in alternating
 * rounds, both as committed tx/s from the event stream. Every order must have been recorded.
 */
export async function benchMarketNetwork(options: { validators: number; orders: number; traders?: number }): Promise<Record<string, number>> {
  const traders = options.traders ?? 200;
  const net = await startBenchNetwork(options.validators);
  const url = net.urls[0]!;
  const watcher = new CommitWatcher();
  try {
    await watcher.start(url);
    const { chainId } = await callRoute(url, coreRoutes.status, {});
    const keyring = openKeyring(net.home, 'test');
    const admin = { signer: keyring.signer('admin'), address: keyring.show('admin').address };
    const issuer = benchSigner('issuer');
    const people = Array.from({ length: traders }, (_, i) => benchSigner(`member-${i}`));
    const EXPIRES = 1_000_000;
    let adminNonce = (await callRoute(url, coreRoutes.accountNonce, { params: { address: admin.address } })).next;
    const adminTx = (msgs: Msg[]) => signTx({ chainId, sender: admin.address, nonce: adminNonce++, expiresAtHeight: EXPIRES, msgs, memo: '' }, admin.signer);
    const setup: SignedTx[] = [
      adminTx([
        { type: 'registry/admit', value: { address: issuer.address, roles: ['issuer'] } },
        { type: 'energy/create-community', value: { id: C, name: 'Bench neighbourhood', timezone: 'Europe/Oslo' } },
      ]),
    ];
    for (const group of chunk(people, MSGS_PER_TX / 2)) {
      setup.push(
        adminTx(
          group.flatMap((p): Msg[] => [
            { type: 'registry/admit', value: { address: p.address, roles: ['trader'] } },
            { type: 'energy/add-trader', value: { community: C, address: p.address } },
          ]),
        ),
      );
    }
    await waitCommitted(url, await submitBatches(url, setup, 100, 1));
    let issuerNonce = 0;
    const issuerTx = (msgs: Msg[]) => signTx({ chainId, sender: issuer.address, nonce: issuerNonce++, expiresAtHeight: EXPIRES, msgs, memo: '' }, issuer.signer);
    const funding = [issuerTx([{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } }])];
    chunk(people, MSGS_PER_TX).forEach((group, g) => funding.push(issuerTx(group.map((p, i) => ({ type: 'payments/mint', value: { asset: ASSET, to: p.address, amount: SEED_BALANCE.toString(), depositRef: `SEED-${g}-${i}` } })))));
    funding.push(adminTx([{ type: 'market/open', value: { community: C, type: 'continuous', asset: ASSET, importPrice: IMPORT_PRICE, exportPrice: EXPORT_PRICE } }]));
    await waitCommitted(url, await submitBatches(url, funding, 100, 1));

    const admissions = presignAdmissions(net.home, chainId, options.orders, adminNonce, EXPIRES);
    // Forward slots from 3 ahead of the wall clock: no gate closes during the run.
    const firstSlot = slotOfMs(Date.now()) + 3;
    const nonces = new Array<number>(traders).fill(0);
    const placements: SignedTx[] = [];
    for (let i = 0; i < options.orders; i++) {
      const { trader, msg } = orderMsg(i, traders, firstSlot);
      const p = people[trader]!;
      placements.push(signTx({ chainId, sender: p.address, nonce: nonces[trader]!++, expiresAtHeight: EXPIRES, msgs: [msg], memo: '' }, p.signer));
    }
    let admissionsMs = 0;
    let ordersMs = 0;
    const a = chunk(admissions, Math.ceil(admissions.length / ROUNDS));
    const o = chunk(placements, Math.ceil(placements.length / ROUNDS));
    for (let r = 0; r < a.length; r++) {
      admissionsMs += (a[r]!.length / (await measureSaturation(url, a[r]!, watcher))) * 1000;
      ordersMs += (o[r]!.length / (await measureSaturation(url, o[r]!, watcher))) * 1000;
    }
    const admissionsRate = (admissions.length * 1000) / admissionsMs;
    const ordersRate = (placements.length * 1000) / ordersMs;
    // Every placement was executed OK, not only committed: the last order id is the count.
    // (an order id is taken only by a placement that succeeded; the owner may read any order).
    const { token } = await login(net.home, url, keyring, 'admin');
    const last = await callRoute(url, marketRoutes.order, { params: { id: `o${options.orders}` } }, { token }).catch(() => undefined);
    if (!last) throw new Error(`order o${options.orders} is not on the ledger: some placements failed`);
    return {
      validators: options.validators,
      orders: options.orders,
      traders,
      admissionsPerSec: Math.round(admissionsRate),
      ordersPerSec: Math.round(ordersRate),
      ordersRatioToFoundation: Number((ordersRate / admissionsRate).toFixed(3)),
    };
  } finally {
    watcher.stop();
    await net.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '20000' },
      'clearing-orders': { type: 'string', default: '10000' },
      members: { type: 'string', default: '1000' },
      days: { type: 'string', default: '30' },
      network: { type: 'boolean', default: false },
      validators: { type: 'string', default: '1' },
    },
  });
  const { verifyPerSecOneCore } = await calibrate();
  const report = values.network
    ? await benchMarketNetwork({ validators: Number(values.validators), orders: Number(values.orders) })
    : await benchMarket({ orders: Number(values.orders), clearingOrders: Number(values['clearing-orders']), members: Number(values.members), days: Number(values.days), verifyPerSecOneCore });
  process.stdout.write(JSON.stringify({ ...withVerifyRatios(report, verifyPerSecOneCore), verifyPerSecOneCore }, null, 2) + '\n');
}
