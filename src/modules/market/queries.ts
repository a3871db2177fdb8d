import { FILTER_SCAN_ROWS, firstMatching, keyOf, matchingPage, type Keep, type Page } from '../../app/collections.js';
import { padKey } from '../../app/state.js';
import type { KeepersOf } from '../../app/module.js';
import { API_ERRORS } from '../../api/errors.js';
import { queryRoute, type QueryContext } from '../../surface/index.js';
import { marketRoutes } from './routes.js';
import { optionalSlot, slotRange } from '../../surface/query.js';
import { bigFloorDiv } from '../../util/int.js';
import { parseSlot, slotIso, slotOfMs } from '../../util/slots.js';
import type { MeterLink, Trader } from '../energy/keeper.js';
import { communityBills } from './billing.js';
import { E } from './errors.js';
import { labelSchema } from './messages.js';
import type { REQUIRES } from './rules.js';
import {
  active,
  billPeriods,
  bills,
  book,
  clearings,
  configs,
  contractBy,
  contractSlots,
  contracts,
  getContract,
  getOrder,
  getTrade,
  numberOf,
  openBy,
  orderBy,
  sessions,
  tariffs,
  tradeSlot,
  tradeBy,
  type ClearingResult,
  type Contract,
  type MarketConfig,
  type Order,
  type SessionKind,
  type Trade,
} from './state.js';

/** Read-side views of the market: what the routes answer (computed fields are derived here, never stored). */

type Ctx = QueryContext<KeepersOf<typeof REQUIRES>>;
type Range = { slot?: string; fromSlot?: string; toSlot?: string };

function requireMarketView(ctx: Ctx, community: string): MarketConfig {
  const config = configs.get(ctx.store, community);
  if (!config) {
    if (!ctx.keepers.energy.community(community)) throw E.MARKET_COMMUNITY_NOT_FOUND(`community ${community} does not exist`);
    throw E.MARKET_NOT_FOUND(`community ${community} has no market`);
  }
  return config;
}

const orderView = (o: Order) => ({ ...o, slotIso: slotIso(o.slot) });
const tradeView = (t: Trade) => ({ ...t, slotIso: slotIso(t.slot) });

function parseLabels(value: string | undefined): string[] {
  if (value === undefined) return [];
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const p of parts) if (!labelSchema.safeParse(p).success) throw API_ERRORS.REQUEST_INVALID(`labels: ${JSON.stringify(p)} is not a label`);
  return parts;
}

export function marketQuery(ctx: Ctx, community: string) {
  return { market: requireMarketView(ctx, community), tariffs: tariffs.list(ctx.store, [community]) };
}

/** Open orders of one side of a session grouped by price, best first. */
function depth(ctx: Ctx, community: string, slot: number, session: SessionKind, side: 'offer' | 'bid') {
  const levels: Array<{ price: number; wh: number; orders: number }> = [];
  for (const id of book.list(ctx.store, [community, slot, session, side])) {
    const o = getOrder(ctx.store, id)!;
    const last = levels[levels.length - 1];
    if (last && last.price === o.price) {
      last.wh += o.remainingWh;
      last.orders += 1;
    } else levels.push({ price: o.price, wh: o.remainingWh, orders: 1 });
  }
  return levels;
}

export function bookQuery(ctx: Ctx, community: string, slotText: string) {
  requireMarketView(ctx, community);
  const slot = parseSlot(slotText, { round: true });
  const out = (['fwd', 'spot'] as const)
    .map((session) => ({ session, info: sessions.get(ctx.store, community, slot, session) }))
    .filter((s) => s.info !== undefined)
    .map(({ session, info }) => ({ session, gateTime: info!.gateTime, closed: info!.closed, offers: depth(ctx, community, slot, session, 'offer'), bids: depth(ctx, community, slot, session, 'bid') }));
  return { community, slot, slotIso: slotIso(slot), sessions: out };
}

export function offersQuery(ctx: Ctx, community: string, q: Range & { maxPrice?: number; labels?: string; seller?: string; limit: number }) {
  requireMarketView(ctx, community);
  const { fromSlot, toSlot } = slotRange(q);
  const want = parseLabels(q.labels);
  // The book holds open orders only, keyed <slot>/<session>/<side>/<price>/<n>: read in key order it
  // is slot by slot, forward session before spot, best price first — and never a closed session.
  const found = new Map<string, Order>();
  const keep: Keep<string> = (id, key) => {
    if (key.split('/', 3)[2] !== 'offer') return false;
    const o = getOrder(ctx.store, id)!;
    if ((q.maxPrice !== undefined && o.price > q.maxPrice) || (q.seller !== undefined && o.trader !== q.seller) || !want.every((l) => o.labels.includes(l))) return false;
    found.set(id, o);
    return true;
  };
  const ids = firstMatching(ctx.store, `${book.prefix}${community}/`, keep, { limit: q.limit, from: keyOf([fromSlot]), to: keyOf([toSlot]) });
  return { community, offers: ids.map((id) => orderView(found.get(id)!)) };
}

