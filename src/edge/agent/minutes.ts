import { slotOfTimestamp } from '../fingerprint.js';
import { exportTotalWh, importTotalWh, type SampleStore, type StoredSample } from '../store.js';

/**
 * Per-minute energy of a meter from the local store, for the status page's day graphs (the microgrid
 * seed's per-minute graphs come from the edge store, not from the chain). The same attribution as the
 * slot readings: the increase between two consecutive samples of one register epoch belongs to the
 * minute of the later sample; across an epoch change (meter swap) it is unknown and not counted.
 */

export const MINUTE_MS = 60_000;

export interface MinuteEnergy {
  startMs: number;
  samples: number;
  importWh: number;
  exportWh: number;
  /** Highest import and export power reported in the minute (W). */
  maxImportW: number;
  maxExportW: number;
}

export function minuteSeries(store: SampleStore, meterId: string, fromMs: number, toMs: number): MinuteEnergy[] {
  const count = Math.max(0, Math.ceil((toMs - fromMs) / MINUTE_MS));
  const minutes: MinuteEnergy[] = Array.from({ length: count }, (_, i) => ({ startMs: fromMs + i * MINUTE_MS, samples: 0, importWh: 0, exportWh: 0, maxImportW: 0, maxExportW: 0 }));
  if (count === 0) return minutes;
  const firstSlot = slotOfTimestamp(fromMs);
  let prev: StoredSample | undefined = store.lastSampleBefore(meterId, firstSlot);
  for (const s of store.samplesInSlots(meterId, firstSlot, slotOfTimestamp(toMs - 1))) {
    if (s.timestampMs >= fromMs && s.timestampMs < toMs) {
      const m = minutes[Math.floor((s.timestampMs - fromMs) / MINUTE_MS)]!;
      m.samples++;
      m.maxImportW = Math.max(m.maxImportW, s.importPowerW);
      m.maxExportW = Math.max(m.maxExportW, s.exportPowerW);
      if (prev !== undefined && prev.epoch === s.epoch) {
        m.importWh += importTotalWh(s) - importTotalWh(prev);
        m.exportWh += exportTotalWh(s) - exportTotalWh(prev);
      }
    }
    prev = s;
  }
  return minutes;
}
