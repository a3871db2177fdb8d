import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDsmrTime, parseDsmrTime } from '../../src/edge/p1/timestamp.js';
import { civilFromDays, daysFromCivil, isEuSummerTime, parseIsoMs, unixMsToCivil } from '../../src/edge/time.js';

const DAY = 86_400_000;

describe('civil time without tz data', () => {
  it('daysFromCivil and civilFromDays agree with the proleptic Gregorian calendar', () => {
    fc.assert(
      fc.property(fc.integer({ min: -800_000, max: 800_000 }), (days) => {
        const d = new Date(days * DAY);
        const civil = civilFromDays(days);
        expect(civil).toEqual({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
        expect(daysFromCivil(civil.year, civil.month, civil.day)).toBe(days);
      }),
      { numRuns: 3000 },
    );
  });

  it('EU summer time starts and ends at 01:00 UTC on the last Sundays of March and October', () => {
    expect(isEuSummerTime(Date.UTC(2026, 2, 29, 0, 59, 59))).toBe(false);
    expect(isEuSummerTime(Date.UTC(2026, 2, 29, 1, 0, 0))).toBe(true);
    expect(isEuSummerTime(Date.UTC(2026, 9, 25, 0, 59, 59))).toBe(true);
    expect(isEuSummerTime(Date.UTC(2026, 9, 25, 1, 0, 0))).toBe(false);
    expect(isEuSummerTime(Date.UTC(2016, 9, 30, 0, 30))).toBe(true);
    expect(isEuSummerTime(Date.UTC(2016, 9, 30, 1, 30))).toBe(false);
  });

  it('writes DSMR timestamps as a Dutch meter does and reads them back', () => {
    expect(formatDsmrTime(Date.UTC(2017, 0, 2, 18, 20, 2))).toBe('170102192002W');
    expect(formatDsmrTime(Date.UTC(2016, 9, 30, 0, 30))).toBe('161030023000S');
    expect(formatDsmrTime(Date.UTC(2016, 9, 30, 1, 30))).toBe('161030023000W');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1, 2) / 1000, max: Date.UTC(2099, 11, 31, 20) / 1000 }), (s) => {
        expect(parseDsmrTime(formatDsmrTime(s * 1000))?.ms).toBe(s * 1000);
      }),
      { numRuns: 3000 },
    );
    expect(parseDsmrTime('120517020000')).toBeUndefined();
    expect(parseDsmrTime('120517020000', true)).toEqual({ ms: undefined, local: '120517020000' });
  });

  it('parses ISO 8601 with Z or an offset like Date.parse, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (ms, offsetMin) => {
        const local = unixMsToCivil(ms + offsetMin * 60_000);
        const two = (n: number) => String(n).padStart(2, '0');
        const sign = offsetMin < 0 ? '-' : '+';
        const text = `${local.year}-${two(local.month)}-${two(local.day)}T${two(local.hour)}:${two(local.minute)}:${two(local.second)}.${String(ms % 1000).padStart(3, '0')}${sign}${two(Math.floor(Math.abs(offsetMin) / 60))}:${two(Math.abs(offsetMin) % 60)}`;
        expect(parseIsoMs(text)).toBe(ms);
        expect(parseIsoMs(text)).toBe(Date.parse(text));
      }),
      { numRuns: 2000 },
    );
    expect(parseIsoMs('2018-01-01T00:00:00Z')).toBe(Date.UTC(2018, 0, 1));
    expect(parseIsoMs('2020-10-24T22:12:13.990123Z')).toBe(Date.UTC(2020, 9, 24, 22, 12, 13, 990));
    for (const bad of ['2018-01-01T00:00:00', '2018-01-01 00:00:00Z', '2018-02-30T00:00:00Z', '2018-01-01T24:00:00Z', '2018-01-01T00:00:00+25:00', '1514764800']) {
      expect(parseIsoMs(bad)).toBeUndefined();
    }
  });
});
