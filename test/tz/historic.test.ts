import { describe, expect, it } from 'vitest';
import { dayOfSlot, localDay, localMidnightMs, slotLocalIso, slotUtcOffset } from '../../src/util/localtime.js';

/** Pinned facts of IANA tzdata (checked against zdump of the source release), read through the table. */

/** The slot starting at a UTC wall-clock time (test oracle only: Date.UTC is plain UTC arithmetic). */
const slotAtUtc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 900_000;

function daySlots(tz: string, day: string): number {
  return localDay(tz, day).slots;
}

describe('Asia/Almaty: Kazakhstan unified on +05 on 2024-03-01', () => {
  it('sets the clock back from 24:00 +06 to 23:00 +05 on 2024-02-29, a day of 100 slots', () => {
    expect(slotLocalIso('Asia/Almaty', slotAtUtc(2024, 2, 29, 17, 45))).toBe('2024-02-29T23:45:00+06:00');
    expect(slotLocalIso('Asia/Almaty', slotAtUtc(2024, 2, 29, 18, 0))).toBe('2024-02-29T23:00:00+05:00');
    expect(daySlots('Asia/Almaty', '2024-02-29')).toBe(100);
    expect(localDay('Asia/Almaty', '2024-03-01')).toEqual({ day: '2024-03-01', firstSlot: slotAtUtc(2024, 2, 29, 19), slots: 96 });
  });

  it('stays on +05 afterwards, also far beyond the last transition', () => {
    expect(slotUtcOffset('Asia/Almaty', slotAtUtc(2024, 7, 1))).toEqual({ utoffSeconds: 18_000, isDst: false });
    expect(slotUtcOffset('Asia/Almaty', slotAtUtc(2090, 1, 1))).toEqual({ utoffSeconds: 18_000, isDst: false });
    expect(localDay('Asia/Almaty', '2023-06-01').firstSlot).toBe(slotAtUtc(2023, 5, 31, 18)); // +06 before
  });
});

describe('America/Asuncion: Paraguay stayed on -03 from October 2024', () => {
  it('sprang forward on 2024-10-06 and then made -03 standard time on 2024-10-15 without moving the clock', () => {
    expect(daySlots('America/Asuncion', '2024-10-06')).toBe(92);
    expect(slotUtcOffset('America/Asuncion', slotAtUtc(2024, 10, 14, 12))).toEqual({ utoffSeconds: -10_800, isDst: true });
    expect(slotUtcOffset('America/Asuncion', slotAtUtc(2024, 10, 16, 12))).toEqual({ utoffSeconds: -10_800, isDst: false });
    expect(daySlots('America/Asuncion', '2024-10-15')).toBe(96);
  });

  it('no longer falls back in March (the old rule gave 2025-03-23 100 slots) nor springs forward in October', () => {
    expect(daySlots('America/Asuncion', '2024-03-23')).toBe(100); // the last fall-back under the old rule
    expect(daySlots('America/Asuncion', '2025-03-22')).toBe(96);
    expect(daySlots('America/Asuncion', '2025-10-05')).toBe(96);
    expect(slotLocalIso('America/Asuncion', slotAtUtc(2025, 7, 1, 12))).toBe('2025-07-01T09:00:00-03:00');
    expect(slotLocalIso('America/Asuncion', slotAtUtc(2060, 7, 1, 12))).toBe('2060-07-01T09:00:00-03:00');
  });
});

describe('European DST days', () => {
  it('Europe/Amsterdam springs forward on 2026-03-29: 92 slots, 02:00 → 03:00', () => {
    const day = localDay('Europe/Amsterdam', '2026-03-29');
    expect(day).toEqual({ day: '2026-03-29', firstSlot: slotAtUtc(2026, 3, 28, 23), slots: 92 });
    expect(slotLocalIso('Europe/Amsterdam', day.firstSlot + 7)).toBe('2026-03-29T01:45:00+01:00');
    expect(slotLocalIso('Europe/Amsterdam', day.firstSlot + 8)).toBe('2026-03-29T03:00:00+02:00');
  });

  it('Europe/Vienna falls back on 2026-10-25: 100 slots, 02:00–03:00 twice', () => {
    const day = localDay('Europe/Vienna', '2026-10-25');
    expect(day).toEqual({ day: '2026-10-25', firstSlot: slotAtUtc(2026, 10, 24, 22), slots: 100 });
    expect(slotLocalIso('Europe/Vienna', day.firstSlot + 8)).toBe('2026-10-25T02:00:00+02:00');
    expect(slotLocalIso('Europe/Vienna', day.firstSlot + 12)).toBe('2026-10-25T02:00:00+01:00');
    expect(dayOfSlot('Europe/Vienna', day.firstSlot + 99)).toBe('2026-10-25');
    expect(dayOfSlot('Europe/Vienna', day.firstSlot + 100)).toBe('2026-10-26');
  });

  it('a whole year in Vienna: one day of 92 slots, one of 100, the rest 96', () => {
    const counts = new Map<number, number>();
    let day = localDay('Europe/Vienna', '2026-01-01');
    for (let i = 0; i < 365; i++) {
      counts.set(day.slots, (counts.get(day.slots) ?? 0) + 1);
      const next = dayOfSlot('Europe/Vienna', day.firstSlot + day.slots);
      const following = localDay('Europe/Vienna', next);
      expect(following.firstSlot).toBe(day.firstSlot + day.slots);
      day = following;
    }
    expect([...counts].sort()).toEqual([[100, 1], [92, 1], [96, 363]].sort());
    expect(day.day).toBe('2027-01-01');
  });

  it('Europe/Dublin: winter time is GMT flagged as (negative) DST, summer +01:00 standard', () => {
    expect(slotUtcOffset('Europe/Dublin', slotAtUtc(2026, 1, 15))).toEqual({ utoffSeconds: 0, isDst: true });
    expect(slotUtcOffset('Europe/Dublin', slotAtUtc(2026, 7, 15))).toEqual({ utoffSeconds: 3600, isDst: false });
    expect(daySlots('Europe/Dublin', '2026-03-29')).toBe(92);
    expect(daySlots('Europe/Dublin', '2026-10-25')).toBe(100);
  });
});

