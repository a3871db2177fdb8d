import { defineErrors } from './errors.js';

export const SLOT_ERRORS = defineErrors('slots', {
  SLOT_INVALID: { meaning: 'neither a slot index nor an ISO time with a zone' },
});

/** A settlement slot is 15 minutes: index = floor(unixSeconds / 900). */
export const SLOT_SECONDS = 900;
export const SLOT_MS = SLOT_SECONDS * 1000;

export function slotOfMs(ms: number): number {
  return Math.floor(ms / SLOT_MS);
}

export function slotStartMs(slot: number): number {
  return slot * SLOT_MS;
}

export function slotIso(slot: number): string {
  return new Date(slotStartMs(slot)).toISOString();
}

/**
 * Accepts a slot index ("1978368") or an ISO time with an offset or Z ("2026-06-01T12:00:00Z"), which
 * names the slot containing that instant.
 */
export function parseSlot(value: string): number {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (Number.isSafeInteger(n)) return n;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return slotOfMs(ms);
  }
  throw SLOT_ERRORS.SLOT_INVALID(`${JSON.stringify(value)} is neither a slot index nor an ISO time with a zone (e.g. 2026-06-01T12:00:00Z)`);
}
