import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, weekday } from '../../src/util/tz/civil.js';
import { parsePosixTz, posixTransitions, posixTypeAt, ruleDay } from '../../src/util/tz/posix.js';

/** Oracle for the calendar: the runtime's proleptic Gregorian UTC arithmetic (tests only). */
function oracleDays(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime() / 86_400_000;
}

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 1000;
/** The longest time between two yearly transitions of one kind: a weekday rule's date moves by up to six days, plus a leap day. */
const MAX_YEARLY_GAP_DAYS = 372;

describe('civil calendar arithmetic', () => {
  it('days from civil agrees with the proleptic Gregorian calendar for years 0000–9999, and round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), (y, m, d) => {
        const days = daysFromCivil(y, m, d);
        expect(days).toBe(oracleDays(y, m, d));
        expect(civilFromDays(days)).toEqual({ year: y, month: m, day: d });
      }),
      { numRuns: 5000 },
    );
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(civilFromDays(-1)).toEqual({ year: 1969, month: 12, day: 31 });
    expect(civilFromDays(daysFromCivil(2400, 2, 29))).toEqual({ year: 2400, month: 2, day: 29 });
    expect(civilFromDays(daysFromCivil(2100, 2, 28) + 1)).toEqual({ year: 2100, month: 3, day: 1 });
    expect(weekday(daysFromCivil(2026, 3, 29))).toBe(0); // a Sunday
  });
});

