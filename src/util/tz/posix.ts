import { civilFromDays, daysFromCivil, daysInMonth, isLeapYear, mod, SECONDS_PER_DAY, weekday } from './civil.js';
import { floorDiv } from '../int.js';

/**
 * POSIX TZ strings as written in the footer of TZif v2+ files (RFC 8536 §3.3), e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3": the rule a zone follows after its last explicit transition.
 * Parsed once per zone and evaluated in integer seconds. Written here because no maintained npm
 * package evaluates TZif footers without the runtime's Date/Intl (which is what we must avoid).
 */

/** Offset from UTC in seconds (east positive) and whether it is daylight-saving time. */
export interface LocalTimeType {
  utoff: number;
  isDst: boolean;
}

export type RuleDate =
  /** Jn: day n (1–365) of the year, 29 February never counted. */
  | { kind: 'julian'; day: number }
  /** n: zero-based day n (0–365) of the year, 29 February counted. */
  | { kind: 'ordinal'; day: number }
  /** Mm.w.d: weekday d (0 = Sunday) of week w (1–4, 5 = last) of month m. */
  | { kind: 'month'; month: number; week: number; weekday: number };

export interface DstRule {
  type: LocalTimeType;
  start: RuleDate;
  /** Local (standard) time of day of the start, seconds; may be negative or ≥ 24 h (RFC 8536: ±167 h). */
  startTime: number;
  end: RuleDate;
  /** Local (daylight) time of day of the end, seconds. */
  endTime: number;
}

export interface PosixTz {
  std: LocalTimeType;
  dst?: DstRule;
}

/** One change of local time type at a UTC instant (seconds). */
export interface Transition {
  at: number;
  type: LocalTimeType;
}

const DEFAULT_RULE_TIME = 7200;
const MAX_RULE_HOURS = 167;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  take(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }
  fail(what: string): never {
    throw new Error(`POSIX TZ string ${JSON.stringify(this.text)}: ${what} at ${this.pos}`);
  }
  integer(maxDigits: number): number {
    const start = this.pos;
    while (this.pos - start < maxDigits && /[0-9]/.test(this.peek())) this.pos++;
    if (this.pos === start) this.fail('digits expected');
    return Number(this.text.slice(start, this.pos));
  }
}

function parseName(c: Cursor): void {
  if (c.take('<')) {
    const start = c.pos;
    while (/[A-Za-z0-9+-]/.test(c.peek())) c.pos++;
    if (c.pos - start < 3 || !c.take('>')) c.fail('bad quoted zone abbreviation');
    return;
  }
  const start = c.pos;
  while (/[A-Za-z]/.test(c.peek())) c.pos++;
  if (c.pos - start < 3) c.fail('zone abbreviation of 3+ letters expected');
}

/** [+-]hh[:mm[:ss]] in seconds. */
function parseClock(c: Cursor, maxHours: number): number {
  let sign = 1;
  if (c.take('-')) sign = -1;
  else c.take('+');
  const hours = c.integer(3);
  let minutes = 0;
  let seconds = 0;
  if (c.take(':')) {
    minutes = c.integer(2);
    if (c.take(':')) seconds = c.integer(2);
  }
  if (hours > maxHours || minutes > 59 || seconds > 59) c.fail('time out of range');
  const value = hours * 3600 + minutes * 60 + seconds;
  return sign < 0 ? 0 - value : value; // 0 - x, not -x: never a negative zero

}

function parseRuleDate(c: Cursor): RuleDate {
  if (c.take('J')) {
    const day = c.integer(3);
    if (day < 1 || day > 365) c.fail('Jn day out of range');
    return { kind: 'julian', day };
  }
  if (c.take('M')) {
    const month = c.integer(2);
    if (!c.take('.')) c.fail('"." expected');
    const week = c.integer(1);
    if (!c.take('.')) c.fail('"." expected');
    const wd = c.integer(1);
    if (month < 1 || month > 12 || week < 1 || week > 5 || wd > 6) c.fail('Mm.w.d out of range');
    return { kind: 'month', month, week, weekday: wd };
  }
  const day = c.integer(3);
  if (day > 365) c.fail('day out of range');
  return { kind: 'ordinal', day };
}

function parseRuleTime(c: Cursor): number {
  return c.take('/') ? parseClock(c, MAX_RULE_HOURS) : DEFAULT_RULE_TIME;
}

