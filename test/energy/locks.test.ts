import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newExec } from '../../src/app/kernel.js';
import { defineModule, handler, type KeepersOf, type ModuleContext } from '../../src/app/module.js';
import { Overlay } from '../../src/app/state.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { claimEnergyOwner, type EnergyKeeper } from '../../src/modules/energy/keeper.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { account, TestChain } from '../helpers/chain.js';
import { alice, bal, bob, carol, cmeter, GENESIS_TIME, m, ok, owner, pmeter, reading, rejects, S, setupCommunity, xmeter } from './helpers.js';

/**
 * Energy locks and deliveries through the keeper, the way the market uses them: a probe module
 * whose messages each call one keeper method under its own EnergyOwner; `<name>/due-*` runs the
 * call at the end of the block (no signer there).
 */
function probe(name: string) {
  const owner = claimEnergyOwner(name);
  type Ctx = ModuleContext<KeepersOf<readonly ['energy']>>;
  const spec = z.object({ community: z.string(), trader: z.string().optional(), slot: z.number(), labels: z.array(z.string()), wh: z.number() });
  return defineModule({
    name,
    requires: ['energy'],
    messages: {
      [`${name}/lock`]: handler(spec.extend({ ref: z.string() }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.energy.lock(owner, v.ref, { ...v, trader: v.trader ?? ctx.sender });
      }),
      [`${name}/unlock`]: handler(z.object({ ref: z.string(), wh: z.number().optional() }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.energy.unlock(owner, v.ref, v.wh);
      }),
      [`${name}/deliver-locked`]: handler(z.object({ ref: z.string(), to: z.string(), wh: z.number() }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.energy.deliverLocked(owner, v.ref, v.to, v.wh, 'trade t1');
      }),
      [`${name}/due-deliver`]: handler(spec.extend({ to: z.string() }).strict(), (ctx: Ctx, v: any) => {
        ctx.store.set(`${name}/due`, v);
      }),
    },
    endBlock: (ctx: Ctx) => {
      const v = ctx.store.get<any>(`${name}/due`);
      if (!v) return;
      ctx.store.delete(`${name}/due`);
      ctx.keepers.energy.deliver(owner, v, v.to, 'promised earlier');
    },
  });
}

const mkt = probe('mkt');
const other = probe('other');

function chain(): TestChain {
  const c = new TestChain({
    modules: [registryCore, meteringCore, energyCore, mkt, other],
    genesisTime: GENESIS_TIME,
    accounts: { owner: ['utility'], alice: ['trader', 'prosumer'], bob: ['trader', 'consumer'], carol: ['trader'], pmeter: ['meter'], cmeter: ['meter'], xmeter: ['meter'] },
  });
  setupCommunity(c);
  ok(c, owner, m.addTrader('nb', carol));
  ok(c, pmeter, reading('P', S, 0, 5_000, 1)); // alice +5000 solar at S
  return c;
}

const lock = (ref: string, wh: number, extra: Record<string, unknown> = {}) => ({ type: 'mkt/lock', value: { ref, community: 'nb', slot: S, labels: ['solar'], wh, ...extra } });