describe('southern hemisphere', () => {
  it('Australia/Sydney: DST ends on the first Sunday of April, starts on the first Sunday of October', () => {
    expect(daySlots('Australia/Sydney', '2026-04-05')).toBe(100);
    expect(daySlots('Australia/Sydney', '2026-10-04')).toBe(92);
    expect(slotLocalIso('Australia/Sydney', slotAtUtc(2026, 1, 1))).toBe('2026-01-01T11:00:00+11:00');
    expect(slotLocalIso('Australia/Sydney', slotAtUtc(2026, 7, 1))).toBe('2026-07-01T10:00:00+10:00');
  });

  it('America/Santiago changes at 24:00: the spring day starts at 01:00, the autumn Saturday lasts 25 h', () => {
    const spring = localDay('America/Santiago', '2026-09-06');
    expect(spring.slots).toBe(92);
    expect(slotLocalIso('America/Santiago', spring.firstSlot)).toBe('2026-09-06T01:00:00-03:00');
    expect(localMidnightMs('America/Santiago', 2026, 9, 6)).toBe(Date.UTC(2026, 8, 6, 4));
    expect(daySlots('America/Santiago', '2026-04-04')).toBe(100);
    expect(slotLocalIso('America/Santiago', localDay('America/Santiago', '2026-04-05').firstSlot)).toBe('2026-04-05T00:00:00-04:00');
  });
});

describe('offsets that are not whole hours', () => {
  it('Asia/Kolkata +05:30: days start at 18:30 UTC the day before, always 96 slots', () => {
    expect(localDay('Asia/Kolkata', '2026-06-01')).toEqual({ day: '2026-06-01', firstSlot: slotAtUtc(2026, 5, 31, 18, 30), slots: 96 });
    expect(slotLocalIso('Asia/Kolkata', slotAtUtc(2026, 6, 1, 12))).toBe('2026-06-01T17:30:00+05:30');
    expect(slotLocalIso('Asia/Calcutta', slotAtUtc(2026, 6, 1, 12))).toBe('2026-06-01T17:30:00+05:30'); // link
  });

  it('Australia/Adelaide +09:30/+10:30 and Australia/Lord_Howe with a 30-minute DST (94 and 98 slots)', () => {
    expect(daySlots('Australia/Adelaide', '2026-10-04')).toBe(92);
    expect(daySlots('Australia/Adelaide', '2026-04-05')).toBe(100);
    expect(slotLocalIso('Australia/Adelaide', slotAtUtc(2026, 7, 1))).toBe('2026-07-01T09:30:00+09:30');
    expect(daySlots('Australia/Lord_Howe', '2026-10-04')).toBe(94);
    expect(daySlots('Australia/Lord_Howe', '2026-04-05')).toBe(98);
  });

  it('Asia/Kathmandu +05:45 and Pacific/Chatham +12:45/+13:45', () => {
    expect(slotLocalIso('Asia/Kathmandu', slotAtUtc(2026, 6, 1))).toBe('2026-06-01T05:45:00+05:45');
    expect(slotLocalIso('Pacific/Chatham', slotAtUtc(2026, 1, 1))).toBe('2026-01-01T13:45:00+13:45');
    expect(slotLocalIso('Pacific/Chatham', slotAtUtc(2026, 7, 1))).toBe('2026-07-01T12:45:00+12:45');
  });

  it('local mean time before standard time shows seconds in the offset (Europe/Vienna 1890: +01:05:21)', () => {
    expect(slotLocalIso('Europe/Vienna', slotAtUtc(1890, 1, 1))).toBe('1890-01-01T01:05:21+01:05:21');
  });
});

