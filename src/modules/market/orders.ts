import { E } from './errors.js';
import type { BidMsg, CancelMsg, OfferMsg } from './messages.js';
import {
  canTrade,
  ceilValueOf,
  ENERGY,
  FUNDS,
  gateTime,
  requireMarket,
  requireTrader,
  sessionAt,
  txRef,
  valueOf,
  type MarketContext,
} from './rules.js';
import {
  book,
  contractIdsToCheck,
  gates,
  getContract,
  getOrder,
  nextNumber,
  numberOf,
  openBy,
  orderBy,
  pending,
  priceKey,
  putOrder,
  putTrade,
  sessions,
  tariffAt,
  tradeBy,
  tradeSlot,
  type MarketConfig,
  type Order,
  type OrderStatus,
  type Side,
  type Trade,
} from './state.js';

/**
 * Orders: posting with their locks, continuous and pay-as-offer matching, trades, cancellation and
 * expiry. The money and energy an order locks always equals what its open quantity and its trades
 * awaiting delivery can still need; closing an order releases the rest at once.
 */

/** Lock references in payments and energy: one per order. */
export const orderRef = (id: string) => `order/${id}`;

function sortedLabels(labels: readonly string[] | undefined): string[] {
  return [...new Set(labels ?? [])].sort();
}

/** The offer carries every label the bid requires. */
export function compatible(bid: Pick<Order, 'labels'>, offer: Pick<Order, 'labels'>): boolean {
  return bid.labels.every((l) => offer.labels.includes(l));
}

function crosses(bid: Pick<Order, 'price'>, offer: Pick<Order, 'price'>): boolean {
  return bid.price >= offer.price;
}

function bidAndOffer(a: Order, b: Order): { bid: Order; offer: Order } {
  return a.side === 'bid' ? { bid: a, offer: b } : { bid: b, offer: a };
}

function openOrdersOf(ctx: MarketContext, community: string, trader: string): Order[] {
  return openBy
    .list(ctx.store, [community, trader])
    .map((id) => getOrder(ctx.store, id))
    .filter((o): o is Order => o !== undefined);
}

/**
 * A trader's open orders in a community, counted up to `limit` on the open-orders index alone: the
 * index holds exactly the open orders (posting adds, closing removes), so no order record is read
 * (reading them made every post cost one record per open order of its trader).
 */
function openOrderCount(ctx: MarketContext, community: string, trader: string, limit: number): number {
  return openBy.list(ctx.store, [community, trader], { limit }).length;
}

/** The active supply contract that makes `consumer` buy only from its prosumer at `slot`, if any. */
export function contractCovering(ctx: MarketContext, community: string, consumer: string, slot: number) {
  for (const id of contractIdsToCheck(ctx.store, ctx.stateVersion, community, consumer)) {
    const k = getContract(ctx.store, id);
    if (k && k.status === 'active' && k.consumer === consumer && k.startSlot <= slot && slot < k.endSlot) return k;
  }
  return undefined;
}

function requireLimits(ctx: MarketContext, config: MarketConfig, msg: OfferMsg | BidMsg): void {
  const p = ctx.params;
  if (msg.wh > p.maxOrderWh) throw E.MARKET_VOLUME_LIMIT(`${msg.wh} Wh is above maxOrderWh ${p.maxOrderWh}`);
  if (msg.price > p.maxPrice) throw E.MARKET_PRICE_LIMIT(`${msg.price} µ/kWh is above maxPrice ${p.maxPrice}`);
  if (openOrderCount(ctx, config.community, ctx.sender, p.maxOpenOrdersPerTrader) >= p.maxOpenOrdersPerTrader) {
    throw E.MARKET_OPEN_ORDERS_LIMIT(`${ctx.sender} already has ${p.maxOpenOrdersPerTrader} open orders in ${config.community}`);
  }
}

