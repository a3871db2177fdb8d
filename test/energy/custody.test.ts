import { describe, expect, it } from 'vitest';
import { SLOT_MS } from '../../src/util/slots.js';
import { account } from '../helpers/chain.js';
import { alice, bal, bob, carol, energyChain, GENESIS_TIME, m, ok, owner, reading, rejects, S, setupCommunity, utility2, xmeter } from './helpers.js';

/**
 * Issue 9 #5: a registered meter belongs to its custodian (the owner of the community where it was
 * last linked, or its registrant if it never was); nobody else links it without a release, and a
 * link never reaches back before the linking block's slot (except for a meter the same message
 * registers, which has no ledger history).
 */

const NOW_SLOT = Math.floor(GENESIS_TIME / SLOT_MS);
const release = (meterId: string, community: string) => ({ type: 'energy/release-meter', value: { meterId, community } });
const linkX = (community: string, trader = carol) => m.addMeter({ community, meterId: 'X', kind: 'producer', trader: trader.address, labels: ['solar'] });

/** Community "nb" (owner), community "other" (utility2) with trader carol, meter X registered by owner outside any community. */
function twoCommunities() {
  const chain = energyChain();
  setupCommunity(chain);
  ok(chain, utility2, [m.create({ id: 'other' }), m.addTrader('other', carol)]);
  ok(chain, owner, m.register({ meterId: 'X', address: xmeter.address, maxPowerW: 100_000 }));
  return chain;
}

describe('meter custody', () => {
  it("another community's owner cannot link a meter registered by someone else", () => {
    const chain = twoCommunities();
    rejects(chain, utility2, linkX('other'), 'ENERGY_METER_NOT_RELEASED');
    expect(chain.store.scan('energy/link/X/')).toEqual([]);
  });

  it('cannot take over a meter unlinked in another community', () => {
    const chain = twoCommunities();
    ok(chain, owner, m.removeMeter({ community: 'nb', meterId: 'P' }));
    const later = GENESIS_TIME + 3 * SLOT_MS;
    rejects(chain, utility2, m.addMeter({ community: 'other', meterId: 'P', kind: 'producer', trader: carol.address, labels: ['solar'] }), 'ENERGY_METER_NOT_RELEASED', later);
  });

  it('moves with a release by the custodian, used up by the link it allows', () => {
    const chain = twoCommunities();
    ok(chain, utility2, [m.create({ id: 'third' }), m.addTrader('third', bob)]);
    rejects(chain, utility2, release('X', 'other'), 'ENERGY_NOT_METER_CUSTODIAN');
    rejects(chain, owner, release('nope', 'other'), 'ENERGY_METER_NOT_FOUND');
    rejects(chain, owner, release('X', 'nowhere'), 'ENERGY_COMMUNITY_NOT_FOUND');
    rejects(chain, owner, release('P', 'other'), 'ENERGY_METER_STILL_LINKED');
    ok(chain, owner, release('X', 'other'));
    rejects(chain, utility2, linkX('third', bob), 'ENERGY_METER_NOT_RELEASED');
    ok(chain, utility2, linkX('other'));
    expect(chain.store.has('energy/release/X')).toBe(false);
    // now utility2 (owner of "other") is the custodian: the former registrant needs a release back
    ok(chain, owner, m.addTrader('nb', carol));
    ok(chain, utility2, m.removeMeter({ community: 'other', meterId: 'X' }));
    const later = GENESIS_TIME + 3 * SLOT_MS;
    rejects(chain, owner, linkX('nb'), 'ENERGY_METER_NOT_RELEASED', later);
    rejects(chain, owner, release('X', 'nb'), 'ENERGY_NOT_METER_CUSTODIAN', later + 1000);
    ok(chain, utility2, release('X', 'nb'), later + 2000);
    ok(chain, owner, linkX('nb'), later + 3000);
  });

  it('the registrant links its own meter without a release', () => {
    const chain = twoCommunities();
    ok(chain, owner, m.addTrader('nb', carol));
    ok(chain, owner, linkX('nb'));
  });
});

describe('link start', () => {
  it('a meter registered earlier is linked from the linking block’s slot: earlier readings book nothing', () => {
    const chain = twoCommunities();
    ok(chain, owner, m.addTrader('nb', carol));
    const res = ok(chain, owner, linkX('nb'));
    expect(res.events.find((e) => e.type === 'energy.meter_linked')?.attributes.fromSlot).toBe(String(NOW_SLOT));
    // a late reading of a slot before the link is accepted by metering but books nothing
    ok(chain, xmeter, reading('X', S, 0, 1_000, 1));
    expect(bal(chain, 'nb', carol, S, ['solar'])).toBe(0);
    // the linking block's slot itself counts once it has ended
    ok(chain, xmeter, reading('X', NOW_SLOT, 0, 500, 2, { imp: 0, exp: 1_000 }), GENESIS_TIME + SLOT_MS);
    expect(bal(chain, 'nb', carol, NOW_SLOT, ['solar'])).toBe(500);
  });

  it('a meter registered by the linking message covers earlier slots (it has no ledger history)', () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, account('pmeter'), reading('P', S, 0, 1_000, 1));
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(1_000);
  });
});
