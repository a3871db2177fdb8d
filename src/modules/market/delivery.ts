import { contractsAt, settleContractSlot } from './contracts.js';
import { orderRef, releaseMoney } from './orders.js';
import { deliverFrom, sourcesFor } from './sources.js';
import { canTrade, FUNDS, minBig, slotEnd, valueOf, type MarketContext } from './rules.js';
import { cursors, dues, getOrder, getTrade, numberOf, pending, putOrder, putTrade, sessions, type Cursor, type DeliveredPart, type MarketConfig, type Trade } from './state.js';

/**
 * Delivery settlement of forward trades and supply contracts, slot by slot per community, at the end
 * of a block.
 *
 * A community's slots settle in order (its cursor). Slot S waits until it has ended and its forward
 * gate was processed; then until every meter linked at S to a seller of S's trades or to a party of
 * a contract running at S has reported S — or until the settlement deadline, settleAfterSec after
 * S's end, whichever comes first. Then, in id order, each trade delivers and pays (`settleTrade`),
 * and after all of them each running contract covers the slot (`settleContractSlot`).
 *
 * Shortfall rule. A trade of Q Wh at price p: the seller's free energy at S that carries the offer's
 * labels (its metered production less what it already delivered or locked; `sourcesFor`) delivers
 * D = min(Q, that energy) Wh;
 * the buyer pays ⌊Q × p / 1000⌋ from its bid's lock, as if all were delivered; for the shortfall
 * Q − D, which the buyer takes from the grid at the community's import tariff t (recorded in the
 * offer when it was posted), the seller pays the buyer ⌊(Q − D) × t / 1000⌋ from the collateral its
 * offer locked (⌈offer Wh × t / 1000⌉) and gets the rest of that trade's collateral back. Every
 * amount moves from one account to another, so money is conserved to the µ.
 */

export class Budget {
  constructor(public left: number) {}
  /** Takes `units` if they fit; false (nothing taken) otherwise. */
  take(units: number): boolean {
    if (units > this.left) return false;
    this.left -= units;
    return true;
  }
  spend(units: number): void {
    this.left -= units;
  }
}

/** Delivers one forward trade (the shortfall rule above); a trade whose buyer or seller can no longer trade is void and its reservations go back. */
export function settleTrade(ctx: MarketContext, t: Trade): void {
  const bid = getOrder(ctx.store, t.bid)!;
  const offer = getOrder(ctx.store, t.offer)!;
  const value = BigInt(t.valueMicro);
  const collateral = valueOf(t.wh, offer.shortfallPrice ?? 0);
  let parts: DeliveredPart[] = [];
  let compensation = 0n;
  let reason: string | undefined;
  if (!canTrade(ctx, t.community, t.buyer) || !canTrade(ctx, t.community, t.seller)) {
    reason = 'a party is revoked or no longer a trader of the community';
    releaseMoney(ctx, bid.id, value);
    releaseMoney(ctx, offer.id, collateral);
  } else {
    parts = deliverFrom(ctx, t.community, t.seller, t.slot, sourcesFor(ctx, t.community, t.seller, t.slot, t.labels), t.wh, t.buyer, `market trade ${t.id}`);
    if (value > 0n) ctx.keepers.payments.payFromLock(FUNDS, orderRef(bid.id), t.seller, value, `market trade ${t.id}`);
    compensation = minBig(valueOf(t.wh - sumWh(parts), offer.shortfallPrice ?? 0), collateral);
    if (compensation > 0n) ctx.keepers.payments.payFromLock(FUNDS, orderRef(offer.id), t.buyer, compensation, `shortfall of market trade ${t.id}`);
    releaseMoney(ctx, offer.id, collateral - compensation);
  }
  const delivered = sumWh(parts);
  putOrder(ctx.store, { ...bid, reservedMicro: (BigInt(bid.reservedMicro) - value).toString(), pendingTrades: bid.pendingTrades - 1 });
  putOrder(ctx.store, { ...offer, reservedMicro: (BigInt(offer.reservedMicro) - collateral).toString(), pendingTrades: offer.pendingTrades - 1 });
  pending.delete(ctx.store, t.community, t.slot, numberOf(t.id));
  const settled: Trade = {
    ...t,
    status: reason ? 'void' : 'settled',
    delivery: { deliveredWh: delivered, shortfallWh: reason ? 0 : t.wh - delivered, compensationMicro: compensation.toString(), parts, height: ctx.height, time: ctx.time, ...(reason ? { reason } : {}) },
  };
  putTrade(ctx.store, settled);
  ctx.emit('market.delivery', { trade: t.id, deliveredWh: delivered, shortfallWh: settled.delivery!.shortfallWh, compensation: compensation.toString(), status: settled.status });
}

