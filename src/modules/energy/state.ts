import { Collection, collection, FILTER_SCAN_ROWS, matchingPage, type Page } from '../../app/collections.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { E } from './errors.js';
import type { TxRef } from '../../app/tx-ref.js';
export type { TxRef } from '../../app/tx-ref.js';

/**
 * Energy state layout (all keys under "energy/"; slots and heights zero-padded to 16 digits):
 *   energy/seq/community                                   → last automatic community number
 *   energy/community/<c>                                   → Community
 *   energy/child/<parent>/<c>                              → c (children of a community)
 *   energy/trader/<c>/<address>                            → Trader (active or removed; never deleted)
 *   energy/cmeter/<c>/<meterId>                            → meterId (meters ever linked in c)
 *   energy/link/<meterId>/<fromSlot>                       → MeterLink (link periods; trader null = unlinked)
 *   energy/release/<meterId>                               → MeterRelease (consent to link the meter in one other community)
 *   energy/bal/<c>/<trader>/<slot>/<labels>                → Wh, non-zero only (zero deletes the key)
 *   energy/slot/<c>/<slot>/<trader>/<labels>               → the same Wh, indexed by slot
 *   energy/hist/<c>/<trader>/<height>/<txHash>/<msg>/<n>   → HistoryEntry (every balance change)
 *   energy/adj/<c>/<height>/<txHash>/<msg>/<n>             → HistoryEntry of mutate and settle adjustments
 *   energy/tmeter/<c>/<trader>/<meterId>                   → meterId (meters ever linked to the trader in c)
 *   energy/lock/<module>/<ref>                             → EnergyLock (a module's lock on a trader's balance; deleted when emptied)
 *   energy/locked/<c>/<trader>/<slot>/<labels>             → Wh locked of that balance (sum of its locks; deleted at 0)
 * <labels> is the sorted, comma-joined label set, or "-" for the empty set.
 */


export interface Community {
  id: string;
  name: string;
  owner: string;
  timezone: string;
  parent?: string;
  createdAt: TxRef;
}

export interface Trader {
  community: string;
  address: string;
  status: 'active' | 'removed';
  addedAt: TxRef;
  removedAt?: TxRef;
}

export type MeterKind = 'producer' | 'consumer';

export interface MeterLink {
  meterId: string;
  community: string;
  kind: MeterKind;
  /** null: the meter is unlinked from this slot on */
  trader: string | null;
  labels: string[];
  fromSlot: number;
  height: number;
  txHash: string;
}

/** The custodian's consent that the owner of `community` may link the meter there (used up by that link). */
export interface MeterRelease {
  meterId: string;
  community: string;
  by: string;
  height: number;
  txHash: string;
}

export type ChangeKind =
  | 'production'
  | 'consumption'
  | 'transfer-in'
  | 'transfer-out'
  | 'reduce-out'
  | 'reduce-in'
  | 'mutate'
  | 'settle-to-parent'
  | 'settle-from-child'
  | 'delivery-out'
  | 'delivery-in';

export interface HistoryEntry {
  community: string;
  trader: string;
  slot: number;
  labels: string[];
  deltaWh: number;
  /** balance of (trader, slot, labels) after the change */
  balanceWh: number;
  kind: ChangeKind;
  counterparty?: string;
  meterId?: string;
  description?: string;
  height: number;
  txHash: string;
  msgIndex: number;
}

export interface BalanceRow {
  trader: string;
  slot: number;
  labels: string[];
  wh: number;
}

const SEQ = 'energy/seq/community';
const COMMUNITY = 'energy/community/';
const CHILD = 'energy/child/';
const TRADER = 'energy/trader/';
const CMETER = 'energy/cmeter/';
const LINK = 'energy/link/';
const RELEASE = 'energy/release/';
const BAL = 'energy/bal/';
const SLOT = 'energy/slot/';
const HIST = 'energy/hist/';
const ADJ = 'energy/adj/';
const TMETER = 'energy/tmeter/';
const LOCK = 'energy/lock/';
const LOCKED = 'energy/locked/';

export function labelsKey(labels: readonly string[]): string {
  return labels.length === 0 ? '-' : [...labels].sort().join(',');
}

