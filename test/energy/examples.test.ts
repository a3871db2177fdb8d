import { describe, expect, it } from 'vitest';
import { energy } from '../../src/modules/energy/index.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { metering } from '../../src/modules/metering/index.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import { account } from '../helpers/chain.js';
import { alice, bal, bob, carol, energyChain, gridop, m, ok, owner, reading, S, setupCommunity, utility2 } from './helpers.js';

describe('worked example (HanzeNet §4)', () => {
  it('production, consumption, transfer, reduce and mutate give the expected balance at every step', () => {
    const chain = energyChain();
    setupCommunity(chain);
    const pm = account('pmeter');
    const cm = account('cmeter');
    ok(chain, pm, reading('P', S, 0, 10_000, 1, undefined, { community: 'nb' }));
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(10_000);
    ok(chain, cm, reading('C', S, 15_000, 0, 1));
    expect(bal(chain, 'nb', bob, S)).toBe(-15_000);
    expect(bal(chain, 'nb', alice, S)).toBe(0);

    ok(chain, alice, m.transfer('nb', bob, S, ['solar'], 10_000));
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(0);
    expect(bal(chain, 'nb', bob, S, ['solar'])).toBe(10_000);
    expect(bal(chain, 'nb', bob, S)).toBe(-15_000);

    ok(chain, bob, m.reduce('nb', S, ['solar'], ['solar'], 10_000));
    expect(bal(chain, 'nb', bob, S, ['solar'])).toBe(0);
    expect(bal(chain, 'nb', bob, S)).toBe(-5_000);

    ok(chain, owner, m.mutate('nb', bob, S, 5_000, 'supplied by external party'));
    expect(bal(chain, 'nb', bob, S)).toBe(0);

    // Queries: no balance left at s, the mutation is listed as an adjustment, the history explains every change.
    const balances = chain.query(energy, 'energyBalances', { id: 'nb' }, { slot: String(S) });
    expect(balances.balances).toEqual([]);
    expect(balances.totals.wh).toBe(0);
    const adj = chain.query(energy, 'energyAdjustments', { id: 'nb' }, {});
    expect(adj.adjustments.map((a: any) => [a.kind, a.deltaWh, a.description])).toEqual([['mutate', 5_000, 'supplied by external party']]);
    const hist = chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address });
    expect(hist.entries.map((e: any) => [e.kind, e.labels.join(','), e.deltaWh, e.balanceWh])).toEqual([
      ['consumption', '', -15_000, -15_000],
      ['transfer-in', 'solar', 10_000, 10_000],
      ['reduce-out', 'solar', -10_000, 0],
      ['reduce-in', '', 10_000, -5_000],
      ['mutate', '', 5_000, 0],
    ]);
    expect(new Set(hist.entries.map((e: any) => e.txHash)).size).toBe(4);
    // a limit takes the oldest entries; a slot range keeps those of its slots
    expect(chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address, limit: 2 }).entries.map((e: any) => e.kind)).toEqual(['consumption', 'transfer-in']);
    expect(chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address, order: 'desc', limit: 2 }).entries.map((e: any) => e.kind)).toEqual(['mutate', 'reduce-in']);
    expect(chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address, slot: String(S) }).entries).toHaveLength(5);
    expect(chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address, fromSlot: String(S + 1) }).entries).toEqual([]);
    // a page at a time in either order: `next` continues exactly after the last entry
    for (const order of ['asc', 'desc']) {
      const kinds: string[] = [];
      let after: string | undefined;
      do {
        const page = chain.query(energy, 'energyHistory', { id: 'nb' }, { trader: bob.address, order, limit: 2, ...(after ? { after } : {}) });
        kinds.push(...page.entries.map((e: any) => e.kind));
        after = page.next;
      } while (after !== undefined);
      const all = hist.entries.map((e: any) => e.kind);
      expect(kinds).toEqual(order === 'asc' ? all : [...all].reverse());
    }
    const readings = chain.query(metering, 'listReadings', { meterId: 'C' }, {});
    expect(readings.readings.map((r: any) => [r.slot, r.importWh, r.seq])).toEqual([[S, 15_000, 1]]);
    expect(meteringRoutes.listReadings.path).toContain('/readings');
  });
});

