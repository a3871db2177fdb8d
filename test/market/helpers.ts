import { expect } from 'vitest';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { marketCore } from '../../src/modules/market/module.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { settlementCore } from '../../src/modules/settlement/module.js';
import { sharesCore } from '../../src/modules/shares/module.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

export const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
/** The slot of genesis time (12:00–12:15 UTC). */
export const NOW = Math.floor(GENESIS_TIME / SLOT_MS);
export const C = 'hood';
export const ASSET = 'NOK@hood';
export const NOK = 1_000_000n;
/** 0.25 NOK per kWh, in µ per kWh. */
export const IMPORT_PRICE = 250_000;
export const EXPORT_PRICE = 50_000;

export const owner = account('owner');
export const issuer = account('issuer');
export const alice = account('alice');
export const bob = account('bob');
export const carol = account('carol');
export const dave = account('dave');
export const erin = account('erin');
export const dso = account('dso');
export const outsider = account('outsider');
export const pm1 = account('pm1');
export const pm2 = account('pm2');
export const cm1 = account('cm1');
export const cm2 = account('cm2');
export const TRADERS = [alice, bob, carol, dave, erin];

export const slotStart = (slot: number) => slot * SLOT_MS;
export const slotEnd = (slot: number) => (slot + 1) * SLOT_MS;

/** A chain with the market (`stateVersions`: genesis state versions; default the newest, as `init` writes). */
export function marketChain(marketParams?: Record<string, unknown>, stateVersions?: Record<string, number>): TestChain {
  return new TestChain({
    modules: [registryCore, meteringCore, energyCore, sharesCore, settlementCore, paymentsCore, marketCore],
    genesisTime: GENESIS_TIME,
    ...(marketParams ? { genesisModules: { payments: {}, market: marketParams } } : {}),
    ...(stateVersions ? { stateVersions } : {}),
    accounts: {
      owner: ['utility'],
      issuer: ['issuer'],
      alice: ['prosumer', 'trader'],
      bob: ['consumer', 'trader'],
      carol: ['prosumer', 'trader'],
      dave: ['consumer', 'trader'],
      erin: ['trader'],
      dso: ['grid-operator'],
      outsider: ['consumer'],
      pm1: ['meter'],
      pm2: ['meter'],
      cm1: ['meter'],
      cm2: ['meter'],
    },
  });
}

export function ok(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], time?: number) {
  const res = chain.send(from, msgs, time);
  expect(res.message, `${res.code}: ${res.message}`).toBe('');
  expect(res.code).toBe('OK');
  expect(chain.internalErrors).toEqual([]);
  return res;
}

export function snapshot(chain: TestChain): Map<string, string> {
  return new Map(chain.storage.allState());
}

/**
 * A transaction that must be rejected with `code`: afterwards every state entry is as before except
 * the sender's nonce (one more). The block runs at the chain's current time (no time passes), so
 * the end-of-block step has nothing new to do.
 */
export function rejects(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], code: string): string {
  const before = snapshot(chain);
  const res = chain.send(from, msgs, chain.time);
  expect(res.code, res.message).toBe(code);
  expect(res.message.length).toBeGreaterThan(0);
  const after = snapshot(chain);
  const nonceKey = NONCE_PREFIX + from.address;
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  expect(changed).toEqual([nonceKey]);
  return res.message;
}

export function eventsOf(res: { events: Array<{ type: string; attributes: Record<string, string> }> }, type: string): Array<Record<string, string>> {
  return res.events.filter((e) => e.type === type).map((e) => e.attributes);
}

