import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { putReading } from '../../src/modules/metering/state.js';
import { billingPeriod, billPlant, largestRemainder, type ReadingSource } from '../../src/modules/settlement/billing.js';
import { billFromLedger } from '../../src/modules/settlement/queries.js';
import { statementHash } from '../../src/modules/settlement/statement.js';
import type { Plant } from '../../src/modules/shares/keeper.js';
import { plantSegments } from '../../src/modules/shares/holdings.js';
import { getPlant } from '../../src/modules/shares/state.js';
import { A, B, C, moduleState, newChain, registerMsg, slotAt, util, util2 } from '../shares/fixture.js';

function mapSource(production: Map<number, number>, consumption: Map<string, Map<number, number>>): ReadingSource {
  const series = (m: Map<number, number> | undefined, from: number, to: number) => {
    const wh = new Float64Array(to - from);
    let missing = 0;
    for (let s = from; s < to; s++) {
      const v = m?.get(s);
      if (v === undefined) missing++;
      else wh[s - from] = v;
    }
    return { wh, missing };
  };
  return { name: 'csv', production: (_p, f, t) => series(production, f, t), consumption: (_p, p, f, t) => series(consumption.get(p.address), f, t) };
}

function setTariffs(chain: ReturnType<typeof newChain>) {
  const from = slotAt(Date.UTC(2026, 5, 1, 12));
  expect(chain.send(util, { type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 250_000, feedInMicroEurPerKwh: 80_000, fromSlot: from } }).code).toBe('OK');
  expect(chain.send(util2, { type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 333_333, feedInMicroEurPerKwh: 70_000, fromSlot: from } }).code).toBe('OK');
}