describe('stacked communities', () => {
  it("one neighbourhood's surplus covers the other's deficit through the city community", () => {
    const chain = energyChain();
    // City owned by `owner`; neighbourhood owners are traders of the city and represent their neighbourhoods there.
    ok(chain, owner, m.create({ id: 'city', name: 'City' }));
    ok(chain, owner, [m.addTrader('city', utility2), m.addTrader('city', carol)]);
    // north: owned by utility2 (alice produces 12 kWh solar, bob consumes 4 kWh)
    ok(chain, utility2, m.create({ id: 'north', name: 'North', parent: 'city' }));
    ok(chain, utility2, [m.addTrader('north', alice), m.addTrader('north', bob)]);
    ok(chain, utility2, [
      m.addMeter({ community: 'north', meterId: 'NP', address: account('pmeter').address, maxPowerW: 100_000, kind: 'producer', trader: alice.address, labels: ['solar'] }),
      m.addMeter({ community: 'north', meterId: 'NC', address: account('cmeter').address, maxPowerW: 100_000, kind: 'consumer', trader: bob.address }),
    ]);
    // south: owned by `owner` too (a city owner may also run a neighbourhood) — it needs to be a city trader first
    ok(chain, owner, m.addTrader('city', owner));
    ok(chain, owner, m.create({ id: 'south', name: 'South', parent: 'city' }));
    ok(chain, owner, m.addTrader('south', carol));
    ok(chain, owner, m.addMeter({ community: 'south', meterId: 'SC', address: account('xmeter').address, maxPowerW: 100_000, kind: 'consumer', trader: carol.address }));

    ok(chain, account('pmeter'), reading('NP', S, 0, 12_000, 1));
    ok(chain, account('cmeter'), reading('NC', S, 4_000, 0, 1));
    ok(chain, account('xmeter'), reading('SC', S, 6_000, 0, 1));
    // Inside north, alice covers bob: 4 kWh solar, bob reduces it to unlabelled.
    ok(chain, alice, m.transfer('north', bob, S, ['solar'], 4_000));
    ok(chain, bob, m.reduce('north', S, ['solar'], ['solar'], 4_000));
    expect([bal(chain, 'north', alice, S, ['solar']), bal(chain, 'north', bob, S)]).toEqual([8_000, 0]);

    // Settle both neighbourhoods into the city.
    ok(chain, utility2, m.settle('north', S));
    ok(chain, owner, m.settle('south', S));
    expect(bal(chain, 'city', utility2, S, ['solar'])).toBe(8_000);
    expect(bal(chain, 'city', owner, S)).toBe(-6_000);
    // Children net to zero per label set after settlement; the adjustment sits with the owner.
    expect(bal(chain, 'north', utility2, S, ['solar'])).toBe(-8_000);
    expect(bal(chain, 'south', owner, S)).toBe(6_000);
    const netOf = (id: string) => chain.query(energy, 'energyBalances', { id }, { slot: String(S) }).totals;
    expect(netOf('north').wh).toBe(0);
    expect(netOf('south').wh).toBe(0);

    // In the city, north's representative sells 6 kWh solar to south's with the same messages.
    ok(chain, utility2, m.transfer('city', owner, S, ['solar'], 6_000));
    ok(chain, owner, m.reduce('city', S, ['solar'], ['solar'], 6_000));
    expect(bal(chain, 'city', owner, S)).toBe(0);
    expect(bal(chain, 'city', owner, S, ['solar'])).toBe(0);
    expect(bal(chain, 'city', utility2, S, ['solar'])).toBe(2_000);
    expect(netOf('city')).toEqual({ wh: 2_000, byLabels: [{ labels: ['solar'], wh: 2_000 }], byTrader: [{ trader: utility2.address, wh: 2_000 }] });
    // Other slots and communities are untouched.
    expect(bal(chain, 'city', utility2, S + 1, ['solar'])).toBe(0);
    expect(netOf('north').wh).toBe(0);
  });
});

