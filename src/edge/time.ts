/**
 * Civil time in integers, without the runtime's time-zone data: meters state their UTC offset
 * themselves (DSMR's S/W flag, an ISO offset), so all we need is calendar arithmetic.
 */

import { DAY_MS, HOUR_MS } from '../util/slots.js';

export { DAY_MS, HOUR_MS };

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The date of a day number (inverse of daysFromCivil). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export interface CivilTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** True when every field names a real calendar time (seconds 0–59: DSMR meters do not report leap seconds). */
export function isValidCivil(t: CivilTime): boolean {
  return (
    t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= daysInMonth(t.year, t.month) &&
    t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 59
  );
}

/** Unix ms of a civil time read on a clock that is `offsetMs` ahead of UTC. */
export function civilToUnixMs(t: CivilTime, offsetMs: number): number {
  return daysFromCivil(t.year, t.month, t.day) * DAY_MS + ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 - offsetMs;
}

export function unixMsToCivil(ms: number): CivilTime {
  const days = Math.floor(ms / DAY_MS);
  const secOfDay = Math.floor((ms - days * DAY_MS) / 1000);
  return { ...civilFromDays(days), hour: Math.floor(secOfDay / 3600), minute: Math.floor(secOfDay / 60) % 60, second: secOfDay % 60 };
}

/** Start (ms) of the last Sunday of a month, 00:00 UTC. 1970-01-01 was a Thursday. */
function lastSundayMs(year: number, month: number): number {
  const last = daysFromCivil(year, month, daysInMonth(year, month));
  const weekday = (((last + 4) % 7) + 7) % 7; // 0 = Sunday
  return (last - weekday) * DAY_MS;
}

/**
 * EU summer time (directive 2000/84/EC): from the last Sunday of March 01:00 UTC to the last Sunday of
 * October 01:00 UTC. A fixed rule, not tz data; used to *write* DSMR timestamps (Dutch meters run
 * CET/CEST), never to read them (the meter's S/W flag says which offset it used).
 */
export function isEuSummerTime(ms: number): boolean {
  const { year } = unixMsToCivil(ms);
  return ms >= lastSundayMs(year, 3) + HOUR_MS && ms < lastSundayMs(year, 10) + HOUR_MS;
}

/** Central European local time offset at `ms`: +02:00 in summer time, +01:00 otherwise. */
export function cetOffsetMs(ms: number): number {
  return isEuSummerTime(ms) ? 2 * HOUR_MS : HOUR_MS;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Unix ms of an ISO 8601 time with a designator (Z or ±hh:mm), e.g. "2018-01-01T01:00:00+01:00".
 * Fractions beyond milliseconds are cut off (meter clocks tick in seconds). Undefined when malformed.
 */
export function parseIsoMs(text: string): number | undefined {
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const t: CivilTime = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
  if (!isValidCivil(t)) return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8]!;
  let offsetMs = 0;
  if (zone !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMs = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return civilToUnixMs(t, offsetMs) + ms;
}
