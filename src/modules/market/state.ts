import { collection } from '../../app/collections.js';
import { padKey, type KVStore } from '../../app/state.js';
import { PRICE_CAP } from './messages.js';
import type { TimedTxRef as TxRef } from '../../app/tx-ref.js';
export type { TimedTxRef as TxRef } from '../../app/tx-ref.js';

/**
 * Market state layout (all keys under "market/"; numbers zero-padded to 16 digits, <n> is the
 * number of an id o<n>, t<n>, sc<n>; <sess> is "fwd" or "spot", <side> "offer" or "bid"):
 *   market/params                                          MarketParams
 *   market/counter/<order|trade|contract>                  last number used
 *   market/config/<c>                                      MarketConfig (one market per community)
 *   market/tariff/<c>/<fromSlot>                           TariffVersion (external import / export price)
 *   market/cursor/<c>                                      Cursor: next slot to settle, meters awaited
 *   market/order/<n>                                       Order
 *   market/book/<c>/<slot>/<sess>/<side>/<priceKey>/<n>    order id — open orders in priority order
 *                                                          (offers: price ascending; bids: PRICE_CAP − price)
 *   market/openby/<c>/<trader>/<n>                         order id — the trader's open orders
 *   market/orderby/<c>/<trader>/<n>                        order id — every order of the trader
 *   market/session/<c>/<slot>/<sess>                       Session (orders posted, gate time, closed)
 *   market/gate/<gateTime>/<c>/<slot>/<sess>               1 — gate closures to run at the end of a block
 *   market/clearing/<c>/<slot>/<sess>                      ClearingResult (pay-as-clear)
 *   market/trade/<n>                                       Trade
 *   market/tradeslot/<c>/<slot>/<n>                        trade id — trades of a slot
 *   market/tradeby/<c>/<trader>/<slot>/<n>                 trade id — trades of a buyer or seller
 *   market/pending/<c>/<slot>/<n>                          trade id — trades awaiting delivery settlement
 *   market/contract/<n>                                    Contract
 *   market/contractby/<c>/<party>/<n>                      contract id — contracts of a party
 *   market/active/<c>/<n>                                  contract id — accepted contracts not yet finished
 *   market/cslot/<n>/<slot>                                ContractSlot — one settled slot of a contract
 *   market/deposit/<time>/<n>                              contract id — deposits to return once the dispute window passed
 *   market/lapse/<startTime>/<n>                           contract id — proposals that lapse when their first slot begins
 *   market/bill/<hash>                                     BillRecord
 *   market/billperiod/<c>/<member>/<fromSlot>/<toSlot>     { hash, revision } — latest bill of that period
 */

export type MarketType = 'continuous' | 'pay-as-clear' | 'pay-as-offer';
export type SessionKind = 'fwd' | 'spot';
export type Side = 'offer' | 'bid';


export interface MarketConfig {
  community: string;
  type: MarketType;
  asset: string;
  gateBeforeStartSec: number;
  gateAfterEndSec: number;
  settleAfterSec: number;
  /** The slot of the block that opened the market: delivery settlement starts there. */
  openSlot: number;
  openedAt: TxRef;
}

export interface TariffVersion {
  community: string;
  fromSlot: number;
  /** µ per kWh the community pays its external supplier for imported energy. */
  importPrice: number;
  /** µ per kWh the community receives for exported energy. */
  exportPrice: number;
  at: TxRef;
}

export interface Cursor {
  /** The next slot whose delivery settles. */
  slot: number;
  /** Meters whose reading for `slot` settlement still waits for (computed when the slot ended). */
  awaiting?: string[];
  /** The slot's readings are in (or its deadline passed): its settlement is under way. */
  settling?: boolean;
}

export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'expired';