describe('far future: the footer rule after the last explicit transition', () => {
  it('Europe/Vienna keeps last-Sunday rules in 2100, 2400 and 9999', () => {
    // Last Sundays of March / October: 2100-03-28, 2100-10-31, 2400-03-26, 2400-10-29, 9999-03-28, 9999-10-31.
    for (const [spring, autumn] of [['2100-03-28', '2100-10-31'], ['2400-03-26', '2400-10-29'], ['9999-03-28', '9999-10-31']] as const) {
      expect(daySlots('Europe/Vienna', spring)).toBe(92);
      expect(daySlots('Europe/Vienna', autumn)).toBe(100);
      expect(daySlots('Europe/Vienna', spring.replace(/-\d\d$/, '-27'))).toBe(96);
    }
    expect(slotLocalIso('Europe/Vienna', slotAtUtc(2400, 2, 29, 12))).toBe('2400-02-29T13:00:00+01:00');
  });

  it('Australia/Sydney in 2090 (first Sundays: April 2, October 1)', () => {
    expect(daySlots('Australia/Sydney', '2090-04-02')).toBe(100);
    expect(daySlots('Australia/Sydney', '2090-10-01')).toBe(92);
  });

});

describe('2026 changes (tzdata 2026b–2026f, newer than the ICU of Node 20)', () => {
  it('America/Vancouver: British Columbia stays on -07, so 2026-11-01 has 96 slots and 2027 no DST change', () => {
    expect(daySlots('America/Vancouver', '2026-03-08')).toBe(92);
    expect(daySlots('America/Vancouver', '2026-11-01')).toBe(96);
    expect(slotUtcOffset('America/Vancouver', slotAtUtc(2026, 12, 1))).toEqual({ utoffSeconds: -25_200, isDst: false });
    expect(daySlots('America/Vancouver', '2027-03-14')).toBe(96);
    expect(daySlots('America/Los_Angeles', '2026-11-01')).toBe(100);
  });

  it('Africa/Casablanca: Ramadan +00 in 2026, then permanent +00 from 2026-09-20 (a day of 100 slots)', () => {
    expect(slotUtcOffset('Africa/Casablanca', slotAtUtc(2026, 3, 1))).toEqual({ utoffSeconds: 0, isDst: true });
    expect(slotUtcOffset('Africa/Casablanca', slotAtUtc(2026, 6, 1))).toEqual({ utoffSeconds: 3600, isDst: false });
    expect(daySlots('Africa/Casablanca', '2026-09-20')).toBe(100);
    expect(slotUtcOffset('Africa/Casablanca', slotAtUtc(2026, 10, 1))).toEqual({ utoffSeconds: 0, isDst: false });
    expect(slotUtcOffset('Africa/Casablanca', slotAtUtc(2200, 1, 1))).toEqual({ utoffSeconds: 0, isDst: false });
  });

  it('America/Havana: Cuba keeps -04 through 2027-11-07, then follows its rule again', () => {
    expect(daySlots('America/Havana', '2026-11-01')).toBe(96);
    expect(slotUtcOffset('America/Havana', slotAtUtc(2027, 1, 15))).toEqual({ utoffSeconds: -14_400, isDst: true });
    expect(daySlots('America/Havana', '2027-11-07')).toBe(100);
    expect(daySlots('America/Havana', '2028-03-12')).toBe(92);
  });
});

describe('integers', () => {
  it('never yields a negative zero (it would not survive canonical encodings unchanged)', () => {
    expect(Object.is(localDay('UTC', '1970-01-01').firstSlot, 0)).toBe(true);
    expect(Object.is(slotUtcOffset('Europe/London', slotAtUtc(2026, 1, 1)).utoffSeconds, 0)).toBe(true);
    expect(Object.is(slotUtcOffset('Europe/Dublin', slotAtUtc(2026, 1, 1)).utoffSeconds, 0)).toBe(true);
  });
});

describe('refusals', () => {
  it('a day that does not exist and slots outside the years 0000–9999 are coded errors', () => {
    expect(() => localDay('Europe/Vienna', '2026-02-29')).toThrow(expect.objectContaining({ code: 'DAY_INVALID' }));
    expect(() => localDay('Europe/Vienna', '2026-13-01')).toThrow(expect.objectContaining({ code: 'DAY_INVALID' }));
    expect(localDay('Europe/Vienna', '2024-02-29').slots).toBe(96);
    expect(() => slotLocalIso('Europe/Vienna', 1e15)).toThrow(expect.objectContaining({ code: 'TIME_OUT_OF_RANGE' }));
    expect(() => dayOfSlot('Europe/Vienna', 0.5)).toThrow(expect.objectContaining({ code: 'TIME_OUT_OF_RANGE' }));
  });
});
