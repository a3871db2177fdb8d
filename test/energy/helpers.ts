import { expect } from 'vitest';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { account, stateRootOf, TestChain, type TestAccount } from '../helpers/chain.js';

export const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
/** A slot that has ended at genesis time (11:00–11:15 UTC on 2026-06-01). */
export const S = Math.floor(GENESIS_TIME / SLOT_MS) - 4;

export const owner = account('owner');
export const alice = account('alice');
export const bob = account('bob');
export const carol = account('carol');
export const pmeter = account('pmeter');
export const cmeter = account('cmeter');
export const xmeter = account('xmeter');
export const gridop = account('gridop');
export const utility2 = account('utility2');
export const outsider = account('outsider');

export function energyChain(options: { genesisModules?: Record<string, unknown> } = {}): TestChain {
  return new TestChain({
    modules: [registryCore, meteringCore, energyCore],
    genesisTime: GENESIS_TIME,
    genesisModules: options.genesisModules,
    accounts: {
      owner: ['utility'],
      utility2: ['utility'],
      alice: ['trader', 'prosumer'],
      bob: ['trader', 'consumer'],
      carol: ['trader'],
      pmeter: ['meter'],
      cmeter: ['meter'],
      xmeter: ['meter'],
      gridop: ['grid-operator'],
      outsider: ['auditor'],
    },
  });
}

export function ok(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], time?: number) {
  const res = chain.send(from, msgs, time);
  expect(res.message, `${res.code}: ${res.message}`).toBe('');
  expect(res.code).toBe('OK');
  return res;
}

/**
 * Sends a transaction that must be rejected with `code`, and checks that the state afterwards is the
 * state from before with only the sender's nonce advanced (no other write survived), and that the
 * chain's state root is the root of exactly that state.
 */
export function rejects(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], code: string, time?: number): string {
  const before = new Map(chain.storage.allState());
  expect(stateRootOf(before)).toBe(chain.stateRoot);
  const nonceKey = NONCE_PREFIX + from.address;
  const oldNonce = before.get(nonceKey);
  const res = chain.send(from, msgs, time);
  expect(res.code, res.message).toBe(code);
  expect(res.message.length).toBeGreaterThan(0);
  const expected = new Map(before);
  expected.set(nonceKey, String(oldNonce === undefined ? 1 : Number(oldNonce) + 1));
  const after = new Map(chain.storage.allState());
  expect(Object.fromEntries(after)).toEqual(Object.fromEntries(expected));
  expect(chain.stateRoot).toBe(stateRootOf(after));
  return res.message;
}

export const m = {
  create: (value: Record<string, unknown>): Msg => ({ type: 'energy/create-community', value: { name: 'Community', timezone: 'Europe/Amsterdam', ...value } }),
  addTrader: (community: string, who: TestAccount): Msg => ({ type: 'energy/add-trader', value: { community, address: who.address } }),
  removeTrader: (community: string, who: TestAccount): Msg => ({ type: 'energy/remove-trader', value: { community, address: who.address } }),
  addMeter: (value: Record<string, unknown>): Msg => ({ type: 'energy/add-meter', value }),
  removeMeter: (value: Record<string, unknown>): Msg => ({ type: 'energy/remove-meter', value }),
  transfer: (community: string, to: TestAccount, slot: number, labels: string[], wh: number): Msg => ({ type: 'energy/transfer', value: { community, to: to.address, slot, labels, wh } }),
  reduce: (community: string, slot: number, labels: string[], remove: string[], wh: number): Msg => ({ type: 'energy/reduce', value: { community, slot, labels, remove, wh } }),
  mutate: (community: string, trader: TestAccount, slot: number, wh: number, description: string, labels?: string[]): Msg => ({
    type: 'energy/mutate',
    value: { community, trader: trader.address, slot, wh, description, ...(labels ? { labels } : {}) },
  }),
  settle: (community: string, slot: number): Msg => ({ type: 'energy/settle-to-parent', value: { community, slot } }),
  register: (value: Record<string, unknown>): Msg => ({ type: 'metering/register', value }),
  reading: (value: Record<string, unknown>): Msg => ({ type: 'metering/reading', value }),
  official: (meterId: string, slot: number, importWh: number, exportWh: number): Msg => ({ type: 'metering/official', value: { meterId, slot, importWh, exportWh } }),
};

/** A reading whose registers start at `base` (import/export) before the slot. */
export function reading(meterId: string, slot: number, importWh: number, exportWh: number, seq: number, base: { imp: number; exp: number } = { imp: 0, exp: 0 }, extra: Record<string, unknown> = {}): Msg {
  return m.reading({ meterId, slot, importWh, exportWh, importRegisterWh: base.imp + importWh, exportRegisterWh: base.exp + exportWh, seq, ...extra });
}

/** Community "nb" owned by `owner` with traders alice and bob, producer meter P (alice, solar) and consumer meter C (bob). */
export function setupCommunity(chain: TestChain, id = 'nb'): void {
  ok(chain, owner, m.create({ id, name: 'Neighbourhood' }));
  ok(chain, owner, [m.addTrader(id, alice), m.addTrader(id, bob)]);
  ok(chain, owner, [
    m.addMeter({ community: id, meterId: 'P', address: pmeter.address, maxPowerW: 100_000, kind: 'producer', trader: alice.address, labels: ['solar'] }),
    m.addMeter({ community: id, meterId: 'C', address: cmeter.address, maxPowerW: 100_000, kind: 'consumer', trader: bob.address }),
  ]);
}

export function bal(chain: TestChain, community: string, who: TestAccount, slot: number, labels: string[] = []): number {
  return chain.store.get<number>(`energy/bal/${community}/${who.address}/${String(slot).padStart(16, '0')}/${labels.length ? [...labels].sort().join(',') : '-'}`) ?? 0;
}