export interface Order {
  id: string;
  community: string;
  slot: number;
  session: SessionKind;
  side: Side;
  trader: string;
  wh: number;
  remainingWh: number;
  /** µ per kWh: the minimum of an offer, the maximum of a bid. */
  price: number;
  /** Offer: the label set sold. Bid: labels every matching offer must carry. */
  labels: string[];
  status: OrderStatus;
  /** Money locked at posting: a bid's maximum payment, a forward offer's shortfall collateral (µ, decimal). */
  lockedMicro: string;
  /** Forward offer: the import tariff its collateral was computed from; a shortfall is charged at it. */
  shortfallPrice?: number;
  /** Spot offer: the energy is locked in the energy module. */
  energyLocked: boolean;
  /** Money of the lock set aside for trades awaiting delivery (µ, decimal). */
  reservedMicro: string;
  /** Trades of this order awaiting delivery. */
  pendingTrades: number;
  postedAt: TxRef;
  closedAt?: TxRef;
}

export interface Session {
  community: string;
  slot: number;
  session: SessionKind;
  /** Orders ever posted in the session (bounded by maxOrdersPerSession). */
  orders: number;
  /** When the gate closes (ms). */
  gateTime: number;
  closed: boolean;
}

export type TradeStatus = 'pending' | 'settled' | 'void';

/** Energy a delivery moved of one label set. */
export interface DeliveredPart {
  labels: string[];
  wh: number;
}

export interface Delivery {
  deliveredWh: number;
  /** What moved, per label set (a forward offer promises energy carrying its labels; the seller's balances that carry them deliver, in label-key order). */
  parts: DeliveredPart[];
  shortfallWh: number;
  /** µ the seller paid the buyer for the shortfall (decimal). */
  compensationMicro: string;
  height: number;
  time: number;
  /** Why nothing moved (a party revoked or no longer a trader): the trade is void. */
  reason?: string;
}

export interface Trade {
  id: string;
  community: string;
  slot: number;
  session: SessionKind;
  buyer: string;
  seller: string;
  bid: string;
  offer: string;
  wh: number;
  /** µ per kWh. */
  price: number;
  /** The offer's labels: every Wh delivered carries them. */
  labels: string[];
  /** ⌊wh × price / 1000⌋ µ, paid from the bid's lock to the seller (decimal). */
  valueMicro: string;
  status: TradeStatus;
  at: TxRef;
  delivery?: Delivery;
}

export interface ClassResult {
  /** The labels the bids of this class require (the product). */
  labels: string[];
  /** Uniform price of the class; null when nothing matched. */
  price: number | null;
  volumeWh: number;
  bids: number;
  offers: number;
  trades: number;
}

export interface ClearingResult {
  community: string;
  slot: number;
  session: SessionKind;
  bids: number;
  offers: number;
  volumeWh: number;
  classes: ClassResult[];
  height: number;
  time: number;
}

export type ContractStatus = 'proposed' | 'active' | 'finished' | 'withdrawn' | 'declined' | 'lapsed';
export type DepositState = 'held' | 'disputed' | 'returned' | 'divided';

export interface Contract {
  id: string;
  community: string;
  consumer: string;
  prosumer: string;
  proposer: string;
  startSlot: number;
  /** Exclusive; moved earlier when a party ends the contract with notice. */
  endSlot: number;
  /** The end slot agreed at proposal. */
  agreedEndSlot: number;
  price: number;
  maxPowerW: number;
  /** ⌊maxPowerW / 4⌋: the most a slot covers. */
  capWh: number;
  noticeSlots: number;
  /** ⌊capWh × price / 1000⌋: the payment a slot reserves in the consumer's lock. */
  perSlotMicro: string;
  status: ContractStatus;
  /** Next slot to settle while active. */
  nextSlot: number;
  coveredWh: number;
  paidMicro: string;
  deposit?: string;
  mediator?: string;
  depositState?: DepositState;
  dispute?: { by: string; reason: string; at: TxRef };
  resolution?: { toProsumer: string; toConsumer: string; at: TxRef };
  endNotice?: { by: string; at: TxRef };
  proposedAt: TxRef;
  acceptedAt?: TxRef;
  closedAt?: { height: number; time: number };
}

export interface ContractSlot {
  contract: string;
  slot: number;
  consumerImportWh: number;
  prosumerAvailableWh: number;
  coveredWh: number;
  paidMicro: string;
  /** Why nothing was covered although the contract runs (a party revoked or no longer a trader). */
  note?: string;
}

