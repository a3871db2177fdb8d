import { describe, expect, it } from 'vitest';
import { SLOT_MS } from '../../src/util/slots.js';
import { account } from '../helpers/chain.js';
import { alice, bal, bob, carol, energyChain, GENESIS_TIME, m, ok, outsider, owner, pmeter, reading, rejects, S, setupCommunity, utility2, xmeter } from './helpers.js';

const NOW_SLOT = Math.floor(GENESIS_TIME / SLOT_MS);

describe('communities', () => {
  it('are created by operators and utilities with a valid time zone, unique id and existing parent', () => {
    const chain = energyChain();
    rejects(chain, alice, m.create({ id: 'x' }), 'ENERGY_NOT_OPERATOR_OR_UTILITY');
    rejects(chain, owner, m.create({ id: 'x', timezone: 'Mars/Olympus' }), 'ENERGY_TIMEZONE_INVALID');
    ok(chain, owner, m.create({ id: 'x' }));
    rejects(chain, utility2, m.create({ id: 'x' }), 'ENERGY_COMMUNITY_EXISTS');
    rejects(chain, utility2, m.create({ id: 'y', parent: 'nope' }), 'ENERGY_PARENT_NOT_FOUND');
    rejects(chain, utility2, m.create({ id: 'y', parent: 'x' }), 'ENERGY_PARENT_MEMBERSHIP_REQUIRED');
    rejects(chain, owner, m.addTrader('nope', alice), 'ENERGY_COMMUNITY_NOT_FOUND');
    rejects(chain, owner, { type: 'energy/create-community', value: { name: 'n', timezone: 'UTC', extra: 1 } }, 'MSG_INVALID');
  });

  it('assigns ids c1, c2, … when none is chosen, skipping taken ones', () => {
    const chain = energyChain();
    ok(chain, owner, m.create({ id: 'c1' }));
    const res = ok(chain, owner, m.create({}));
    expect(res.events.find((e) => e.type === 'energy.community_created')?.attributes.id).toBe('c2');
  });

  it('are isolated: one account trades in two communities without one affecting the other', () => {
    const chain = energyChain();
    setupCommunity(chain, 'a1');
    ok(chain, utility2, m.create({ id: 'a2' }));
    ok(chain, utility2, [m.addTrader('a2', alice), m.addTrader('a2', bob)]);
    ok(chain, account('pmeter'), reading('P', S, 0, 1_000, 1));
    rejects(chain, alice, m.transfer('a2', bob, S, ['solar'], 1), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, utility2, m.mutate('a1', alice, S, 1, 'not mine'), 'ENERGY_NOT_OWNER');
    ok(chain, alice, m.transfer('a1', bob, S, ['solar'], 1_000));
    expect(bal(chain, 'a1', bob, S, ['solar'])).toBe(1_000);
    expect(bal(chain, 'a2', bob, S, ['solar'])).toBe(0);
  });
});

describe('traders', () => {
  it('are granted by the owner to admitted, non-meter accounts, once', () => {
    const chain = energyChain();
    ok(chain, owner, m.create({ id: 'nb' }));
    rejects(chain, alice, m.addTrader('nb', bob), 'ENERGY_NOT_OWNER');
    rejects(chain, owner, m.addTrader('nb', account('stranger')), 'ENERGY_ACCOUNT_NOT_ADMITTED');
    rejects(chain, owner, m.addTrader('nb', pmeter), 'ENERGY_TRADER_IS_METER');
    ok(chain, owner, m.addTrader('nb', alice));
    rejects(chain, owner, m.addTrader('nb', alice), 'ENERGY_TRADER_EXISTS');
    rejects(chain, owner, m.removeTrader('nb', bob), 'ENERGY_NOT_TRADER');
  });

  it('cannot be removed with linked meters, balances, or while representing a member community (no silent data loss)', () => {
    const chain = energyChain();
    setupCommunity(chain);
    rejects(chain, owner, m.removeTrader('nb', alice), 'ENERGY_TRADER_HAS_METERS');
    ok(chain, owner, m.addTrader('nb', carol));
    ok(chain, account('pmeter'), reading('P', S, 0, 500, 1));
    // re-link the producer to carol from the next slot: alice keeps her past meters' energy
    ok(chain, owner, m.addMeter({ community: 'nb', meterId: 'P', kind: 'producer', trader: carol.address, labels: ['solar'] }));
    // the link to alice is still in force in the current slot
    rejects(chain, owner, m.removeTrader('nb', alice), 'ENERGY_TRADER_HAS_METERS');
    const nextSlot = GENESIS_TIME + 2 * SLOT_MS;
    rejects(chain, owner, m.removeTrader('nb', alice), 'ENERGY_TRADER_HAS_BALANCE', nextSlot);
    ok(chain, alice, m.transfer('nb', bob, S, ['solar'], 500), nextSlot + 1000);
    ok(chain, owner, m.removeTrader('nb', alice), nextSlot + 2000);
    expect(chain.store.get<any>(`energy/trader/nb/${alice.address}`).status).toBe('removed');
    // representation of a member community
    ok(chain, owner, m.addTrader('nb', utility2), nextSlot + 3000);
    ok(chain, utility2, m.create({ id: 'kid', parent: 'nb' }), nextSlot + 4000);
    rejects(chain, owner, m.removeTrader('nb', utility2), 'ENERGY_TRADER_REPRESENTS_CHILD', nextSlot + 5000);
  });
});

