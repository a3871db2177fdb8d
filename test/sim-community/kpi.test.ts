import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { communityKpis, type MemberSlotFlow, type SlotFlows, type Tariffs } from '../../sim/community/kpi.js';
import { LedgerError } from '../../src/util/errors.js';

const TARIFFS: Tariffs = { importMicroEurPerKwh: 250_000, exportMicroEurPerKwh: 80_000, communityMicroEurPerKwh: 150_000 };

type Row = [member: string, produced: number, consumed: number, bought: number, sold: number, gridImport: number, gridExport: number];

function slot(s: number, rows: Row[]): SlotFlows {
  return {
    slot: s,
    flows: rows.map(([member, producedWh, consumedWh, boughtInternallyWh, soldInternallyWh, gridImportWh, gridExportWh]) => ({ member, slot: s, producedWh, consumedWh, boughtInternallyWh, soldInternallyWh, gridImportWh, gridExportWh })),
  };
}

/**
 * Three members, four slots (Wh): A a prosumer, B a consumer, C a consumer with a little PV.
 *   slot 100: A makes 2000, uses 500, sells 800 to B and 400 to C, exports 300; C imports 200.
 *   slot 101: A makes and uses 1000; B imports 700, C imports 300.
 *   slot 102: A uses 900: buys 300 from C (C makes 500, uses 200), imports 600; B imports 1200.
 *   slot 103: A makes 3000, uses 400, sells 600 to B and 400 to C, exports 1600.
 */
const HAND: SlotFlows[] = [
  //               member produced consumed bought sold import export
  slot(100, [['A', 2000, 500, 0, 1200, 0, 300], ['B', 0, 800, 800, 0, 0, 0], ['C', 0, 600, 400, 0, 200, 0]]),
  slot(101, [['A', 1000, 1000, 0, 0, 0, 0], ['B', 0, 700, 0, 0, 700, 0], ['C', 0, 300, 0, 0, 300, 0]]),
  slot(102, [['A', 0, 900, 300, 0, 600, 0], ['B', 0, 1200, 0, 0, 1200, 0], ['C', 500, 200, 0, 300, 0, 0]]),
  slot(103, [['A', 3000, 400, 0, 1000, 0, 1600], ['B', 0, 600, 600, 0, 0, 0], ['C', 0, 400, 400, 0, 0, 0]]),
];

