import { collection, FILTER_SCAN_ROWS, type Page } from '../../app/collections.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import type { TxRef } from '../../app/tx-ref.js';
export type { TxRef } from '../../app/tx-ref.js';

/**
 * State layout of the shares module (all under "shares/"):
 *
 *   shares/plant/{plant}                         Plant (metadata and the versions of its distribution key)
 *   shares/by-utility/{utility}/{plant}          1 — plants in which the utility bills someone
 *   shares/level/{plant}/{address}/{slot16}      L — the participant's net transferred ppm from this slot on
 *   shares/seq/{plant}                           last history sequence number
 *   shares/log/{plant}/{seq16}                   LogEntry — registrations, key changes, transfers
 *
 * Transfers are stored as range deltas: per participant a step function "level(slot)" = sum of the
 * ppm it received minus the ppm it gave for that slot. Each entry holds the level from its slot until
 * the next entry; a transfer over [from, to) touches the entries at `from`, `to` and in between, so a
 * 16-slot transfer writes a handful of keys instead of 32 per-slot rows, and a month of holdings is a
 * short range scan. The holding of a participant in a slot is key(slot) + level(slot).
 *
 * Window invariant: no transfer is longer than MAX_RANGE_SLOTS, so a non-zero level at slot s always
 * has an entry in (s − MAX_RANGE_SLOTS, s]; level lookups therefore scan a bounded window only.
 */

export const PPM_TOTAL = 1_000_000;
/** Longest transfer range: 366 days of 96 slots. */
export const MAX_RANGE_SLOTS = 366 * 96;


export interface Participant {
  address: string;
  utility: string;
  ppm: number;
  meter?: string;
}

export interface KeyVersion {
  /** First slot to which this key applies (stored as 0 for the key given at registration, which applies from `registrationSlot(plant)` on). */
  fromSlot: number;
  /** The local day it starts, or null for the registration key. */
  fromDay: string | null;
  /** Sorted by address. */
  participants: Participant[];
  setAt: TxRef;
}

export interface Plant {
  id: string;
  name: string;
  peakPowerW: number;
  timezone: string;
  productionMeter: string;
  operator: string;
  registeredAt: TxRef & { time: number };
  /** Sorted by fromSlot ascending; the first is stored with fromSlot 0 and applies from the registration slot (holdings.ts). */
  keys: KeyVersion[];
}

export type LogEntry =
  | { seq: number; kind: 'register'; by: string; height: number; txHash: string; time: number }
  | { seq: number; kind: 'key'; by: string; fromDay: string; fromSlot: number; height: number; txHash: string; time: number }
  | { seq: number; kind: 'transfer'; by: string; from: string; to: string; ppm: number; fromSlot: number; toSlot: number; height: number; txHash: string; time: number };

export const plants = collection<Plant>('shares/plant/');
const BY_UTILITY = 'shares/by-utility/';
/**
 * State version 2 (ADR 0029): the plants whose record names a meter (production meter, or a
 * participant's meter in a key), under the meter. Added when a plant or a key names the meter and
 * never removed (as by-utility): a key replaced before it began leaves an entry whose plant no longer
 * names the meter, so readers check the record.
 */
const BY_METER = 'shares/by-meter/';
const LEVEL = 'shares/level/';
const SEQ = 'shares/seq/';
const LOG = 'shares/log/';

export function getPlant(store: KVStore, id: string): Plant | undefined {
  return plants.get(store, id);
}

/** Writes a plant and its index entries (`stateVersion` ≥ 2: also the meters it names). */
export function putPlant(store: KVStore, plant: Plant, stateVersion: number): void {
  plants.put(store, plant, plant.id);
  for (const k of plant.keys) for (const p of k.participants) setOnce(store, `${BY_UTILITY}${p.utility}/${plant.id}`);
  if (stateVersion >= 2) indexMeters(store, plant);
}

function setOnce(store: KVStore, key: string): void {
  if (!store.has(key)) store.set(key, 1);
}

/** The meters a plant's record names: its production meter and every participant meter of every kept key. */
export function metersOfPlant(plant: Plant): string[] {
  return [plant.productionMeter, ...plant.keys.flatMap((k) => k.participants.flatMap((p) => (p.meter !== undefined ? [p.meter] : [])))];
}

function indexMeters(store: KVStore, plant: Plant): void {
  for (const meter of new Set(metersOfPlant(plant))) setOnce(store, `${BY_METER}${meter}/${plant.id}`);
}

/** Migration to state version 2: the meter index from every plant, a page at a time. */
export function indexPlantMeters(store: KVStore): void {
  let after: string | undefined;
  do {
    const page = plants.page(store, { after, limit: 1_000 });
    for (const plant of page.items) indexMeters(store, plant);
    after = page.next;
  } while (after !== undefined);
}

