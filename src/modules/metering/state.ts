import { collection } from '../../app/collections.js';
import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import { floorDiv, safeAdd } from '../../util/int.js';
import type { TxRef } from '../../app/tx-ref.js';
export type { TxRef } from '../../app/tx-ref.js';

/**
 * Metering state layout (all keys under "metering/"):
 *   metering/params                          → MeteringParams
 *   metering/meter/<meterId>                 → Meter
 *   metering/by-address/<address>            → meterId   (one key per device: an address is one meter)
 *   metering/by-device/<deviceId>            → meterId
 *   metering/reading/<meterId>/<slot16>      → MeterReading
 *   metering/official/<meterId>/<slot16>     → OfficialReading (grid operator, authoritative)
 *   metering/diff/<meterId>/<slot16>         → ReadingDifference (official − reported)
 *   metering/series/<meterId>/<day16>        → SeriesRow: the day's readings packed as [offset, import, export]
 *                                              (day = floor(slot / 96), a UTC day; read by billing, which
 *                                              would otherwise parse one row per meter and slot)
 */


export const DEFAULT_READING_WINDOW_SLOTS = 7 * 96;

export interface Meter {
  meterId: string;
  /** Device identifier, e.g. the DSMR equipment identifier. */
  deviceId: string;
  /** The meter's own account: readings are transactions signed by this key. */
  address: string;
  /** Public key (hex) of the meter's account, when given at registration. */
  pubKey?: string;
  maxPowerW: number;
  registeredBy: string;
  registeredAt: TxRef;
  readings: number;
  lastSlot?: number;
  /**
   * First slots of the devices that replaced the original one, ascending (absent until a replacement).
   * Register and sequence checks never compare readings across such a boundary.
   */
  deviceEpochs?: number[];
  /** Earlier devices and keys, oldest first (absent until a rotation or replacement). */
  history?: Array<{ kind: 'key' | 'device'; deviceId: string; address: string; untilSlot?: number; height: number; txHash: string }>;
}

/** True when a device replacement lies between the slots a < b (so their registers are unrelated). */
export function crossesEpoch(meter: Meter, a: number, b: number): boolean {
  return (meter.deviceEpochs ?? []).some((e) => a < e && e <= b);
}

export interface MeterReading {
  meterId: string;
  slot: number;
  importWh: number;
  exportWh: number;
  importRegisterWh: number;
  exportRegisterWh: number;
  seq: number;
  /** Fingerprint of the slot's off-chain samples (64 hex digits) and their count; only on readings that carry them. */
  fingerprint?: string;
  sampleCount?: number;
  height: number;
  txHash: string;
}

export interface OfficialReading {
  meterId: string;
  slot: number;
  importWh: number;
  exportWh: number;
  by: string;
  height: number;
  txHash: string;
}

export interface ReadingDifference {
  meterId: string;
  slot: number;
  officialImportWh: number;
  officialExportWh: number;
  /** null when the meter never reported this slot */
  reportedImportWh: number | null;
  reportedExportWh: number | null;
  /** official − reported (reported counts as 0 when missing) */
  importDiffWh: number;
  exportDiffWh: number;
  height: number;
  txHash: string;
}

export const meters = collection<Meter>('metering/meter/');
const BY_ADDRESS = 'metering/by-address/';
const BY_DEVICE = 'metering/by-device/';
const READING = 'metering/reading/';
const OFFICIAL = 'metering/official/';
const DIFF = 'metering/diff/';

export function getMeter(store: KVStore, meterId: string): Meter | undefined {
  return meters.get(store, meterId);
}

export function putMeter(store: KVStore, meter: Meter): void {
  meters.put(store, meter, meter.meterId);
}

export function listMeters(store: KVStore, options: { after?: string; limit: number }): Meter[] {
  return meters.page(store, options).items;
}

export function meterIdByAddress(store: KVStore, address: string): string | undefined {
  return store.get<string>(BY_ADDRESS + address);
}

export function meterIdByDevice(store: KVStore, deviceId: string): string | undefined {
  return store.get<string>(BY_DEVICE + deviceId);
}

export function unindexAddress(store: KVStore, address: string): void {
  store.delete(BY_ADDRESS + address);
}

export function unindexDevice(store: KVStore, deviceId: string): void {
  store.delete(BY_DEVICE + deviceId);
}

export function indexMeter(store: KVStore, meter: Meter): void {
  store.set(BY_ADDRESS + meter.address, meter.meterId);
  store.set(BY_DEVICE + meter.deviceId, meter.meterId);
}

function slotKey(prefix: string, meterId: string, slot: number): string {
  return `${prefix}${meterId}/${padKey(slot)}`;
}

export function getReading(store: KVStore, meterId: string, slot: number): MeterReading | undefined {
  return store.get<MeterReading>(slotKey(READING, meterId, slot));
}

export function putReading(store: KVStore, reading: MeterReading): void {
  store.set(slotKey(READING, reading.meterId, reading.slot), reading);
  addToSeries(store, reading);
}

const SERIES = 'metering/series/';
export const SERIES_SLOTS = 96;

/** One UTC day of a meter's interval values: [slot offset in the day, importWh, exportWh], by offset. */
export interface SeriesRow {
  r: Array<[number, number, number]>;
}

export interface IntervalValue {
  slot: number;
  importWh: number;
  exportWh: number;
}

function seriesKey(meterId: string, day: number): string {
  return `${SERIES}${meterId}/${padKey(day)}`;
}