export const m = {
  create: (id = C): Msg => ({ type: 'energy/create-community', value: { id, name: 'Neighbourhood', timezone: 'Europe/Oslo' } }),
  addTrader: (who: TestAccount, community = C): Msg => ({ type: 'energy/add-trader', value: { community, address: who.address } }),
  removeTrader: (who: TestAccount, community = C): Msg => ({ type: 'energy/remove-trader', value: { community, address: who.address } }),
  addMeter: (meterId: string, meter: TestAccount, trader: TestAccount, kind: 'producer' | 'consumer', labels: string[] = [], community = C): Msg => ({
    type: 'energy/add-meter',
    value: { community, meterId, address: meter.address, maxPowerW: 200_000, kind, trader: trader.address, ...(labels.length ? { labels } : {}) },
  }),
  reading: (meterId: string, slot: number, importWh: number, exportWh: number, seq: number, base = { imp: 0, exp: 0 }): Msg => ({
    type: 'metering/reading',
    value: { meterId, slot, importWh, exportWh, importRegisterWh: base.imp + importWh, exportRegisterWh: base.exp + exportWh, seq },
  }),
  official: (meterId: string, slot: number, importWh: number, exportWh: number): Msg => ({ type: 'metering/official', value: { meterId, slot, importWh, exportWh } }),
  mutate: (trader: TestAccount, slot: number, wh: number, description: string, labels?: string[]): Msg => ({
    type: 'energy/mutate',
    value: { community: C, trader: trader.address, slot, wh, description, ...(labels ? { labels } : {}) },
  }),
  transfer: (to: TestAccount, slot: number, labels: string[], wh: number): Msg => ({ type: 'energy/transfer', value: { community: C, to: to.address, slot, labels, wh } }),
  createAsset: (): Msg => ({ type: 'payments/create-asset', value: { code: 'NOK', scope: 'hood', name: 'Hood kroner' } }),
  mint: (to: TestAccount, amount: bigint, ref: string): Msg => ({ type: 'payments/mint', value: { asset: ASSET, to: to.address, amount: String(amount), depositRef: ref } }),
  open: (type: 'continuous' | 'pay-as-clear' | 'pay-as-offer', extra: Record<string, unknown> = {}, community = C): Msg => ({
    type: 'market/open',
    value: { community, type, asset: ASSET, importPrice: IMPORT_PRICE, exportPrice: EXPORT_PRICE, ...extra },
  }),
  setTariffs: (importPrice: number, exportPrice: number, fromSlot: number): Msg => ({ type: 'market/set-tariffs', value: { community: C, importPrice, exportPrice, fromSlot } }),
  offer: (slot: number, wh: number, price: number, labels?: string[], community = C): Msg => ({ type: 'market/offer', value: { community, slot, wh, price, ...(labels ? { labels } : {}) } }),
  bid: (slot: number, wh: number, price: number, labels?: string[], community = C): Msg => ({ type: 'market/bid', value: { community, slot, wh, price, ...(labels ? { labels } : {}) } }),
  cancel: (id: string): Msg => ({ type: 'market/cancel', value: { id } }),
  propose: (value: Record<string, unknown>): Msg => ({ type: 'market/contract-propose', value: { community: C, ...value } }),
  accept: (id: string): Msg => ({ type: 'market/contract-accept', value: { id } }),
  end: (id: string): Msg => ({ type: 'market/contract-end', value: { id } }),
  dispute: (id: string, reason = 'meter tampered'): Msg => ({ type: 'market/contract-dispute', value: { id, reason } }),
  resolve: (id: string, toProsumer: bigint, toConsumer: bigint): Msg => ({ type: 'market/contract-resolve', value: { id, toProsumer: String(toProsumer), toConsumer: String(toConsumer) } }),
  recordBills: (bills: Array<{ member: string; fromSlot: number; toSlot: number; hash: string }>, community = C): Msg => ({ type: 'market/record-bills', value: { community, bills } }),
};

/**
 * Community "hood" (owner `owner`) with traders alice, bob, carol, dave, erin; producer meters P1
 * (alice, solar) and P2 (carol, wind); consumer meters C1 (bob) and C2 (dave); asset NOK@hood with
 * 1000 NOK minted to every trader; and a market of the given type.
 */
export function setup(type: 'continuous' | 'pay-as-clear' | 'pay-as-offer' = 'continuous', marketExtra: Record<string, unknown> = {}, marketParams?: Record<string, unknown>, stateVersions?: Record<string, number>): TestChain {
  const chain = marketChain(marketParams, stateVersions);
  ok(chain, owner, m.create());
  ok(chain, owner, TRADERS.map((t) => m.addTrader(t)));
  ok(chain, owner, [m.addMeter('P1', pm1, alice, 'producer', ['solar']), m.addMeter('P2', pm2, carol, 'producer', ['wind']), m.addMeter('C1', cm1, bob, 'consumer'), m.addMeter('C2', cm2, dave, 'consumer')]);
  ok(chain, issuer, m.createAsset());
  ok(chain, issuer, TRADERS.map((t, i) => m.mint(t, 1000n * NOK, `BANK-${i}`)));
  ok(chain, owner, m.open(type, marketExtra));
  return chain;
}

export function free(chain: TestChain, who: TestAccount): bigint {
  return BigInt(chain.store.get<{ a: string }>(`payments/bal/${who.address}/${ASSET}`)?.a ?? '0');
}

export function energy(chain: TestChain, who: TestAccount, slot: number, labels: string[] = [], community = C): number {
  return chain.store.get<number>(`energy/bal/${community}/${who.address}/${String(slot).padStart(16, '0')}/${labels.length ? [...labels].sort().join(',') : '-'}`) ?? 0;
}

export function order(chain: TestChain, id: string): any {
  return chain.store.get(`market/order/${id.slice(1).padStart(16, '0')}`);
}

export function trade(chain: TestChain, id: string): any {
  return chain.store.get(`market/trade/${id.slice(1).padStart(16, '0')}`);
}

export function contract(chain: TestChain, id: string): any {
  return chain.store.get(`market/contract/${id.slice(2).padStart(16, '0')}`);
}

