import { defineHook, type ModuleContext } from '../../app/module.js';
import type { RegisterMeterMsg } from './messages.js';
import { registerMeterDevice } from './rules.js';
import { getMeter, listDifferences, meterIdByAddress, readSeries, type IntervalValue, type Meter, type MeterReading, type ReadingDifference } from './state.js';

/** What other modules may ask of metering. */
export interface MeteringKeeper {
  meter(meterId: string): Meter | undefined;
  meterIdByAddress(address: string): string | undefined;
  /** Registers a device on behalf of another module's rule (which has already authorised the sender). */
  registerDevice(msg: RegisterMeterMsg): Meter;
  /** Official − reported per slot, fromSlot ≤ slot < toSlot. */
  /** In slot order; at most `limit` when given. */
  differences(meterId: string, fromSlot: number, toSlot: number, limit?: number): ReadingDifference[];
  /** Interval values (import/export Wh) from the packed day series, fromSlot ≤ slot < toSlot. */
  series(meterId: string, fromSlot: number, toSlot: number): IntervalValue[];
}

declare module '../../app/module.js' {
  interface Keepers {
    metering: MeteringKeeper;
  }
}

/** What subscribers see when a reading is accepted; they run inside the same transaction, so a subscriber that throws rejects the reading. */
export interface ReadingEvent {
  meter: Meter;
  reading: MeterReading;
  /** The community the meter asserted in its message, if any. */
  community?: string;
}

/** Dispatched by metering for every accepted reading (the energy module books it to the linked trader). */
export const readingAccepted = defineHook<ReadingEvent>('metering', 'readingAccepted');

export function meteringKeeper(ctx: ModuleContext<any, any>): MeteringKeeper {
  const { store } = ctx;
  return {
    meter: (meterId) => getMeter(store, meterId),
    meterIdByAddress: (address) => meterIdByAddress(store, address),
    registerDevice: (msg) => registerMeterDevice(ctx, msg),
    differences: (meterId, fromSlot, toSlot, limit) => listDifferences(store, meterId, fromSlot, toSlot, limit),
    series: (meterId, fromSlot, toSlot) => readSeries(store, meterId, fromSlot, toSlot),
  };
}

export { meterIdSchema, communityRefSchema, MAX_POWER_W, type RegisterMeterMsg } from './messages.js';
export { sumDifferences, type Meter, type MeterReading, type ReadingDifference, type IntervalValue } from './state.js';