describe('settlement: billing with known numbers', () => {
  const day = billingPeriod('Europe/Vienna', '2026-06-02', '2026-06-02');
  const s0 = day.fromSlot + 40;
  const s1 = day.fromSlot + 41;
  const s2 = day.fromSlot + 42;
  // Ties at equal remainders go to the lower address.
  const [first, second] = A.address < B.address ? [A, B] : [B, A];

  it('allocates by largest remainder, bills to the µ€ and Wh, and hashes the statement', () => {
    const chain = newChain(Date.UTC(2026, 5, 1));
    chain.send(util, registerMsg());
    setTariffs(chain);
    const store = new Overlay(chain.storage);
    const reading = (meterId: string, slot: number, importWh: number, exportWh: number) =>
      putReading(store, { meterId, slot, importWh, exportWh, importRegisterWh: 0, exportRegisterWh: 0, seq: 1, height: 1, txHash: 'x' });
    reading('house-1-pv', s0, 0, 1001);
    reading('house-1-pv', s1, 0, 3);
    reading('house-1-pv', s2, 0, 0);
    reading('house-1-m0', s0, 100, 0); // A
    reading('house-1-m1', s0, 300, 0); // B
    reading('house-1-m1', s2, 7, 0);
    reading('house-1-m2', s0, 0, 0); // C
    const res = billFromLedger(chain.queryContext('settlement', store), { plant: 'house-1', fromDay: '2026-06-02', toDay: '2026-06-02', dynamic: false });
    expect(res.productionWh).toBe(1004);
    const byCustomer = new Map(res.statements.map((s) => [s.customer, s]));
    const a = byCustomer.get(A.address)!;
    const b = byCustomer.get(B.address)!;
    const c = byCustomer.get(C.address)!;
    // slot s0: 1001 Wh → 200.2 / 200.2 / 600.6 → 200, 200, 601 (C has the largest remainder)
    // slot s1: 3 Wh → 0.6 / 0.6 / 1.8 → C gets 1 + 1, the 0.6 tie goes to the lower address
    const tieA = first === A ? 1 : 0;
    const tieB = first === B ? 1 : 0;
    expect(second).not.toBe(first);
    expect(a.energyWh).toEqual({ consumed: 100, allocated: 200 + tieA, covered: 100, imported: 0, fedIn: 100 + tieA });
    expect(b.energyWh).toEqual({ consumed: 307, allocated: 200 + tieB, covered: 200, imported: 107, fedIn: tieB });
    expect(c.energyWh).toEqual({ consumed: 0, allocated: 603, covered: 0, imported: 0, fedIn: 603 });
    expect(a.energyWh.allocated + b.energyWh.allocated + c.energyWh.allocated).toBe(1004);
    // A and C are billed by utility (0.25 €/kWh, 0.08 €/kWh feed-in), B by utility2 (0.333333 €/kWh, 0.07 €/kWh)
    expect(a.utility).toBe(util.address);
    expect(a.amountMicroEur).toEqual({ importCharge: 0, feedInCredit: (100 + tieA) * 80, total: -(100 + tieA) * 80 });
    expect(b.amountMicroEur).toEqual({ importCharge: 35_666, feedInCredit: tieB * 70, total: 35_666 - tieB * 70 }); // 107 × 333333 / 1000 = 35666.631 → 35666
    expect(c.amountMicroEur).toEqual({ importCharge: 0, feedInCredit: 48_240, total: -48_240 });
    expect(b.missing).toEqual({ productionSlots: 93, consumptionSlots: 94 });
    expect(b.days).toHaveLength(1);
    expect(b.hash).toBe(statementHash(b));
    // A tampered statement hashes differently.
    expect(statementHash({ ...b, energyWh: { ...b.energyWh, imported: 106 } })).not.toBe(b.hash);
    // Only this utility's customers when asked.
    expect(billFromLedger(chain.queryContext('settlement', store), { plant: 'house-1', fromDay: '2026-06-02', toDay: '2026-06-02', dynamic: false, utility: util2.address }).statements.map((s) => s.customer)).toEqual([B.address]);
  });

  it('the dynamic key first gives surplus to participants with remaining need', () => {
    const chain = newChain(Date.UTC(2026, 5, 1));
    chain.send(util, registerMsg());
    const plant = getPlant(chain.store, 'house-1')!;
    const source = mapSource(new Map([[s0, 1001]]), new Map([[A.address, new Map([[s0, 100]])], [B.address, new Map([[s0, 300]])], [C.address, new Map([[s0, 0]])]]));
    const billing = billPlant({ plant, period: day, holdings: plantSegments(chain.store, plant, day.fromSlot, day.toSlot), source, dynamic: true });
    const line = (x: string) => billing.lines.find((l) => l.address === x)!;
    // surplus A 100, C 601 (701); need B 100 → B covered fully; A gives 14, C gives 85 + 1 (remainder 515 > 186)
    expect([line(A.address).coveredWh, line(A.address).fedInWh]).toEqual([100, 86]);
    expect([line(B.address).coveredWh, line(B.address).importedWh, line(B.address).fedInWh]).toEqual([300, 0, 0]);
    expect([line(C.address).coveredWh, line(C.address).fedInWh, line(C.address).allocatedWh]).toEqual([0, 515, 515]);
    expect(billing.lines.reduce((s, l) => s + l.allocatedWh, 0)).toBe(1001);
  });

  it('statement hashes: recorded by the billing utility only, for ended periods, once', () => {
    const chain = newChain(Date.UTC(2026, 5, 1));
    chain.send(util, registerMsg());
    const ref = { plant: 'house-1', customer: A.address, fromSlot: day.fromSlot, toSlot: day.toSlot, hash: 'ab'.repeat(32) };
    const rec = (from: typeof util, r: typeof ref, time?: number) => chain.send(from, { type: 'settlement/record-statements', value: { statements: [r] } }, time);
    const rejected = (from: typeof util, r: typeof ref, code: string, time?: number) => {
      const before = moduleState(chain);
      expect(rec(from, r, time).code).toBe(code);
      expect(moduleState(chain)).toEqual(before);
    };
    rejected(util, ref, 'SETTLEMENT_PERIOD_OPEN');
    const after = Date.UTC(2026, 5, 3, 12);
    rejected(A, ref, 'SETTLEMENT_NOT_UTILITY', after);
    rejected(util2, ref, 'SETTLEMENT_NOT_CUSTOMER_UTILITY', after + 1000);
    rejected(util, { ...ref, plant: 'nope' }, 'SETTLEMENT_UNKNOWN_PLANT', after + 2000);
    rejected(util, { ...ref, toSlot: ref.fromSlot }, 'SETTLEMENT_INVALID_PERIOD', after + 3000);
    expect(rec(util, ref, after + 4000).code).toBe('OK');
    rejected(util, ref, 'SETTLEMENT_DUPLICATE_STATEMENT', after + 5000);
    expect(rec(util, { ...ref, hash: 'cd'.repeat(32) }, after + 6000).code).toBe('OK');
    expect(chain.store.get<{ revision: number }>(`settlement/statement/${'cd'.repeat(32)}`)!.revision).toBe(2);
    rejected(util, ref, 'SETTLEMENT_DUPLICATE_STATEMENT', after + 7000);
    const tariff = (v: Record<string, number>) => ({ type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 1, feedInMicroEurPerKwh: 1, fromSlot: slotAt(after) + 10, ...v } });
    for (const [from, v, code] of [
      [A, {}, 'SETTLEMENT_NOT_UTILITY'],
      [util, { importMicroEurPerKwh: -1 }, 'SETTLEMENT_INVALID_TARIFF'],
      [util, { fromSlot: slotAt(after) }, 'SETTLEMENT_SLOT_BEGUN'],
    ] as const) {
      const before = moduleState(chain);
      expect(chain.send(from, tariff(v)).code).toBe(code);
      expect(moduleState(chain)).toEqual(before);
    }
  });
});

