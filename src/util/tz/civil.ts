import { floorDiv } from '../int.js';

/**
 * Proleptic Gregorian calendar arithmetic on integers: days since 1970-01-01 <-> (year, month, day).
 * The well-known "days from civil" method: shift the year to start on 1 March so the leap day is
 * the last day of the year, then count whole 400-year eras (146097 days each). No Date, no floats.
 */

export const SECONDS_PER_DAY = 86_400;
const DAYS_PER_ERA = 146_097;
/** Days from 0000-03-01 (start of era 0 in the March-based calendar) to 1970-01-01. */
const EPOCH_SHIFT = 719_468;

export interface CivilDate {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_LENGTHS[month - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12, day 1–31, already validated). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yearOfEra = y - era * 400; // 0..399
  const marchMonth = month > 2 ? month - 3 : month + 9; // March = 0 … February = 11
  const dayOfYear = floorDiv(153 * marchMonth + 2, 5) + day - 1; // 0..365
  const dayOfEra = yearOfEra * 365 + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100) + dayOfYear;
  return era * DAYS_PER_ERA + dayOfEra - EPOCH_SHIFT;
}

/** The proleptic Gregorian date of a day number (days since 1970-01-01). */
export function civilFromDays(days: number): CivilDate {
  const z = days + EPOCH_SHIFT;
  const era = floorDiv(z, DAYS_PER_ERA);
  const dayOfEra = z - era * DAYS_PER_ERA; // 0..146096
  const yearOfEra = floorDiv(dayOfEra - floorDiv(dayOfEra, 1460) + floorDiv(dayOfEra, 36_524) - floorDiv(dayOfEra, DAYS_PER_ERA - 1), 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + floorDiv(yearOfEra, 4) - floorDiv(yearOfEra, 100));
  const marchMonth = floorDiv(5 * dayOfYear + 2, 153);
  const day = dayOfYear - floorDiv(153 * marchMonth + 2, 5) + 1;
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

/** Day of the week of a day number: 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(days: number): number {
  return mod(days + 4, 7);
}

/** a mod b in [0, b) for b > 0. */
export function mod(a: number, b: number): number {
  return a - floorDiv(a, b) * b;
}