/** Reserves the money (bid payment, forward offer collateral) or the energy (spot offer) of a new order. */
function lockFor(ctx: MarketContext, config: MarketConfig, o: Order): Order {
  const { payments, energy } = ctx.keepers;
  if (o.side === 'offer' && o.session === 'spot') {
    const free = energy.freeBalance(o.community, o.trader, o.slot, o.labels);
    if (free < o.wh) throw E.MARKET_INSUFFICIENT_ENERGY(`${o.trader} holds ${free} Wh [${o.labels.join(',') || '-'}] free at slot ${o.slot}; the offer needs ${o.wh} Wh`);
    energy.lock(ENERGY, orderRef(o.id), { community: o.community, trader: o.trader, slot: o.slot, labels: o.labels, wh: o.wh });
    return { ...o, energyLocked: true };
  }
  let shortfallPrice: number | undefined;
  let amount: bigint;
  if (o.side === 'bid') {
    amount = ceilValueOf(o.wh, o.price);
  } else {
    shortfallPrice = tariffAt(ctx.store, o.community, o.slot)?.importPrice ?? 0;
    amount = ceilValueOf(o.wh, shortfallPrice);
  }
  if (amount > 0n) {
    const free = payments.balance(o.trader, config.asset);
    if (free < amount) throw E.MARKET_INSUFFICIENT_FUNDS(`${o.trader} holds ${free} µ of ${config.asset} free; the ${o.side === 'bid' ? 'bid locks' : 'offer locks a shortfall collateral of'} ${amount} µ`);
    payments.lock(FUNDS, orderRef(o.id), o.trader, config.asset, amount);
  }
  return { ...o, lockedMicro: amount.toString(), ...(shortfallPrice !== undefined ? { shortfallPrice } : {}) };
}

/** Counts the order in its session; the first order of a session schedules its gate closure. */
function joinSession(ctx: MarketContext, config: MarketConfig, o: Order): void {
  const s = sessions.get(ctx.store, o.community, o.slot, o.session);
  if (s && s.orders >= ctx.params.maxOrdersPerSession) {
    throw E.MARKET_SESSION_FULL(`slot ${o.slot} already received ${s.orders} orders in its ${o.session === 'fwd' ? 'forward' : 'spot'} session (maxOrdersPerSession)`);
  }
  if (s) {
    sessions.put(ctx.store, { ...s, orders: s.orders + 1 }, o.community, o.slot, o.session);
    return;
  }
  const gate = gateTime(config, o.slot, o.session);
  sessions.put(ctx.store, { community: o.community, slot: o.slot, session: o.session, orders: 1, gateTime: gate, closed: false }, o.community, o.slot, o.session);
  gates.put(ctx.store, 1, gate, o.community, o.slot, o.session);
}

function requireNoSelfTrade(ctx: MarketContext, o: Order): void {
  for (const mine of openOrdersOf(ctx, o.community, o.trader)) {
    if (mine.slot !== o.slot || mine.session !== o.session || mine.side === o.side) continue;
    const { bid, offer } = bidAndOffer(o, mine);
    if (crosses(bid, offer) && compatible(bid, offer)) throw E.MARKET_SELF_TRADE(`the order would trade with your own open ${mine.side} ${mine.id} at ${mine.price} µ/kWh`);
  }
}