describe('community KPIs: hand-computed community', () => {
  const k = communityKpis({ community: 'hand', fromSlot: 100, toSlot: 104, members: ['A', 'B', 'C'], tariffs: TARIFFS, slots: HAND });
  const m = (id: string) => k.members.find((x) => x.member === id)!;

  it('energy totals, self-sufficiency and self-consumption to the Wh and ppm', () => {
    // Self-consumed (consumed − import − bought, per slot): A 500+1000+0+400 = 1900, B 0, C 0+0+200+0 = 200.
    // Local supply (consumed − import): A 500+1000+300+400 = 2200, B 800+0+0+600 = 1400, C 400+0+200+400 = 1000.
    expect(m('A').energy).toEqual({ producedWh: 6000, consumedWh: 2800, boughtInternallyWh: 300, soldInternallyWh: 2200, gridImportWh: 600, gridExportWh: 1900, selfConsumedWh: 1900, localSupplyWh: 2200 });
    expect(m('B').energy).toEqual({ producedWh: 0, consumedWh: 3300, boughtInternallyWh: 1400, soldInternallyWh: 0, gridImportWh: 1900, gridExportWh: 0, selfConsumedWh: 0, localSupplyWh: 1400 });
    expect(m('C').energy).toEqual({ producedWh: 500, consumedWh: 1500, boughtInternallyWh: 800, soldInternallyWh: 300, gridImportWh: 500, gridExportWh: 0, selfConsumedWh: 200, localSupplyWh: 1000 });
    // A: 1900/2800 = 0.678571…, 1900/6000 = 0.316666…, 2200/2800 = 0.785714…
    expect([m('A').selfSufficiencyPpm, m('A').selfConsumptionPpm, m('A').localSupplyPpm]).toEqual([678_571, 316_666, 785_714]);
    // B produces nothing: self-consumption is undefined (null), as gsy-e's None.
    expect([m('B').selfSufficiencyPpm, m('B').selfConsumptionPpm, m('B').localSupplyPpm]).toEqual([0, null, 424_242]);
    expect([m('C').selfSufficiencyPpm, m('C').selfConsumptionPpm, m('C').localSupplyPpm]).toEqual([133_333, 400_000, 666_666]);
    // Community: consumed 7600, produced 6500, self-consumed = Σ local supply = 4600.
    expect(k.energy).toEqual({ producedWh: 6500, consumedWh: 7600, boughtInternallyWh: 2500, soldInternallyWh: 2500, gridImportWh: 3000, gridExportWh: 1900, selfConsumedWh: 4600, localSupplyWh: 4600 });
    expect(k.internalImbalanceWh).toBe(0);
    expect(k.selfSufficiencyPpm).toBe(605_263); // 4600/7600 = 0.6052631…
    expect(k.selfConsumptionPpm).toBe(707_692); // 4600/6500 = 0.7076923…
  });

  it('import and export peaks per slot', () => {
    // Grid import per slot: 200, 1000, 1800, 0; export: 300, 0, 0, 1600.
    expect(k.peaks).toEqual({ importWh: 1800, importSlot: 102, exportWh: 1600, exportSlot: 103 });
    expect(m('A').peaks).toEqual({ importWh: 600, importSlot: 102, exportWh: 1600, exportSlot: 103 });
    expect(m('B').peaks).toEqual({ importWh: 1200, importSlot: 102, exportWh: 0, exportSlot: null });
    expect(m('C').peaks).toEqual({ importWh: 300, importSlot: 101, exportWh: 0, exportSlot: null });
  });

  it('bills, baseline and savings to the µ€', () => {
    // A: 600·250 + 300·150 − 1900·80 − 2200·150 = 150,000 + 45,000 − 152,000 − 330,000 = −287,000
    //    baseline 600·250 + 300·250 − 1900·80 − 2200·80 = 150,000 + 75,000 − 152,000 − 176,000 = −103,000
    expect(m('A').bill).toEqual({
      lines: [
        { item: 'grid-import', wh: 600, microEurPerKwh: 250_000, amountMicroEur: 150_000 },
        { item: 'community-purchase', wh: 300, microEurPerKwh: 150_000, amountMicroEur: 45_000 },
        { item: 'grid-export', wh: 1900, microEurPerKwh: 80_000, amountMicroEur: -152_000 },
        { item: 'community-sale', wh: 2200, microEurPerKwh: 150_000, amountMicroEur: -330_000 },
      ],
      totalMicroEur: -287_000,
      baselineLines: [
        { item: 'grid-import', wh: 600, microEurPerKwh: 250_000, amountMicroEur: 150_000 },
        { item: 'community-purchase', wh: 300, microEurPerKwh: 250_000, amountMicroEur: 75_000 },
        { item: 'grid-export', wh: 1900, microEurPerKwh: 80_000, amountMicroEur: -152_000 },
        { item: 'community-sale', wh: 2200, microEurPerKwh: 80_000, amountMicroEur: -176_000 },
      ],
      baselineMicroEur: -103_000,
      savingsMicroEur: 184_000,
      savingsPpm: null, // baseline is a net revenue: no percentage
    });
    // B: 1900·250 + 1400·150 = 685,000; baseline 3300·250 = 825,000; 140,000/825,000 = 0.169696…
    expect([m('B').bill.totalMicroEur, m('B').bill.baselineMicroEur, m('B').bill.savingsMicroEur, m('B').bill.savingsPpm]).toEqual([685_000, 825_000, 140_000, 169_696]);
    // C: 500·250 + 800·150 − 300·150 = 200,000; baseline 1300·250 − 300·80 = 301,000; 101,000/301,000 = 0.335548…
    expect([m('C').bill.totalMicroEur, m('C').bill.baselineMicroEur, m('C').bill.savingsMicroEur, m('C').bill.savingsPpm]).toEqual([200_000, 301_000, 101_000, 335_548]);
    // Community: 2500 Wh traded internally × (250,000 − 80,000) µ€/kWh = 425,000 µ€ saved.
    expect([k.costMicroEur, k.baselineMicroEur, k.savingsMicroEur, k.savingsPpm]).toEqual([598_000, 1_023_000, 425_000, 415_444]);
  });

  it('rounds each bill line down to the µ€ on period totals', () => {
    const r = communityKpis({
      community: 'r',
      fromSlot: 0,
      toSlot: 2,
      members: ['X'],
      tariffs: { importMicroEurPerKwh: 123_457, exportMicroEurPerKwh: 80_001, communityMicroEurPerKwh: 100_000 },
      slots: [slot(0, [['X', 0, 4, 0, 0, 4, 0]]), slot(1, [['X', 3, 3, 0, 0, 3, 3]])],
    });
    // 7 Wh × 123,457 µ€/kWh = 864.199 → 864; 3 Wh × 80,001 = 240.003 → 240 credit.
    expect(r.members[0]!.bill.lines.map((l) => l.amountMicroEur)).toEqual([864, 0, -240, 0]);
    expect(r.members[0]!.bill.totalMicroEur).toBe(624);
  });

  it('rejects malformed input with KPI_INPUT_INVALID', () => {
    const bad = (slots: SlotFlows[], members = ['A', 'B', 'C']) => {
      try {
        communityKpis({ community: 'x', fromSlot: 100, toSlot: 104, members, tariffs: TARIFFS, slots });
      } catch (err) {
        return (err as LedgerError).code;
      }
      return 'accepted';
    };
    expect(bad([slot(100, [['A', 1.5, 0, 0, 0, 0, 0]])])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(100, [['A', -1, 0, 0, 0, 0, 0]])])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(100, [['Z', 0, 0, 0, 0, 0, 0]])])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(101, []), slot(100, [])])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(104, [])])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(100, [['A', 0, 0, 0, 0, 0, 0], ['A', 0, 0, 0, 0, 0, 0]])])).toBe('KPI_INPUT_INVALID');
    expect(bad([], ['A', 'A'])).toBe('KPI_INPUT_INVALID');
    expect(bad([slot(100, [])])).toBe('accepted');
  });

  it('refuses totals beyond the safe-integer range with KPI_OVERFLOW', () => {
    const huge = Number.MAX_SAFE_INTEGER;
    expect(() => communityKpis({ community: 'x', fromSlot: 0, toSlot: 2, members: ['A'], tariffs: TARIFFS, slots: [slot(0, [['A', huge, 0, 0, 0, 0, 0]]), slot(1, [['A', huge, 0, 0, 0, 0, 0]])] })).toThrow(
      expect.objectContaining({ code: 'KPI_OVERFLOW' }),
    );
  });
});