export interface BillRecord {
  hash: string;
  community: string;
  member: string;
  fromSlot: number;
  toSlot: number;
  revision: number;
  by: string;
  height: number;
  time: number;
  txHash: string;
}

const n = (id: string): number => Number(id.replace(/^[a-z]+/, ''));

export const configs = collection<MarketConfig>('market/config/');
export const tariffs = collection<TariffVersion>('market/tariff/');
export const cursors = collection<Cursor>('market/cursor/');
/**
 * State version 2 (ADR 0029): each market community once, under the end of the slot its delivery
 * cursor stands at — the end of block visits the communities whose entry time has come, not all.
 */
export const dues = collection<number>('market/due/');
export const orders = collection<Order>('market/order/');
export const book = collection<string>('market/book/');
export const openBy = collection<string>('market/openby/');
export const orderBy = collection<string>('market/orderby/');
export const sessions = collection<Session>('market/session/');
export const gates = collection<number>('market/gate/');
export const clearings = collection<ClearingResult>('market/clearing/');
export const trades = collection<Trade>('market/trade/');
export const tradeSlot = collection<string>('market/tradeslot/');
export const tradeBy = collection<string>('market/tradeby/');
export const pending = collection<string>('market/pending/');
export const contracts = collection<Contract>('market/contract/');
export const contractBy = collection<string>('market/contractby/');
export const active = collection<string>('market/active/');
/**
 * State version 3 (ADR 0029): a consumer's active supply contracts, under (community, consumer,
 * number); written at acceptance and removed when the contract finishes. A bid and a contract's
 * proposal or acceptance look only at these — version 2 read every contract the consumer was ever a
 * party to in the community, proposals that lapsed included (a counterparty could grow that list
 * at will, one proposal per transaction).
 */
export const activeBy = collection<string>('market/activeby/');

/** Ids of contracts that may be active for `consumer` in `community`: exactly the active ones from version 3, every one of the party's before. */
export function contractIdsToCheck(store: KVStore, stateVersion: number, community: string, consumer: string): string[] {
  return (stateVersion >= 3 ? activeBy : contractBy).list(store, [community, consumer]);
}
export const contractSlots = collection<ContractSlot>('market/cslot/');
export const deposits = collection<string>('market/deposit/');
export const lapses = collection<string>('market/lapse/');
export const bills = collection<BillRecord>('market/bill/');
export const billPeriods = collection<{ hash: string; revision: number }>('market/billperiod/');

export function nextNumber(store: KVStore, kind: 'order' | 'trade' | 'contract'): number {
  const key = `market/counter/${kind}`;
  const next = (store.get<number>(key) ?? 0) + 1;
  store.set(key, next);
  return next;
}

export const numberOf = n;

/** Priority key inside a side of the book: ascending key order is best-first. */
export function priceKey(side: Side, price: number): string {
  return padKey(side === 'offer' ? price : PRICE_CAP - price);
}

export function getOrder(store: KVStore, id: string): Order | undefined {
  return orders.get(store, n(id));
}

export function putOrder(store: KVStore, o: Order): void {
  orders.put(store, o, n(o.id));
}

export function getTrade(store: KVStore, id: string): Trade | undefined {
  return trades.get(store, n(id));
}

export function putTrade(store: KVStore, t: Trade): void {
  trades.put(store, t, n(t.id));
}

export function getContract(store: KVStore, id: string): Contract | undefined {
  return contracts.get(store, n(id));
}

export function putContract(store: KVStore, k: Contract): void {
  contracts.put(store, k, n(k.id));
}

/** The tariff version of a community in force at a slot. */
export function tariffAt(store: KVStore, community: string, slot: number): TariffVersion | undefined {
  return tariffs.list(store, [community], { to: slot + 1, reverse: true, limit: 1 })[0];
}

/** Tariff versions in force at some slot of [fromSlot, toSlot), oldest first. */
export function tariffsBetween(store: KVStore, community: string, fromSlot: number, toSlot: number): TariffVersion[] {
  const first = tariffAt(store, community, fromSlot);
  const later = tariffs.list(store, [community], { from: fromSlot + 1, to: toSlot });
  return [...(first ? [first] : []), ...later];
}
