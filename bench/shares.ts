import { Overlay, ReadOnlyStore } from '../src/app/state.js';
import { readSeries, SERIES_SLOTS, writeSeriesDay } from '../src/modules/metering/state.js';
import { meteringCore } from '../src/modules/metering/module.js';
import { registryCore } from '../src/modules/registry/module.js';
import { billingPeriod, billPlant, type ReadingSource } from '../src/modules/settlement/billing.js';
import { ledgerReadingSource } from '../src/modules/settlement/ledger-source.js';
import { settlementCore } from '../src/modules/settlement/module.js';
import { sharesCore } from '../src/modules/shares/module.js';
import { plantSegments } from '../src/modules/shares/holdings.js';
import { getPlant } from '../src/modules/shares/state.js';
import type { Plant } from '../src/modules/shares/keeper.js';
import { slotOfMs } from '../src/util/slots.js';
import { account, TestChain, type TestAccount } from '../test/helpers/chain.js';

/**
 * Shares benchmark: (1) portion transfers over 16-slot ranges executed and committed in-process
 * (real app host, SQLite in memory, signatures verified), tx/s; (2) a billing run of 1,000 plants ×
 * 10 participants × 96 slots × 30 days: holdings from ledger state, readings from a synthetic
 * in-memory source; (3) the cost of reading meter data from the ledger (metering state in SQLite),
 * measured on a slice and extrapolated to the full run.
 */

const PARTICIPANTS = 10;

function setup(plants: number): { chain: TestChain; people: TestAccount[]; utility: TestAccount } {
  const names = Array.from({ length: PARTICIPANTS }, (_, i) => `bench-p${i}`);
  const chain = new TestChain({
    modules: [registryCore, meteringCore, sharesCore, settlementCore],
    genesisTime: Date.UTC(2026, 4, 1),
    accounts: { 'bench-utility': ['utility'], ...Object.fromEntries(names.map((n) => [n, ['consumer']])) },
  });
  const utility = account('bench-utility');
  const people = names.map(account);
  for (let b = 0; b < plants; b += 100) {
    const txs = [];
    for (let i = b; i < Math.min(plants, b + 100); i++) {
      txs.push(
        chain.tx(utility, [
          {
            type: 'shares/register-plant',
            value: {
              plant: `plant-${i}`,
              name: `Plant ${i}`,
              peakPowerW: 30_000,
              timezone: 'Europe/Vienna',
              productionMeter: `pv-${i}`,
              participants: people.map((p, j) => ({ address: p.address, utility: utility.address, ppm: 100_000, meter: `m-${i}-${j}` })),
            },
          },
        ]),
      );
    }
    chain.block(txs);
  }
  return { chain, people, utility };
}

function syntheticSource(): ReadingSource {
  const series = (seed: number, from: number, to: number, scale: number) => {
    const wh = new Float64Array(to - from);
    for (let s = from; s < to; s++) wh[s - from] = ((s * 2654435761 + seed * 40503) >>> 0) % scale;
    return { wh, missing: 0 };
  };
  return {
    name: 'ledger',
    production: (plant: Plant, from: number, to: number) => series(plant.id.length * 7919 + Number(plant.id.slice(6)), from, to, 8000),
    consumption: (_plant: Plant, p: Plant['keys'][number]['participants'][number], from: number, to: number) => series(p.meter!.length * 31 + p.address.charCodeAt(10), from, to, 900),
  };
}

