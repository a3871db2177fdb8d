import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { putReading } from '../../src/modules/metering/state.js';
import { billingPeriod, billPlant, type ReadingSource } from '../../src/modules/settlement/billing.js';
import { billFromLedger } from '../../src/modules/settlement/queries.js';
import { keysOverlapping, registrationSlot } from '../../src/modules/shares/holdings.js';
import { dayHoldings } from '../../src/modules/shares/queries.js';
import { getPlant } from '../../src/modules/shares/state.js';
import { A, moduleState, newChain, registerMsg, slotAt, util, util2 } from '../shares/fixture.js';

/** Issue 19 #12: a plant's distribution key applies from its registration slot on, not from slot 0. */

const REGISTERED = Date.UTC(2026, 5, 10, 10, 7); // 2026-06-10 12:07 in Vienna
const regSlot = slotAt(REGISTERED);

function chainWithPlant() {
  const chain = newChain(Date.UTC(2026, 5, 1));
  // Tariffs in force from before the registration day, so a period starting that day has one.
  const from = slotAt(Date.UTC(2026, 5, 9));
  expect(chain.send(util, { type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 250_000, feedInMicroEurPerKwh: 80_000, fromSlot: from } }).code).toBe('OK');
  expect(chain.send(util2, { type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 300_000, feedInMicroEurPerKwh: 70_000, fromSlot: from } }).code).toBe('OK');
  expect(chain.send(util, registerMsg(), REGISTERED).code).toBe('OK');
  return chain;
}

const everySlot = (wh: number): ReadingSource => {
  const series = (from: number, to: number) => ({ wh: new Float64Array(to - from).fill(wh), missing: 0 });
  return { name: 'csv', production: (_p, f, t) => series(f, t), consumption: (_p, _q, f, t) => series(f, t) };
};

describe('shares/settlement: keys apply from the registration slot', () => {
  it('derives the start from the registration block, and no key covers earlier slots', () => {
    const chain = chainWithPlant();
    const plant = getPlant(chain.store, 'house-1')!;
    expect(registrationSlot(plant)).toBe(regSlot);
    expect(keysOverlapping(plant, 0, regSlot)).toEqual([]);
    expect(keysOverlapping(plant, regSlot - 10, regSlot + 10).map(({ from, to }) => [from, to])).toEqual([[regSlot, regSlot + 10]]);
    // The holdings of the registration day are zero before the registration slot and sum to 1,000,000 from it on.
    const day = dayHoldings(chain.store, 'house-1', '2026-06-10');
    for (const row of day.rows) expect(row.total).toBe(row.slot < regSlot ? 0 : 1_000_000);
  });

  it('refuses billing for a period that ended before the registration (ledger and CSV dry run)', () => {
    const chain = chainWithPlant();
    const plant = getPlant(chain.store, 'house-1')!;
    const ctx = chain.queryContext('settlement');
    expect(() => billFromLedger(ctx, { plant: 'house-1', fromDay: '2026-06-01', toDay: '2026-06-09', dynamic: false })).toThrow(expect.objectContaining({ code: 'SETTLEMENT_BEFORE_REGISTRATION' }));
    const before = billingPeriod(plant.timezone, '2026-06-09', '2026-06-09');
    expect(() => billPlant({ plant, period: before, holdings: {}, source: everySlot(1), dynamic: false })).toThrow(expect.objectContaining({ code: 'SETTLEMENT_BEFORE_REGISTRATION' }));
  });

  it('bills a period that starts before the registration only from the registration slot on', () => {
    const chain = chainWithPlant();
    const plant = getPlant(chain.store, 'house-1')!;
    const store = new Overlay(chain.storage);
    const period = billingPeriod(plant.timezone, '2026-06-10', '2026-06-10');
    for (let slot = period.fromSlot; slot < period.toSlot; slot++) {
      putReading(store, { meterId: 'house-1-pv', slot, importWh: 0, exportWh: 1000, importRegisterWh: 0, exportRegisterWh: 0, seq: 1, height: 1, txHash: 'x' });
    }
    const res = billFromLedger(chain.queryContext('settlement', store), { plant: 'house-1', fromDay: '2026-06-10', toDay: '2026-06-10', dynamic: false });
    const billed = period.toSlot - regSlot;
    expect(res.productionWh).toBe(billed * 1000);
    for (const s of res.statements) {
      expect(s.slots).toBe(billed);
      expect(s.missing.productionSlots).toBe(0);
    }
    expect(res.statements.find((s) => s.customer === A.address)!.energyWh.allocated).toBe(billed * 200);
  });

  it('refuses to record a statement of a period before the registration, changing nothing', () => {
    const chain = chainWithPlant();
    const before = moduleState(chain);
    const period = billingPeriod('Europe/Vienna', '2026-06-01', '2026-06-09');
    const ref = { plant: 'house-1', customer: A.address, fromSlot: period.fromSlot, toSlot: period.toSlot, hash: 'ab'.repeat(32) };
    const res = chain.send(util, { type: 'settlement/record-statements', value: { statements: [ref] } }, Date.UTC(2026, 6, 1));
    expect(res.code).toBe('SETTLEMENT_BEFORE_REGISTRATION');
    expect(moduleState(chain)).toEqual(before);
    // The period of the registration day itself is recorded: its key applies from the registration slot.
    const day = billingPeriod('Europe/Vienna', '2026-06-10', '2026-06-10');
    const ok = chain.send(util, { type: 'settlement/record-statements', value: { statements: [{ ...ref, fromSlot: day.fromSlot, toSlot: day.toSlot }] } });
    expect(ok.code).toBe('OK');
  });
});
