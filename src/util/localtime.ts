import { defineErrors, type LedgerError } from './errors.js';
import { floorDiv } from './int.js';
import { SLOT_SECONDS } from './slots.js';
import { civilFromDays, daysFromCivil, daysInMonth, SECONDS_PER_DAY } from './tz/civil.js';
import { tzTable } from './tz/table.js';
import type { ZoneRules } from './tz/zone.js';

/**
 * Local calendar days in an IANA time zone, in 15-minute slots: 96 slots, 92 on the spring DST change,
 * 100 on the autumn one. The zone rules come from the node's own table (src/util/tz/tzdata.json, a
 * pinned IANA release whose hash is in genesis), never from the runtime's ICU or TZ: every node
 * computes the same slots whatever its Node version or operating system (docs/timezones.md).
 * Integer seconds throughout; no Date, no Intl.
 */

export const TIME_ERRORS = defineErrors('time', {
  TIMEZONE_INVALID: { meaning: "the name is not a zone or link in the node's time-zone table (IANA names, exact spelling, e.g. Europe/Vienna)" },
  TIMEZONE_OFFSET_NOT_ALLOWED: { meaning: 'a fixed UTC offset (+01:00, UTC+1, Etc/GMT-1) where a geographic IANA zone is required: fixed offsets do not follow local civil time' },
  DAY_INVALID: { meaning: 'not a calendar day YYYY-MM-DD' },
  TIME_OUT_OF_RANGE: { meaning: 'an instant outside the years 0000–9999 that local-time conversion covers' },
});

const MAX_ZONE_NAME = 64;
/** "+01:00", "-0530", "UTC+1", "GMT-3", "Etc/GMT-14", "GMT+0": names that state an offset instead of a place. */
const OFFSET_NAME = /^(?:Etc\/)?(?:UTC|UT|GMT)?[+-]\d{1,2}(?::?\d{2}){0,2}$/i;

/** Why a time-zone name is refused, or undefined if it names a zone of the table. */
export function timeZoneError(tz: unknown): LedgerError | undefined {
  const shown = JSON.stringify(tz) ?? String(tz);
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > MAX_ZONE_NAME) return TIME_ERRORS.TIMEZONE_INVALID(`${shown} is not an IANA time zone (e.g. Europe/Vienna)`);
  if (OFFSET_NAME.test(tz)) return TIME_ERRORS.TIMEZONE_OFFSET_NOT_ALLOWED(`${shown} is a fixed UTC offset; use the IANA zone of the place (e.g. Europe/Vienna), or UTC`);
  if (tzTable().canonicalName(tz) === undefined) return TIME_ERRORS.TIMEZONE_INVALID(`${shown} is not an IANA time zone of table ${tzTable().version} (exact spelling, e.g. Europe/Vienna)`);
  return undefined;
}

export function isValidTimeZone(tz: string): boolean {
  return timeZoneError(tz) === undefined;
}

export function requireTimeZone(tz: string): void {
  const err = timeZoneError(tz);
  if (err) throw err;
}

function zoneRules(tz: string): ZoneRules {
  requireTimeZone(tz);
  return tzTable().zone(tz)!;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseDay(day: string): { year: number; month: number; day: number } {
  const m = DAY_RE.exec(day);
  const parsed = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!parsed || parsed.month < 1 || parsed.month > 12 || parsed.day < 1 || parsed.day > daysInMonth(parsed.year, parsed.month)) {
    throw TIME_ERRORS.DAY_INVALID(`${JSON.stringify(day)} is not a calendar day YYYY-MM-DD`);
  }
  return parsed;
}

/** Instants this module converts: a day's margin inside years 0000–9999, so local dates keep 4-digit years. */
const FIRST_INSTANT = daysFromCivil(0, 1, 2) * SECONDS_PER_DAY;
const END_INSTANT = daysFromCivil(9999, 12, 31) * SECONDS_PER_DAY;

function slotStartSeconds(slot: number): number {
  const t = slot * SLOT_SECONDS;
  if (!Number.isSafeInteger(slot) || t < FIRST_INSTANT || t >= END_INSTANT) throw TIME_ERRORS.TIME_OUT_OF_RANGE(`slot ${slot} is outside the years 0000–9999`);
  return t;
}