function post(ctx: MarketContext, side: Side, msg: OfferMsg | BidMsg): void {
  const config = requireMarket(ctx, msg.community);
  requireTrader(ctx, msg.community, ctx.sender);
  requireLimits(ctx, config, msg);
  const session = sessionAt(ctx, config, msg.slot);
  if (side === 'bid') {
    const k = contractCovering(ctx, msg.community, ctx.sender, msg.slot);
    if (k) throw E.MARKET_CONTRACT_EXCLUSIVE(`supply contract ${k.id} covers slot ${msg.slot}: ${ctx.sender} buys only from ${k.prosumer} until slot ${k.endSlot}`);
  }
  const id = `o${nextNumber(ctx.store, 'order')}`;
  const draft: Order = {
    id,
    community: msg.community,
    slot: msg.slot,
    session,
    side,
    trader: ctx.sender,
    wh: msg.wh,
    remainingWh: msg.wh,
    price: msg.price,
    labels: sortedLabels(msg.labels),
    status: 'open',
    lockedMicro: '0',
    energyLocked: false,
    reservedMicro: '0',
    pendingTrades: 0,
    postedAt: txRef(ctx),
  };
  requireNoSelfTrade(ctx, draft);
  joinSession(ctx, config, draft);
  const order = lockFor(ctx, config, draft);
  putOrder(ctx.store, order);
  openBy.put(ctx.store, id, order.community, order.trader, numberOf(id));
  orderBy.put(ctx.store, id, order.community, order.trader, numberOf(id));
  ctx.emit('market.order', { id, community: order.community, slot: order.slot, session, side, trader: order.trader, wh: order.wh, price: order.price, labels: order.labels.join(',') });
  if (config.type === 'pay-as-clear') return rest(ctx, order);
  if (config.type === 'pay-as-offer' && side === 'offer') return rest(ctx, order);
  const after = matchIncoming(ctx, config, order);
  if (after.status !== 'open') return;
  // Pay-as-offer is one-sided: a bid takes what the offers give and never rests.
  if (config.type === 'pay-as-offer') closeOrder(ctx, after, 'expired');
  else rest(ctx, after);
}

export function postOffer(ctx: MarketContext, msg: OfferMsg): void {
  post(ctx, 'offer', msg);
}

export function postBid(ctx: MarketContext, msg: BidMsg): void {
  post(ctx, 'bid', msg);
}

function rest(ctx: MarketContext, o: Order): void {
  book.put(ctx.store, o.id, o.community, o.slot, o.session, o.side, priceKey(o.side, o.price), numberOf(o.id));
}

/**
 * Matches an incoming order against the resting orders of the other side in price-time priority
 * (best price first, then arrival); each trade is at the resting order's price. At most
 * maxScanPerOrder resting orders are examined. Returns the incoming order as it stands after.
 */
function matchIncoming(ctx: MarketContext, config: MarketConfig, incoming: Order): Order {
  let o = incoming;
  const other: Side = o.side === 'bid' ? 'offer' : 'bid';
  for (const id of book.list(ctx.store, [o.community, o.slot, o.session, other], { limit: ctx.params.maxScanPerOrder })) {
    if (o.remainingWh === 0) break;
    const resting = getOrder(ctx.store, id);
    if (!resting || resting.status !== 'open') continue;
    const { bid, offer } = bidAndOffer(o, resting);
    if (!crosses(bid, offer)) break;
    if (!compatible(bid, offer)) continue;
    if (!canTrade(ctx, resting.community, resting.trader)) {
      closeOrder(ctx, resting, 'expired');
      continue;
    }
    const wh = Math.min(o.remainingWh, resting.remainingWh);
    const made = makeTrade(ctx, config, bid, offer, wh, resting.price);
    o = o.side === 'bid' ? made.bid : made.offer;
  }
  return o;
}

/**
 * A trade of `wh` between a bid and an offer at `price`. Spot trades (an ended slot, its energy
 * locked) deliver at once: the energy moves from the offer's lock, the money from the bid's lock.
 * Forward trades wait for delivery settlement: the bid's lock reserves the payment, the offer's
 * lock the largest shortfall charge. Both orders are written back (filled ones closed).
 */
