import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import type { Msg } from '../../src/codec/tx.js';
import { shares } from '../../src/modules/shares/index.js';
import { plantsOfMeter, type Plant } from '../../src/modules/shares/state.js';
import { countingStore } from '../helpers/counting-store.js';
import type { TestChain } from '../helpers/chain.js';
import { A, B, newChain, registerMsg, util } from './fixture.js';

/**
 * The plants a meter belongs to (shares state version 2, ADR 0029): `shares/by-meter/<meter>/<plant>`
 * is written when a plant or a key names the meter (production meter or a participant's meter), as
 * `shares/by-utility/` already is for utilities. `GET /v1/shares/plants?meter=` answers from it — the
 * read policy asks it to find a meter's plant parties, which on version 1 meant reading every plant
 * before refusing a stranger — and on version 1 reads at most FILTER_SCAN_ROWS plants per request,
 * with `next` to continue.
 */

const PLANTS = 60;
const plantId = (i: number) => `house-${String(i).padStart(3, '0')}`;
const setKey = (plant: string, fromDay: string, meter: string): Msg => ({
  type: 'shares/set-key',
  value: { plant, fromDay, participants: [{ address: A.address, utility: util.address, ppm: 600_000, meter }, { address: B.address, utility: util.address, ppm: 400_000 }] },
});

function plantsChain(stateVersions?: Record<string, number>): TestChain {
  const chain = newChain(undefined, stateVersions);
  for (let i = 0; i < PLANTS; i += 20) {
    const msgs = Array.from({ length: 20 }, (_, j) => registerMsg(plantId(i + j)) as Msg);
    expect(chain.send(util, msgs).code).toBe('OK');
  }
  return chain;
}

/** The meters a plant's record names: its production meter and every participant meter of every kept key. */
function metersOf(p: Plant): string[] {
  return [p.productionMeter, ...p.keys.flatMap((k) => k.participants.flatMap((x) => (x.meter ? [x.meter] : [])))];
}

const answer = (chain: TestChain, meter: string, after?: string) => chain.query(shares, 'listPlants', {}, { meter, ...(after ? { after } : {}), limit: '100' });

describe('the plants of a meter (shares state version 2)', () => {
  it('answers exactly from the index; the index names every meter a plant record names', () => {
    const chain = plantsChain();
    expect(chain.send(util, setKey(plantId(7), '2026-04-01', 'shared-meter')).code).toBe('OK');
    expect(chain.send(util, setKey(plantId(9), '2026-04-01', 'shared-meter')).code).toBe('OK');
    for (const [, p] of chain.store.scan<Plant>('shares/plant/')) for (const m of metersOf(p)) expect(chain.store.has(`shares/by-meter/${m}/${p.id}`), m).toBe(true);
    expect(answer(chain, 'shared-meter').plants.map((p: Plant) => p.id)).toEqual([plantId(7), plantId(9)]);
    expect(answer(chain, `${plantId(3)}-pv`).plants.map((p: Plant) => p.id)).toEqual([plantId(3)]);
    expect(answer(chain, `${plantId(3)}-m1`).plants.map((p: Plant) => p.id)).toEqual([plantId(3)]);
    expect(answer(chain, 'nobody').plants).toEqual([]);
    expect(() => chain.query(shares, 'listPlants', {}, { meter: 'shared-meter', utility: util.address, limit: '10' })).toThrow(/give utility= or meter=, not both/);
    expect(() => chain.query(shares, 'listPlants', {}, { meter: 'no/slashes', limit: '10' })).toThrow();
    // A key replaced before it began no longer names its meter: the index keeps the entry, the answer re-checks the record.
    expect(chain.send(util, { type: 'shares/set-key', value: { plant: plantId(9), fromDay: '2026-04-01', participants: [{ address: A.address, utility: util.address, ppm: 1_000_000 }] } }).code).toBe('OK');
    expect(answer(chain, 'shared-meter').plants.map((p: Plant) => p.id)).toEqual([plantId(7)]);
  });

  it('reads the index, not every plant: one scan and a point read per plant found', () => {
    const chain = plantsChain();
    const reads = countingStore(new Overlay(chain.storage));
    expect(plantsOfMeter(reads.store, 'nobody', { limit: 100 }, 2).items).toEqual([]);
    expect(reads.rows('shares/plant')).toBe(0);
    const one = plantsOfMeter(reads.store, `${plantId(5)}-pv`, { limit: 100 }, 2);
    expect(one.items.map((p) => p.id)).toEqual([plantId(5)]);
    expect(reads.rows('shares/plant')).toBe(1);
    // Version 1 reads the plants themselves (at most FILTER_SCAN_ROWS per request).
    const v1 = plantsChain({});
    const r1 = countingStore(new Overlay(v1.storage));
    expect(plantsOfMeter(r1.store, 'nobody', { limit: 100 }, 1).items).toEqual([]);
    expect(r1.rows('shares/plant')).toBe(PLANTS);
  });

  it('gives the same answers on version 1 and version 2, and reaches a running chain by a governed migration', () => {
    const v1 = plantsChain({});
    expect(v1.store.scan('shares/by-meter/')).toEqual([]);
    for (const m of ['shared', `${plantId(4)}-m2`, `${plantId(59)}-pv`, 'nobody']) expect(answer(v1, m)).toEqual(answer(plantsChain(), m));
    const at = v1.app.height + 3;
    expect(v1.send(v1.operator, { type: 'registry/propose', value: { id: 'v2', action: { kind: 'migrate-module', module: 'shares', stateVersion: 2, height: at } } }).code).toBe('OK');
    while (v1.app.height + 1 < at) v1.block([]);
    expect(v1.store.get('kernel/state-version/shares')).toEqual({ version: 2 });
    expect(v1.store.scan('shares/by-meter/').length).toBe(PLANTS * 4);
    expect(answer(v1, `${plantId(4)}-m2`).plants.map((p: Plant) => p.id)).toEqual([plantId(4)]);
  });
});
