import { defineErrors } from './errors.js';

export const SLOT_ERRORS = defineErrors('slots', {
  SLOT_INVALID: { meaning: 'neither a slot index nor an ISO time with a zone' },
  SLOT_NOT_ON_BOUNDARY: { meaning: 'an ISO time given for a slot is not the start of a 15-minute slot (the CLI rounds only with --round)' },
});

/** A settlement slot is 15 minutes: index = floor(unixSeconds / 900). */
export const SLOT_SECONDS = 900;
export const SLOT_MS = SLOT_SECONDS * 1000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function slotOfMs(ms: number): number {
  return Math.floor(ms / SLOT_MS);
}

export function slotStartMs(slot: number): number {
  return slot * SLOT_MS;
}

export function slotIso(slot: number): string {
  return new Date(slotStartMs(slot)).toISOString();
}

/** An ISO time with seconds optional, a fraction optional, and a zone: Z, +01:00 or +0100. */
const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Milliseconds since the epoch of an ISO time with a zone, or undefined if it is not one. */
export function parseIsoTime(value: string): number | undefined {
  const m = ISO_TIME.exec(value.trim());
  if (!m) return undefined;
  // Date.parse is only sure to read the colon form of an offset (ECMAScript date time string format).
  const ms = Date.parse(`${m[1]}${m[2] === 'Z' ? 'Z' : `${m[3]}${m[4]}:${m[5]}`}`);
  return Number.isFinite(ms) ? ms : undefined;
}

export interface ParseSlotOptions {
  /** Accept an ISO time inside a slot and name the slot that contains it (else: refused). */
  round?: boolean;
}

/**
 * Accepts a slot index ("1978368") or an ISO time with an offset or Z ("2026-06-01T12:00:00Z",
 * "2026-06-01T14:00+0200") at the start of a slot. A time inside a slot is refused, because
 * rounding it silently would sign for a quarter-hour the user did not name; with `round` it names
 * the slot containing that instant.
 */
export function parseSlot(value: string, options: ParseSlotOptions = {}): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (Number.isSafeInteger(n)) return n;
  }
  const ms = parseIsoTime(trimmed);
  if (ms === undefined) throw SLOT_ERRORS.SLOT_INVALID(`${JSON.stringify(value)} is neither a slot index nor an ISO time with a zone (e.g. 2026-06-01T12:00:00Z or 2026-06-01T14:00:00+02:00)`);
  const slot = slotOfMs(ms);
  if (ms !== slotStartMs(slot) && !options.round) {
    throw SLOT_ERRORS.SLOT_NOT_ON_BOUNDARY(
      `${value} is not the start of a 15-minute slot (slots start at :00, :15, :30 and :45); it lies in slot ${slot}, which runs from ${slotIso(slot)} to ${slotIso(slot + 1)}: give one of those times, or --round to name the slot that contains it`,
    );
  }
  return slot;
}