export async function benchShares(): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};

  // (1) transfers/s
  {
    const { chain, people } = setup(20);
    const base = slotOfMs(chain.time) + 96;
    const txs = [];
    for (let i = 0; i < 4000; i++) {
      const from = people[i % PARTICIPANTS]!;
      const to = people[(i + 1) % PARTICIPANTS]!;
      const start = base + ((i * 37) % 2000);
      txs.push(chain.tx(from, [{ type: 'shares/transfer', value: { plant: `plant-${i % 20}`, to: to.address, ppm: 1000, fromSlot: start, toSlot: start + 16 } }]));
    }
    const t0 = performance.now();
    let ok = 0;
    for (let i = 0; i < txs.length; i += 100) ok += chain.block(txs.slice(i, i + 100)).filter((r) => r.code === 'OK').length;
    const sec = (performance.now() - t0) / 1000;
    out.transfers = txs.length;
    out.transfersOk = ok;
    out.transfersPerSecond = Math.round(ok / sec);
  }

  // (2) billing run, 1,000 plants × 10 participants × 30 days
  const { chain, people } = setup(1000);
  {
    // a few transfers per plant so holdings are not all default
    const base = slotOfMs(Date.UTC(2026, 5, 1)) + 20;
    const txs = [];
    for (let i = 0; i < 3000; i++) {
      const start = base + ((i * 97) % 2800);
      txs.push(chain.tx(people[i % PARTICIPANTS]!, [{ type: 'shares/transfer', value: { plant: `plant-${i % 1000}`, to: people[(i + 3) % PARTICIPANTS]!.address, ppm: 50_000, fromSlot: start, toSlot: start + 16 } }]));
    }
    for (let i = 0; i < txs.length; i += 500) chain.block(txs.slice(i, i + 500));
    const store = chain.store;
    const source = syntheticSource();
    const t0 = performance.now();
    let statements = 0;
    let produced = 0;
    let allocated = 0;
    for (let i = 0; i < 1000; i++) {
      const plant = getPlant(store, `plant-${i}`)!;
      const period = billingPeriod(plant.timezone, '2026-06-01', '2026-06-30');
      const billing = billPlant({ plant, period, holdings: plantSegments(store, plant, period.fromSlot, period.toSlot), source, dynamic: false });
      statements += billing.lines.length;
      produced += billing.productionWh;
      allocated += billing.lines.reduce((a, l) => a + l.allocatedWh, 0);
    }
    const sec = (performance.now() - t0) / 1000;
    out.billingPlants = 1000;
    out.billingParticipantSlots = 1000 * PARTICIPANTS * 2880;
    out.billingStatements = statements;
    out.billingSeconds = Number(sec.toFixed(2));
    out.billingConserved = produced === allocated ? 'yes' : 'NO';
  }

  // (3) the full billing run from ledger data: meter values stored in the metering module's packed
  // day rows (written here in bulk through the module's own writer), holdings from ledger state.
  {
    const period = billingPeriod('Europe/Vienna', '2026-06-01', '2026-06-30');
    const synth = syntheticSource();
    const staging = new Overlay(chain.storage);
    const pack = (meterId: string, wh: Float64Array, field: 'importWh' | 'exportWh') => {
      const days = new Map<number, Array<[number, number, number]>>();
      for (let k = 0; k < wh.length; k++) {
        const slot = period.fromSlot + k;
        const day = Math.floor(slot / SERIES_SLOTS);
        const entries = days.get(day) ?? [];
        entries.push([slot - day * SERIES_SLOTS, field === 'importWh' ? wh[k]! : 0, field === 'exportWh' ? wh[k]! : 0]);
        days.set(day, entries);
      }
      for (const [day, entries] of days) writeSeriesDay(staging, meterId, day, entries);
    };
    for (let i = 0; i < 1000; i++) {
      const plant = getPlant(chain.store, `plant-${i}`)!;
      pack(plant.productionMeter, synth.production(plant, period.fromSlot, period.toSlot).wh, 'exportWh');
      for (const p of plant.keys[0]!.participants) pack(p.meter!, synth.consumption(plant, p, period.fromSlot, period.toSlot).wh, 'importWh');
    }
    const insert = chain.storage.db.prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    chain.storage.db.transaction(() => {
      for (const [k, v] of staging.writes) if (v !== null) insert.run(k, v);
    })();
    chain.storage.clearReadCache();
    const store = new ReadOnlyStore(chain.storage);
    const source = ledgerReadingSource((meterId, from, to) => readSeries(store, meterId, from, to));
    const t0 = performance.now();
    let produced = 0;
    let allocated = 0;
    for (let i = 0; i < 1000; i++) {
      const plant = getPlant(store, `plant-${i}`)!;
      const p = billingPeriod(plant.timezone, '2026-06-01', '2026-06-30');
      const billing = billPlant({ plant, period: p, holdings: plantSegments(store, plant, p.fromSlot, p.toSlot), source, dynamic: false });
      produced += billing.productionWh;
      allocated += billing.lines.reduce((a, l) => a + l.allocatedWh, 0);
    }
    const sec = (performance.now() - t0) / 1000;
    out.ledgerBillingPlants = 1000;
    out.ledgerBillingParticipantSlots = 1000 * PARTICIPANTS * (period.toSlot - period.fromSlot);
    out.ledgerBillingSeconds = Number(sec.toFixed(2));
    out.ledgerBillingConserved = produced === allocated ? 'yes' : 'NO';
  }
  chain.storage.close();
  return out;
}