function sumWh(parts: readonly DeliveredPart[]): number {
  return parts.reduce((s, p) => s + p.wh, 0);
}

/** Meters whose reading for `slot` the settlement waits for: those of the sellers and contract parties involved. */
function metersInvolved(ctx: MarketContext, community: string, slot: number, trades: Trade[]): string[] {
  const parties = new Set<string>();
  for (const t of trades) parties.add(t.seller);
  for (const k of contractsAt(ctx, community, slot)) {
    parties.add(k.consumer);
    parties.add(k.prosumer);
  }
  const meters = new Set<string>();
  for (const p of [...parties].sort()) for (const l of ctx.keepers.energy.metersOf(community, p, slot)) meters.add(l.meterId);
  return [...meters].sort();
}

function hasReading(ctx: MarketContext, meterId: string, slot: number): boolean {
  return ctx.keepers.metering.series(meterId, slot, slot + 1).length > 0;
}

/**
 * Due entries (state version 2): a community is due from the end of the slot its cursor stands at.
 * A community held back after that (a gate closure still to run, readings awaited, the budget spent)
 * keeps its entry, whose time has passed, so every block visits it again — as version 1 visits every
 * community; one waiting for its slot to end is not visited at all.
 */
export function putDue(ctx: MarketContext, community: string, slot: number): void {
  dues.put(ctx.store, 1, slotEnd(slot), community);
}

function moveDue(ctx: MarketContext, community: string, from: number, to: number): void {
  dues.delete(ctx.store, slotEnd(from), community);
  putDue(ctx, community, to);
}

/** A community's delivery cursor (a market opened before cursors were stored starts at its opening slot). */
export function cursorOf(ctx: MarketContext, config: MarketConfig): Cursor {
  return cursors.get(ctx.store, config.community) ?? { slot: config.openSlot };
}

/**
 * Settles the community's slots that are due, in order, within the budget. Returns when the next slot
 * is not due yet or the budget is spent (the next block continues).
 */
export function settleCommunity(ctx: MarketContext, config: MarketConfig, budget: Budget): void {
  const c = config.community;
  const start = cursorOf(ctx, config);
  let cursor: Cursor = start;
  // Written only when a new cursor was made (an idle community's cursor is left as stored).
  const save = () => {
    if (cursor === start) return;
    cursors.put(ctx.store, cursor, c);
    if (ctx.stateVersion >= 2 && cursor.slot !== start.slot) moveDue(ctx, c, start.slot, cursor.slot);
  };
  for (;;) {
    const slot = cursor.slot;
    if (ctx.time < slotEnd(slot)) break;
    const fwd = sessions.get(ctx.store, c, slot, 'fwd');
    if (fwd && !fwd.closed) break; // its gate closure (clearing or expiry) has not run yet
    if (!budget.take(1)) break;
    const ids = pending.list(ctx.store, [c, slot]);
    const contracts = contractsAt(ctx, c, slot);
    if (ids.length === 0 && contracts.length === 0) {
      cursor = { slot: slot + 1 };
      continue;
    }
    if (ctx.time < slotEnd(slot) + config.settleAfterSec * 1000 && !cursor.settling) {
      const waiting = cursor.awaiting ?? metersInvolved(ctx, c, slot, ids.map((id) => getTrade(ctx.store, id)!));
      budget.spend(waiting.length);
      const missing = waiting.filter((m) => !hasReading(ctx, m, slot));
      if (missing.length > 0) {
        cursor = { slot, awaiting: missing };
        break;
      }
    }
    cursor = { slot, settling: true };
    let done = true;
    for (const id of ids) {
      if (!budget.take(1)) {
        done = false;
        break;
      }
      settleTrade(ctx, getTrade(ctx.store, id)!);
    }
    if (!done) break;
    for (const k of contracts) {
      if (!budget.take(1)) {
        done = false;
        break;
      }
      settleContractSlot(ctx, k, slot);
    }
    if (!done) break;
    cursor = { slot: slot + 1 };
  }
  save();
}
