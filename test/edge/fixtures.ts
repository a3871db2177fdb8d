import { createHash } from 'node:crypto';
import type { MeterSample } from '../../src/edge/sample.js';

export const SLOT = 900_000;
/** A slot in June 2026. */
export const S0 = Math.floor(Date.UTC(2026, 5, 1, 10, 0, 0) / SLOT);

export function sample(meterId: string, timestampMs: number, registers: [number, number, number, number], power: [number, number] = [100, 0], tariff: number | undefined = 2): MeterSample {
  const s: MeterSample = {
    meterId,
    timestampMs,
    importT1Wh: registers[0],
    importT2Wh: registers[1],
    exportT1Wh: registers[2],
    exportT2Wh: registers[3],
    importPowerW: power[0],
    exportPowerW: power[1],
    rawHash: createHash('sha256').update(`${meterId}/${timestampMs}/${registers.join(',')}`).digest('hex'),
  };
  if (tariff !== undefined) s.tariff = tariff;
  return s;
}

/**
 * A meter importing `whPerSample` per sample every `stepMs` from `startMs`, `count` samples: an
 * import register rising steadily on T2, nothing else moving.
 */
export function steadySamples(meterId: string, startMs: number, stepMs: number, count: number, whPerSample = 3, startWh = 1000): MeterSample[] {
  return Array.from({ length: count }, (_, i) => sample(meterId, startMs + i * stepMs, [0, startWh + i * whPerSample, 0, 0], [whPerSample * 360, 0]));
}