export function ordersQuery(ctx: Ctx, community: string, q: { trader: string; status: 'open' | 'closed' | 'all'; limit: number }) {
  requireMarketView(ctx, community);
  // open orders have their own index (exactly the open ones); closed ones are read from all of the trader's, newest first, until the page is full
  const index = q.status === 'open' ? openBy : orderBy;
  const found = new Map<string, Order>();
  const keep = (id: string) => {
    const o = getOrder(ctx.store, id)!;
    if ((q.status === 'open' && o.status !== 'open') || (q.status === 'closed' && o.status === 'open')) return false;
    found.set(id, o);
    return true;
  };
  const ids = firstMatching(ctx.store, `${index.prefix}${keyOf([community, q.trader])}/`, keep, { limit: q.limit, reverse: true });
  return { community, trader: q.trader, orders: ids.map((id) => orderView(found.get(id)!)) };
}

export function orderQuery(ctx: Ctx, id: string) {
  const o = getOrder(ctx.store, id);
  if (!o) throw E.MARKET_ORDER_NOT_FOUND(`no order ${id}`);
  const trades = tradeBy
    .list(ctx.store, [o.community, o.trader], { from: o.slot, to: o.slot + 1 })
    .map((tid) => getTrade(ctx.store, tid)!)
    .filter((t) => t.bid === id || t.offer === id);
  return { order: orderView(o), trades: trades.map(tradeView) };
}

/**
 * Trades of a slot range in (slot, id) order, of the community or of one trader (each index is keyed
 * …/<slot>/<n>): `limit` of them after the trade `after` (exclusive), and the last one's id as `next`
 * when more follow (one more index row is read to know).
 */
export function tradesQuery(ctx: Ctx, community: string, q: Range & { trader?: string; after?: string; limit: number }) {
  requireMarketView(ctx, community);
  const { fromSlot, toSlot } = slotRange(q);
  let from = keyOf([fromSlot]);
  if (q.after !== undefined) {
    const t = getTrade(ctx.store, q.after);
    if (!t || t.community !== community || (q.trader !== undefined && t.buyer !== q.trader && t.seller !== q.trader)) throw API_ERRORS.REQUEST_INVALID(`after: ${q.after} is not a trade of this list`);
    const cursor = `${keyOf([t.slot, numberOf(t.id)])}\u0000`;
    if (cursor > from) from = cursor;
  }
  const range = { from, to: toSlot, limit: q.limit + 1 };
  const ids = q.trader === undefined ? tradeSlot.list(ctx.store, [community], range) : tradeBy.list(ctx.store, [community, q.trader], range);
  const trades = ids.slice(0, q.limit).map((id) => tradeView(getTrade(ctx.store, id)!));
  const next = ids.length > q.limit ? trades[trades.length - 1]!.id : undefined;
  return { community, trades, truncated: next !== undefined, ...(next !== undefined ? { next } : {}) };
}

/** Rows read per chunk while grouping a range's trades by slot and session. */
const TRADE_CHUNK = 1000;

/** Price and volume per slot and session: the stored clearing (pay-as-clear) or the trades' mean, min and max; `limit` rows of whole slots, `nextSlot` when more follow. */
export function clearingQuery(ctx: Ctx, community: string, q: Range & { limit: number }) {
  const config = requireMarketView(ctx, community);
  const { fromSlot, toSlot } = slotRange(q);
  const rows: Array<ReturnType<typeof fromClearing> | ReturnType<typeof fromTrades>> = [];
  let nextSlot: number | undefined;
  if (config.type === 'pay-as-clear') {
    // one beyond the page tells whether more follow
    const found = clearings.entries(ctx.store, [community], { from: fromSlot, to: toSlot, limit: q.limit + 1 });
    for (const [, c] of found.slice(0, q.limit)) rows.push(fromClearing(ctx, c));
    if (found.length > q.limit) nextSlot = found[q.limit]![1].slot;
  } else {
    nextSlot = tradesBySession(ctx, community, fromSlot, toSlot, q.limit, (trades) => rows.push(fromTrades(trades)));
  }
  return { community, type: config.type, slots: rows, ...(nextSlot !== undefined ? { nextSlot } : {}) };
}

/**
 * A range's trades grouped by slot and session, in slot then session order, `limit` groups at most
 * (a slot is always whole); the slot to continue from when more follow.
 */