export function makeTrade(ctx: MarketContext, _config: MarketConfig, bidIn: Order, offerIn: Order, wh: number, price: number): { bid: Order; offer: Order; trade: Trade } {
  const id = `t${nextNumber(ctx.store, 'trade')}`;
  const value = valueOf(wh, price);
  let bid: Order = { ...bidIn, remainingWh: bidIn.remainingWh - wh };
  let offer: Order = { ...offerIn, remainingWh: offerIn.remainingWh - wh };
  const spot = offer.session === 'spot';
  const trade: Trade = {
    id,
    community: offer.community,
    slot: offer.slot,
    session: offer.session,
    buyer: bid.trader,
    seller: offer.trader,
    bid: bid.id,
    offer: offer.id,
    wh,
    price,
    labels: offer.labels,
    valueMicro: value.toString(),
    status: spot ? 'settled' : 'pending',
    at: txRef(ctx),
  };
  if (spot) {
    ctx.keepers.energy.deliverLocked(ENERGY, orderRef(offer.id), bid.trader, wh, `market trade ${id}`);
    if (value > 0n) ctx.keepers.payments.payFromLock(FUNDS, orderRef(bid.id), offer.trader, value, `market trade ${id}`);
    trade.delivery = { deliveredWh: wh, parts: [{ labels: offer.labels, wh }], shortfallWh: 0, compensationMicro: '0', height: ctx.height, time: ctx.time };
  } else {
    const collateral = valueOf(wh, offer.shortfallPrice ?? 0);
    bid = { ...bid, reservedMicro: (BigInt(bid.reservedMicro) + value).toString(), pendingTrades: bid.pendingTrades + 1 };
    offer = { ...offer, reservedMicro: (BigInt(offer.reservedMicro) + collateral).toString(), pendingTrades: offer.pendingTrades + 1 };
    pending.put(ctx.store, id, trade.community, trade.slot, numberOf(id));
  }
  putTrade(ctx.store, trade);
  tradeSlot.put(ctx.store, id, trade.community, trade.slot, numberOf(id));
  tradeBy.put(ctx.store, id, trade.community, trade.buyer, trade.slot, numberOf(id));
  tradeBy.put(ctx.store, id, trade.community, trade.seller, trade.slot, numberOf(id));
  ctx.emit('market.trade', { id, community: trade.community, slot: trade.slot, buyer: trade.buyer, seller: trade.seller, wh, price, value: trade.valueMicro });
  bid = bid.remainingWh === 0 ? closeOrder(ctx, bid, 'filled') : write(ctx, bid);
  offer = offer.remainingWh === 0 ? closeOrder(ctx, offer, 'filled') : write(ctx, offer);
  return { bid, offer, trade };
}

function write(ctx: MarketContext, o: Order): Order {
  putOrder(ctx.store, o);
  return o;
}

/** Money still locked for an order (0 once the lock is emptied). */
function lockedNow(ctx: MarketContext, id: string): bigint {
  const lock = ctx.keepers.payments.lockOf(FUNDS, orderRef(id));
  return lock ? BigInt(lock.amount) : 0n;
}

/** Gives back `amount` of an order's money lock to its trader (nothing for 0). */
export function releaseMoney(ctx: MarketContext, id: string, amount: bigint): void {
  if (amount > 0n) ctx.keepers.payments.unlock(FUNDS, orderRef(id), amount);
}

/**
 * Closes an order: out of the book and the open list; what its lock holds beyond the trades awaiting
 * delivery goes back to the trader (money), and a spot offer's unsold energy is unlocked.
 */
export function closeOrder(ctx: MarketContext, o: Order, status: Exclude<OrderStatus, 'open'>): Order {
  book.delete(ctx.store, o.community, o.slot, o.session, o.side, priceKey(o.side, o.price), numberOf(o.id));
  openBy.delete(ctx.store, o.community, o.trader, numberOf(o.id));
  if (o.energyLocked) {
    if (ctx.keepers.energy.lockOf(ENERGY, orderRef(o.id))) ctx.keepers.energy.unlock(ENERGY, orderRef(o.id));
  } else {
    releaseMoney(ctx, o.id, lockedNow(ctx, o.id) - BigInt(o.reservedMicro));
  }
  const closed: Order = { ...o, status, closedAt: txRef(ctx) };
  putOrder(ctx.store, closed);
  ctx.emit('market.order_closed', { id: o.id, status, remainingWh: o.remainingWh });
  return closed;
}

export function cancelOrder(ctx: MarketContext, msg: CancelMsg): void {
  const o = getOrder(ctx.store, msg.id);
  if (!o) throw E.MARKET_ORDER_NOT_FOUND(`no order ${msg.id}`);
  if (o.trader !== ctx.sender) throw E.MARKET_NOT_ORDER_OWNER(`order ${o.id} belongs to ${o.trader}`);
  if (o.status !== 'open') throw E.MARKET_ORDER_CLOSED(`order ${o.id} is ${o.status}`);
  closeOrder(ctx, o, 'cancelled');
}
