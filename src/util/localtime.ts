import { LedgerError } from './errors.js';
import { SLOT_MS } from './slots.js';

/**
 * Local calendar days in an IANA timezone, in 15-minute slots: 96 slots, 92 on the spring DST change,
 * 100 on the autumn one. Uses the ICU time-zone data of the Node runtime, so every node of a network
 * must run the same Node version (pinned in package.json engines and the release notes).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

export function requireTimeZone(tz: string): void {
  if (!isValidTimeZone(tz)) throw new LedgerError('TIMEZONE_INVALID', `${JSON.stringify(tz)} is not an IANA time zone (e.g. Europe/Vienna)`);
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(tz: string, ms: number): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour!, minute: out.minute!, second: out.second! };
}

/** Local time minus UTC, in ms, at the instant `ms`. */
function offsetMs(tz: string, ms: number): number {
  const p = localParts(tz, ms);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (ms - (ms % 1000));
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseDay(day: string): { year: number; month: number; day: number } {
  const m = DAY_RE.exec(day);
  const parsed = m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : undefined;
  if (!parsed || parsed.month < 1 || parsed.month > 12 || parsed.day < 1 || parsed.day > 31 || new Date(Date.UTC(parsed.year, parsed.month - 1, parsed.day)).getUTCDate() !== parsed.day) {
    throw new LedgerError('DAY_INVALID', `${JSON.stringify(day)} is not a calendar day YYYY-MM-DD`);
  }
  return parsed;
}

/** UTC instant (ms) of local midnight starting the given calendar day. */
export function localMidnightMs(tz: string, year: number, month: number, day: number): number {
  const naive = Date.UTC(year, month - 1, day);
  let t = naive - offsetMs(tz, naive);
  // The offset at the guessed instant may differ from the offset at the true midnight: refine once.
  const corrected = naive - offsetMs(tz, t);
  if (corrected !== t) t = corrected;
  return t;
}

export interface LocalDay {
  day: string;
  firstSlot: number;
  /** Number of slots: 96, or 92 / 100 on DST change days. */
  slots: number;
}

/** The slots of a local calendar day: [firstSlot, firstSlot + slots). */
export function localDay(tz: string, day: string): LocalDay {
  requireTimeZone(tz);
  const { year, month, day: d } = parseDay(day);
  const start = localMidnightMs(tz, year, month, d);
  const next = new Date(Date.UTC(year, month - 1, d + 1));
  const end = localMidnightMs(tz, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  return { day, firstSlot: Math.floor(start / SLOT_MS), slots: Math.floor((end - start) / SLOT_MS) };
}

/** The local calendar day (YYYY-MM-DD) that contains the start of a slot. */
export function dayOfSlot(tz: string, slot: number): string {
  requireTimeZone(tz);
  const p = localParts(tz, slot * SLOT_MS);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** Local wall-clock time of a slot start, e.g. "2026-03-29T03:00:00+02:00". */
export function slotLocalIso(tz: string, slot: number): string {
  const ms = slot * SLOT_MS;
  const p = localParts(tz, ms);
  const off = Math.round(offsetMs(tz, ms) / 60000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