export function labelsFromKey(key: string): string[] {
  return key === '-' ? [] : key.split(',');
}

/** Sorted, de-duplicated label set. */
export function normalizeLabels(labels: readonly string[] | undefined): string[] {
  return [...new Set(labels ?? [])].sort();
}

export function nextCommunityNumber(store: KVStore): number {
  const n = (store.get<number>(SEQ) ?? 0) + 1;
  store.set(SEQ, n);
  return n;
}

export function getCommunity(store: KVStore, id: string): Community | undefined {
  return store.get<Community>(COMMUNITY + id);
}

export function requireCommunity(store: KVStore, id: string): Community {
  const c = getCommunity(store, id);
  if (!c) throw E.ENERGY_COMMUNITY_NOT_FOUND(`community ${id} does not exist`);
  return c;
}

export function putCommunity(store: KVStore, c: Community): void {
  store.set(COMMUNITY + c.id, c);
  if (c.parent !== undefined) store.set(`${CHILD}${c.parent}/${c.id}`, c.id);
}

const communities = collection<Community>(COMMUNITY);

/** One page of communities in id order after `after` (exclusive); `next` names the last one when more follow. */
export function communityPage(store: KVStore, options: { after?: string; limit: number }): Page<Community> {
  return communities.page(store, options);
}

export function listChildren(store: KVStore, parent: string): string[] {
  return store.scan<string>(`${CHILD}${parent}/`).map(([, id]) => id);
}

/** Rows of each list a community's detail carries; the traders, meters and children routes page on from there. */
export const COMMUNITY_DETAIL_ROWS = 500;

/** One page of a community's child communities, by id. */
export function childPage(store: KVStore, parent: string, options: { after?: string; limit: number }): Page<string> {
  return new Collection<string>(`${CHILD}${parent}/`).page(store, options);
}

export function getTrader(store: KVStore, community: string, address: string): Trader | undefined {
  return store.get<Trader>(`${TRADER}${community}/${address}`);
}

export function isActiveTrader(store: KVStore, community: string, address: string): boolean {
  return getTrader(store, community, address)?.status === 'active';
}

export function putTrader(store: KVStore, t: Trader): void {
  store.set(`${TRADER}${t.community}/${t.address}`, t);
}

export function listTraders(store: KVStore, community: string): Trader[] {
  return store.scan<Trader>(`${TRADER}${community}/`).map(([, t]) => t);
}

/** One page of a community's traders (active and removed), by address. */
export function traderPage(store: KVStore, community: string, options: { after?: string; limit: number }): Page<Trader> {
  return new Collection<Trader>(`${TRADER}${community}/`).page(store, options);
}

/** One page of a community's traders that `keep` accepts, by address (matchingPage: with `maxRows`, a short page may end where reading stopped). */
export function matchingTraderPage(store: KVStore, community: string, keep: (t: Trader) => boolean, options: { after?: string; limit: number; maxRows?: number }): Page<Trader> {
  return new Collection<Trader>(`${TRADER}${community}/`).matchingPage(store, keep, options);
}

/**
 * A page of the communities where `address` is (or was) a trader, in community id order: one point
 * read per community, at most FILTER_SCAN_ROWS communities per request (then `next` is the last
 * community read, and the page may be short).
 */
