import type { AppModule, Genesis } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { LedgerError } from '../../util/errors.js';
import { registerMeteringCli } from './cli.js';
import { MSG, officialMsg, readingMsg, registerMeterMsg } from './messages.js';
import { slotRange, withIso } from './query.js';
import { meteringRoutes } from './routes.js';
import { registerMeter, submitOfficial, submitReading } from './rules.js';
import { DEFAULT_READING_WINDOW_SLOTS, getMeter, listDifferences, listMeters, listReadings, meterIdByAddress, putParams, sumDifferences, type Meter } from './state.js';

function initGenesis(store: KVStore, genesis: Genesis): void {
  const cfg = (genesis.modules.metering ?? {}) as { readingWindowSlots?: unknown };
  const window = cfg.readingWindowSlots ?? DEFAULT_READING_WINDOW_SLOTS;
  if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 1) {
    throw new LedgerError('GENESIS_INVALID', 'metering.readingWindowSlots must be a positive whole number of slots');
  }
  putParams(store, { readingWindowSlots: window });
}

function requireMeter(store: KVStore, meterId: string): Meter {
  const meter = getMeter(store, meterId);
  if (!meter) throw new LedgerError('METER_NOT_FOUND', `meter ${meterId} is not registered`, 404);
  return meter;
}

export const meteringModule: AppModule = {
  name: 'metering',
  messages: {
    [MSG.register]: { schema: registerMeterMsg, execute: registerMeter },
    [MSG.reading]: { schema: readingMsg, execute: submitReading },
    [MSG.official]: { schema: officialMsg, execute: submitOfficial },
  },
  initGenesis,
  routes: [
    { route: meteringRoutes.getMeter, handle: (store, { params }) => ({ meter: requireMeter(store, params.meterId) }) },
    {
      route: meteringRoutes.meterByAddress,
      handle: (store, { params }) => {
        const id = meterIdByAddress(store, params.address);
        if (id === undefined) throw new LedgerError('METER_NOT_FOUND', `no meter signs with ${params.address}`, 404);
        return { meter: requireMeter(store, id) };
      },
    },
    { route: meteringRoutes.listMeters, handle: (store, { query }) => ({ meters: listMeters(store, query) }) },
    {
      route: meteringRoutes.listReadings,
      handle: (store, { params, query }) => {
        requireMeter(store, params.meterId);
        const { fromSlot, toSlot } = slotRange(query);
        return { meterId: params.meterId, readings: listReadings(store, params.meterId, fromSlot, toSlot, query.limit).map(withIso) };
      },
    },
    {
      route: meteringRoutes.listDifferences,
      handle: (store, { params, query }) => {
        requireMeter(store, params.meterId);
        const { fromSlot, toSlot } = slotRange(query);
        const differences = listDifferences(store, params.meterId, fromSlot, toSlot).map(withIso);
        const totals = sumDifferences(differences);
        return { meterId: params.meterId, differences, totals };
      },
    },
  ],
  cli: registerMeteringCli,
};

export { meteringRoutes };
export { onMeterReading, registerMeterDevice, canRegisterMeters, type ReadingEvent, type ReadingListener } from './rules.js';
export { getMeter, listReadings, getReading, listDifferences, type Meter, type MeterReading, type ReadingDifference } from './state.js';