describe('meters in a community', () => {
  it('are linked by the owner with consistent details, to a trader, in one community at a time', () => {
    const chain = energyChain();
    setupCommunity(chain);
    const base = { community: 'nb', meterId: 'X', kind: 'producer', trader: alice.address };
    rejects(chain, alice, m.addMeter({ ...base, address: xmeter.address, maxPowerW: 1000 }), 'ENERGY_NOT_OWNER');
    rejects(chain, owner, m.addMeter({ ...base, trader: carol.address, address: xmeter.address, maxPowerW: 1000 }), 'ENERGY_NOT_TRADER');
    rejects(chain, owner, m.addMeter({ ...base, address: xmeter.address }), 'ENERGY_METER_DETAILS_REQUIRED');
    rejects(chain, owner, m.addMeter({ ...base, meterId: 'P', address: xmeter.address }), 'ENERGY_METER_MISMATCH');
    rejects(chain, owner, m.addMeter({ ...base, meterId: 'P', maxPowerW: 5 }), 'ENERGY_METER_MISMATCH');
    // device registration rules apply through add-meter too
    rejects(chain, owner, m.addMeter({ ...base, address: alice.address, maxPowerW: 1000 }), 'METER_ACCOUNT_NOT_METER');
    ok(chain, utility2, m.create({ id: 'other' }));
    ok(chain, utility2, m.addTrader('other', carol));
    rejects(chain, utility2, m.addMeter({ community: 'other', meterId: 'P', kind: 'producer', trader: carol.address }), 'ENERGY_METER_IN_OTHER_COMMUNITY');
    rejects(chain, owner, m.removeMeter({ community: 'nb', meterId: 'nope' }), 'ENERGY_METER_NOT_IN_COMMUNITY');
  });

  it('re-link to another trader only from a future slot; past slots stay with the old trader', () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, owner, m.addTrader('nb', carol));
    rejects(chain, owner, m.addMeter({ community: 'nb', meterId: 'P', kind: 'producer', trader: carol.address, labels: ['solar'], fromSlot: NOW_SLOT }), 'ENERGY_LINK_NOT_FUTURE');
    ok(chain, owner, m.addMeter({ community: 'nb', meterId: 'P', kind: 'producer', trader: carol.address, labels: ['solar', 'local'], fromSlot: NOW_SLOT + 2 }));
    rejects(chain, owner, m.addMeter({ community: 'nb', meterId: 'P', kind: 'producer', trader: bob.address, labels: ['solar'], fromSlot: NOW_SLOT + 1 }), 'ENERGY_LINK_NOT_FUTURE');
    const later = GENESIS_TIME + 4 * SLOT_MS;
    ok(chain, account('pmeter'), reading('P', NOW_SLOT + 1, 0, 100, 1), later);
    ok(chain, account('pmeter'), reading('P', NOW_SLOT + 2, 0, 200, 2, { imp: 0, exp: 100 }), later + 1000);
    expect(bal(chain, 'nb', alice, NOW_SLOT + 1, ['solar'])).toBe(100);
    expect(bal(chain, 'nb', carol, NOW_SLOT + 2, ['local', 'solar'])).toBe(200);
    expect(bal(chain, 'nb', alice, NOW_SLOT + 2, ['solar'])).toBe(0);
    // unlink from a future slot: later readings are recorded but book nothing
    ok(chain, owner, m.removeMeter({ community: 'nb', meterId: 'P' }), later + 2000);
    const afterUnlink = later + 3 * SLOT_MS;
    ok(chain, account('pmeter'), reading('P', NOW_SLOT + 5, 0, 300, 3, { imp: 0, exp: 300 }), afterUnlink);
    expect(bal(chain, 'nb', carol, NOW_SLOT + 5, ['local', 'solar'])).toBe(0);
    expect(chain.store.has(`metering/reading/P/${String(NOW_SLOT + 5).padStart(16, '0')}`)).toBe(true);
    rejects(chain, owner, m.removeMeter({ community: 'nb', meterId: 'P' }), 'ENERGY_METER_NOT_IN_COMMUNITY', afterUnlink + 1000);
    rejects(chain, account('pmeter'), reading('P', NOW_SLOT + 6, 0, 1, 4, { imp: 0, exp: 600 }, { community: 'nb' }), 'ENERGY_METER_NOT_IN_COMMUNITY', afterUnlink + SLOT_MS);
  });
});