function addToSeries(store: KVStore, reading: MeterReading): void {
  const day = floorDiv(reading.slot, SERIES_SLOTS);
  const offset = reading.slot - day * SERIES_SLOTS;
  const key = seriesKey(reading.meterId, day);
  const entry: [number, number, number] = [offset, reading.importWh, reading.exportWh];
  // Readings mostly arrive in slot order: then the entry goes last, appended to the row's text.
  const appended = appendSeriesText(store.getEncoded(key), entry);
  if (appended !== undefined) return store.setEncoded(key, appended);
  // A late reading is sorted in (or replaces its offset).
  const row = store.get<SeriesRow>(key) ?? { r: [] };
  const entries = row.r.filter((e) => e[0] !== offset);
  entries.push(entry);
  entries.sort((a, b) => a[0] - b[0]);
  writeSeriesDay(store, reading.meterId, day, entries);
}

const EMPTY_ROW = '{"r":[]}';

/**
 * The canonical JSON of a day row with `entry` appended, built from the stored text, when the entry
 * belongs last (no row yet, or its offset is above the last one's); otherwise undefined. A day row
 * grows to 96 entries and every reading rewrote it whole: parsing and re-encoding it was a fifth of a
 * reading's handler. The text equals `canonicalJson({ r: [...entries, entry] })` (tested against it):
 * a row is `{"r":[[o,i,e],…]}` and its entries are safe integers, written in decimal as canonicalJson does.
 */
export function appendSeriesText(row: string | undefined, entry: readonly [number, number, number]): string | undefined {
  const text = `[${entry[0]},${entry[1]},${entry[2]}]`;
  if (row === undefined || row === EMPTY_ROW) return `{"r":[${text}]}`;
  const lastEntry = row.lastIndexOf('[');
  const lastOffset = Number(row.slice(lastEntry + 1, row.indexOf(',', lastEntry)));
  if (!(lastOffset < entry[0])) return undefined;
  return `${row.slice(0, -2)},${text}]}`;
}

/** Writes a whole packed day (also used to import historical data in bulk, e.g. by benchmarks). */
export function writeSeriesDay(store: KVStore, meterId: string, day: number, entries: Array<[number, number, number]>): void {
  store.set(seriesKey(meterId, day), { r: entries });
}

/** Interval values with fromSlot ≤ slot < toSlot from the packed day rows, in slot order. */
export function readSeries(store: KVStore, meterId: string, fromSlot: number, toSlot: number): IntervalValue[] {
  if (toSlot <= fromSlot) return [];
  const firstDay = floorDiv(fromSlot, SERIES_SLOTS);
  const lastDay = floorDiv(toSlot - 1, SERIES_SLOTS);
  const out: IntervalValue[] = [];
  for (const [key, row] of store.scan<SeriesRow>(`${SERIES}${meterId}/`, { start: seriesKey(meterId, firstDay), end: seriesKey(meterId, lastDay + 1) })) {
    const day = Number(key.slice(key.lastIndexOf('/') + 1));
    for (const [offset, importWh, exportWh] of row.r) {
      const slot = day * SERIES_SLOTS + offset;
      if (slot >= fromSlot && slot < toSlot) out.push({ slot, importWh, exportWh });
    }
  }
  return out;
}

/** The meter's readings with fromSlot ≤ slot < toSlot, in slot order. */
export function listReadings(store: KVStore, meterId: string, fromSlot: number, toSlot: number, limit?: number): MeterReading[] {
  if (toSlot <= fromSlot) return [];
  return store
    .scan<MeterReading>(`${READING}${meterId}/`, { start: slotKey(READING, meterId, Math.max(0, fromSlot)), end: slotKey(READING, meterId, toSlot), limit })
    .map(([, r]) => r);
}

/** The reading with the greatest slot below `slot`. */
export function previousReading(store: KVStore, meterId: string, slot: number): MeterReading | undefined {
  return store.scan<MeterReading>(`${READING}${meterId}/`, { end: slotKey(READING, meterId, slot), reverse: true, limit: 1 })[0]?.[1];
}

/** The reading with the smallest slot above `slot`. */
export function nextReading(store: KVStore, meterId: string, slot: number): MeterReading | undefined {
  return store.scan<MeterReading>(`${READING}${meterId}/`, { start: slotKey(READING, meterId, slot + 1), limit: 1 })[0]?.[1];
}

export function getOfficial(store: KVStore, meterId: string, slot: number): OfficialReading | undefined {
  return store.get<OfficialReading>(slotKey(OFFICIAL, meterId, slot));
}

export function putOfficial(store: KVStore, official: OfficialReading): void {
  store.set(slotKey(OFFICIAL, official.meterId, official.slot), official);
}

export function putDifference(store: KVStore, diff: ReadingDifference): void {
  store.set(slotKey(DIFF, diff.meterId, diff.slot), diff);
}

export function getDifference(store: KVStore, meterId: string, slot: number): ReadingDifference | undefined {
  return store.get<ReadingDifference>(slotKey(DIFF, meterId, slot));
}

/** Sums of official − reported over a list of differences. */
export function sumDifferences(differences: ReadonlyArray<{ importDiffWh: number; exportDiffWh: number }>): { importDiffWh: number; exportDiffWh: number } {
  return differences.reduce((t, d) => ({ importDiffWh: safeAdd(t.importDiffWh, d.importDiffWh), exportDiffWh: safeAdd(t.exportDiffWh, d.exportDiffWh) }), { importDiffWh: 0, exportDiffWh: 0 });
}

export function listDifferences(store: KVStore, meterId: string, fromSlot: number, toSlot: number, limit?: number): ReadingDifference[] {
  if (toSlot <= fromSlot) return [];
  return store
    .scan<ReadingDifference>(`${DIFF}${meterId}/`, { start: slotKey(DIFF, meterId, Math.max(0, fromSlot)), end: slotKey(DIFF, meterId, toSlot), ...(limit !== undefined ? { limit } : {}) })
    .map(([, d]) => d);
}
