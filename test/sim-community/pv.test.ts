import { describe, expect, it } from 'vitest';
import { cosIncidence, decompose, erbsDiffuseFraction, extraterrestrialNormal, haurwitzGhi, planeOfArray } from '../../sim/community/irradiance.js';
import { SAMPLES_PER_SLOT, pvPowerW, slotEnergyWh, slotSky, type PvArray } from '../../sim/community/pv.js';
import { MarkovClouds, stationaryDistribution, DEFAULT_WEATHER } from '../../sim/community/weather.js';
import { localDay } from '../../src/util/localtime.js';

const VIENNA = { latitude: 48.2082, longitude: 16.3738 };
const PANEL: PvArray = { areaM2: 10, efficiency: 0.2, performanceRatio: 0.8, tiltDeg: 35, azimuthDeg: 180, albedo: 0.2 };

function dayWh(array: PvArray, day: string, clouds?: MarkovClouds): number[] {
  const d = localDay('Europe/Vienna', day);
  const out: number[] = [];
  for (let s = d.firstSlot; s < d.firstSlot + d.slots; s++) out.push(slotEnergyWh(array, slotSky(VIENNA, s, clouds)));
  return out;
}

describe('clear-sky irradiance', () => {
  it('Haurwitz: 1098·cos z·exp(−0.059/cos z), 0 below the horizon', () => {
    expect(haurwitzGhi(0)).toBeCloseTo(1098 * Math.exp(-0.059), 9);
    expect(haurwitzGhi(60)).toBeCloseTo(1098 * 0.5 * Math.exp(-0.118), 9);
    expect(haurwitzGhi(90)).toBe(0);
    expect(haurwitzGhi(95)).toBe(0);
  });

  it('Erbs diffuse fraction on each branch', () => {
    expect(erbsDiffuseFraction(0.1)).toBeCloseTo(1 - 0.009, 12);
    const kt = 0.5;
    expect(erbsDiffuseFraction(kt)).toBeCloseTo(0.9511 - 0.1604 * kt + 4.388 * kt ** 2 - 16.638 * kt ** 3 + 12.336 * kt ** 4, 12);
    expect(erbsDiffuseFraction(0.9)).toBe(0.165);
  });

  it('splits GHI so that GHI = DNI·cos z + DHI, with more diffuse light under clouds', () => {
    const clear = decompose(900, 30, 172);
    expect(clear.dni * Math.cos((30 * Math.PI) / 180) + clear.dhi).toBeCloseTo(900, 9);
    expect(clear.kt).toBeCloseTo(900 / (extraterrestrialNormal(172) * Math.cos((30 * Math.PI) / 180)), 12);
    const cloudy = decompose(250, 30, 172);
    expect(cloudy.dhi / cloudy.ghi).toBeGreaterThan(clear.dhi / clear.ghi);
    expect(decompose(50, 88, 172).dni).toBe(0); // beyond 87° no beam
  });

  it('plane of array: horizontal panel sees GHI, a panel facing away from the sun gets no beam', () => {
    const sky = decompose(800, 40, 172);
    expect(planeOfArray(sky, 40, 180, { tiltDeg: 0, azimuthDeg: 180 }, 0.2).poa).toBeCloseTo(800, 9);
    const north = planeOfArray(sky, 40, 180, { tiltDeg: 90, azimuthDeg: 0 }, 0.2);
    expect(north.beam).toBe(0);
    expect(north.skyDiffuse).toBeCloseTo(sky.dhi / 2, 9);
    expect(north.groundReflected).toBeCloseTo((800 * 0.2) / 2, 9);
    // Sun straight on the panel normal: cos θ = 1.
    expect(cosIncidence(35, 180, { tiltDeg: 35, azimuthDeg: 180 })).toBeCloseTo(1, 12);
  });
});