describe('transfer, reduce, mutate', () => {
  function funded() {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, account('pmeter'), reading('P', S, 0, 10_000, 1));
    ok(chain, owner, m.addTrader('nb', carol));
    return chain;
  }

  it('transfer: traders of the same community, positive, not to self, never more than held', () => {
    const chain = funded();
    rejects(chain, outsider, m.transfer('nb', bob, S, ['solar'], 1), 'ENERGY_NOT_TRADER');
    rejects(chain, alice, m.transfer('nb', utility2, S, ['solar'], 1), 'ENERGY_RECIPIENT_NOT_TRADER');
    rejects(chain, alice, m.transfer('nb', alice, S, ['solar'], 1), 'ENERGY_TRANSFER_TO_SELF');
    rejects(chain, alice, m.transfer('nb', bob, S, ['solar'], 0), 'ENERGY_AMOUNT_NOT_POSITIVE');
    rejects(chain, alice, m.transfer('nb', bob, S, ['solar'], -5), 'ENERGY_AMOUNT_NOT_POSITIVE');
    rejects(chain, alice, m.transfer('nb', bob, S, ['solar'], 10_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, alice, m.transfer('nb', bob, S + 1, ['solar'], 1), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, alice, m.transfer('nb', bob, S, [], 1), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, alice, m.transfer('nb', bob, S, ['solar', 'local'], 1), 'ENERGY_INSUFFICIENT_BALANCE');
    // a consumer's negative balance cannot be traded either
    ok(chain, account('cmeter'), reading('C', S, 3_000, 0, 1));
    rejects(chain, bob, m.transfer('nb', carol, S, [], 1), 'ENERGY_INSUFFICIENT_BALANCE');
    // two messages in one tx: the second fails, so the first is undone too
    rejects(chain, alice, [m.transfer('nb', bob, S, ['solar'], 6_000), m.transfer('nb', carol, S, ['solar'], 6_000)], 'ENERGY_INSUFFICIENT_BALANCE');
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(10_000);
  });

  it('reduce: a non-empty subset of the labels, never adding labels, never more than held', () => {
    const chain = funded();
    rejects(chain, outsider, m.reduce('nb', S, ['solar'], ['solar'], 1), 'ENERGY_NOT_TRADER');
    rejects(chain, alice, m.reduce('nb', S, ['solar'], ['solar'], 0), 'ENERGY_AMOUNT_NOT_POSITIVE');
    rejects(chain, alice, m.reduce('nb', S, ['solar'], [], 1), 'ENERGY_REDUCE_EMPTY');
    rejects(chain, alice, m.reduce('nb', S, ['solar'], ['wind'], 1), 'ENERGY_REDUCE_NOT_SUBSET');
    rejects(chain, alice, m.reduce('nb', S, [], ['solar'], 1), 'ENERGY_REDUCE_NOT_SUBSET');
    rejects(chain, alice, m.reduce('nb', S, ['solar'], ['solar'], 10_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, alice, { type: 'energy/reduce', value: { community: 'nb', slot: S, labels: ['solar', 'solar'], remove: ['solar'], wh: 1 } }, 'MSG_INVALID');
    ok(chain, alice, m.reduce('nb', S, ['solar'], ['solar'], 4_000));
    expect([bal(chain, 'nb', alice, S, ['solar']), bal(chain, 'nb', alice, S)]).toEqual([6_000, 4_000]);
  });

  it('mutate: owner only, non-zero, with a description, on a trader or the owner', () => {
    const chain = funded();
    rejects(chain, alice, m.mutate('nb', bob, S, 5, 'x'), 'ENERGY_NOT_OWNER');
    rejects(chain, owner, m.mutate('nb', outsider, S, 5, 'x'), 'ENERGY_NOT_TRADER');
    rejects(chain, owner, m.mutate('nb', bob, S, 0, 'x'), 'ENERGY_AMOUNT_ZERO');
    rejects(chain, owner, m.mutate('nb', bob, S, 5, '   '), 'ENERGY_DESCRIPTION_REQUIRED');
    // labels come from production only: an adjustment adds unlabelled energy and removes at most the labelled energy held
    rejects(chain, owner, m.mutate('nb', bob, S, 250, 'made-up solar', ['solar']), 'ENERGY_MUTATE_LABELLED_CREDIT');
    rejects(chain, owner, m.mutate('nb', bob, S, -250, 'penalty', ['solar']), 'ENERGY_MUTATE_EXCEEDS_LABELLED');
    rejects(chain, owner, m.mutate('nb', alice, S, -10_001, 'meter over-read', ['solar']), 'ENERGY_MUTATE_EXCEEDS_LABELLED');
    ok(chain, owner, m.mutate('nb', alice, S, -250, 'meter over-read', ['solar']));
    ok(chain, owner, m.mutate('nb', bob, S, -250, 'penalty'));
    ok(chain, owner, m.mutate('nb', owner, S, 250, 'balancing'));
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(9_750);
    expect(bal(chain, 'nb', bob, S)).toBe(-250);
    expect(bal(chain, 'nb', owner, S)).toBe(250);
  });

  it('balances beyond the safe-integer range are refused (ENERGY_OVERFLOW)', () => {
    const chain = funded();
    const big = 1_000_000_000_000;
    const batch = Array.from({ length: 64 }, () => m.mutate('nb', bob, S + 1, big, 'external supply'));
    const full = Math.floor(Number.MAX_SAFE_INTEGER / (64 * big));
    chain.block(Array.from({ length: full }, () => chain.tx(owner, batch)));
    const held = bal(chain, 'nb', bob, S + 1);
    expect(held).toBe(full * 64 * big);
    const fits = Math.floor((Number.MAX_SAFE_INTEGER - held) / big);
    ok(chain, owner, Array.from({ length: fits }, () => m.mutate('nb', bob, S + 1, big, 'external supply')));
    rejects(chain, owner, m.mutate('nb', bob, S + 1, big, 'external supply'), 'ENERGY_OVERFLOW');
  });
});

describe('settle-to-parent', () => {
  it('needs the owner, a parent, membership in the parent and a non-zero net position', () => {
    const chain = energyChain();
    setupCommunity(chain);
    rejects(chain, owner, m.settle('nb', S), 'ENERGY_NO_PARENT');
    ok(chain, utility2, m.create({ id: 'city' }));
    ok(chain, utility2, m.addTrader('city', owner));
    ok(chain, owner, m.create({ id: 'kid', parent: 'city' }));
    ok(chain, owner, m.addTrader('kid', carol));
    rejects(chain, carol, m.settle('kid', S), 'ENERGY_NOT_OWNER');
    rejects(chain, owner, m.settle('kid', S), 'ENERGY_NOTHING_TO_SETTLE');
    ok(chain, owner, m.mutate('kid', carol, S, 700, 'external supply'));
    ok(chain, owner, m.settle('kid', S));
    expect(bal(chain, 'city', owner, S)).toBe(700);
    expect(bal(chain, 'kid', owner, S)).toBe(-700);
    rejects(chain, owner, m.settle('kid', S), 'ENERGY_NOTHING_TO_SETTLE');
  });
});