/** UTC instant (seconds) at which a local day starts: the first instant whose local clock reads that day or later. */
function dayStartSeconds(rules: ZoneRules, days: number): number {
  return rules.firstInstantAtOrAfterWall(days * SECONDS_PER_DAY);
}

function ceilDiv(a: number, b: number): number {
  return 0 - floorDiv(0 - a, b); // 0 - x, not -x: never a negative zero
}

/**
 * UTC instant (ms) of local midnight starting the given calendar day. Where midnight is skipped (a DST
 * change at 00:00), the day starts when the clock jumps; where it repeats, at its first occurrence.
 */
export function localMidnightMs(tz: string, year: number, month: number, day: number): number {
  return dayStartSeconds(zoneRules(tz), daysFromCivil(year, month, day)) * 1000;
}

export interface LocalDay {
  day: string;
  firstSlot: number;
  /** Number of slots: 96, or 92 / 100 on DST change days. */
  slots: number;
}

/**
 * The slots of a local calendar day: [firstSlot, firstSlot + slots), exactly the slots whose start lies
 * in the day, so consecutive days tile the slot line and dayOfSlot(firstSlot + i) is the day. (With the
 * historic offsets that were not whole quarter hours, a slot straddling midnight belongs to the day
 * in which it starts.)
 */
export function localDay(tz: string, day: string): LocalDay {
  const rules = zoneRules(tz);
  const { year, month, day: d } = parseDay(day);
  const days = daysFromCivil(year, month, d);
  const firstSlot = ceilDiv(dayStartSeconds(rules, days), SLOT_SECONDS);
  const nextFirstSlot = ceilDiv(dayStartSeconds(rules, days + 1), SLOT_SECONDS);
  return { day, firstSlot, slots: nextFirstSlot - firstSlot };
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function formatDay(days: number): string {
  const c = civilFromDays(days);
  return `${String(c.year).padStart(4, '0')}-${pad2(c.month)}-${pad2(c.day)}`;
}

/** The local calendar day (YYYY-MM-DD) that contains the start of a slot. */
export function dayOfSlot(tz: string, slot: number): string {
  const rules = zoneRules(tz);
  const t = slotStartSeconds(slot);
  // The local date of t, corrected where a clock set back across midnight makes it disagree with the day boundaries.
  let days = floorDiv(t + rules.typeAt(t).utoff, SECONDS_PER_DAY);
  while (dayStartSeconds(rules, days + 1) <= t) days++;
  while (dayStartSeconds(rules, days) > t) days--;
  return formatDay(days);
}

/** "+HH:MM", or "+HH:MM:SS" for the historic offsets with seconds (local mean time). */
function formatOffset(utoff: number): string {
  const abs = Math.abs(utoff);
  const hours = floorDiv(abs, 3600);
  const minutes = floorDiv(abs - hours * 3600, 60);
  const seconds = abs - hours * 3600 - minutes * 60;
  return `${utoff < 0 ? '-' : '+'}${pad2(hours)}:${pad2(minutes)}${seconds === 0 ? '' : `:${pad2(seconds)}`}`;
}

/** Local wall-clock time of a slot start, e.g. "2026-03-29T03:00:00+02:00". */
export function slotLocalIso(tz: string, slot: number): string {
  const rules = zoneRules(tz);
  const t = slotStartSeconds(slot);
  const { utoff } = rules.typeAt(t);
  const local = t + utoff;
  const days = floorDiv(local, SECONDS_PER_DAY);
  const secondOfDay = local - days * SECONDS_PER_DAY;
  const hours = floorDiv(secondOfDay, 3600);
  const minutes = floorDiv(secondOfDay - hours * 3600, 60);
  const seconds = secondOfDay - hours * 3600 - minutes * 60;
  return `${formatDay(days)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}${formatOffset(utoff)}`;
}

/** Offset from UTC (seconds, east positive) and DST flag in effect at the start of a slot. */
export function slotUtcOffset(tz: string, slot: number): { utoffSeconds: number; isDst: boolean } {
  const { utoff, isDst } = zoneRules(tz).typeAt(slotStartSeconds(slot));
  return { utoffSeconds: utoff, isDst };
}
