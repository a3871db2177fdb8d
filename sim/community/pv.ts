import { decompose, haurwitzGhi, planeOfArray, type HorizontalIrradiance, type Surface } from './irradiance.js';
import { solarPosition } from './solar.js';
import { CLEAR_SKY, type CloudModel } from './weather.js';

/**
 * PV output per 15-minute slot. DC power P = POA · area · η · PR (· temperature factor), with η the
 * module efficiency and PR the performance ratio (inverter, wiring, soiling, mismatch losses). The
 * slot's energy integrates P by the midpoint rule over SAMPLES_PER_SLOT = 15 one-minute samples
 * (at mm:30 of each minute) and rounds once to whole Wh (nearest, halves up).
 *
 * Optional temperature derating (off unless configured; PR usually includes typical temperature
 * losses): T_cell = T_ambient + (NOCT − 20 °C) / 800 W/m² · POA, factor = 1 + γ · (T_cell − 25 °C).
 */

export const SLOT_SECONDS = 900;
export const SAMPLES_PER_SLOT = 15;
const SAMPLE_MS = (SLOT_SECONDS * 1000) / SAMPLES_PER_SLOT;

export interface Location {
  latitude: number;
  longitude: number;
}

export interface PvArray extends Surface {
  areaM2: number;
  /** Module efficiency at STC, 0 < η ≤ 1. */
  efficiency: number;
  /** Performance ratio, 0 < PR ≤ 1. */
  performanceRatio: number;
  /** Ground reflectance (0.2 for grass/concrete). */
  albedo: number;
  temperature?: { coefficientPerK: number; noctC: number; ambientC: number };
}

/** What the sky delivers at one instant: sun position and horizontal irradiance. */
export interface SkySample extends HorizontalIrradiance {
  apparentZenithDeg: number;
  azimuthDeg: number;
}

const MS_PER_DAY = 86_400_000;

let doyCache = { epochDay: Number.NaN, dayOfYear: 0 };

function utcDayOfYear(unixMs: number): number {
  const epochDay = Math.floor(unixMs / MS_PER_DAY);
  if (epochDay !== doyCache.epochDay) {
    const year = new Date(unixMs).getUTCFullYear();
    doyCache = { epochDay, dayOfYear: epochDay - Math.floor(Date.UTC(year, 0, 1) / MS_PER_DAY) + 1 };
  }
  return doyCache.dayOfYear;
}

/** Sun and irradiance at an instant: Haurwitz clear sky × clear-sky index, split by Erbs. */
export function skyAt(location: Location, unixMs: number, clouds: CloudModel = CLEAR_SKY): SkySample {
  const sun = solarPosition(location.latitude, location.longitude, unixMs);
  const clearGhi = haurwitzGhi(sun.apparentZenithDeg);
  const ghi = clearGhi > 0 ? clearGhi * clouds.clearSkyIndexAt(unixMs) : 0;
  const split = decompose(ghi, sun.zenithDeg, utcDayOfYear(unixMs));
  return { ghi: split.ghi, dni: split.dni, dhi: split.dhi, apparentZenithDeg: sun.apparentZenithDeg, azimuthDeg: sun.azimuthDeg };
}

/** The SAMPLES_PER_SLOT sky samples of a slot (slot = floor(unix seconds / 900)). */
export function slotSky(location: Location, slot: number, clouds: CloudModel = CLEAR_SKY): SkySample[] {
  const start = slot * SLOT_SECONDS * 1000;
  const samples: SkySample[] = [];
  for (let k = 0; k < SAMPLES_PER_SLOT; k++) samples.push(skyAt(location, start + (k + 0.5) * SAMPLE_MS, clouds));
  return samples;
}

/** DC power (W) of an array for a sky sample. */
export function pvPowerW(array: PvArray, sky: SkySample): number {
  if (sky.ghi <= 0) return 0;
  const poa = planeOfArray(sky, sky.apparentZenithDeg, sky.azimuthDeg, array, array.albedo).poa;
  let power = poa * array.areaM2 * array.efficiency * array.performanceRatio;
  if (array.temperature) {
    const t = array.temperature;
    const cellC = t.ambientC + ((t.noctC - 20) / 800) * poa;
    power *= Math.max(0, 1 + t.coefficientPerK * (cellC - 25));
  }
  return power;
}

/** Energy (float Wh) of an array over a slot's samples, midpoint rule. */
export function slotEnergyWhFloat(array: PvArray, samples: readonly SkySample[]): number {
  let sumW = 0;
  for (const s of samples) sumW += pvPowerW(array, s);
  return (sumW * (SLOT_SECONDS / samples.length)) / 3600;
}

/** Whole Wh of an array in a slot: nearest integer, halves up. */
export function slotEnergyWh(array: PvArray, samples: readonly SkySample[]): number {
  return Math.round(slotEnergyWhFloat(array, samples));
}
