import { timedTxRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema, hashSchema } from '../../codec/tx.js';
import { communityRefSchema } from '../metering/keeper.js';
import { contractIdSchema, orderIdSchema, tradeIdSchema } from './messages.js';
import type { StatementQuery } from '../../cli/verify.js';
import type { MarketBill } from './billing.js';

/** Route definitions of the market module (amounts are decimal strings of µ; prices µ per kWh). */

const txRef = timedTxRefSchema;
const at = z.object({ height: z.number(), time: z.number() });
const slotParam = z.string().max(40).optional();
const labels = z.array(z.string());
const amount = z.string();
const params = z.object({ community: communityRefSchema });

export const marketConfigSchema = z.object({
  community: z.string(),
  type: z.enum(['continuous', 'pay-as-clear', 'pay-as-offer']),
  asset: z.string(),
  gateBeforeStartSec: z.number(),
  gateAfterEndSec: z.number(),
  settleAfterSec: z.number(),
  openSlot: z.number(),
  openedAt: txRef,
});
export const tariffSchema = z.object({ community: z.string(), fromSlot: z.number(), importPrice: z.number(), exportPrice: z.number(), at: txRef });
export const orderSchema = z.object({
  id: z.string(),
  community: z.string(),
  slot: z.number(),
  slotIso: z.string(),
  session: z.enum(['fwd', 'spot']),
  side: z.enum(['offer', 'bid']),
  trader: z.string(),
  wh: z.number(),
  remainingWh: z.number(),
  price: z.number(),
  labels,
  status: z.enum(['open', 'filled', 'cancelled', 'expired']),
  lockedMicro: amount,
  shortfallPrice: z.number().optional(),
  energyLocked: z.boolean(),
  reservedMicro: amount,
  pendingTrades: z.number(),
  postedAt: txRef,
  closedAt: txRef.optional(),
});
const part = z.object({ labels, wh: z.number() });
export const tradeSchema = z.object({
  id: z.string(),
  community: z.string(),
  slot: z.number(),
  slotIso: z.string(),
  session: z.enum(['fwd', 'spot']),
  buyer: z.string(),
  seller: z.string(),
  bid: z.string(),
  offer: z.string(),
  wh: z.number(),
  price: z.number(),
  labels,
  valueMicro: amount,
  status: z.enum(['pending', 'settled', 'void']),
  at: txRef,
  delivery: z
    .object({ deliveredWh: z.number(), parts: z.array(part), shortfallWh: z.number(), compensationMicro: amount, height: z.number(), time: z.number(), reason: z.string().optional() })
    .optional(),
});
const level = z.object({ price: z.number(), wh: z.number(), orders: z.number() });
export const clearingSchema = z.object({
  slot: z.number(),
  slotIso: z.string(),
  session: z.enum(['fwd', 'spot']),
  /** pay-as-clear: the gate's clearing; otherwise the trades of the slot. */
  source: z.enum(['clearing', 'trades']),
  /** The uniform price (pay-as-clear, one product) or the volume-weighted mean price ⌊Σ value × 1000 / Σ Wh⌋. */
  price: z.number().nullable(),
  volumeWh: z.number(),
  trades: z.number(),
  minPrice: z.number().nullable(),
  maxPrice: z.number().nullable(),
  products: z.array(z.object({ labels, price: z.number().nullable(), volumeWh: z.number(), bids: z.number(), offers: z.number(), trades: z.number() })),
});
export const contractSchema = z.object({
  id: z.string(),
  community: z.string(),
  consumer: z.string(),
  prosumer: z.string(),
  proposer: z.string(),
  startSlot: z.number(),
  endSlot: z.number(),
  agreedEndSlot: z.number(),
  price: z.number(),
  maxPowerW: z.number(),
  capWh: z.number(),
  noticeSlots: z.number(),
  perSlotMicro: amount,
  status: z.enum(['proposed', 'active', 'finished', 'withdrawn', 'declined', 'lapsed']),
  nextSlot: z.number(),
  coveredWh: z.number(),
  paidMicro: amount,
  deposit: amount.optional(),
  mediator: z.string().optional(),
  depositState: z.enum(['held', 'disputed', 'returned', 'divided']).optional(),
  dispute: z.object({ by: z.string(), reason: z.string(), at: txRef }).optional(),
  resolution: z.object({ toProsumer: amount, toConsumer: amount, at: txRef }).optional(),
  endNotice: z.object({ by: z.string(), at: txRef }).optional(),
  proposedAt: txRef,
  acceptedAt: txRef.optional(),
  closedAt: at.optional(),
});
export const contractSlotSchema = z.object({
  contract: z.string(),
  slot: z.number(),
  consumerImportWh: z.number(),
  prosumerAvailableWh: z.number(),
  coveredWh: z.number(),
  paidMicro: amount,
  note: z.string().optional(),
});
const billLine = z.object({ item: z.string(), wh: z.number(), amountMicro: amount, settled: z.boolean() });
export const billSchema = z.object({
  kind: z.literal('gridledger/market-bill'),
  version: z.literal(1),
  community: z.string(),
  communityName: z.string(),
  timezone: z.string(),
  owner: z.string(),
  asset: z.string(),
  member: z.string(),
  period: z.object({ fromDay: z.string(), toDay: z.string(), fromSlot: z.number(), toSlot: z.number(), start: z.string(), end: z.string() }),
  tariffs: z.array(z.object({ fromSlot: z.number(), importPrice: z.number(), exportPrice: z.number() })),
  energyWh: z.object({ meteredImport: z.number(), meteredExport: z.number() }),
  lines: z.array(billLine),
  totals: z.object({ settledMicro: amount, dueMicro: amount, totalMicro: amount }),
  pendingTrades: z.number(),
  days: z.array(
    z.object({ day: z.string(), slots: z.number(), meteredImportWh: z.number(), meteredExportWh: z.number(), boughtWh: z.number(), soldWh: z.number(), residualImportWh: z.number(), residualExportWh: z.number() }),
  ),
  hash: z.string().optional(),
});
export const billRecordSchema = z.object({
  hash: z.string(),
  community: z.string(),
  member: z.string(),
  fromSlot: z.number(),
  toSlot: z.number(),
  revision: z.number(),
  by: z.string(),
  height: z.number(),
  time: z.number(),
  txHash: z.string(),
});

