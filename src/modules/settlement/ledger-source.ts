import type { KVStore } from '../../app/state.js';
import { readSeries } from '../metering/state.js';
import type { Participant, Plant } from '../shares/index.js';
import type { ReadingSource, Series } from './billing.js';

function series(store: KVStore, meterId: string | undefined, from: number, to: number, field: 'importWh' | 'exportWh'): Series {
  const wh = new Float64Array(to - from);
  if (meterId === undefined) return { wh, missing: to - from };
  let present = 0;
  for (const r of readSeries(store, meterId, from, to)) {
    wh[r.slot - from] = r[field];
    present++;
  }
  return { wh, missing: to - from - present };
}

/**
 * Meter data from the ledger (metering module): the plant's production is the export of its
 * production meter, a participant's consumption the import of its consumption meter. A slot without a
 * reading counts as 0 Wh and is reported in the statement's `missing` counts.
 */
export function ledgerReadingSource(store: KVStore): ReadingSource {
  return {
    name: 'ledger',
    production: (plant: Plant, from: number, to: number) => series(store, plant.productionMeter, from, to, 'exportWh'),
    consumption: (_plant: Plant, p: Participant, from: number, to: number) => series(store, p.meter, from, to, 'importWh'),
  };
}
