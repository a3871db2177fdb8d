import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { removeTrader, type EnergyContext } from '../../src/modules/energy/rules.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { account, TestChain } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { alice, carol, GENESIS_TIME, m, ok, owner, rejects } from './helpers.js';

/**
 * Messages read what they are about, not the whole community (issue 18: the cost of executing a block;
 * a message that reads every meter of a community costs every validator that much per transaction).
 */
describe('energy messages read a bounded part of the community', () => {
  it("remove-trader looks at the trader's own meters only, and still refuses while one is linked to it", () => {
    const meters = Array.from({ length: 200 }, (_, i) => `m-${String(i).padStart(3, '0')}`);
    const chain = new TestChain({
      modules: [registryCore, meteringCore, energyCore],
      genesisTime: GENESIS_TIME,
      accounts: { owner: ['utility'], alice: ['trader'], carol: ['trader'], ...Object.fromEntries(meters.map((n) => [n, ['meter']])) },
    });
    ok(chain, owner, m.create({ id: 'nb' }));
    ok(chain, owner, [m.addTrader('nb', alice), m.addTrader('nb', carol)]);
    for (let i = 0; i < meters.length; i += 64) {
      ok(chain, owner, meters.slice(i, i + 64).map((id) => m.addMeter({ community: 'nb', meterId: id, address: account(id).address, maxPowerW: 10_000, kind: 'consumer', trader: alice.address })));
    }
    // carol has no meter: removing her reads none of alice's 200 meters or their links
    const reads = countingStore(new Overlay(chain.storage));
    const ctx = { store: reads.store, sender: owner.address, time: chain.time, height: 100, txHash: '00'.repeat(32), msgIndex: 0, emit: () => {} } as unknown as EnergyContext;
    removeTrader(ctx, { community: 'nb', address: carol.address });
    expect(reads.rows('energy/link')).toBe(0);
    expect(reads.rows('energy/cmeter')).toBe(0);
    expect(reads.store.get<{ status: string }>(`energy/trader/nb/${carol.address}`)!.status).toBe('removed');
    // alice, whose meters are linked to her, is refused as before
    rejects(chain, owner, m.removeTrader('nb', alice), 'ENERGY_TRADER_HAS_METERS');
    ok(chain, owner, m.removeTrader('nb', carol));
  });
});
