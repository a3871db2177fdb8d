import type { IntervalValue } from '../metering/keeper.js';
import type { Participant, Plant } from '../shares/keeper.js';
import type { ReadingSource, Series } from './billing.js';

/** Reads a meter's interval values fromSlot ≤ slot < toSlot (the metering keeper's packed series). */
export type SeriesReader = (meterId: string, fromSlot: number, toSlot: number) => IntervalValue[];

function series(read: SeriesReader, meterId: string | undefined, from: number, to: number, field: 'importWh' | 'exportWh'): Series {
  const wh = new Float64Array(to - from);
  if (meterId === undefined) return { wh, missing: to - from };
  let present = 0;
  for (const r of read(meterId, from, to)) {
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
export function ledgerReadingSource(read: SeriesReader): ReadingSource {
  return {
    name: 'ledger',
    production: (plant: Plant, from: number, to: number) => series(read, plant.productionMeter, from, to, 'exportWh'),
    consumption: (_plant: Plant, p: Participant, from: number, to: number) => series(read, p.meter, from, to, 'importWh'),
  };
}