export function moneyLock(chain: TestChain, ref: string): bigint {
  return BigInt(chain.store.get<{ amount: string }>(`payments/lock/market/${ref}`)?.amount ?? '0');
}

export function trades(chain: TestChain): any[] {
  return chain.store.scan<any>('market/trade/').map(([, t]) => t);
}

/**
 * The market's due entries (state version 2) are derived from its records: one per market community,
 * under the end of the slot its delivery cursor stands at. Returns them as "time/community".
 */
export function checkDues(chain: TestChain): string[] {
  const store = chain.store;
  const expected = store.scan<{ community: string; openSlot: number }>('market/config/').map(([, c]) => {
    const slot = store.get<{ slot: number }>(`market/cursor/${c.community}`)?.slot ?? c.openSlot;
    return `${String(slotEnd(slot)).padStart(16, '0')}/${c.community}`;
  });
  const actual = store.scan('market/due/').map(([k]) => k.slice('market/due/'.length));
  expect(actual).toEqual(expected.sort());
  return actual;
}

/** The active-contract index (state version 3): exactly the active contracts, each under its consumer. Returns them as "community/consumer/number". */
export function checkActiveBy(chain: TestChain): string[] {
  const store = chain.store;
  const expected = store
    .scan<{ id: string; community: string; consumer: string; status: string }>('market/contract/')
    .filter(([, k]) => k.status === 'active')
    .map(([key, k]) => `${k.community}/${k.consumer}/${key.slice('market/contract/'.length)}`);
  const actual = store.scan('market/activeby/').map(([k]) => k.slice('market/activeby/'.length));
  expect(actual).toEqual(expected.sort());
  return actual;
}

/** Runs empty blocks at `time` (the end-of-block step acts on it). */
export function at(chain: TestChain, time: number): void {
  chain.block([], Math.max(time, chain.time + 1));
  expect(chain.internalErrors).toEqual([]);
}

/**
 * The market's own invariants, from the records: an order's money lock holds exactly its reserved
 * payments once closed (and at least them while open); a spot offer's energy lock holds its open
 * quantity; a bid's reservations are the values of its trades awaiting delivery; an active
 * contract's lock holds the largest payments of the slots it still has to settle; nothing else is
 * locked by the market; and the energy module's locked aggregates are the sums of its locks.
 */
export function checkMarket(chain: TestChain): void {
  const store = chain.store;
  const orders = store.scan<any>('market/order/').map(([, o]) => o);
  const all = trades(chain);
  const expectedLocks = new Map<string, bigint>();
  for (const o of orders) {
    const lock = moneyLock(chain, `order/${o.id}`);
    const pendingOf = all.filter((t) => t.status === 'pending' && (t.bid === o.id || t.offer === o.id));
    expect(o.pendingTrades).toBe(pendingOf.length);
    if (o.side === 'bid') expect(BigInt(o.reservedMicro)).toBe(pendingOf.reduce((s, t) => s + BigInt(t.valueMicro), 0n));
    if (o.status === 'open') expect(lock >= BigInt(o.reservedMicro)).toBe(true);
    else expect(lock).toBe(BigInt(o.reservedMicro));
    if (lock > 0n) expectedLocks.set(`market/order/${o.id}`, lock);
    const eLock = store.get<any>(`energy/lock/market/order/${o.id}`);
    if (o.energyLocked && o.status === 'open') expect(eLock?.wh).toBe(o.remainingWh);
    else expect(eLock).toBeUndefined();
    expect(o.remainingWh >= 0 && o.remainingWh <= o.wh).toBe(true);
  }
  for (const k of store.scan<any>('market/contract/').map(([, v]) => v)) {
    const lock = moneyLock(chain, `contract/${k.id}`);
    if (k.status === 'active' && (k.proposer === k.consumer || k.acceptedAt)) expect(lock).toBe(BigInt(k.perSlotMicro) * BigInt(k.endSlot - k.nextSlot));
    else if (k.status === 'proposed' && k.proposer === k.consumer) expect(lock).toBe(BigInt(k.perSlotMicro) * BigInt(k.endSlot - k.startSlot));
    else expect(lock).toBe(0n);
    if (lock > 0n) expectedLocks.set(`market/contract/${k.id}`, lock);
  }
  const actual = new Map(store.scan<any>('payments/lock/market/').map(([, l]) => [l.id, BigInt(l.amount)]));
  expect(actual).toEqual(expectedLocks);
  const aggregates = new Map<string, number>();
  for (const [, l] of store.scan<any>('energy/lock/')) {
    const key = `${l.community}/${l.trader}/${String(l.slot).padStart(16, '0')}/${l.labels.length ? l.labels.join(',') : '-'}`;
    aggregates.set(key, (aggregates.get(key) ?? 0) + l.wh);
  }
  expect(new Map(store.scan<number>('energy/locked/').map(([k, v]) => [k.slice('energy/locked/'.length), v]))).toEqual(aggregates);
}
