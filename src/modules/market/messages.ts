import { z } from 'zod';
import { addressSchema, hashSchema, slotSchema } from '../../codec/tx.js';
import { communityRefSchema } from '../metering/keeper.js';
import { amountSchema } from '../payments/keeper.js';

/** Asset ids of the payments module: CODE or CODE@scope. */
export const assetIdSchema = z.string().regex(/^[A-Z][A-Z0-9]{2,7}(@[a-z0-9][a-z0-9-]{0,31})?$/, { message: 'asset: CODE or CODE@scope, e.g. NOK@microgrid' });
export const labelSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'label: 1–32 of a–z 0–9 - (starting with a letter or digit)' });
export const labelsSchema = z
  .array(labelSchema)
  .max(8)
  .refine((l) => new Set(l).size === l.length, { message: 'labels must not repeat' });

/** Largest Wh the schema lets through (the governed limit maxOrderWh is checked by the rules). */
export const WH_CAP = 1_000_000_000_000;
/** Largest price the schema lets through, µ per kWh (the governed limit maxPrice is checked by the rules). */
export const PRICE_CAP = 1_000_000_000_000;
const wh = z.number().int().min(1).max(WH_CAP);
/** Price in micro-units of the community's asset per kWh. */
const price = z.number().int().min(0).max(PRICE_CAP);
const seconds = z.number().int().min(0).max(30 * 86_400);

export const orderIdSchema = z.string().regex(/^o[1-9][0-9]{0,15}$/, { message: 'order id: o1, o2, …' });
export const tradeIdSchema = z.string().regex(/^t[1-9][0-9]{0,15}$/, { message: 'trade id: t1, t2, …' });
export const contractIdSchema = z.string().regex(/^sc[1-9][0-9]{0,15}$/, { message: 'contract id: sc1, sc2, …' });
export const marketTypeSchema = z.enum(['continuous', 'pay-as-clear', 'pay-as-offer']);

export const openMarketMsg = z
  .object({
    community: communityRefSchema,
    type: marketTypeSchema,
    /** The payments asset orders are paid in, e.g. NOK@microgrid. */
    asset: assetIdSchema,
    /** Trading of a slot that has not begun closes this long before its start (default 300 s). */
    gateBeforeStartSec: seconds.optional(),
    /** Trading of a slot that has ended closes this long after its end (default 3600 s; 0: no trading of ended slots). */
    gateAfterEndSec: seconds.optional(),
    /** Delivery of a slot's trades settles this long after its end at the latest (default 900 s), earlier once every reading is in. */
    settleAfterSec: seconds.optional(),
    /** External supplier's tariffs (µ per kWh): import price and export (feed-in) price. */
    importPrice: price,
    exportPrice: price,
  })
  .strict();

export const setTariffsMsg = z.object({ community: communityRefSchema, importPrice: price, exportPrice: price, fromSlot: slotSchema }).strict();

/** Sell `wh` of the sender's energy with `labels` for `slot` at `price` or more. */
export const offerMsg = z.object({ community: communityRefSchema, slot: slotSchema, wh, price, labels: labelsSchema.optional() }).strict();
/** Buy `wh` for `slot` at `price` or less, from offers carrying every label in `labels`. */
export const bidMsg = z.object({ community: communityRefSchema, slot: slotSchema, wh, price, labels: labelsSchema.optional() }).strict();
export const cancelMsg = z.object({ id: orderIdSchema }).strict();

export const contractProposeMsg = z
  .object({
    community: communityRefSchema,
    /** The sender's side of the contract; the counterparty takes the other. */
    role: z.enum(['consumer', 'prosumer']),
    counterparty: addressSchema,
    startSlot: slotSchema,
    /** Exclusive. */
    endSlot: slotSchema,
    price,
    /** Energy per slot is at most maxPowerW × 15 min (⌊maxPowerW / 4⌋ Wh). */
    maxPowerW: z.number().int().min(0).max(1_000_000_000),
    /** Slots between a party ending the contract and its last slot (default 4: one hour). */
    noticeSlots: z.number().int().min(0).max(1_000_000).optional(),
    /** A security deposit of the consumer held in a payments escrow, divided by the mediator in a dispute. */
    deposit: amountSchema.optional(),
    mediator: addressSchema.optional(),
  })
  .strict();
export const contractIdMsg = z.object({ id: contractIdSchema }).strict();
export const contractDisputeMsg = z.object({ id: contractIdSchema, reason: z.string().min(1).max(256) }).strict();
export const contractResolveMsg = z.object({ id: contractIdSchema, toProsumer: amountSchema, toConsumer: amountSchema }).strict();

export const billRefSchema = z.object({ member: addressSchema, fromSlot: slotSchema, toSlot: slotSchema, hash: hashSchema }).strict();
export const recordBillsMsg = z.object({ community: communityRefSchema, bills: z.array(billRefSchema).min(1).max(1000) }).strict();

export type OpenMarketMsg = z.infer<typeof openMarketMsg>;
export type SetTariffsMsg = z.infer<typeof setTariffsMsg>;
export type OfferMsg = z.infer<typeof offerMsg>;
export type BidMsg = z.infer<typeof bidMsg>;
export type CancelMsg = z.infer<typeof cancelMsg>;
export type ContractProposeMsg = z.infer<typeof contractProposeMsg>;
export type ContractIdMsg = z.infer<typeof contractIdMsg>;
export type ContractDisputeMsg = z.infer<typeof contractDisputeMsg>;
export type ContractResolveMsg = z.infer<typeof contractResolveMsg>;
export type BillRef = z.infer<typeof billRefSchema>;
export type RecordBillsMsg = z.infer<typeof recordBillsMsg>;

export const MSG = {
  open: 'market/open',
  setTariffs: 'market/set-tariffs',
  offer: 'market/offer',
  bid: 'market/bid',
  cancel: 'market/cancel',
  contractPropose: 'market/contract-propose',
  contractAccept: 'market/contract-accept',
  contractEnd: 'market/contract-end',
  contractDispute: 'market/contract-dispute',
  contractResolve: 'market/contract-resolve',
  recordBills: 'market/record-bills',
} as const;