describe('PV yield', () => {
  /**
   * Hand computation: 10 m², η 20 %, PR 0.8, tilt 35°, facing south, albedo 0.2, Vienna
   * (48.2082°N), 21 June, clear sky. Simplified geometry done by hand: declination by Cooper's
   * formula δ = 23.45°·sin(360°·(284 + 172)/365) = 23.45°, no refraction, no equation of time, one
   * sample at the middle of each solar hour (midpoint rule, 1 h steps); I0 = 1367·(1 + 0.033·cos(2π·172/365))
   * = 1322.6 W/m²; Haurwitz GHI, Erbs split, isotropic POA as in the model.
   *
   *  solar time   z (°)   GHI    kt    DHI    DNI   cos θ   POA (W/m²)
   *   4:30       86.40   26.9  0.313  25.3   26.1  0.000     23.5
   *   5:30       77.47  181.4  0.632  67.0  527.4  0.000     64.3
   *   6:30       67.88  353.4  0.710  81.1  723.4  0.2075   230.2
   *   7:30       57.95  521.4  0.743  98.8  796.2  0.4327   443.9
   *   8:30       48.02  672.4  0.760 118.0  828.8  0.6346   645.5
   *   9:30       38.58  796.0  0.770 135.3  845.1  0.7995   813.1
   *  10:30       30.51  883.4  0.775 148.2  853.3  0.9161   932.5
   *  11:30       25.46  928.6  0.778 155.0  856.9  0.9764   994.4
   *  12:30 … 19:30 mirror 11:30 … 4:30
   * Σ POA · 1 h = 2 × 4147.4 = 8294.8 Wh/m² → yield = 8294.8 × 10 m² × 0.2 × 0.8 = 13,272 Wh.
   * The model (NOAA position with refraction, 15 samples per 15-minute slot) must agree within 1 %;
   * the differences are the coarse hourly steps and the approximate declination.
   */
  it('daily clear-sky yield of a 10 m² south panel in Vienna on 21 June is within 1 % of the hand computation', () => {
    const slots = dayWh(PANEL, '2026-06-21');
    const total = slots.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - 13_272) / 13_272).toBeLessThan(0.01);
    // Night slots produce nothing; the peak slot holds solar noon (12:56 CEST = 11:56 CET: 16.37°E is
    // 5.5 min ahead of the 15°E meridian, the equation of time −1.8 min), near 1.6 kW·¼h.
    expect(slots.slice(0, 16).every((x) => x === 0)).toBe(true);
    const peak = slots.indexOf(Math.max(...slots));
    expect(peak).toBeGreaterThanOrEqual(50);
    expect(peak).toBeLessThanOrEqual(52);
    expect(Math.max(...slots)).toBeGreaterThan(380);
    expect(Math.max(...slots)).toBeLessThan(420);
    expect(slots.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
  });

  it('integrates 15 one-minute samples per slot', () => {
    const d = localDay('Europe/Vienna', '2026-06-21');
    const slot = d.firstSlot + 40; // 10:00 CEST
    const samples = slotSky(VIENNA, slot);
    expect(samples).toHaveLength(SAMPLES_PER_SLOT);
    const mean = samples.reduce((a, s) => a + pvPowerW(PANEL, s), 0) / SAMPLES_PER_SLOT;
    expect(slotEnergyWh(PANEL, samples)).toBe(Math.round(mean / 4));
  });

  it('yields more in June than in December and less on a cloudy run than on a clear one', () => {
    const june = dayWh(PANEL, '2026-06-21').reduce((a, b) => a + b, 0);
    const december = dayWh(PANEL, '2026-12-21').reduce((a, b) => a + b, 0);
    expect(december).toBeGreaterThan(0);
    expect(december).toBeLessThan(june / 2);
    const clouds = new MarkovClouds(7);
    let clear = 0;
    let cloudy = 0;
    for (const day of ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05', '2026-06-06', '2026-06-07']) {
      clear += dayWh(PANEL, day).reduce((a, b) => a + b, 0);
      cloudy += dayWh(PANEL, day, clouds).reduce((a, b) => a + b, 0);
    }
    expect(cloudy).toBeLessThan(clear);
    expect(cloudy).toBeGreaterThan(clear * 0.2);
  });

  it('derates for cell temperature only when configured', () => {
    const sky = slotSky(VIENNA, localDay('Europe/Vienna', '2026-06-21').firstSlot + 48)[7]!;
    const hot = pvPowerW({ ...PANEL, temperature: { coefficientPerK: -0.004, noctC: 45, ambientC: 30 } }, sky);
    const plain = pvPowerW(PANEL, sky);
    expect(hot).toBeLessThan(plain);
    expect(hot).toBeGreaterThan(plain * 0.8);
  });
});

describe('seeded cloud cover', () => {
  it('is the same for the same seed, different for another, within [0, 1] and continuous', () => {
    const a = new MarkovClouds(42);
    const b = new MarkovClouds(42);
    const c = new MarkovClouds(43);
    const start = Date.UTC(2026, 5, 1);
    let differs = false;
    let previous = a.clearSkyIndexAt(start);
    for (let t = start; t < start + 3 * 86_400_000; t += 60_000) {
      const kc = a.clearSkyIndexAt(t);
      expect(kc).toBe(b.clearSkyIndexAt(t));
      if (kc !== c.clearSkyIndexAt(t)) differs = true;
      expect(kc).toBeGreaterThanOrEqual(0.15);
      expect(kc).toBeLessThanOrEqual(1);
      // Smooth: a minute changes kc by at most (max range)/60.
      expect(Math.abs(kc - previous)).toBeLessThanOrEqual(0.85 / 60 + 1e-12);
      previous = kc;
    }
    expect(differs).toBe(true);
  });

  it('interpolates linearly within the hour between the hourly states', () => {
    const clouds = new MarkovClouds(5);
    const day = Math.floor(Date.UTC(2026, 5, 1) / 86_400_000);
    const kc = clouds.day(day).kc;
    const t = day * 86_400_000 + 10 * 3_600_000 + 15 * 60_000; // 10:15 UTC
    expect(clouds.clearSkyIndexAt(t)).toBeCloseTo(kc[10]! + (kc[11]! - kc[10]!) * 0.25, 12);
    // 23:30 closes towards the first value of the next day.
    const late = day * 86_400_000 + 23.5 * 3_600_000;
    expect(clouds.clearSkyIndexAt(late)).toBeCloseTo((kc[23]! + clouds.day(day + 1).kc[0]!) / 2, 12);
  });

  it('spends time in each state about as the chain predicts', () => {
    const clouds = new MarkovClouds(11);
    const counts = [0, 0, 0];
    const first = Math.floor(Date.UTC(2026, 0, 1) / 86_400_000);
    for (let d = first; d < first + 365; d++) for (const s of clouds.day(d).states) counts[s]!++;
    const pi = stationaryDistribution(DEFAULT_WEATHER.transitions);
    for (let i = 0; i < 3; i++) expect(Math.abs(counts[i]! / (365 * 24) - pi[i]!)).toBeLessThan(0.05);
  });
});
