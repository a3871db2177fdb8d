import type { ModuleContext } from '../../app/module.js';
import { getEvent, listIntervals, meterEventIds, privateSlotsOf, type FlexEvent, type IntervalRecord } from './state.js';

/** What other modules may ask of flex: events, and which slots of a meter are private (committed, not read publicly). */
export interface FlexKeeper {
  event(id: string): FlexEvent | undefined;
  intervals(id: string): IntervalRecord[];
  /** Event ids a meter is enrolled in, newest first. */
  meterEvents(meterId: string): string[];
  /** Slots in [fromSlot, toSlot) the meter committed privately, each with "<event>/<interval>". */
  privateSlots(meterId: string, fromSlot: number, toSlot: number): Array<{ slot: number; ref: string }>;
}

declare module '../../app/module.js' {
  interface Keepers {
    flex: FlexKeeper;
  }
}

export function flexKeeper(ctx: ModuleContext<any, any>): FlexKeeper {
  const { store } = ctx;
  return {
    event: (id) => getEvent(store, id),
    intervals: (id) => listIntervals(store, id),
    meterEvents: (meterId) => meterEventIds(store, meterId),
    privateSlots: (meterId, fromSlot, toSlot) => privateSlotsOf(store, meterId, fromSlot, toSlot),
  };
}

export { eventField, penaltyOf, slotsOf, intervalStart, intervalEnd, deadlineOf, DEFAULT_PARAMS, type FlexParams } from './rules.js';
export type { FlexEvent, IntervalRecord, Program, RegisteredKey, EventStatus, IntervalStatus } from './state.js';