/**
 * The plants whose record names `meter`, in id order after `after`. State version 2 reads the meter's
 * index entries (and each plant found); version 1 reads the plants themselves, at most
 * FILTER_SCAN_ROWS per request, and says where to go on (`next`) when it stopped early.
 */
export function plantsOfMeter(store: KVStore, meter: string, page: { after?: string; limit: number }, stateVersion: number): Page<Plant> {
  const names = (p: Plant | undefined): p is Plant => p !== undefined && metersOfPlant(p).includes(meter);
  if (stateVersion < 2) return plants.matchingPage(store, names, { ...page, maxRows: FILTER_SCAN_ROWS });
  const ids = indexedPlantIds(store, `${BY_METER}${meter}/`, { after: page.after, limit: page.limit + 1 });
  const mine = ids.slice(0, page.limit);
  return { items: mine.map((id) => getPlant(store, id)).filter(names), ...(ids.length > page.limit ? { next: mine[mine.length - 1] } : {}) };
}

/** Plant ids under an index prefix (by-utility, by-meter), in id order after `after` (exclusive), at most `limit`. */
function indexedPlantIds(store: KVStore, prefix: string, page: { after?: string; limit: number }): string[] {
  const start = page.after !== undefined ? { start: `${prefix}${page.after}\u0000` } : {};
  return store.scan<number>(prefix, { ...start, limit: page.limit }).map(([k]) => k.slice(prefix.length));
}

export function listPlants(store: KVStore, options: { after?: string; limit: number }): Plant[] {
  return plants.page(store, options).items;
}

/** Ids of the plants where `utility` bills someone, in id order after `after` (exclusive), at most `limit`. */
export function plantsOfUtility(store: KVStore, utility: string, page: { after?: string; limit: number }): string[] {
  return indexedPlantIds(store, `${BY_UTILITY}${utility}/`, page);
}

function levelPrefix(plant: string, address: string): string {
  return `${LEVEL}${plant}/${address}/`;
}

export function levelKey(plant: string, address: string, slot: number): string {
  return levelPrefix(plant, address) + padKey(slot);
}

/** The level (net transferred ppm) of a participant at a slot. */
export function levelAt(store: KVStore, plant: string, address: string, slot: number): number {
  const prefix = levelPrefix(plant, address);
  const start = prefix + padKey(Math.max(0, slot - MAX_RANGE_SLOTS + 1));
  const rows = store.scan<number>(prefix, { start, end: prefix + padKey(slot + 1), reverse: true, limit: 1 });
  return rows.length === 0 ? 0 : rows[0]![1];
}

/** Level entries with from ≤ slot < to, in slot order. */
export function levelEntries(store: KVStore, plant: string, address: string, from: number, to: number): Array<[number, number]> {
  if (to <= from) return [];
  const prefix = levelPrefix(plant, address);
  return store.scan<number>(prefix, { start: prefix + padKey(from), end: prefix + padKey(to) }).map(([k, v]) => [Number(k.slice(prefix.length)), v]);
}

export function setLevel(store: KVStore, plant: string, address: string, slot: number, level: number): void {
  store.set(levelKey(plant, address, slot), level);
}

export function deleteLevel(store: KVStore, plant: string, address: string, slot: number): void {
  store.delete(levelKey(plant, address, slot));
}

/** Every level entry of the participant from `from` on (for voiding transfers when a new key starts). */
export function levelEntriesFrom(store: KVStore, plant: string, address: string, from: number): Array<[number, number]> {
  const prefix = levelPrefix(plant, address);
  return store.scan<number>(prefix, { start: prefix + padKey(from) }).map(([k, v]) => [Number(k.slice(prefix.length)), v]);
}

export function appendLog(store: KVStore, plant: string, entry: DistributiveOmit<LogEntry, 'seq'>): number {
  const seq = (store.get<number>(SEQ + plant) ?? 0) + 1;
  store.set(SEQ + plant, seq);
  store.set(`${LOG}${plant}/${padKey(seq)}`, { ...entry, seq });
  return seq;
}

export function readLog(store: KVStore, plant: string, options: { address?: string; beforeSeq?: number; limit: number }): LogEntry[] {
  const prefix = `${LOG}${plant}/`;
  const end = options.beforeSeq !== undefined ? prefix + padKey(options.beforeSeq) : undefined;
  const out: LogEntry[] = [];
  // Newest first; filter by participant when asked.
  let cursor = end;
  for (;;) {
    const rows = store.scan<LogEntry>(prefix, { end: cursor, reverse: true, limit: 500 });
    for (const [, e] of rows) {
      if (!options.address || e.by === options.address || (e.kind === 'transfer' && (e.from === options.address || e.to === options.address))) out.push(e);
      if (out.length >= options.limit) return out;
    }
    if (rows.length < 500) return out;
    cursor = rows[rows.length - 1]![0];
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