describe('POSIX TZ footers', () => {
  it('parses offsets west-positive into east-positive seconds, with default DST +1 h and 02:00 rule times', () => {
    expect(parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')).toEqual({
      std: { utoff: 3600, isDst: false },
      dst: { type: { utoff: 7200, isDst: true }, start: { kind: 'month', month: 3, week: 5, weekday: 0 }, startTime: 7200, end: { kind: 'month', month: 10, week: 5, weekday: 0 }, endTime: 10_800 },
    });
    expect(parsePosixTz('<+0545>-5:45')).toEqual({ std: { utoff: 20_700, isDst: false } });
    expect(parsePosixTz('<-03>3')).toEqual({ std: { utoff: -10_800, isDst: false } });
    expect(parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0').dst!.type.utoff).toBe(39_600);
    expect(parsePosixTz('<-02>2<-01>,M3.5.0/-1,M10.5.0/0').dst!.startTime).toBe(-3600); // negative rule time (RFC 8536)
    expect(parsePosixTz('IST-2IDT,M3.4.4/26,M10.5.0').dst!.startTime).toBe(26 * 3600); // beyond 24 h
  });

  it('refuses malformed strings and DST without a rule', () => {
    for (const bad of ['', 'CE-1', 'CET', 'CET-1CEST', 'CET-1CEST,M3.5.0', 'CET-1CEST,M13.5.0,M10.5.0', 'CET-1CEST,M3.6.0,M10.5.0', 'CET-1CEST,J0,J365', 'CET-1CEST,366,0', 'CET-25', 'CET-1CEST,M3.5.0/168,M10.5.0', '<+01-1', 'CET-1 ']) {
      expect(() => parsePosixTz(bad), bad).toThrow(/POSIX TZ string/);
    }
  });

  it('places rule dates: Jn skips 29 February, n counts it, Mm.5.d is the last such weekday', () => {
    expect(civilFromDays(ruleDay({ kind: 'julian', day: 60 }, 2024))).toEqual({ year: 2024, month: 3, day: 1 });
    expect(civilFromDays(ruleDay({ kind: 'ordinal', day: 59 }, 2024))).toEqual({ year: 2024, month: 2, day: 29 });
    expect(civilFromDays(ruleDay({ kind: 'ordinal', day: 59 }, 2025))).toEqual({ year: 2025, month: 3, day: 1 });
    expect(civilFromDays(ruleDay({ kind: 'month', month: 3, week: 5, weekday: 0 }, 2026))).toEqual({ year: 2026, month: 3, day: 29 });
    expect(civilFromDays(ruleDay({ kind: 'month', month: 5, week: 5, weekday: 0 }, 2026))).toEqual({ year: 2026, month: 5, day: 31 });
    expect(civilFromDays(ruleDay({ kind: 'month', month: 9, week: 1, weekday: 6 }, 2026))).toEqual({ year: 2026, month: 9, day: 5 });
  });

  it('evaluates northern and southern rules, and rule times on the right clock', () => {
    const cet = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(posixTypeAt(cet, utc(2026, 3, 29, 1) - 1).utoff).toBe(3600);
    expect(posixTypeAt(cet, utc(2026, 3, 29, 1)).utoff).toBe(7200); // 02:00 CET
    expect(posixTypeAt(cet, utc(2026, 10, 25, 1) - 1).utoff).toBe(7200);
    expect(posixTypeAt(cet, utc(2026, 10, 25, 1)).utoff).toBe(3600); // 03:00 CEST
    const sydney = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3');
    expect(posixTypeAt(sydney, utc(2026, 1, 1)).isDst).toBe(true);
    expect(posixTypeAt(sydney, utc(2026, 7, 1)).isDst).toBe(false);
    expect(posixTypeAt(sydney, utc(2026, 12, 31, 23)).isDst).toBe(true);
    expect(posixTransitions(sydney, utc(2026, 1, 1), utc(2027, 1, 1))).toEqual([
      { at: utc(2026, 4, 4, 16), type: { utoff: 36_000, isDst: false } },
      { at: utc(2026, 10, 3, 16), type: { utoff: 39_600, isDst: true } },
    ]);
  });

  it("keeps zic's all-year DST ('…,0/0,J365/25') in DST at every instant, with no transitions", () => {
    const allYear = parsePosixTz('EST5EDT,0/0,J365/25');
    fc.assert(
      fc.property(fc.integer({ min: utc(1900, 1, 1), max: utc(2500, 1, 1) }), (t) => {
        expect(posixTypeAt(allYear, t)).toEqual({ utoff: -14_400, isDst: true });
      }),
    );
    expect(posixTransitions(allYear, utc(2000, 1, 1), utc(2100, 1, 1))).toEqual([]);
  });

  it('counts a window that starts on a transition without it, and a weekday rule drifting past its end', () => {
    // fast-check's counterexample of 2026-12-04 (seed 295391603) against a bound of two per 366 days:
    // Lord Howe's DST starts on the first Sunday of October, 2202-10-02 and then 2205-10-05, 1,099 days
    // later; a window of 3 × 366 days from the first start excludes it and ends before the second.
    const lordHowe = parsePosixTz('<+1030>-10:30<+11>-11,M10.1.0,M4.1.0');
    const from = utc(2202, 10, 2, 15, 30);
    expect(posixTypeAt(lordHowe, from)).toEqual({ utoff: 39_600, isDst: true });
    expect(posixTypeAt(lordHowe, from - 1)).toEqual({ utoff: 37_800, isDst: false });
    const changes = posixTransitions(lordHowe, from, from + 3 * 366 * 86_400);
    expect(changes.map((c) => c.type.isDst)).toEqual([false, true, false, true, false]);
    expect(changes.at(-1)!.at).toBe(utc(2205, 4, 6, 15));
  });

  it('reports exactly the instants at which the type changes', () => {
    const rules = ['CET-1CEST,M3.5.0,M10.5.0/3', 'AEST-10AEDT,M10.1.0,M4.1.0/3', '<-04>4<-03>,M9.1.6/24,M4.1.6/24', 'IST-1GMT0,M10.5.0,M3.5.0/1', '<+1030>-10:30<+11>-11,M10.1.0,M4.1.0', '<-02>2<-01>,M3.5.0/-1,M10.5.0/0'].map(parsePosixTz);
    fc.assert(
      fc.property(fc.constantFrom(...rules), fc.integer({ min: utc(1970, 1, 1), max: utc(2300, 1, 1) }), fc.integer({ min: 1, max: 3 * 366 * 86_400 }), (rule, from, span) => {
        const changes = posixTransitions(rule, from, from + span);
        // Each kind of transition comes once a year, at most 372 days after the last (a weekday rule's
        // date moves by up to six days, plus a leap day): a window of span holds at least this many.
        expect(changes.length).toBeGreaterThanOrEqual(2 * Math.floor(span / (MAX_YEARLY_GAP_DAYS * 86_400)));
        let previous = posixTypeAt(rule, from);
        for (const c of changes) {
          expect(c.at).toBeGreaterThan(from);
          expect(posixTypeAt(rule, c.at - 1)).toEqual(previous);
          expect(posixTypeAt(rule, c.at)).toEqual(c.type);
          expect(c.type).not.toEqual(previous);
          previous = c.type;
        }
        expect(posixTypeAt(rule, from + span)).toEqual(previous);
      }),
      { numRuns: 300 },
    );
  });
});