/** A random community whose members balance: produced + import + bought = consumed + export + sold. */
const communityArb = fc
  .record({
    members: fc.integer({ min: 1, max: 5 }),
    slots: fc.integer({ min: 1, max: 6 }),
    seed: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 400, maxLength: 400 }),
    trades: fc.array(fc.record({ from: fc.nat(4), to: fc.nat(4), slot: fc.nat(5), wh: fc.integer({ min: 1, max: 3000 }) }), { maxLength: 20 }),
  })
  .map(({ members, slots, seed, trades }) => {
    const ids = Array.from({ length: members }, (_, i) => `m${i}`);
    const data: SlotFlows[] = [];
    let k = 0;
    for (let s = 0; s < slots; s++) {
      const flows: MemberSlotFlow[] = ids.map((member) => {
        const bought = trades.filter((t) => t.slot === s && t.to % members !== t.from % members && `m${t.to % members}` === member).reduce((a, t) => a + t.wh, 0);
        const sold = trades.filter((t) => t.slot === s && t.to % members !== t.from % members && `m${t.from % members}` === member).reduce((a, t) => a + t.wh, 0);
        const producedWh = seed[k++ % seed.length]! % 3 === 0 ? 0 : seed[k++ % seed.length]!;
        const consumedWh = seed[k++ % seed.length]!;
        const net = consumedWh + sold - producedWh - bought;
        return { member, slot: s, producedWh, consumedWh, boughtInternallyWh: bought, soldInternallyWh: sold, gridImportWh: Math.max(0, net), gridExportWh: Math.max(0, -net) };
      });
      data.push({ slot: s, flows });
    }
    return { ids, data, slots };
  });

