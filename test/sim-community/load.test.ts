import { describe, expect, it } from 'vitest';
import { localSlot } from '../../sim/community/calendar.js';
import { H0_DECIWATT } from '../../sim/community/h0.js';
import { DEFAULT_LOAD_NOISE, HouseholdLoad, NO_NOISE, dayTypeOf, dynamisationFactor, h0PowerW, seasonOf } from '../../sim/community/load.js';
import { localDay } from '../../src/util/localtime.js';

const TZ = 'Europe/Vienna';
const NO_HOLIDAYS = new Set<string>();

function yearWh(load: HouseholdLoad, year: number): number {
  const first = localDay(TZ, `${year}-01-01`).firstSlot;
  const end = localDay(TZ, `${year + 1}-01-01`).firstSlot;
  let sum = 0;
  for (let s = first; s < end; s++) sum += load.slotWh(localSlot(TZ, s));
  return sum;
}

describe('BDEW H0 profile', () => {
  it('holds 9 × 96 quarter-hour values as BDEW publishes them', () => {
    const keys = Object.keys(H0_DECIWATT).sort();
    expect(keys).toEqual(['summer_saturday', 'summer_sunday', 'summer_weekday', 'transition_saturday', 'transition_sunday', 'transition_weekday', 'winter_saturday', 'winter_sunday', 'winter_weekday']);
    for (const k of keys) expect(H0_DECIWATT[k as keyof typeof H0_DECIWATT]).toHaveLength(96);
    // First rows of BDEW's table ("00:15"): winter Saturday 70.8, 68.2, 65.9, 63.3 W; winter weekday 67.6 W.
    expect(H0_DECIWATT.winter_saturday.slice(0, 4)).toEqual([708, 682, 659, 633]);
    expect(H0_DECIWATT.winter_weekday[0]).toBe(676);
  });

  it('uses BDEW seasons and day types', () => {
    expect(seasonOf(3, 20)).toBe('winter');
    expect(seasonOf(3, 21)).toBe('transition');
    expect(seasonOf(5, 14)).toBe('transition');
    expect(seasonOf(5, 15)).toBe('summer');
    expect(seasonOf(9, 14)).toBe('summer');
    expect(seasonOf(9, 15)).toBe('transition');
    expect(seasonOf(10, 31)).toBe('transition');
    expect(seasonOf(11, 1)).toBe('winter');
    const holidays = new Set(['2026-12-08']);
    expect(dayTypeOf({ date: '2026-12-07', month: 12, day: 7, weekday: 1 }, holidays)).toBe('weekday');
    expect(dayTypeOf({ date: '2026-12-08', month: 12, day: 8, weekday: 2 }, holidays)).toBe('sunday');
    expect(dayTypeOf({ date: '2026-12-24', month: 12, day: 24, weekday: 4 }, holidays)).toBe('saturday');
    expect(dayTypeOf({ date: '2026-12-27', month: 12, day: 27, weekday: 0 }, holidays)).toBe('sunday');
    expect(dayTypeOf({ date: '2026-12-26', month: 12, day: 26, weekday: 6 }, holidays)).toBe('saturday');
  });

  it('applies the dynamisation polynomial', () => {
    // By hand: F(1) = 1.24 + 0.0021 − 0.0000702 + 0.00000032 − 0.000000000392
    expect(dynamisationFactor(1)).toBeCloseTo(1.242030119608, 12);
    // F(180) = −0.41150592 + 1.86624 − 2.27448 + 0.378 + 1.24
    expect(dynamisationFactor(180)).toBeCloseTo(0.79825408, 10);
    expect(h0PowerW('winter', 'weekday', 0, 1)).toBeCloseTo(67.6 * 1.242030119608, 9);
  });

  it('reads the profile on local wall-clock time, also across DST', () => {
    const load = new HouseholdLoad({ seed: 1, memberId: 'x', annualKwh: 1000, noise: NO_NOISE, holidays: NO_HOLIDAYS });
    // 2026-01-05 is a Monday in winter: the slot at 00:00 local is q = 0.
    const monday = localSlot(TZ, localDay(TZ, '2026-01-05').firstSlot);
    expect(monday.minuteOfDay).toBe(0);
    expect(monday.weekday).toBe(1);
    // BDEW values are for 1,000 kWh/a, so the year normalisation is close to 1 for annualKwh = 1000.
    const normalisation = load.expectedWh(monday) / (h0PowerW('winter', 'weekday', 0, monday.dayOfYear) * 0.25);
    expect(normalisation).toBeGreaterThan(0.98);
    expect(normalisation).toBeLessThan(1.02);
    // 2026-10-25 (autumn change) has 100 slots; the repeated 02:00–03:00 hour has the same profile value.
    const day = localDay(TZ, '2026-10-25');
    expect(day.slots).toBe(100);
    const at = (i: number) => localSlot(TZ, day.firstSlot + i);
    expect(at(8).minuteOfDay).toBe(120);
    expect(at(12).minuteOfDay).toBe(120);
    expect(load.expectedWh(at(8))).toBe(load.expectedWh(at(12)));
    expect(at(99).indexInDay).toBe(99);
  });
});