function tradesBySession(ctx: Ctx, community: string, fromSlot: number, toSlot: number, limit: number, emit: (trades: Trade[]) => void): number | undefined {
  let emitted = 0;
  let slot: number | undefined;
  let bySession = new Map<string, Trade[]>();
  const flush = () => {
    for (const session of [...bySession.keys()].sort()) emit(bySession.get(session)!);
    emitted += bySession.size;
    bySession = new Map();
  };
  let from: number | string = fromSlot;
  for (;;) {
    const ids = tradeSlot.entries(ctx.store, [community], { from, to: toSlot, limit: TRADE_CHUNK });
    for (const [key, id] of ids) {
      const t = getTrade(ctx.store, id)!;
      if (t.slot !== slot) {
        flush();
        if (emitted >= limit) return t.slot;
        slot = t.slot;
      }
      const same = bySession.get(t.session);
      if (same) same.push(t);
      else bySession.set(t.session, [t]);
      from = `${key.slice(key.indexOf('/') + 1)}\u0000`;
    }
    if (ids.length < TRADE_CHUNK) break;
  }
  flush();
  return undefined;
}

function fromClearing(ctx: Ctx, c: ClearingResult) {
  const ids = tradeSlot.list(ctx.store, [c.community], { from: c.slot, to: c.slot + 1 });
  const trades = ids.map((id) => getTrade(ctx.store, id)!).filter((t) => t.session === c.session);
  const prices = c.classes.filter((p) => p.price !== null).map((p) => p.price!);
  return {
    slot: c.slot,
    slotIso: slotIso(c.slot),
    session: c.session,
    source: 'clearing' as const,
    price: prices.length === 1 ? prices[0]! : prices.length === 0 ? null : meanPrice(trades),
    volumeWh: c.volumeWh,
    trades: trades.length,
    minPrice: prices.length ? Math.min(...prices) : null,
    maxPrice: prices.length ? Math.max(...prices) : null,
    products: c.classes.map((p) => ({ labels: p.labels, price: p.price, volumeWh: p.volumeWh, bids: p.bids, offers: p.offers, trades: p.trades })),
  };
}

/** ⌊Σ value × 1000 / Σ Wh⌋: the volume-weighted mean price in µ per kWh. */
function meanPrice(trades: Trade[]): number | null {
  const wh = trades.reduce((s, t) => s + t.wh, 0);
  if (wh === 0) return null;
  const value = trades.reduce((s, t) => s + BigInt(t.wh) * BigInt(t.price), 0n);
  return Number(bigFloorDiv(value, BigInt(wh)));
}

function fromTrades(trades: Trade[]) {
  const first = trades[0]!;
  const prices = trades.map((t) => t.price);
  return {
    slot: first.slot,
    slotIso: slotIso(first.slot),
    session: first.session,
    source: 'trades' as const,
    price: meanPrice(trades),
    volumeWh: trades.reduce((s, t) => s + t.wh, 0),
    trades: trades.length,
    minPrice: Math.min(...prices),
    maxPrice: Math.max(...prices),
    products: [],
  };
}

/**
 * Supply contracts of a community, or of one party, newest first (by number), optionally of one
 * status: `limit` of them numbered below `after` (exclusive), and `next` when more may follow.
 * Read only until the page is full: a party's contracts and the active ones from their indexes
 * (`contractby/<c>/<party>/<n>`, `active/<c>/<n>`: newest first in key order), at most
 * FILTER_SCAN_ROWS rows per request (a rare status then answers a short page whose `next` is the last
 * contract read). The community's own index holds each contract under both parties, in party order,
 * not by number: a community with at most FILTER_SCAN_ROWS of its rows is ordered from them (then
 * only the page's records are read); a larger one reads every community's contract records newest
 * first from `after`, at most FILTER_SCAN_ROWS of them (an exact order of the community's alone needs
 * an index by community and number, a change of the state layout).
 */
export function contractsQuery(ctx: Ctx, community: string, q: { party?: string; status?: Contract['status']; after?: string; limit: number }) {
  requireMarketView(ctx, community);
  const below = q.after === undefined ? undefined : numberOf(q.after);
  const kept = (k: Contract) => q.status === undefined || k.status === q.status;
  let page: Page<Contract>;
  if (q.party !== undefined || q.status === 'active') {
    const found = new Map<string, Contract>();
    const keep: Keep<string> = (id) => {
      const k = getContract(ctx.store, id)!;
      if (!kept(k)) return false;
      found.set(id, k);
      return true;
    };
    const prefix = q.party !== undefined ? `${contractBy.prefix}${keyOf([community, q.party])}/` : `${active.prefix}${community}/`;
    const ids = matchingPage(ctx.store, prefix, keep, { ...(below !== undefined ? { after: padKey(below) } : {}), limit: q.limit, reverse: true, maxRows: FILTER_SCAN_ROWS });
    page = { items: ids.items.map((id) => found.get(id)!), ...(ids.next !== undefined ? { next: ids.next } : {}) };
  } else {
    page = communityContracts(ctx, community, kept, below, q.limit);
  }
  return { community, contracts: page.items, ...(page.next !== undefined ? { next: `sc${Number(page.next)}` } : {}) };
}

