import { HOUR_MS, civilToUnixMs, cetOffsetMs, isValidCivil, unixMsToCivil, type CivilTime } from '../time.js';

/**
 * DSMR timestamps "YYMMDDhhmmssX": local time of the meter, X = S (summer, UTC+02:00) or W (winter,
 * UTC+01:00). The flag makes the hour after the autumn change unambiguous, so no tz data is needed.
 */

const TS_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([SW]?)$/;

export interface DsmrTime {
  /** Unix ms; undefined for a DSMR 2.2/3.0 time without the S/W flag (its offset is unknown). */
  ms: number | undefined;
  /** The local time as written, without the flag: "YYMMDDhhmmss". */
  local: string;
}

/** Parses "YYMMDDhhmmssS|W" (or, with `allowNoFlag`, the 12 digits alone). Undefined when malformed or not a real time. */
export function parseDsmrTime(text: string, allowNoFlag = false): DsmrTime | undefined {
  const m = TS_RE.exec(text);
  if (!m) return undefined;
  const flag = m[7]!;
  if (flag === '' && !allowNoFlag) return undefined;
  const t: CivilTime = { year: 2000 + Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
  if (!isValidCivil(t)) return undefined;
  const local = text.slice(0, 12);
  if (flag === '') return { ms: undefined, local };
  return { ms: civilToUnixMs(t, flag === 'S' ? 2 * HOUR_MS : HOUR_MS), local };
}

/** Unix ms → "YYMMDDhhmmssX" as a Dutch meter writes it (CET/CEST by the EU rule). Years 2000–2099. */
export function formatDsmrTime(ms: number): string {
  const offset = cetOffsetMs(ms);
  const t = unixMsToCivil(ms + offset);
  if (t.year < 2000 || t.year > 2099) throw new RangeError(`DSMR timestamps cover 2000–2099, not ${t.year}`);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(t.year - 2000)}${two(t.month)}${two(t.day)}${two(t.hour)}${two(t.minute)}${two(t.second)}${offset === HOUR_MS ? 'W' : 'S'}`;
}