describe('household load', () => {
  it('sums to the annual consumption over a calendar year without noise (within DST and rounding effects)', () => {
    const load = new HouseholdLoad({ seed: 1, memberId: 'h1', annualKwh: 3500, noise: NO_NOISE, holidays: NO_HOLIDAYS });
    const wh = yearWh(load, 2026);
    expect(Math.abs(wh - 3_500_000)).toBeLessThan(3_500);
  });

  it('keeps the annual mean with noise, is seeded, and differs between households and seeds', () => {
    const make = (seed: number, id: string) => new HouseholdLoad({ seed, memberId: id, annualKwh: 3500, noise: DEFAULT_LOAD_NOISE, holidays: NO_HOLIDAYS });
    const wh = yearWh(make(1, 'h1'), 2026);
    expect(Math.abs(wh - 3_500_000) / 3_500_000).toBeLessThan(0.03);
    const first = localDay(TZ, '2026-03-02').firstSlot;
    const series = (l: HouseholdLoad) => Array.from({ length: 96 }, (_, i) => l.slotWh(localSlot(TZ, first + i)));
    expect(series(make(1, 'h1'))).toEqual(series(make(1, 'h1')));
    expect(series(make(1, 'h1'))).not.toEqual(series(make(1, 'h2')));
    expect(series(make(2, 'h1'))).not.toEqual(series(make(1, 'h1')));
    expect(series(make(1, 'h1')).every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
  });

  it('gives a slot the same value whatever was simulated before it', () => {
    const slot = localSlot(TZ, localDay(TZ, '2026-07-09').firstSlot + 70);
    const fresh = new HouseholdLoad({ seed: 9, memberId: 'h', annualKwh: 2000, noise: DEFAULT_LOAD_NOISE, holidays: NO_HOLIDAYS });
    const used = new HouseholdLoad({ seed: 9, memberId: 'h', annualKwh: 2000, noise: DEFAULT_LOAD_NOISE, holidays: NO_HOLIDAYS });
    for (let s = slot.slot - 500; s < slot.slot; s += 7) used.slotWh(localSlot(TZ, s));
    expect(used.slotWh(slot)).toBe(fresh.slotWh(slot));
  });

  it('peaks in the evening and is lowest at night (H0 shape)', () => {
    const load = new HouseholdLoad({ seed: 1, memberId: 'h', annualKwh: 4000, noise: NO_NOISE, holidays: NO_HOLIDAYS });
    const d = localDay(TZ, '2026-01-14');
    const wh = Array.from({ length: d.slots }, (_, i) => load.expectedWh(localSlot(TZ, d.firstSlot + i)));
    const max = wh.indexOf(Math.max(...wh));
    const min = wh.indexOf(Math.min(...wh));
    expect(max).toBeGreaterThanOrEqual(17 * 4);
    expect(max).toBeLessThan(21 * 4);
    expect(min).toBeGreaterThanOrEqual(2 * 4);
    expect(min).toBeLessThan(5 * 4);
  });
});
