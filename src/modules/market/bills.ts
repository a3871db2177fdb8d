import { E } from './errors.js';
import type { RecordBillsMsg } from './messages.js';
import { requireMarket, slotStart, type MarketContext } from './rules.js';
import { billPeriods, bills } from './state.js';

/**
 * The community owner records the hashes of the bills it issued (docs/market.md, "Bills"). A bill's
 * period must have ended and its member must have been a trader of the community; recording another
 * hash for the same member and period is a correction: it gets the next revision and supersedes the
 * earlier one (`gridledger verify statement` says so).
 */
export function recordBills(ctx: MarketContext, msg: RecordBillsMsg): void {
  requireMarket(ctx, msg.community);
  const c = ctx.keepers.energy.community(msg.community)!;
  if (c.owner !== ctx.sender) throw E.MARKET_NOT_OWNER(`only the owner ${c.owner} of community ${c.id} records its bills`);
  const seen = new Set<string>();
  for (const ref of msg.bills) {
    if (seen.has(ref.hash) || bills.has(ctx.store, ref.hash)) throw E.MARKET_BILL_DUPLICATE(`bill ${ref.hash} is already recorded`);
    seen.add(ref.hash);
    if (ref.toSlot <= ref.fromSlot) throw E.MARKET_BILL_INVALID_PERIOD(`period [${ref.fromSlot}, ${ref.toSlot}) is empty or reversed`);
    if (slotStart(ref.toSlot) > ctx.time) throw E.MARKET_BILL_PERIOD_OPEN(`period [${ref.fromSlot}, ${ref.toSlot}) has not ended yet`);
    if (ctx.keepers.energy.trader(msg.community, ref.member) === undefined) throw E.MARKET_BILL_NOT_MEMBER(`${ref.member} never was a trader of community ${c.id}`);
    const latest = billPeriods.get(ctx.store, msg.community, ref.member, ref.fromSlot, ref.toSlot);
    const revision = (latest?.revision ?? 0) + 1;
    bills.put(ctx.store, { hash: ref.hash, community: msg.community, member: ref.member, fromSlot: ref.fromSlot, toSlot: ref.toSlot, revision, by: ctx.sender, height: ctx.height, time: ctx.time, txHash: ctx.txHash }, ref.hash);
    billPeriods.put(ctx.store, { hash: ref.hash, revision }, msg.community, ref.member, ref.fromSlot, ref.toSlot);
  }
  ctx.emit('market.bills', { community: msg.community, count: msg.bills.length });
}