export function communitiesOfTrader(store: KVStore, address: string, options: { after?: string; limit: number }): Page<{ community: Community; trader: Trader }> {
  const page = communities.matchingPage(store, (c) => getTrader(store, c.id, address) !== undefined, { ...options, maxRows: FILTER_SCAN_ROWS });
  return { items: page.items.map((community) => ({ community, trader: getTrader(store, community.id, address)! })), ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function addCommunityMeter(store: KVStore, community: string, meterId: string): void {
  store.set(`${CMETER}${community}/${meterId}`, meterId);
}

export function listCommunityMeters(store: KVStore, community: string): string[] {
  return store.scan<string>(`${CMETER}${community}/`).map(([, id]) => id);
}

/** Up to `limit` of the meters ever linked in a community, by meter id, from `from` (inclusive) on. */
export function communityMetersFrom(store: KVStore, community: string, from: string | undefined, limit: number): string[] {
  return new Collection<string>(`${CMETER}${community}/`).list(store, [], { ...(from !== undefined ? { from } : {}), limit });
}

/** One page of the meters ever linked in a community, by meter id. */
export function communityMeterPage(store: KVStore, community: string, options: { after?: string; limit: number }): Page<string> {
  return new Collection<string>(`${CMETER}${community}/`).page(store, options);
}

export function putLink(store: KVStore, link: MeterLink): void {
  store.set(`${LINK}${link.meterId}/${padKey(link.fromSlot)}`, link);
}

/** All link periods of a meter, oldest first. */
export function listLinks(store: KVStore, meterId: string): MeterLink[] {
  return store.scan<MeterLink>(`${LINK}${meterId}/`).map(([, l]) => l);
}

/** A meter's link periods from `fromSlot` on (those starting at or after it), oldest first. */
export function linksFrom(store: KVStore, meterId: string, fromSlot: number): MeterLink[] {
  const prefix = `${LINK}${meterId}/`;
  return store.scan<MeterLink>(prefix, { start: prefix + padKey(fromSlot) }).map(([, l]) => l);
}

/** The link period in force at a slot (greatest fromSlot ≤ slot). */
export function linkAt(store: KVStore, meterId: string, slot: number): MeterLink | undefined {
  return store.scan<MeterLink>(`${LINK}${meterId}/`, { end: `${LINK}${meterId}/${padKey(slot + 1)}`, reverse: true, limit: 1 })[0]?.[1];
}

export function latestLink(store: KVStore, meterId: string): MeterLink | undefined {
  return store.scan<MeterLink>(`${LINK}${meterId}/`, { reverse: true, limit: 1 })[0]?.[1];
}

export function getRelease(store: KVStore, meterId: string): MeterRelease | undefined {
  return store.get<MeterRelease>(RELEASE + meterId);
}

export function putRelease(store: KVStore, release: MeterRelease): void {
  store.set(RELEASE + release.meterId, release);
}

export function deleteRelease(store: KVStore, meterId: string): void {
  store.delete(RELEASE + meterId);
}

function balKey(c: string, trader: string, slot: number, lk: string): string {
  return `${BAL}${c}/${trader}/${padKey(slot)}/${lk}`;
}
function slotKey(c: string, slot: number, trader: string, lk: string): string {
  return `${SLOT}${c}/${padKey(slot)}/${trader}/${lk}`;
}

export function getBalance(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[]): number {
  return store.get<number>(balKey(c, trader, slot, labelsKey(labels))) ?? 0;
}

export function setBalance(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[], wh: number): void {
  const lk = labelsKey(labels);
  if (wh === 0) {
    store.delete(balKey(c, trader, slot, lk));
    store.delete(slotKey(c, slot, trader, lk));
  } else {
    store.set(balKey(c, trader, slot, lk), wh);
    store.set(slotKey(c, slot, trader, lk), wh);
  }
}

export function hasAnyBalance(store: KVStore, c: string, trader: string): boolean {
  return store.scan(`${BAL}${c}/${trader}/`, { limit: 1 }).length > 0;
}

/** Non-zero balances of one trader with fromSlot ≤ slot < toSlot, in slot order. */
export function traderBalances(store: KVStore, c: string, trader: string, fromSlot: number, toSlot: number, limit?: number): BalanceRow[] {
  const prefix = `${BAL}${c}/${trader}/`;
  return store.scan<number>(prefix, { start: `${prefix}${padKey(fromSlot)}`, end: `${prefix}${padKey(toSlot)}`, limit }).map(([k, wh]) => {
    const [slot, lk] = k.slice(prefix.length).split('/');
    return { trader, slot: Number(slot), labels: labelsFromKey(lk!), wh };
  });
}

/** Non-zero balances of all traders of a community with fromSlot ≤ slot < toSlot, in (slot, trader, labels) order. */
export function communityBalances(store: KVStore, c: string, fromSlot: number, toSlot: number, limit?: number): BalanceRow[] {
  const prefix = `${SLOT}${c}/`;
  return store.scan<number>(prefix, { start: `${prefix}${padKey(fromSlot)}`, end: `${prefix}${padKey(toSlot)}`, limit }).map(([k, wh]) => {
    const [slot, trader, lk] = k.slice(prefix.length).split('/');
    return { trader: trader!, slot: Number(slot), labels: labelsFromKey(lk!), wh };
  });
}

export function putHistory(store: KVStore, e: HistoryEntry, n: number, adjustment: boolean): void {
  const tail = `${padKey(e.height)}/${e.txHash}/${padKey(e.msgIndex, 4)}/${padKey(n, 4)}`;
  store.set(`${HIST}${e.community}/${e.trader}/${tail}`, e);
  if (adjustment) store.set(`${ADJ}${e.community}/${tail}`, e);
}

/**
 * A page of a trader's history (oldest first, or newest with `reverse`) that `keep` accepts, after the
 * cursor `after` (a previous page's `next`); at most FILTER_SCAN_ROWS entries read per request, so a
 * narrow slot range far from the start answers short pages with `next` rather than reading everything.
 */
export function historyPage(store: KVStore, c: string, trader: string, keep: (e: HistoryEntry) => boolean, options: { after?: string; limit: number; reverse?: boolean }): Page<HistoryEntry> {
  return matchingPage(store, `${HIST}${c}/${trader}/`, keep, { ...options, maxRows: FILTER_SCAN_ROWS });
}

export function listAdjustments(store: KVStore, c: string): HistoryEntry[] {
  return store.scan<HistoryEntry>(`${ADJ}${c}/`).map(([, e]) => e);
}

/** A page of a community's adjustments that `keep` accepts, in booking order; the cursor is the key after "energy/adj/<c>/"; at most FILTER_SCAN_ROWS read per request. */
export function adjustmentPage(store: KVStore, c: string, keep: (e: HistoryEntry) => boolean, options: { after?: string; limit: number }): Page<HistoryEntry> {
  return matchingPage(store, `${ADJ}${c}/`, keep, { ...options, maxRows: FILTER_SCAN_ROWS });
}

/** Remembers that `meterId` was linked to `trader` in `c` (the index behind metersOf / linkPeriodsOf). */
export function indexTraderMeter(store: KVStore, c: string, trader: string, meterId: string): void {
  store.set(`${TMETER}${c}/${trader}/${meterId}`, meterId);
}

/** Meters ever linked to `trader` in `c`, by meter id. */
export function listTraderMeters(store: KVStore, c: string, trader: string): string[] {
  return store.scan<string>(`${TMETER}${c}/${trader}/`).map(([, id]) => id);
}

/** A module's lock on part of a trader's balance (one slot and label set): the locked Wh cannot be transferred, reduced or locked again. */
export interface EnergyLock {
  /** "<module>/<ref>" */
  id: string;
  module: string;
  community: string;
  trader: string;
  slot: number;
  labels: string[];
  /** Wh still locked. */
  wh: number;
  /** Wh locked at first. */
  original: number;
  lockedAt: TxRef;
}

export function getEnergyLock(store: KVStore, id: string): EnergyLock | undefined {
  return store.get<EnergyLock>(LOCK + id);
}

export function putEnergyLock(store: KVStore, lock: EnergyLock): void {
  if (lock.wh === 0) store.delete(LOCK + lock.id);
  else store.set(LOCK + lock.id, lock);
}

function lockedKey(c: string, trader: string, slot: number, labels: readonly string[]): string {
  return `${LOCKED}${c}/${trader}/${padKey(slot)}/${labelsKey(labels)}`;
}

export function getLocked(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[]): number {
  return store.get<number>(lockedKey(c, trader, slot, labels)) ?? 0;
}

export function adjustLocked(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[], deltaWh: number): void {
  const next = getLocked(store, c, trader, slot, labels) + deltaWh;
  if (next < 0 || !Number.isSafeInteger(next)) throw new RangeError(`locked energy of ${trader} at slot ${slot} would become ${next}`);
  if (next === 0) store.delete(lockedKey(c, trader, slot, labels));
  else store.set(lockedKey(c, trader, slot, labels), next);
}

/** What a trader may move of a balance: the balance less what modules locked of it. */
export function getFreeBalance(store: KVStore, c: string, trader: string, slot: number, labels: readonly string[]): number {
  return getBalance(store, c, trader, slot, labels) - getLocked(store, c, trader, slot, labels);
}