export const marketRoutes = {
  market: defineRoute({
    name: 'marketShow',
    method: 'GET',
    path: '/v1/market/communities/:community',
    summary: "A community's market: type, asset, gates, external tariff versions",
    tags: ['market'],
    params,
    response: z.object({ market: marketConfigSchema, tariffs: z.array(tariffSchema) }),
  }),
  book: defineRoute({
    name: 'marketBook',
    method: 'GET',
    path: '/v1/market/communities/:community/book',
    summary: 'Order book depth of a slot: open offers (ascending) and bids (descending) per price level, per session (fwd: before the slot; spot: after it)',
    tags: ['market'],
    params,
    query: z.object({ slot: z.string().max(40) }),
    response: z.object({ community: z.string(), slot: z.number(), slotIso: z.string(), sessions: z.array(z.object({ session: z.enum(['fwd', 'spot']), gateTime: z.number(), closed: z.boolean(), offers: z.array(level), bids: z.array(level) })) }),
  }),
  offers: defineRoute({
    name: 'marketOffers',
    method: 'GET',
    path: '/v1/market/communities/:community/offers',
    summary: 'The advert board: open offers by slot (range), best price first; filter by maximum price, labels (each required) and seller',
    tags: ['market'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, maxPrice: z.coerce.number().int().min(0).optional(), labels: z.string().max(300).optional(), seller: addressSchema.optional(), limit: pageLimit(1000, 200) }),
    response: z.object({ community: z.string(), offers: z.array(orderSchema) }),
  }),
  orders: defineRoute({
    name: 'marketOrders',
    method: 'GET',
    path: '/v1/market/communities/:community/orders',
    summary: "A trader's orders, newest first; status open (default), closed or all",
    tags: ['market'],
    params,
    query: z.object({ trader: addressSchema, status: z.enum(['open', 'closed', 'all']).default('open'), limit: pageLimit(1000, 200) }),
    response: z.object({ community: z.string(), trader: z.string(), orders: z.array(orderSchema) }),
  }),
  order: defineRoute({
    name: 'marketOrder',
    method: 'GET',
    path: '/v1/market/orders/:id',
    summary: 'One order with its trades',
    tags: ['market'],
    params: z.object({ id: orderIdSchema }),
    response: z.object({ order: orderSchema, trades: z.array(tradeSchema) }),
  }),
  trades: defineRoute({
    name: 'marketTrades',
    method: 'GET',
    path: '/v1/market/communities/:community/trades',
    summary: 'Trades by slot (range) in slot then id order; filter by trader (buyer or seller). A page of `limit`: `next` (the last trade\'s id) continues with after=; `truncated` is true exactly when `next` is given',
    tags: ['market'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, trader: addressSchema.optional(), after: tradeIdSchema.optional(), limit: pageLimit(10_000, 1000) }),
    response: z.object({ community: z.string(), trades: z.array(tradeSchema), truncated: z.boolean(), next: z.string().optional() }),
  }),
  clearing: defineRoute({
    name: 'marketClearing',
    method: 'GET',
    path: '/v1/market/communities/:community/clearing',
    summary: 'Per slot and session: price and volume (pay-as-clear: the clearing at gate closure per product; otherwise from the trades: mean, min, max); at most `limit` rows (whole slots), `nextSlot` continues',
    tags: ['market'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, limit: pageLimit(10_000, 1000) }),
    response: z.object({ community: z.string(), type: z.string(), slots: z.array(clearingSchema), nextSlot: z.number().optional() }),
  }),
  contracts: defineRoute({
    name: 'marketContracts',
    method: 'GET',
    path: '/v1/market/communities/:community/contracts',
    summary: 'Supply contracts of a community, or of one party, newest first. A page of `limit`: `next` continues with after= (a request reads at most 10,000 contracts, so a page of a rare status can be short and still have a next)',
    tags: ['market'],
    params,
    query: z.object({ party: addressSchema.optional(), status: z.enum(['proposed', 'active', 'finished', 'withdrawn', 'declined', 'lapsed']).optional(), after: contractIdSchema.optional(), limit: pageLimit(1000, 200) }),
    response: z.object({ community: z.string(), contracts: z.array(contractSchema), next: z.string().optional() }),
  }),
  contract: defineRoute({
    name: 'marketContract',
    method: 'GET',
    path: '/v1/market/contracts/:id',
    summary: 'One supply contract with its settled slots',
    tags: ['market'],
    params: z.object({ id: contractIdSchema }),
    response: z.object({ contract: contractSchema, slots: z.array(contractSlotSchema) }),
  }),
  producers: defineRoute({
    name: 'marketProducers',
    method: 'GET',
    path: '/v1/market/communities/:community/producers',
    summary: 'Producers of the community (traders with a producer meter linked at the slot, default the current one), by address: their labels, meters and open offers. A page of `limit`: `next` continues with after= (a request reads at most 10,000 traders, so a page can be short and still have a next)',
    tags: ['market'],
    params,
    query: z.object({ slot: slotParam, after: addressSchema.optional(), limit: pageLimit(500, 100) }),
    response: z.object({
      community: z.string(),
      slot: z.number(),
      producers: z.array(z.object({ trader: z.string(), meters: z.array(z.object({ meterId: z.string(), labels })), openOffers: z.number(), offeredWh: z.number(), bestPrice: z.number().nullable() })),
      next: z.string().optional(),
    }),
  }),
  bills: defineRoute({
    name: 'marketBills',
    method: 'GET',
    path: '/v1/market/communities/:community/bills',
    summary: "Members' bills for the local days fromDay…toDay computed from ledger data (a page of members by address; `next` continues)",
    tags: ['market'],
    params,
    query: z.object({ fromDay: z.string().max(10), toDay: z.string().max(10), member: addressSchema.optional(), after: addressSchema.optional(), limit: pageLimit(1000, 100) }),
    response: z.object({ community: z.string(), bills: z.array(billSchema), next: z.string().optional() }),
  }),
  billRecord: defineRoute({
    name: 'marketBillRecord',
    method: 'GET',
    path: '/v1/market/bills/:hash',
    summary: 'A bill hash recorded on the ledger, with the latest revision for its member and period',
    tags: ['market'],
    params: z.object({ hash: hashSchema }),
    response: z.object({ record: billRecordSchema, latest: z.object({ hash: z.string(), revision: z.number() }), superseded: z.boolean() }),
  }),
};

/**
 * The query that computes a member's bill from ledger data: the bills route, for that one member
 * (`bill --community --prove` asks it with a proof; `verify statement --offline` and the dashboard re-run it).
 */
export function billStatementQuery(statement: Record<string, unknown>): StatementQuery {
  const b = statement as unknown as MarketBill;
  return {
    route: marketRoutes.bills.name,
    params: { community: b.community },
    query: { fromDay: b.period.fromDay, toDay: b.period.toDay, member: b.member },
    pick: (answer) => (answer as { bills: MarketBill[] }).bills.find((x) => x.member === b.member) as unknown as Record<string, unknown> | undefined,
  };
}