/** Parses a TZif footer. POSIX offsets count west-positive; `utoff` here is east-positive. */
export function parsePosixTz(text: string): PosixTz {
  const c = new Cursor(text);
  parseName(c);
  const std: LocalTimeType = { utoff: 0 - parseClock(c, 24), isDst: false };
  if (c.pos === text.length) return { std };
  parseName(c);
  const dstUtoff = c.peek() === ',' ? std.utoff + 3600 : 0 - parseClock(c, 24);
  // zic always writes the rule; POSIX's implementation-defined default would be a second source of truth.
  if (!c.take(',')) c.fail('"," and a DST rule expected');
  const start = parseRuleDate(c);
  const startTime = parseRuleTime(c);
  if (!c.take(',')) c.fail('"," expected');
  const end = parseRuleDate(c);
  const endTime = parseRuleTime(c);
  if (c.pos !== text.length) c.fail('trailing characters');
  return { std, dst: { type: { utoff: dstUtoff, isDst: true }, start, startTime, end, endTime } };
}

/** Day number (days since 1970-01-01) on which a rule date falls in `year`. */
export function ruleDay(date: RuleDate, year: number): number {
  const jan1 = daysFromCivil(year, 1, 1);
  switch (date.kind) {
    case 'julian':
      return jan1 + date.day - 1 + (isLeapYear(year) && date.day >= 60 ? 1 : 0);
    case 'ordinal':
      return jan1 + date.day;
    case 'month': {
      const first = daysFromCivil(year, date.month, 1);
      let day = first + mod(date.weekday - weekday(first), 7) + (date.week - 1) * 7;
      while (day >= first + daysInMonth(year, date.month)) day -= 7; // week 5 = last such weekday
      return day;
    }
  }
}

interface RuleEvent {
  at: number;
  toDst: boolean;
}

/** DST start and end instants (UTC seconds) of the rule in `year`. */
function eventsOfYear(std: LocalTimeType, dst: DstRule, year: number): RuleEvent[] {
  // The start is read on the standard-time clock, the end on the daylight clock.
  const start = ruleDay(dst.start, year) * SECONDS_PER_DAY + dst.startTime - std.utoff;
  const end = ruleDay(dst.end, year) * SECONDS_PER_DAY + dst.endTime - dst.type.utoff;
  return [{ at: start, toDst: true }, { at: end, toDst: false }];
}

/**
 * Rule events of years from..to in time order. At equal instants the end sorts before the start, so
 * all-year DST (zic writes "…,0/0,J365/25": the end of one year meets the next start) stays DST.
 */
function eventsOfYears(std: LocalTimeType, dst: DstRule, from: number, to: number): RuleEvent[] {
  const events: RuleEvent[] = [];
  for (let y = from; y <= to; y++) events.push(...cachedEventsOfYear(std, dst, y));
  return events.sort((a, b) => a.at - b.at || Number(a.toDst) - Number(b.toDst));
}

/** Per-rule cache of year → events: lookups hit the same few years again and again. */
const yearCache = new WeakMap<DstRule, Map<number, RuleEvent[]>>();
const MAX_CACHED_YEARS = 512;

function cachedEventsOfYear(std: LocalTimeType, dst: DstRule, year: number): RuleEvent[] {
  let years = yearCache.get(dst);
  if (!years) yearCache.set(dst, (years = new Map()));
  let events = years.get(year);
  if (!events) {
    if (years.size >= MAX_CACHED_YEARS) years.clear();
    events = eventsOfYear(std, dst, year);
    years.set(year, events);
  }
  return events;
}

function yearOf(tz: PosixTz, t: number): number {
  return civilFromDays(floorDiv(t + tz.std.utoff, SECONDS_PER_DAY)).year;
}

/** The local time type the rule gives at UTC instant t (seconds). */
export function posixTypeAt(tz: PosixTz, t: number): LocalTimeType {
  const dst = tz.dst;
  if (!dst) return tz.std;
  const year = yearOf(tz, t);
  let inDst: boolean | undefined;
  for (const e of eventsOfYears(tz.std, dst, year - 1, year + 1)) {
    if (e.at > t) break;
    inDst = e.toDst;
  }
  if (inDst === undefined) throw new Error('POSIX TZ rule has no event in the year before an instant');
  return inDst ? dst.type : tz.std;
}

/** The changes of local time type the rule makes at instants in (from, to]. */
export function posixTransitions(tz: PosixTz, from: number, to: number): Transition[] {
  const dst = tz.dst;
  if (!dst || to <= from) return [];
  let current = posixTypeAt(tz, from);
  const out: Transition[] = [];
  const events = eventsOfYears(tz.std, dst, yearOf(tz, from) - 1, yearOf(tz, to) + 1);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const next = events[i + 1];
    if (e.at <= from || e.at > to || (next && next.at === e.at)) continue; // only the last event of an instant counts
    const type = e.toDst ? dst.type : tz.std;
    if (type.utoff !== current.utoff || type.isDst !== current.isDst) out.push({ at: e.at, type });
    current = type;
  }
  return out;
}