describe('energy locks (keeper)', () => {
  it('lock the signer’s free balance: locked energy cannot be transferred, reduced, adjusted away or locked again', () => {
    const c = chain();
    ok(c, alice, lock('offer/1', 3_000));
    expect(c.store.get<any>('energy/lock/mkt/offer/1')).toMatchObject({ trader: alice.address, wh: 3_000, labels: ['solar'] });
    expect(bal(c, 'nb', alice, S, ['solar'])).toBe(5_000); // still alice's balance
    rejects(c, alice, m.transfer('nb', bob, S, ['solar'], 2_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(c, alice, m.reduce('nb', S, ['solar'], ['solar'], 2_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(c, owner, m.mutate('nb', alice, S, -2_001, 'external', ['solar']), 'ENERGY_MUTATE_EXCEEDS_LABELLED');
    rejects(c, alice, lock('offer/2', 2_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(c, alice, lock('offer/1', 1), 'ENERGY_LOCK_EXISTS');
    ok(c, alice, m.transfer('nb', bob, S, ['solar'], 2_000)); // the free part moves
    rejects(c, alice, lock('offer/2', 1), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(c, owner, m.removeTrader('nb', alice), 'ENERGY_TRADER_HAS_METERS');
  });

  it('only the signer’s energy, only by the owning module', () => {
    const c = chain();
    rejects(c, bob, lock('x', 1, { trader: alice.address }), 'ENERGY_LOCK_NOT_SIGNER');
    rejects(c, pmeter, lock('x', 1), 'ENERGY_NOT_TRADER');
    rejects(c, alice, lock('x', 0), 'ENERGY_AMOUNT_NOT_POSITIVE');
    ok(c, alice, lock('offer/1', 1_000));
    rejects(c, alice, { type: 'other/unlock', value: { ref: 'offer/1' } }, 'ENERGY_LOCK_NOT_FOUND');
    rejects(c, alice, { type: 'other/deliver-locked', value: { ref: 'offer/1', to: bob.address, wh: 1 } }, 'ENERGY_LOCK_NOT_FOUND');
    expect(() => claimEnergyOwner('mkt')).toThrow(/already claimed/);
    const exec = newExec({ state: new Overlay(c.storage), chainId: c.chainId, block: { height: c.app.height + 1, time: c.time }, sender: alice.address, txHash: 'x', msgIndex: 0 });
    const keeper = c.app.kernel.keeper<EnergyKeeper>('energy', exec);
    expect(() => keeper.unlock({ module: 'mkt' }, 'offer/1')).toThrow(/not an EnergyOwner/);
  });

  it('unlock gives the energy back in parts; the lock disappears when emptied', () => {
    const c = chain();
    ok(c, alice, lock('offer/1', 3_000));
    rejects(c, bob, { type: 'mkt/unlock', value: { ref: 'offer/1', wh: 3_001 } }, 'ENERGY_LOCK_INSUFFICIENT');
    ok(c, bob, { type: 'mkt/unlock', value: { ref: 'offer/1', wh: 1_000 } }); // the module decides, any sender
    rejects(c, alice, m.transfer('nb', bob, S, ['solar'], 3_001), 'ENERGY_INSUFFICIENT_BALANCE');
    ok(c, bob, { type: 'mkt/unlock', value: { ref: 'offer/1' } });
    expect(c.store.get('energy/lock/mkt/offer/1')).toBeUndefined();
    expect(c.store.scan('energy/locked/')).toEqual([]);
    ok(c, alice, m.transfer('nb', bob, S, ['solar'], 5_000));
  });

  it('deliverLocked moves locked energy to another trader with its labels, booked as delivery', () => {
    const c = chain();
    ok(c, alice, lock('offer/1', 3_000));
    rejects(c, bob, { type: 'mkt/deliver-locked', value: { ref: 'offer/1', to: alice.address, wh: 1 } }, 'ENERGY_TRANSFER_TO_SELF');
    rejects(c, bob, { type: 'mkt/deliver-locked', value: { ref: 'offer/1', to: account('outsider').address, wh: 1 } }, 'ENERGY_RECIPIENT_NOT_TRADER');
    rejects(c, bob, { type: 'mkt/deliver-locked', value: { ref: 'offer/1', to: bob.address, wh: 3_001 } }, 'ENERGY_LOCK_INSUFFICIENT');
    ok(c, bob, { type: 'mkt/deliver-locked', value: { ref: 'offer/1', to: bob.address, wh: 2_500 } });
    expect(bal(c, 'nb', alice, S, ['solar'])).toBe(2_500);
    expect(bal(c, 'nb', bob, S, ['solar'])).toBe(2_500);
    expect(c.store.get<any>('energy/lock/mkt/offer/1').wh).toBe(500);
    const hist = c.store.scan<any>(`energy/hist/nb/${bob.address}/`).map(([, e]) => [e.kind, e.deltaWh, e.counterparty, e.description]);
    expect(hist).toContainEqual(['delivery-in', 2_500, alice.address, 'trade t1']);
    rejects(c, alice, m.transfer('nb', bob, S, ['solar'], 2_001), 'ENERGY_INSUFFICIENT_BALANCE');
    ok(c, bob, { type: 'mkt/deliver-locked', value: { ref: 'offer/1', to: carol.address, wh: 500 } });
    expect(c.store.get('energy/lock/mkt/offer/1')).toBeUndefined();
    ok(c, alice, m.transfer('nb', bob, S, ['solar'], 2_000));
  });

  it('deliver moves a promised amount of free energy at the end of a block (no signer), never more than is free', () => {
    const c = chain();
    ok(c, alice, lock('offer/1', 1_000));
    ok(c, bob, { type: 'mkt/due-deliver', value: { community: 'nb', trader: alice.address, slot: S, labels: ['solar'], wh: 4_000, to: bob.address } });
    expect(c.internalErrors).toEqual([]);
    expect(bal(c, 'nb', bob, S, ['solar'])).toBe(4_000);
    expect(bal(c, 'nb', alice, S, ['solar'])).toBe(1_000);
    // a delivery above the free balance is the calling module's bug: caught and reported, nothing moves
    ok(c, bob, { type: 'mkt/due-deliver', value: { community: 'nb', trader: alice.address, slot: S, labels: ['solar'], wh: 1, to: bob.address } });
    expect(c.internalErrors.map((e: any) => e.err.code)).toEqual(['ENERGY_INSUFFICIENT_BALANCE']);
    expect(bal(c, 'nb', alice, S, ['solar'])).toBe(1_000);
  });

  it('settle-to-parent does not uncover the owner’s locked energy', () => {
    const c = new TestChain({
      modules: [registryCore, meteringCore, energyCore, mkt, other],
      genesisTime: GENESIS_TIME,
      accounts: { owner: ['utility'], alice: ['trader', 'utility'], bob: ['trader'], pmeter: ['meter'] },
    });
    ok(c, owner, m.create({ id: 'city' }));
    ok(c, owner, m.addTrader('city', alice));
    ok(c, alice, m.create({ id: 'hood', parent: 'city' }));
    ok(c, alice, m.addTrader('hood', alice));
    ok(c, alice, m.addMeter({ community: 'hood', meterId: 'P', address: pmeter.address, maxPowerW: 100_000, kind: 'producer', trader: alice.address, labels: ['solar'] }));
    ok(c, pmeter, reading('P', S, 0, 2_000, 1));
    ok(c, alice, lock('offer/1', 1_500, { community: 'hood' }));
    rejects(c, alice, m.settle('hood', S), 'ENERGY_INSUFFICIENT_BALANCE');
    ok(c, bob, { type: 'mkt/unlock', value: { ref: 'offer/1' } });
    ok(c, alice, m.settle('hood', S));
  });
});

describe('meters of a trader (keeper)', () => {
  it('metersOf and linkPeriodsOf follow the link periods of the meters linked to a trader', () => {
    const c = chain();
    const now = Math.floor(c.time / SLOT_MS);
    ok(c, owner, m.addMeter({ community: 'nb', meterId: 'X', address: xmeter.address, maxPowerW: 10_000, kind: 'producer', trader: alice.address, labels: ['wind'], fromSlot: now + 2 }));
    ok(c, owner, m.addMeter({ community: 'nb', meterId: 'X', kind: 'producer', trader: carol.address, labels: ['wind'], fromSlot: now + 5 }));
    ok(c, owner, m.removeMeter({ community: 'nb', meterId: 'P', fromSlot: now + 3 }));
    const exec = newExec({ state: new Overlay(c.storage), chainId: c.chainId, block: { height: c.app.height, time: c.time }, sender: '', txHash: '', msgIndex: 0 });
    const keeper = c.app.kernel.keeper<EnergyKeeper>('energy', exec);
    expect(keeper.metersOf('nb', alice.address, S).map((l) => l.meterId)).toEqual(['P']);
    expect(keeper.metersOf('nb', alice.address, now + 2).map((l) => l.meterId)).toEqual(['P', 'X']);
    expect(keeper.metersOf('nb', alice.address, now + 4).map((l) => l.meterId)).toEqual(['X']);
    expect(keeper.metersOf('nb', alice.address, now + 5)).toEqual([]);
    expect(keeper.metersOf('nb', carol.address, now + 5).map((l) => l.meterId)).toEqual(['X']);
    expect(keeper.metersOf('nb', bob.address, S).map((l) => [l.meterId, l.kind])).toEqual([['C', 'consumer']]);
    expect(keeper.linkPeriodsOf('nb', alice.address).map((p) => [p.meterId, p.fromSlot, p.toSlot])).toEqual([
      ['P', 0, now + 3],
      ['X', now + 2, now + 5],
    ]);
    expect(keeper.linkPeriodsOf('nb', carol.address).map((p) => [p.meterId, p.fromSlot, p.toSlot])).toEqual([['X', now + 5, Number.MAX_SAFE_INTEGER]]);
    expect(keeper.traders('nb').map((t) => t.address)).toEqual([alice.address, bob.address, carol.address].sort());
    expect(keeper.freeBalance('nb', alice.address, S, ['solar'])).toBe(5_000);
    expect(keeper.balancesOf('nb', alice.address, S, S + 1)).toEqual([{ trader: alice.address, slot: S, labels: ['solar'], wh: 5_000 }]);
    void cmeter;
  });
});
