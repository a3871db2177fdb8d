import { clearUniform, type ClearOrder } from './clearing.js';
import { lapseProposal, returnDeposit } from './contracts.js';
import { Budget, cursorOf, putDue, settleCommunity } from './delivery.js';
import { closeOrder, makeTrade } from './orders.js';
import { canTrade, type MarketContext } from './rules.js';
import { book, clearings, configs, deposits, dues, gates, getOrder, lapses, numberOf, sessions, type ClearingResult, type MarketConfig, type Order, type SessionKind } from './state.js';

/**
 * The market's end-of-block step, bounded by `endBlockWork` units (docs/market.md, "Per-block
 * bound"): first the gate closures that are due (pay-as-clear sessions clear; open orders of the
 * other market types expire), in (gate time, community, slot, session) order; then contract
 * proposals whose first slot began (they lapse); then each community's delivery settlement (state
 * version 2: only the communities whose cursor's slot has ended, oldest due first; version 1: every
 * market community, in community order); then deposits whose dispute window passed. Work that does
 * not fit waits for the next block, in the same order.
 *
 * Units: a gate closure costs 2 × (orders the session received) + 1 — every order is read once and
 * every trade it makes fills at least one order —, which maxOrdersPerSession keeps within one block;
 * a lapsed proposal 1; a settled slot 1, plus 1 per meter checked, per trade delivered and per
 * contract slot covered; a returned deposit 1.
 */

/** Due gate closures looked at per block (each is processed only when its cost fits the budget). */
const GATE_SCAN = 1_000;
/** Due communities looked at per block (state version 2); the others wait for the next block, in order. */
export const DUE_SCAN = 1_000;

export function marketEndBlock(ctx: MarketContext): void {
  const budget = new Budget(ctx.params.endBlockWork);
  runGates(ctx, budget);
  for (const [key, id] of lapses.entries(ctx.store, [], { to: ctx.time + 1, limit: GATE_SCAN })) {
    if (!budget.take(1)) break;
    lapseProposal(ctx, id);
    ctx.store.delete(lapses.prefix + key);
  }
  if (ctx.stateVersion >= 2) settleDueCommunities(ctx, budget);
  else for (const config of configs.list(ctx.store)) settleCommunity(ctx, config, budget);
  for (const [key, id] of deposits.entries(ctx.store, [], { to: ctx.time + 1, limit: GATE_SCAN })) {
    if (!budget.take(1)) break;
    returnDeposit(ctx, id);
    ctx.store.delete(deposits.prefix + key);
  }
}

/** The communities whose delivery is due, read before any moves (settling one rewrites its entry). */
function settleDueCommunities(ctx: MarketContext, budget: Budget): void {
  const due = dues.entries(ctx.store, [], { to: ctx.time + 1, limit: DUE_SCAN });
  for (const [key] of due) {
    const community = key.slice(key.indexOf('/') + 1);
    settleCommunity(ctx, configs.get(ctx.store, community)!, budget);
  }
}

/** State version 2: every market community's due entry, from its cursor (ADR 0029; once, at the migration). */
export function migrateToDueCommunities(ctx: MarketContext): void {
  for (const config of configs.list(ctx.store)) putDue(ctx, config.community, cursorOf(ctx, config).slot);
}

function runGates(ctx: MarketContext, budget: Budget): void {
  for (const [key] of gates.entries(ctx.store, [], { to: ctx.time + 1, limit: GATE_SCAN })) {
    const [, community, slotKey, session] = key.split('/') as [string, string, string, SessionKind];
    const slot = Number(slotKey);
    const s = sessions.get(ctx.store, community, slot, session)!;
    if (!budget.take(2 * s.orders + 1)) break;
    closeSession(ctx, configs.get(ctx.store, community)!, slot, session);
    sessions.put(ctx.store, { ...s, closed: true }, community, slot, session);
    ctx.store.delete(gates.prefix + key);
  }
}

/** Gate closure of one session: pay-as-clear clears it; every order still open then expires. */
function closeSession(ctx: MarketContext, config: MarketConfig, slot: number, session: SessionKind): void {
  const live = new Map<string, Order>();
  for (const id of book.list(ctx.store, [config.community, slot, session])) {
    const o = getOrder(ctx.store, id);
    if (o && o.status === 'open') live.set(id, o);
  }
  if (config.type === 'pay-as-clear') clear(ctx, config, slot, session, live);
  for (const id of [...live.keys()].sort((a, b) => numberOf(a) - numberOf(b))) {
    const o = live.get(id)!;
    if (o.status === 'open') closeOrder(ctx, o, 'expired');
  }
  ctx.emit('market.gate_closed', { community: config.community, slot, session });
}

function clear(ctx: MarketContext, config: MarketConfig, slot: number, session: SessionKind, live: Map<string, Order>): void {
  const bids: ClearOrder[] = [];
  const offers: ClearOrder[] = [];
  for (const o of live.values()) {
    // Orders of traders who were revoked or removed since they posted take no part.
    if (!canTrade(ctx, o.community, o.trader)) continue;
    const c: ClearOrder = { id: o.id, seq: numberOf(o.id), price: o.price, wh: o.remainingWh, labels: o.labels };
    (o.side === 'bid' ? bids : offers).push(c);
  }
  const products = clearUniform(bids, offers);
  for (const p of products) {
    for (const f of p.fills) {
      const made = makeTrade(ctx, config, live.get(f.bid)!, live.get(f.offer)!, f.wh, p.price!);
      live.set(f.bid, made.bid);
      live.set(f.offer, made.offer);
    }
  }
  const result: ClearingResult = {
    community: config.community,
    slot,
    session,
    bids: bids.length,
    offers: offers.length,
    volumeWh: products.reduce((s, p) => s + p.volumeWh, 0),
    classes: products.map((p) => ({ labels: p.labels, price: p.price, volumeWh: p.volumeWh, bids: p.bids, offers: p.offers, trades: p.fills.length })),
    height: ctx.height,
    time: ctx.time,
  };
  clearings.put(ctx.store, result, config.community, slot, session);
  ctx.emit('market.cleared', { community: config.community, slot, session, volumeWh: result.volumeWh, price: products.map((p) => p.price ?? '-').join(',') });
}
