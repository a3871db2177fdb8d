import { API_ERRORS } from '../api/errors.js';
import { parseSlot, slotIso } from '../util/slots.js';

/** Helpers for query handlers: slot parameters (an index or an ISO time) and ISO annotations. */

/** Parses an optional slot query parameter. */
export function optionalSlot(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : parseSlot(value, { round: true });
}

/** [from, to) from optional query parameters (`slot`, or `fromSlot`/`toSlot`); the whole range when absent. */
export function slotRange(q: { fromSlot?: string; toSlot?: string; slot?: string }): { fromSlot: number; toSlot: number } {
  const single = optionalSlot(q.slot);
  if (single !== undefined) {
    if (q.fromSlot !== undefined || q.toSlot !== undefined) throw API_ERRORS.REQUEST_INVALID('give either slot or fromSlot/toSlot');
    return { fromSlot: single, toSlot: single + 1 };
  }
  const fromSlot = optionalSlot(q.fromSlot) ?? 0;
  const toSlot = optionalSlot(q.toSlot) ?? Number.MAX_SAFE_INTEGER;
  if (toSlot < fromSlot) throw API_ERRORS.REQUEST_INVALID(`toSlot ${toSlot} is before fromSlot ${fromSlot}`);
  return { fromSlot, toSlot };
}

export function withIso<T extends { slot: number }>(row: T): T & { slotIso: string } {
  return { ...row, slotIso: slotIso(row.slot) };
}