describe('grid-operator reconciliation', () => {
  it('records official − reported per slot, reports it for the community, and the owner settles with mutate', () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, account('cmeter'), reading('C', S, 1_000, 0, 1));
    ok(chain, gridop, m.official('C', S, 1_400, 0));
    // the meter never reported S+1: the whole official value is the difference
    ok(chain, gridop, m.official('C', S + 1, 800, 0));
    const d = chain.query(energy, 'energyDifferences', { id: 'nb' }, {});
    expect(d.differences.map((x: any) => [x.meterId, x.slot, x.trader, x.reportedImportWh, x.importDiffWh])).toEqual([
      ['C', S, bob.address, 1_000, 400],
      ['C', S + 1, bob.address, null, 800],
    ]);
    expect(d.totals).toEqual({ importDiffWh: 1_200, exportDiffWh: 0 });
    // A late meter reading for S+1 updates the difference.
    ok(chain, account('cmeter'), reading('C', S + 1, 700, 0, 2, { imp: 1_000, exp: 0 }));
    const m2 = chain.query(metering, 'listDifferences', { meterId: 'C' }, { slot: String(S + 1) });
    expect(m2.differences.map((x: any) => [x.reportedImportWh, x.importDiffWh])).toEqual([[700, 100]]);
    // a page of the meter's differences with its totals, and where the rest begins
    const first = chain.query(metering, 'listDifferences', { meterId: 'C' }, { limit: '1' });
    expect(first.differences.map((x: any) => x.slot)).toEqual([S]);
    expect(first.totals).toEqual({ importDiffWh: 400, exportDiffWh: 0 });
    expect(first.nextSlot).toBe(S + 1);
    const rest = chain.query(metering, 'listDifferences', { meterId: 'C' }, { fromSlot: String(first.nextSlot), limit: '1' });
    expect(rest.differences.map((x: any) => x.slot)).toEqual([S + 1]);
    expect(rest).not.toHaveProperty('nextSlot');
    ok(chain, owner, [m.mutate('nb', bob, S, -400, 'official metering difference'), m.mutate('nb', bob, S + 1, -100, 'official metering difference')]);
    expect(bal(chain, 'nb', bob, S)).toBe(-1_400);
    expect(bal(chain, 'nb', bob, S + 1)).toBe(-800);
  });
});

describe('day positions in the community time zone', () => {
  it('has 96 slots on a normal day and 92 / 100 on DST change days, each slot net of all labels', () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, account('pmeter'), reading('P', S, 0, 2_000, 1));
    ok(chain, account('cmeter'), reading('C', S, 500, 0, 1));
    const day = chain.query(energy, 'energyDay', { id: 'nb' }, { day: '2026-06-01' });
    expect(day.slots).toBe(96);
    expect(day.positions).toHaveLength(96);
    expect(day.totalWh).toBe(1_500);
    const pos = day.positions.find((p: any) => p.slot === S);
    expect(pos.local).toBe('2026-06-01T13:00:00+02:00');
    const alicesDay = chain.query(energy, 'energyDay', { id: 'nb' }, { day: '2026-06-01', trader: alice.address });
    expect(alicesDay.totalWh).toBe(2_000);
    expect(chain.query(energy, 'energyDay', { id: 'nb' }, { day: '2026-03-29' }).slots).toBe(92);
    expect(chain.query(energy, 'energyDay', { id: 'nb' }, { day: '2026-10-25' }).positions).toHaveLength(100);
    expect(energyRoutes.day.path).toBe('/v1/energy/communities/:id/day');
  });
});
