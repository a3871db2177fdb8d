import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Battery } from '../../sim/community/battery.js';
import { epochDayOf } from '../../sim/community/calendar.js';
import { ElectricVehicle, type EvSpec } from '../../sim/community/ev.js';
import { localMidnightMs } from '../../src/util/localtime.js';
import { SLOT_MS } from '../../src/util/slots.js';

describe('battery (self-consumption, whole Wh)', () => {
  it('follows a hand-computed sequence', () => {
    // Round trip 0.81 → 0.9 each way; 4 kW → 1,000 Wh per slot; 2,000 Wh capacity, 200 Wh floor.
    const b = new Battery({ capacityWh: 2000, maxPowerW: 4000, roundTripEfficiency: 0.81, minSocWh: 200, initialSocWh: 200 });
    expect(b.step(1500)).toEqual({ chargeWh: 1000, dischargeWh: 0, socWh: 1100 }); // power-limited: 1000·0.9 stored
    expect(b.step(1500)).toEqual({ chargeWh: 1000, dischargeWh: 0, socWh: 2000 }); // room 900 → ≤ 1000 in, 900 stored
    expect(b.step(300)).toEqual({ chargeWh: 0, dischargeWh: 0, socWh: 2000 }); // full
    expect(b.step(-700)).toEqual({ chargeWh: 0, dischargeWh: 700, socWh: 1222 }); // drains ceil(700/0.9) = 778
    expect(b.step(-5000)).toEqual({ chargeWh: 0, dischargeWh: 919, socWh: 200 }); // floor(1022·0.9) = 919 out, ceil(919/0.9) = 1022 drained
    expect(b.step(-100)).toEqual({ chargeWh: 0, dischargeWh: 0, socWh: 200 }); // at the floor
  });

  it('never leaves [minSoc, capacity] and never creates energy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.array(fc.integer({ min: -6000, max: 6000 }), { maxLength: 200 }),
        (capacityWh, maxPowerW, rte, nets) => {
          const minSocWh = Math.floor(capacityWh / 10);
          const b = new Battery({ capacityWh, maxPowerW, roundTripEfficiency: rte, minSocWh, initialSocWh: minSocWh });
          let charged = 0;
          let delivered = 0;
          for (const net of nets) {
            const s = b.step(net);
            expect(Number.isInteger(s.chargeWh) && Number.isInteger(s.dischargeWh) && Number.isInteger(s.socWh)).toBe(true);
            expect(s.socWh).toBeGreaterThanOrEqual(minSocWh);
            expect(s.socWh).toBeLessThanOrEqual(capacityWh);
            expect(s.chargeWh).toBeLessThanOrEqual(Math.max(0, net));
            expect(s.dischargeWh).toBeLessThanOrEqual(Math.max(0, -net));
            expect(Math.max(s.chargeWh, s.dischargeWh)).toBeLessThanOrEqual(Math.floor(maxPowerW / 4));
            charged += s.chargeWh;
            delivered += s.dischargeWh;
          }
          // What comes out plus what is still stored never exceeds what went in (plus the start).
          expect(delivered + (b.socWh - minSocWh)).toBeLessThanOrEqual(charged);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('electric car', () => {
  const TZ = 'Europe/Vienna';
  const spec: EvSpec = { chargePowerW: 11_000, arrival: '18:00', departure: '07:30', jitterMinutes: 45, dailyKwh: 9, dailyKwhSd: 3, batteryKwh: 60, noTripProbability: 0.15 };

  function daySlots(ev: ElectricVehicle, day: number): number[] {
    const date = new Date(day * 86_400_000);
    const start = Math.floor(localMidnightMs(TZ, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()) / SLOT_MS);
    const next = new Date((day + 1) * 86_400_000);
    const end = Math.floor(localMidnightMs(TZ, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()) / SLOT_MS);
    const out: number[] = [];
    for (let s = start; s < end; s++) out.push(ev.slotWh(day, s * SLOT_MS, (s + 1) * SLOT_MS));
    return out;
  }

  it('charges each session exactly its rounded need, only while plugged in, at most at its power', () => {
    const ev = new ElectricVehicle(spec, { seed: 3, memberId: 'h11', timezone: TZ });
    const first = epochDayOf(2026, 6, 1);
    const slots: number[] = [];
    for (let d = first; d < first + 30; d++) slots.push(...daySlots(ev, d));
    let expected = 0;
    let drivenDays = 0;
    for (let d = first; d < first + 30; d++) {
      const s = ev.session(d);
      if (s.needWh > 0) drivenDays++;
      // The last session runs into the 31st day; count only sessions that end inside the window.
      if (d < first + 29) expected += Math.round(s.needWh);
      expect(s.endMs - s.startMs).toBeGreaterThan(10 * 3_600_000);
      expect(s.needWh).toBeLessThanOrEqual(60_000);
    }
    const charged = slots.reduce((a, b) => a + b, 0);
    const last = ev.session(first + 29);
    const lastInside = Math.round(Math.min(last.needWh, (11_000 * Math.max(0, localMidnightMs(TZ, 2026, 7, 1) - last.startMs)) / 3_600_000));
    // Session of the day before the window (charging after midnight on day one) also counts.
    const before = ev.session(first - 1);
    const beforeInside = Math.round(before.needWh) - Math.round(Math.min(before.needWh, (11_000 * Math.max(0, localMidnightMs(TZ, 2026, 6, 1) - before.startMs)) / 3_600_000));
    expect(charged).toBe(expected + lastInside + beforeInside);
    expect(slots.every((x) => Number.isInteger(x) && x >= 0 && x <= 2750)).toBe(true);
    expect(drivenDays).toBeGreaterThan(20);
    expect(drivenDays).toBeLessThan(30);
    // Never charging in the middle of the day.
    for (let d = 0; d < 30; d++) expect(slots.slice(d * 96 + 40, d * 96 + 64).every((x) => x === 0)).toBe(true);
  });

  it('is the same for the same seed and member, whatever was asked before', () => {
    const a = new ElectricVehicle(spec, { seed: 3, memberId: 'h11', timezone: TZ });
    const b = new ElectricVehicle(spec, { seed: 3, memberId: 'h11', timezone: TZ });
    const day = epochDayOf(2026, 6, 10);
    for (let d = day - 20; d < day; d++) a.session(d);
    expect(daySlots(a, day)).toEqual(daySlots(b, day));
    const other = new ElectricVehicle(spec, { seed: 4, memberId: 'h11', timezone: TZ });
    expect([day, day + 1, day + 2].map((d) => other.session(d).needWh)).not.toEqual([day, day + 1, day + 2].map((d) => b.session(d).needWh));
  });
});
