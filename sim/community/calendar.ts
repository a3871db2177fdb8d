import { localMidnightMs, slotLocalIso } from '../../src/util/localtime.js';
import { SLOT_MS } from '../../src/util/slots.js';

/** Local calendar facts about a slot in a community's time zone (IANA data of the Node runtime). */
export interface LocalSlot {
  slot: number;
  year: number;
  month: number;
  day: number;
  /** "YYYY-MM-DD" of the local date. */
  date: string;
  /** Local date as days since 1970-01-01 (a key for per-day random streams). */
  epochDay: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  /** 1 … 366. */
  dayOfYear: number;
  /** Local wall-clock minutes since midnight of the slot start. */
  minuteOfDay: number;
  /** Slot index within the local day (0 … 91/95/99). */
  indexInDay: number;
}

const MS_PER_DAY = 86_400_000;

export function epochDayOf(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

export function dayOfYear(year: number, month: number, day: number): number {
  return epochDayOf(year, month, day) - epochDayOf(year, 1, 1) + 1;
}

/** First slot of a local day. */
export function firstSlotOfDay(timezone: string, year: number, month: number, day: number): number {
  return Math.floor(localMidnightMs(timezone, year, month, day) / SLOT_MS);
}

const SLOTS_PER_UTC_DAY = 96;
const OFFSET_RE = /([+-])(\d{2}):(\d{2})$/;
/** UTC offsets at the first and last slot of a UTC day, per zone (a day without a change has one offset). */
const dayOffsets = new Map<string, { first: number; last: number }>();
const dayStarts = new Map<string, number>();

function offsetOfSlot(timezone: string, slot: number): number {
  const m = OFFSET_RE.exec(slotLocalIso(timezone, slot))!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

function bounded<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= 20_000) map.clear();
  map.set(key, value);
  return value;
}

/** Local time minus UTC (ms) at the start of a slot; asks the time-zone data about twice per UTC day. */
export function utcOffsetMs(timezone: string, slot: number): number {
  const utcDay = Math.floor(slot / SLOTS_PER_UTC_DAY);
  const key = `${timezone}|${utcDay}`;
  const known = dayOffsets.get(key) ?? bounded(dayOffsets, key, {
    first: offsetOfSlot(timezone, utcDay * SLOTS_PER_UTC_DAY),
    last: offsetOfSlot(timezone, (utcDay + 1) * SLOTS_PER_UTC_DAY - 1),
  });
  // Offsets change at slot boundaries; on the day of a change, ask for the slot itself.
  return known.first === known.last ? known.first : offsetOfSlot(timezone, slot);
}

function cachedFirstSlotOfDay(timezone: string, year: number, month: number, day: number, epochDay: number): number {
  const key = `${timezone}|${epochDay}`;
  return dayStarts.get(key) ?? bounded(dayStarts, key, firstSlotOfDay(timezone, year, month, day));
}

export function localSlot(timezone: string, slot: number): LocalSlot {
  const wall = new Date(slot * SLOT_MS + utcOffsetMs(timezone, slot));
  const year = wall.getUTCFullYear();
  const month = wall.getUTCMonth() + 1;
  const day = wall.getUTCDate();
  const epochDay = epochDayOf(year, month, day);
  return {
    slot,
    year,
    month,
    day,
    date: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    epochDay,
    weekday: wall.getUTCDay(),
    dayOfYear: dayOfYear(year, month, day),
    minuteOfDay: wall.getUTCHours() * 60 + wall.getUTCMinutes(),
    indexInDay: slot - cachedFirstSlotOfDay(timezone, year, month, day, epochDay),
  };
}

/** Local calendar date of an epoch day. */
export function dateOfEpochDay(epochDay: number): { year: number; month: number; day: number } {
  const d = new Date(epochDay * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