/** A page of a community's contracts numbered below `below`, newest first (see contractsQuery); `next` is a contract number's key. */
function communityContracts(ctx: Ctx, community: string, kept: (k: Contract) => boolean, below: number | undefined, limit: number): Page<Contract> {
  const rows = contractBy.list(ctx.store, [community], { limit: FILTER_SCAN_ROWS + 1 });
  if (rows.length > FILTER_SCAN_ROWS) {
    return matchingPage(ctx.store, contracts.prefix, (k) => k.community === community && kept(k), { ...(below !== undefined ? { after: padKey(below) } : {}), limit, reverse: true, maxRows: FILTER_SCAN_ROWS });
  }
  // each contract twice (under its consumer and its prosumer): its number once, newest first
  const numbers = [...new Set(rows.map(numberOf))].filter((n) => below === undefined || n < below).sort((a, b) => b - a);
  const items: Contract[] = [];
  for (const n of numbers) {
    const k = contracts.get(ctx.store, n)!;
    if (!kept(k)) continue;
    if (items.length === limit) return { items, next: padKey(numberOf(items[limit - 1]!.id)) };
    items.push(k);
  }
  return { items };
}

export function contractQuery(ctx: Ctx, id: string) {
  const k = getContract(ctx.store, id);
  if (!k) throw E.MARKET_CONTRACT_NOT_FOUND(`no supply contract ${id}`);
  return { contract: k, slots: contractSlots.list(ctx.store, [numberOf(k.id)]) };
}

/**
 * Producers of the community: its active traders with a producer meter linked at the slot, by
 * address, with their open offers. A page: the community's traders from `after` (exclusive) are read
 * until `limit` producers and one more are found (then `next` is the page's last producer), or
 * FILTER_SCAN_ROWS traders were read (then `next` is the last trader read, and the page may be short).
 */
export function producersQuery(ctx: Ctx, community: string, q: { slot?: string; after?: string; limit: number }) {
  requireMarketView(ctx, community);
  const slot = optionalSlot(q.slot) ?? slotOfMs(ctx.time);
  const meters = new Map<string, MeterLink[]>();
  const isProducer = (t: Trader) => {
    if (t.status !== 'active') return false;
    const own = ctx.keepers.energy.metersOf(community, t.address, slot).filter((l) => l.kind === 'producer');
    if (own.length === 0) return false;
    meters.set(t.address, own);
    return true;
  };
  const page = ctx.keepers.energy.tradersMatching(community, isProducer, { ...(q.after !== undefined ? { after: q.after } : {}), limit: q.limit, maxRows: FILTER_SCAN_ROWS });
  const producers = page.items.map((t) => {
    // the producer's open orders (at most maxOpenOrdersPerTrader), its offers among them
    const open = openBy
      .list(ctx.store, [community, t.address])
      .map((id) => getOrder(ctx.store, id)!)
      .filter((o) => o.side === 'offer');
    return {
      trader: t.address,
      meters: meters.get(t.address)!.map((l) => ({ meterId: l.meterId, labels: l.labels })),
      openOffers: open.length,
      offeredWh: open.reduce((s, o) => s + o.remainingWh, 0),
      bestPrice: open.length ? Math.min(...open.map((o) => o.price)) : null,
    };
  });
  return { community, slot, producers, ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function billsQuery(ctx: Ctx, community: string, q: { fromDay: string; toDay: string; member?: string; after?: string; limit: number }) {
  requireMarketView(ctx, community);
  const r = communityBills(ctx, { community, fromDay: q.fromDay, toDay: q.toDay, member: q.member, after: q.after, limit: q.limit });
  return { community, bills: r.bills, ...(r.next !== undefined ? { next: r.next } : {}) };
}

export function billRecordQuery(ctx: Ctx, hash: string) {
  const record = bills.get(ctx.store, hash);
  if (!record) throw E.MARKET_BILL_NOT_FOUND(`no bill with hash ${hash} is recorded on the ledger`);
  const latest = billPeriods.get(ctx.store, record.community, record.member, record.fromSlot, record.toSlot)!;
  return { record, latest, superseded: latest.hash !== record.hash };
}

/** The bills route bound to its handler (here, not in surface.ts, so the dashboard's statement verifier can re-run it without the CLI). */
export const billsRoute = queryRoute(marketRoutes.bills, (ctx, { params, query }) => billsQuery(ctx, params.community, query));