const tariffsArb = fc
  .tuple(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }))
  .map((t) => t.sort((a, b) => a - b))
  .map(([exportMicroEurPerKwh, communityMicroEurPerKwh, importMicroEurPerKwh]) => ({ importMicroEurPerKwh, exportMicroEurPerKwh, communityMicroEurPerKwh }));

describe('community KPIs: properties', () => {
  it('balance energy, keep ratios within [0, 10⁶] ppm, add members up, and never cost more than the baseline when export ≤ community ≤ import', () => {
    fc.assert(
      fc.property(communityArb, tariffsArb, ({ ids, data, slots }, tariffs) => {
        const k = communityKpis({ community: 'p', fromSlot: 0, toSlot: slots, members: ids, tariffs, slots: data });
        const e = k.energy;
        expect(e.producedWh + e.gridImportWh + e.boughtInternallyWh).toBe(e.consumedWh + e.gridExportWh + e.soldInternallyWh);
        expect(k.internalImbalanceWh).toBe(0);
        for (const x of [k, ...k.members]) {
          for (const ppm of [x.selfSufficiencyPpm, x.selfConsumptionPpm]) if (ppm !== null) expect(ppm >= 0 && ppm <= 1_000_000).toBe(true);
        }
        for (const m of k.members) {
          const me = m.energy;
          expect(me.producedWh + me.gridImportWh + me.boughtInternallyWh).toBe(me.consumedWh + me.gridExportWh + me.soldInternallyWh);
          expect(me.selfConsumedWh).toBeLessThanOrEqual(me.localSupplyWh);
          expect(me.localSupplyWh).toBeLessThanOrEqual(me.consumedWh);
          expect(m.bill.totalMicroEur).toBe(m.bill.lines.reduce((a, l) => a + l.amountMicroEur, 0));
          expect(m.bill.baselineMicroEur).toBe(m.bill.baselineLines.reduce((a, l) => a + l.amountMicroEur, 0));
          expect(m.bill.savingsMicroEur).toBeGreaterThanOrEqual(0);
          expect(m.bill.totalMicroEur).toBeLessThanOrEqual(m.bill.baselineMicroEur);
          expect(m.peaks.importWh).toBeLessThanOrEqual(k.peaks.importWh);
          expect(m.peaks.exportWh).toBeLessThanOrEqual(k.peaks.exportWh);
        }
        for (const key of ['producedWh', 'consumedWh', 'gridImportWh', 'gridExportWh', 'boughtInternallyWh', 'soldInternallyWh', 'localSupplyWh'] as const) {
          expect(k.members.reduce((a, m) => a + m.energy[key], 0)).toBe(e[key]);
        }
        expect(k.energy.selfConsumedWh).toBe(e.localSupplyWh);
        expect(k.costMicroEur).toBe(k.members.reduce((a, m) => a + m.bill.totalMicroEur, 0));
        expect(k.baselineMicroEur).toBeGreaterThanOrEqual(k.costMicroEur);
        expect(k.peaks.importWh).toBeLessThanOrEqual(e.gridImportWh);
        // The order of members within a slot does not matter.
        const shuffled = communityKpis({ community: 'p', fromSlot: 0, toSlot: slots, members: ids, tariffs, slots: data.map((d) => ({ slot: d.slot, flows: [...d.flows].reverse() })) });
        expect(shuffled).toEqual(k);
      }),
      { numRuns: 300 },
    );
  });
});