describe('settlement: allocation conserves production exactly (property)', () => {
  it('Σ allocated = production in every slot; covered ≤ consumption; covered + fed-in = allocated', () => {
    const arb = fc
      .integer({ min: 1, max: 12 })
      .chain((k) =>
        fc.record({
          weights: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: k, maxLength: k }),
          slots: fc.array(fc.record({ p: fc.integer({ min: 0, max: 5_000_000 }), cons: fc.array(fc.integer({ min: 0, max: 3_000_000 }), { minLength: k, maxLength: k }) }), { minLength: 1, maxLength: 8 }),
          dynamic: fc.boolean(),
        }),
      );
    fc.assert(
      fc.property(arb, ({ weights, slots, dynamic }) => {
        const k = weights.length;
        const total = weights.reduce((a, b) => a + b, 0);
        const ppm = weights.map((w) => Math.floor((w * 1_000_000) / total));
        ppm[0]! += 1_000_000 - ppm.reduce((a, b) => a + b, 0);
        fc.pre(ppm.every((x) => x > 0));
        const addresses = Array.from({ length: k }, (_, i) => `grid1p${String(i).padStart(3, '0')}`);
        const from = 1000;
        const plant: Plant = {
          id: 'p',
          name: 'p',
          peakPowerW: 1,
          timezone: 'UTC',
          productionMeter: 'pv',
          operator: 'op',
          registeredAt: { height: 1, txHash: 'x', time: 0 },
          keys: [{ fromSlot: 0, fromDay: null, participants: addresses.map((address, i) => ({ address, utility: 'u', ppm: ppm[i]! })), setAt: { height: 1, txHash: 'x' } }],
        };
        const period = { fromDay: 'd', toDay: 'd', fromSlot: from, toSlot: from + slots.length, days: [{ day: 'd', firstSlot: from, slots: slots.length }] };
        const holdings = Object.fromEntries(addresses.map((a, i) => [a, [{ fromSlot: from, toSlot: from + slots.length, ppm: ppm[i]! }]]));
        const source = mapSource(
          new Map(slots.map((s, i) => [from + i, s.p])),
          new Map(addresses.map((a, j) => [a, new Map(slots.map((s, i) => [from + i, s.cons[j]!]))])),
        );
        const billing = billPlant({ plant, period, holdings, source, dynamic });
        const produced = slots.reduce((a, s) => a + s.p, 0);
        expect(billing.productionWh).toBe(produced);
        expect(billing.lines.reduce((a, l) => a + l.allocatedWh, 0)).toBe(produced);
        for (const l of billing.lines) {
          expect(l.coveredWh).toBeLessThanOrEqual(l.consumedWh);
          expect(l.coveredWh + l.fedInWh).toBe(l.allocatedWh);
          expect(l.importedWh).toBe(l.consumedWh - l.coveredWh);
          expect(l.fedInWh).toBeGreaterThanOrEqual(0);
        }
        // Per slot too: one slot at a time must also conserve.
        const out = new Float64Array(k);
        const rem = new Float64Array(k);
        for (const s of slots) {
          largestRemainder(s.p, ppm, 1_000_000, out, rem);
          expect(out.reduce((a, b) => a + b, 0)).toBe(s.p);
        }
      }),
      { numRuns: 300 },
    );
  });
});
