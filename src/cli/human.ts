import { SLOT_MS } from '../util/slots.js';

/**
 * Text output for people (`-o text`, the default): instants in the local time zone with its offset
 * (and abbreviation where the zone has one), slots as their local start time, addresses with the
 * name of the key they belong to in the keyring. JSON output (`-o json`) is never changed: it
 * carries the API's own values (epoch milliseconds, slot indices, ISO UTC strings).
 *
 * This is presentation only (the CLI), so it may use the runtime's time-zone data; ledger code uses
 * the ledger's own table (src/util/tz).
 */

export interface HumanContext {
  /** Address → key name, from the home's keyring (empty when there is none). */
  names: ReadonlyMap<string, string>;
  /** IANA zone to show times in; default the process's (TZ). */
  timeZone?: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined, locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(locale, { ...options, timeZone })));
  return f;
}

function part(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): string {
  return parts.find((p) => p.type === type)?.value ?? '';
}

/** "+02:00" for the zone at that instant. */
function offsetOf(ms: number, timeZone: string | undefined): string {
  const name = part(formatter(timeZone, 'en-GB', { timeZoneName: 'longOffset' }).formatToParts(ms), 'timeZoneName');
  const m = /^GMT([+-]\d{2}:\d{2})?$/.exec(name);
  return m?.[1] ?? '+00:00';
}

/** An alphabetic abbreviation (CEST, EDT, UTC) when the locale data has one for the zone, else "". */
function abbreviationOf(ms: number, timeZone: string | undefined): string {
  for (const locale of [undefined, 'en-GB', 'en-US']) {
    const name = part(formatter(timeZone, locale, { timeZoneName: 'short' }).formatToParts(ms), 'timeZoneName');
    if (/^[A-Z]{2,5}$/.test(name)) return name;
  }
  return '';
}

/** "2026-06-01 14:00:05 +02:00 CEST" (seconds only when not zero; "… UTC" in UTC). */
export function localTime(ms: number, timeZone?: string, options: { seconds?: boolean } = {}): string {
  const p = formatter(timeZone, 'en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(ms);
  const seconds = options.seconds ?? ms % 60_000 !== 0;
  const clock = `${part(p, 'hour')}:${part(p, 'minute')}${seconds ? `:${part(p, 'second')}` : ''}`;
  const offset = offsetOf(ms, timeZone);
  const abbr = abbreviationOf(ms, timeZone);
  const zone = offset === '+00:00' && (abbr === 'UTC' || abbr === 'GMT') ? abbr : `${offset}${abbr ? ` ${abbr}` : ''}`;
  return `${part(p, 'year')}-${part(p, 'month')}-${part(p, 'day')} ${clock} ${zone}`;
}

/** "1953216 (2026-06-01 14:00 +02:00 CEST)": a slot index with the local start of its 15 minutes. */
export function slotText(slot: number, timeZone?: string): string {
  return `${slot} (${localTime(slot * SLOT_MS, timeZone, { seconds: false })})`;
}

export function addressText(address: string, ctx: HumanContext): string {
  const name = ctx.names.get(address);
  return name ? `${address} (${name})` : address;
}

/** An address not already followed by its name. */
const ADDRESS_RE = /\bgrid1[02-9ac-hj-np-z]{38,}\b(?! \()/g;
const ISO_UTC_RE = /\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z)(?![\w:])/g;
const SLOT_WORD_RE = /\bslot (\d{6,9})\b(?! \()/g;

/**
 * Annotates free text written by a command: UTC ISO instants become local times, addresses get
 * their key names, and "slot N" gets the slot's local start (where no time follows already).
 */
export function humanizeText(text: string, ctx: HumanContext): string {
  return text
    .replace(ISO_UTC_RE, (iso: string) => {
      const ms = Date.parse(iso);
      return Number.isFinite(ms) ? localTime(ms, ctx.timeZone) : iso;
    })
    .replace(SLOT_WORD_RE, (_m, n: string) => `slot ${slotText(Number(n), ctx.timeZone)}`)
    .replace(ADDRESS_RE, (a) => addressText(a, ctx));
}

/** Keys whose numbers are instants in epoch milliseconds. */
const TIME_KEY_RE = /(?:^time$|Time$|^since$|Since$|At$|^timestamp$)/;
/** Keys whose numbers are slot indices. */
const SLOT_KEY_RE = /(?:^slot$|Slot$)/;
/** Plausible epoch milliseconds (2001 … 2286), so counters named *At are left alone. */
const isEpochMs = (v: number) => Number.isSafeInteger(v) && v >= 1e12 && v < 1e13;

function scalarText(key: string, value: unknown, ctx: HumanContext): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') {
    if (TIME_KEY_RE.test(key) && isEpochMs(value)) return localTime(value, ctx.timeZone);
    if (SLOT_KEY_RE.test(key) && Number.isSafeInteger(value) && value > 0) return slotText(value, ctx.timeZone);
    return String(value);
  }
  if (typeof value === 'string') return humanizeText(value, ctx);
  return String(value);
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/**
 * A JSON value as indented "key  value" lines, for commands without a text layout of their own.
 * Arrays of scalars fit on one line; arrays of objects become "-" items.
 */
export function renderValue(value: unknown, ctx: HumanContext, indent = ''): string {
  if (isScalar(value)) return `${indent}${scalarText('', value, ctx)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    if (value.every(isScalar)) return `${indent}${value.map((v) => scalarText('', v, ctx)).join(', ')}`;
    return value.map((v) => (isScalar(v) ? `${indent}- ${scalarText('', v, ctx)}` : `${indent}-\n${renderValue(v, ctx, `${indent}  `)}`)).join('\n');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return `${indent}(empty)`;
  const width = Math.min(24, Math.max(...entries.map(([k]) => k.length)));
  return entries
    .map(([k, v]) => {
      if (isScalar(v)) return `${indent}${k.padEnd(width)}  ${scalarText(k, v, ctx)}`;
      if (Array.isArray(v) && v.every(isScalar)) return `${indent}${k.padEnd(width)}  ${v.length === 0 ? '(none)' : v.map((x) => scalarText(k, x, ctx)).join(', ')}`;
      return `${indent}${k}\n${renderValue(v, ctx, `${indent}  `)}`;
    })
    .join('\n');
}
