import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayOfSlot, isValidTimeZone, localDay, slotLocalIso } from '../../src/util/localtime.js';
import { tzTable } from '../../src/util/tz/table.js';

const zones = [...tzTable().zoneNames(), ...tzTable().linkNames()].filter(isValidTimeZone).sort();
const dayArb = fc.integer({ min: Date.UTC(1900, 0, 1) / 86_400_000, max: Date.UTC(2200, 0, 1) / 86_400_000 });
/** YYYY-MM-DD of a day number (test oracle). */
const isoDay = (days: number) => new Date(days * 86_400_000).toISOString().slice(0, 10);

describe('local days over every zone (1900–2200)', () => {
  it('tile the slot line: each day starts where the previous ended, and its slots map back to it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), dayArb, (tz, days) => {
        const day = localDay(tz, isoDay(days));
        const next = localDay(tz, isoDay(days + 1));
        expect(next.firstSlot).toBe(day.firstSlot + day.slots);
        if (day.slots > 0) {
          expect(dayOfSlot(tz, day.firstSlot)).toBe(day.day);
          expect(dayOfSlot(tz, day.firstSlot + day.slots - 1)).toBe(day.day);
        }
        expect(dayOfSlot(tz, next.firstSlot)).not.toBe(day.day);
      }),
      { numRuns: 3000 },
    );
  });

  it('have 96 slots on days without a change of offset, and slot times read as local times of that day', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1990, 0, 1) / 86_400_000, max: Date.UTC(2100, 0, 1) / 86_400_000 }), (tz, days) => {
        const day = localDay(tz, isoDay(days));
        const rules = tzTable().zone(tz)!;
        // A change at the very start counts: where it skips midnight (America/Havana) the day starts at 01:00.
        // So does one at the very end: where the clock jumps from 23:00 to the next midnight (America/Nuuk
        // since 2024: "M3.5.0/-1") the day ends at that instant, an hour short.
        const from = day.firstSlot * 900 - 1;
        const changes = rules.transitions(from, (day.firstSlot + day.slots) * 900).filter((c, i, all) => c.type.utoff !== (i === 0 ? rules.typeAt(from).utoff : all[i - 1]!.type.utoff));
        if (changes.length === 0) expect(day.slots).toBe(96);
        expect(slotLocalIso(tz, day.firstSlot).slice(0, 10)).toBe(day.day);
      }),
      { numRuns: 3000 },
    );
    expect(localDay('Cuba', '2023-03-12').slots).toBe(92); // the counterexamples that taught the comment above
    expect(localDay('America/Nuuk', '2082-03-28')).toEqual({ day: '2082-03-28', firstSlot: Date.UTC(2082, 2, 28, 2) / 900_000, slots: 92 });
  });

  it('Pacific/Apia skipped 2011-12-30 entirely: a day of 0 slots between full days', () => {
    expect(localDay('Pacific/Apia', '2011-12-30').slots).toBe(0);
    expect(localDay('Pacific/Apia', '2011-12-29').slots).toBe(96);
    expect(localDay('Pacific/Apia', '2011-12-31').firstSlot).toBe(localDay('Pacific/Apia', '2011-12-29').firstSlot + 96);
  });
});

describe('zone rules', () => {
  it('change type exactly at the reported transitions (table and footer alike)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1900, 0, 1) / 1000, max: Date.UTC(2300, 0, 1) / 1000 }), fc.integer({ min: 1, max: 4 * 366 * 86_400 }), (tz, from, span) => {
        const rules = tzTable().zone(tz)!;
        let previous = rules.typeAt(from);
        for (const tr of rules.transitions(from, from + span)) {
          expect(rules.typeAt(tr.at - 1)).toEqual(previous);
          expect(rules.typeAt(tr.at)).toEqual(tr.type);
          previous = tr.type;
        }
        expect(rules.typeAt(from + span)).toEqual(previous);
      }),
      { numRuns: 1000 },
    );
  });
});
