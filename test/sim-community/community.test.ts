import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommunitySimulation, simulateRange, type SlotResult } from '../../sim/community/community.js';
import { communityKpis } from '../../sim/community/kpi.js';
import { loadScenarioFile, type Scenario } from '../../sim/community/scenario.js';
import { LedgerError } from '../../src/util/errors.js';
import { localDay } from '../../src/util/localtime.js';
import { demoDayDigest } from './digest-day.js';

const demo = loadScenarioFile(join(import.meta.dirname, '../../sim/community/scenarios/demo.json'));
const june = localDay(demo.community.timezone, '2026-06-21');
const day = (s: Scenario, d = june) => simulateRange(s, d.firstSlot, d.firstSlot + d.slots);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LedgerError ? err.code : 'not a LedgerError';
  }
  return undefined;
}

describe('community simulation', () => {
  const results = day(demo);

  it('is bit-identical for a seed and changes with the seed', () => {
    expect(day(demo)).toEqual(results);
    expect(day({ ...demo, seed: demo.seed + 1 })).not.toEqual(results);
  });

  it('gives the same bits in a fresh process (no dependence on caches or earlier runs)', () => {
    const root = join(import.meta.dirname, '../..');
    const fresh = execFileSync(process.execPath, [join(root, 'bin/run-ts.mjs'), join(root, 'test/sim-community/digest-day.ts'), '2026-07-03'], { encoding: 'utf8' }).trim();
    expect(fresh).toMatch(/^[0-9a-f]{64}$/);
    day(demo); // warm every cache in this process first
    expect(demoDayDigest('2026-07-03')).toBe(fresh);
  });

  it('gives every member a whole-Wh meter view per slot and balances each meter', () => {
    expect(results).toHaveLength(96);
    for (const r of results) {
      expect(r.meters.map((m) => m.member)).toEqual([...demo.households.map((h) => h.id), 'roof-1']);
      for (const m of r.meters) {
        for (const v of [m.productionWh, m.consumptionWh, m.importWh, m.exportWh]) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        expect(m.importWh === 0 || m.exportWh === 0).toBe(true);
        if (m.batterySocWh === undefined) expect(m.importWh - m.exportWh).toBe(m.consumptionWh - m.productionWh);
        else {
          // The battery only shifts the household's own surplus and deficit.
          expect(m.importWh).toBeLessThanOrEqual(Math.max(0, m.consumptionWh - m.productionWh));
          expect(m.exportWh).toBeLessThanOrEqual(Math.max(0, m.productionWh - m.consumptionWh));
          expect(m.batterySocWh).toBeGreaterThanOrEqual(1000);
          expect(m.batterySocWh).toBeLessThanOrEqual(10_000);
        }
      }
    }
    const total = (id: string, k: 'productionWh' | 'consumptionWh' | 'evChargeWh') => results.reduce((a, r) => a + (r.meters.find((m) => m.member === id)![k] ?? 0), 0);
    expect(total('roof-1', 'productionWh')).toBeGreaterThan(60_000); // 20 kWp on a June day
    expect(total('h03', 'consumptionWh')).toBeGreaterThan(4000);
    expect(total('h03', 'consumptionWh')).toBeLessThan(25_000);
    expect(total('h11', 'evChargeWh')).toBeGreaterThanOrEqual(0);
  });

  it('shares energy internally: trades are consistent with the meters, the key and the pool rules', () => {
    const key = new Map(demo.sharedPlants[0]!.participants.map((p) => [p.member, p.ppm]));
    let poolTrades = 0;
    for (const r of results) {
      const plant = r.meters.find((m) => m.member === 'roof-1')!;
      let bought = 0;
      let sold = 0;
      for (const f of r.flows) {
        const m = r.meters.find((x) => x.member === f.member)!;
        expect(f.boughtInternallyWh + f.gridImportWh).toBe(m.importWh);
        expect(f.soldInternallyWh + f.gridExportWh).toBe(m.exportWh);
        expect(f.gridImportWh).toBeGreaterThanOrEqual(0);
        expect(f.gridExportWh).toBeGreaterThanOrEqual(0);
        bought += f.boughtInternallyWh;
        sold += f.soldInternallyWh;
      }
      expect(bought).toBe(sold);
      for (const t of r.trades) {
        expect(t.wh).toBeGreaterThan(0);
        expect(t.from).not.toBe(t.to);
        if (t.via === 'plant') {
          expect(t.from).toBe('roof-1');
          // Covered at most the participant's allocation (floor + at most 1 Wh of remainder).
          expect(t.wh).toBeLessThanOrEqual(Math.floor((plant.productionWh * key.get(t.to)!) / 1_000_000) + 1);
        } else {
          poolTrades++;
          expect(r.meters.find((m) => m.member === t.to)!.importWh).toBeGreaterThan(0);
        }
      }
      // Either all demand is met internally or all supply is used: no one exports while a neighbour imports from the grid.
      const gridImport = r.flows.reduce((a, f) => a + f.gridImportWh, 0);
      const gridExport = r.flows.reduce((a, f) => a + f.gridExportWh, 0);
      expect(gridImport === 0 || gridExport === 0).toBe(true);
    }
    expect(poolTrades).toBeGreaterThan(0);
    const none = day({ ...demo, internalTrading: 'none' });
    expect(none.flatMap((r) => r.trades).every((t) => t.via === 'plant')).toBe(true);
  });

  it('gives a slot the same result whatever range it is simulated in (batteries run from the start day)', () => {
    const lateFrom = june.firstSlot + 40;
    const late = simulateRange(demo, lateFrom, june.firstSlot + 60);
    expect(late).toEqual(results.slice(40, 60));
    // Backfill then follow: one simulation asked range after range equals one long run.
    const sim = new CommunitySimulation(demo);
    const pieces: SlotResult[] = [...sim.run(june.firstSlot, june.firstSlot + 30), ...sim.run(june.firstSlot + 30, june.firstSlot + 31), ...sim.run(june.firstSlot + 31, june.firstSlot + 96)];
    expect(pieces).toEqual(results);
    expect(code(() => [...sim.run(june.firstSlot, june.firstSlot + 1)])).toBe('SIM_RANGE_INVALID');
  });

  it('refuses ranges that are empty or start before the scenario start', () => {
    const start = localDay(demo.community.timezone, demo.start!).firstSlot;
    expect(code(() => simulateRange(demo, start - 1, start + 1))).toBe('SIM_RANGE_INVALID');
    expect(code(() => simulateRange(demo, start + 5, start + 5))).toBe('SIM_RANGE_INVALID');
    expect(code(() => simulateRange(demo, start, start + 1))).toBeUndefined();
  });

  it('feeds the KPIs: ratios in range, internal trades balanced, energy conserved', () => {
    const k = communityKpis({ community: demo.community.id, fromSlot: june.firstSlot, toSlot: june.firstSlot + june.slots, members: results[0]!.meters.map((m) => m.member), tariffs: demo.tariffs, slots: results });
    expect(k.slotsWithData).toBe(96);
    expect(k.internalImbalanceWh).toBe(0);
    for (const ppm of [k.selfSufficiencyPpm, k.selfConsumptionPpm]) {
      expect(ppm).not.toBeNull();
      expect(ppm!).toBeGreaterThan(0);
      expect(ppm!).toBeLessThanOrEqual(1_000_000);
    }
    // Without the battery household, what enters equals what leaves.
    const others = k.members.filter((m) => m.member !== 'h10');
    const sum = (f: (m: (typeof others)[number]) => number) => others.reduce((a, m) => a + f(m), 0);
    expect(sum((m) => m.energy.producedWh + m.energy.gridImportWh + m.energy.boughtInternallyWh)).toBe(sum((m) => m.energy.consumedWh + m.energy.gridExportWh + m.energy.soldInternallyWh));
    // With community price between the export and import tariffs, nobody loses.
    expect(k.savingsMicroEur).toBeGreaterThan(0);
    expect(k.members.every((m) => m.bill.savingsMicroEur >= 0)).toBe(true);
  });
});
