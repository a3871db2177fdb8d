import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { clearUniform, type ClearOrder } from '../../src/modules/market/clearing.js';
import type { TestAccount, TestChain } from '../helpers/chain.js';
import { checkConservation } from '../payments/helpers.js';
import { alice, ASSET, bob, C, carol, checkActiveBy, checkDues, checkMarket, cm1, cm2, dave, erin, m, NOW, ok, pm1, pm2, setup, slotEnd, snapshot, trades } from './helpers.js';

/**
 * Random sequences of market operations on every market type, checked after every step and at the
 * end, when every gate has closed and every slot has settled:
 *  - no energy is sold twice: no labelled balance and no seller's balance that trades drew on goes
 *    negative, energy locks never exceed the balance they lock, and every slot's total energy is
 *    exactly what its meters measured (the market moves energy, never creates or destroys it);
 *  - money is conserved (the payments invariant: supply = free balances + locks + escrows …) and
 *    the market's own lock invariants hold (`checkMarket`);
 *  - locks are always released or consumed: at the end the market holds no money and no energy lock;
 *  - a rejected transaction changes nothing but the sender's nonce.
 * And the pay-as-clear result does not depend on the order in which orders arrived within a gate.
 */

const TRADERS = [alice, bob, carol, dave, erin];
const SPOT = [NOW - 2, NOW - 1];
const FORWARD = [NOW + 2, NOW + 3, NOW + 4];
const LABELS: string[][] = [[], ['solar'], ['wind']];
const METERS: Array<{ id: string; key: TestAccount; kind: 'exp' | 'imp' }> = [
  { id: 'P1', key: pm1, kind: 'exp' },
  { id: 'P2', key: pm2, kind: 'exp' },
  { id: 'C1', key: cm1, kind: 'imp' },
  { id: 'C2', key: cm2, kind: 'imp' },
];

type Op =
  | { k: 'order'; who: number; side: 'offer' | 'bid'; spot: boolean; slot: number; wh: number; price: number; labels: number }
  | { k: 'cancel'; n: number; who: number }
  | { k: 'contract'; start: number; slots: number; price: number; watts: number }
  | { k: 'accept'; n: number }
  | { k: 'end'; n: number; byConsumer: boolean }
  | { k: 'wait'; minutes: number };

/** Mostly sellers with their own labels and buyers bidding across them, so orders cross; sometimes anyone, anything. */
const offerArb = fc.record({
  k: fc.constant('order' as const),
  who: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: TRADERS.length - 1 }) }),
  side: fc.constant('offer' as const),
  spot: fc.boolean(),
  slot: fc.integer({ min: 0, max: 2 }),
  wh: fc.integer({ min: 1, max: 4000 }),
  price: fc.integer({ min: 0, max: 25 }).map((p) => p * 10_000 + 7),
  labels: fc.integer({ min: 0, max: 2 }),
}).map((o) => ({ ...o, labels: o.labels === 0 ? 0 : o.who === 0 ? 1 : o.who === 2 ? 2 : o.labels }));
const bidArb = fc.record({
  k: fc.constant('order' as const),
  who: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 3, 4) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: TRADERS.length - 1 }) }),
  side: fc.constant('bid' as const),
  spot: fc.boolean(),
  slot: fc.integer({ min: 0, max: 2 }),
  wh: fc.integer({ min: 1, max: 4000 }),
  price: fc.integer({ min: 10, max: 40 }).map((p) => p * 10_000 + 3),
  labels: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
});
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: offerArb },
  { weight: 5, arbitrary: bidArb },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), n: fc.integer({ min: 1, max: 40 }), who: fc.integer({ min: 0, max: TRADERS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('contract' as const), start: fc.integer({ min: 0, max: 2 }), slots: fc.integer({ min: 1, max: 3 }), price: fc.integer({ min: 0, max: 300_000 }), watts: fc.integer({ min: 0, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('accept' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('end' as const), n: fc.integer({ min: 1, max: 3 }), byConsumer: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 20 }) }) },
);

/** Readings per meter and slot (Wh), drawn per run. */
const readingsArb = fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 7, maxLength: 7 }), { minLength: 4, maxLength: 4 });

class Run {
  readonly chain: TestChain;
  /** Slots whose readings were submitted. */
  private readonly reported = new Set<number>();
  private readonly registers = METERS.map(() => 0);
  private readonly seq = METERS.map(() => 0);
  /** Σ export − import per slot the meters reported. */
  readonly measured = new Map<number, number>();

  constructor(
    type: 'continuous' | 'pay-as-clear' | 'pay-as-offer',
    private readonly readings: number[][],
    stateVersions?: Record<string, number>,
  ) {
    this.chain = setup(type, { gateAfterEndSec: 1800, settleAfterSec: 600 }, undefined, stateVersions);
    for (const slot of SPOT) this.report(slot);
  }

  /** All meters report `slot` (readings index: position of the slot among SPOT then FORWARD). */
  report(slot: number): void {
    if (this.reported.has(slot)) return;
    this.reported.add(slot);
    const i = [...SPOT, ...FORWARD].indexOf(slot);
    METERS.forEach((meter, j) => {
      const wh = this.readings[j]![i]!;
      this.seq[j]! += 1;
      const base = this.registers[j]!;
      this.registers[j] = base + wh;
      const msg = meter.kind === 'exp' ? m.reading(meter.id, slot, 0, wh, this.seq[j]!, { imp: 0, exp: base }) : m.reading(meter.id, slot, wh, 0, this.seq[j]!, { imp: base, exp: 0 });
      ok(this.chain, meter.key, msg);
      this.measured.set(slot, (this.measured.get(slot) ?? 0) + (meter.kind === 'exp' ? wh : -wh));
    });
  }

  /** Time passes; a minute after each forward slot ends its meters report (before its settlement deadline). */
  wait(ms: number): void {
    const until = this.chain.time + ms;
    for (const slot of FORWARD) {
      const due = slotEnd(slot) + 60_000;
      if (this.reported.has(slot) || due > until) continue;
      if (due > this.chain.time) this.chain.block([], due);
      this.report(slot);
    }
    this.chain.block([], Math.max(until, this.chain.time + 1));
  }

  /**
   * A transaction that may be refused, in a block at the current time (so the end-of-block step has
   * nothing new to do): a refusal must leave everything but the sender's nonce untouched.
   */
  attempt(from: TestAccount, msg: Msg): void {
    const before = snapshot(this.chain);
    const res = this.chain.send(from, msg, this.chain.time);
    expect(this.chain.internalErrors).toEqual([]);
    if (res.code === 'OK') return;
    expect(res.code.startsWith('MARKET_') || res.code === 'MSG_INVALID', `${res.code}: ${res.message}`).toBe(true);
    const after = snapshot(this.chain);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    expect(changed).toEqual([NONCE_PREFIX + from.address]);
  }

  apply(op: Op): void {
    switch (op.k) {
      case 'order': {
        const slot = op.spot ? SPOT[op.slot % 2]! : FORWARD[op.slot]!;
        const labels = LABELS[op.labels]!;
        this.attempt(TRADERS[op.who]!, op.side === 'offer' ? m.offer(slot, op.wh, op.price, labels) : m.bid(slot, op.wh, op.price, labels));
        return;
      }
      case 'cancel':
        return this.attempt(TRADERS[op.who]!, m.cancel(`o${op.n}`));
      case 'contract':
        return this.attempt(bob, m.propose({ role: 'consumer', counterparty: alice.address, startSlot: FORWARD[op.start]!, endSlot: FORWARD[op.start]! + op.slots, price: op.price, maxPowerW: op.watts }));
      case 'accept':
        return this.attempt(alice, m.accept(`sc${op.n}`));
      case 'end':
        return this.attempt(op.byConsumer ? bob : alice, m.end(`sc${op.n}`));
      case 'wait':
        return this.wait(op.minutes * 60_000);
    }
  }

  check(): void {
    const { store } = this.chain;
    checkMarket(this.chain);
    checkConservation(this.chain);
    // no energy sold twice: labelled balances never negative; locks within balances
    for (const [key, wh] of store.scan<number>(`energy/bal/${C}/`)) if (!key.endsWith('/-')) expect(wh, key).toBeGreaterThanOrEqual(0);
    for (const [, lock] of store.scan<any>('energy/lock/')) {
      const bal = store.get<number>(`energy/bal/${lock.community}/${lock.trader}/${String(lock.slot).padStart(16, '0')}/${lock.labels.length ? lock.labels.join(',') : '-'}`) ?? 0;
      expect(bal).toBeGreaterThanOrEqual(store.get<number>(`energy/locked/${lock.community}/${lock.trader}/${String(lock.slot).padStart(16, '0')}/${lock.labels.length ? lock.labels.join(',') : '-'}`)!);
    }
    // energy is moved, never made: each slot's total is what its meters measured
    for (const slot of [...SPOT, ...FORWARD]) {
      const total = store.scan<number>(`energy/slot/${C}/${String(slot).padStart(16, '0')}/`).reduce((s, [, wh]) => s + wh, 0);
      expect(total, `slot ${slot}`).toBe(this.measured.get(slot) ?? 0);
    }
  }

  /** Every gate closes and every slot settles; then nothing may remain locked. */
  finish(): void {
    for (let i = 0; i < 12; i++) this.wait(20 * 60_000);
    this.check();
    const { store } = this.chain;
    expect(store.scan('payments/lock/market/')).toEqual([]);
    expect(store.scan('energy/lock/')).toEqual([]);
    expect(store.scan('market/book/')).toEqual([]);
    expect(store.scan('market/pending/')).toEqual([]);
    expect(store.scan('market/gate/')).toEqual([]);
    expect(trades(this.chain).every((t) => t.status !== 'pending')).toBe(true);
    for (const [, k] of store.scan<any>('market/contract/')) expect(['finished', 'withdrawn', 'declined', 'lapsed']).toContain(k.status);
    const supply = BigInt(store.get<{ supply: string }>(`payments/asset/${ASSET}`)!.supply);
    expect(supply).toBe(5000n * 1_000_000n);
  }
}

describe('market properties', () => {
  for (const type of ['continuous', 'pay-as-clear', 'pay-as-offer'] as const) {
    it(`${type}: no energy sold twice, money and energy conserved, locks always released or consumed, refusals change nothing`, () => {
      fc.assert(
        fc.property(readingsArb, fc.array(opArb, { minLength: 15, maxLength: 40 }), (readings, ops) => {
          const run = new Run(type, readings);
          for (const op of ops) {
            run.apply(op);
            run.check();
          }
          run.finish();
        }),
        { numRuns: 20 },
      );
    }, 600_000);
  }
});

describe('market state versions 2 and 3 (ADR 0029: due communities, active contracts by consumer)', () => {
  /** Every entry but the indexes and the version record, which version 1 does not have. */
  const comparable = (chain: TestChain) => [...snapshot(chain)].filter(([k]) => !k.startsWith('market/due/') && !k.startsWith('market/activeby/') && k !== 'kernel/state-version/market');

  it('compute exactly what version 1 computes, block by block, and keep their indexes equal to their derivations', () => {
    fc.assert(
      fc.property(fc.constantFrom('continuous' as const, 'pay-as-clear' as const), readingsArb, fc.array(opArb, { minLength: 10, maxLength: 30 }), (type, readings, ops) => {
        const v1 = new Run(type, readings, {});
        const v3 = new Run(type, readings, { market: 3 });
        expect(v1.chain.store.get('kernel/state-version/market')).toBeUndefined();
        expect(v3.chain.store.get('kernel/state-version/market')).toEqual({ version: 3 });
        for (const op of [...ops, { k: 'wait' as const, minutes: 240 }]) {
          v1.apply(op);
          v3.apply(op);
          expect(comparable(v3.chain)).toEqual(comparable(v1.chain));
          expect(checkDues(v3.chain)).toHaveLength(1);
          checkActiveBy(v3.chain);
          expect(v1.chain.store.scan('market/due/')).toEqual([]);
          expect(v1.chain.store.scan('market/activeby/')).toEqual([]);
        }
      }),
      { numRuns: 8 },
    );
  }, 600_000);
});

describe('pay-as-clear is independent of arrival order', () => {
  const order = (side: string) =>
    fc.record({ side: fc.constant(side), price: fc.integer({ min: 1, max: 50 }), wh: fc.integer({ min: 1, max: 5000 }), labels: fc.constantFrom<string[]>([], ['solar'], ['wind'], ['solar', 'wind']) });
  const book = fc.tuple(fc.array(order('bid'), { minLength: 1, maxLength: 25 }), fc.array(order('offer'), { minLength: 1, maxLength: 25 }));

  function clear(bids: Array<{ price: number; wh: number; labels: string[] }>, offers: Array<{ price: number; wh: number; labels: string[] }>, perm: number[], withLabels: boolean) {
    const all = [...bids.map((b, i) => ({ ...b, side: 'bid', key: `b${i}` })), ...offers.map((o, i) => ({ ...o, side: 'offer', key: `o${i}` }))];
    const arrived = perm.map((p, seq) => ({ ...all[p]!, seq }));
    const of = (side: string): ClearOrder[] => arrived.filter((x) => x.side === side).map((x) => ({ id: x.key, seq: x.seq, price: x.price, wh: x.wh, labels: withLabels ? x.labels : [] }));
    return clearUniform(of('bid'), of('offer'));
  }

  it('with distinct prices the whole result (products, prices, volumes and fills) is the same for every arrival order', () => {
    fc.assert(
      fc.property(
        book.chain(([bids, offers]) => fc.tuple(fc.constant(bids), fc.constant(offers), fc.shuffledSubarray([...Array(bids.length + offers.length).keys()], { minLength: bids.length + offers.length }))),
        ([bids, offers, perm]) => {
          // make every price distinct (ties are the documented exception)
          bids.forEach((b, i) => (b.price = b.price * 1000 + i));
          offers.forEach((o, i) => (o.price = o.price * 1000 + 500 + i));
          const inOrder = clear(bids, offers, [...perm.keys()], true);
          const shuffled = clear(bids, offers, perm, true);
          expect(shuffled).toEqual(inOrder);
          for (const p of inOrder) for (const f of p.fills) expect(f.wh).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with ties (one product) the price and the volume never depend on arrival; every matched bid ≥ price ≥ every matched offer', () => {
    fc.assert(
      fc.property(
        book.chain(([bids, offers]) => fc.tuple(fc.constant(bids), fc.constant(offers), fc.shuffledSubarray([...Array(bids.length + offers.length).keys()], { minLength: bids.length + offers.length }))),
        ([bids, offers, perm]) => {
          const a = clear(bids, offers, [...perm.keys()], false);
          const b = clear(bids, offers, perm, false);
          expect(b.map((p) => [p.price, p.volumeWh])).toEqual(a.map((p) => [p.price, p.volumeWh]));
          for (const result of [a, b]) {
            const p = result[0]!;
            for (const f of p.fills) {
              expect(bids[Number(f.bid.slice(1))]!.price).toBeGreaterThanOrEqual(p.price!);
              expect(offers[Number(f.offer.slice(1))]!.price).toBeLessThanOrEqual(p.price!);
            }
            const filled = p.fills.reduce((s, f) => s + f.wh, 0);
            expect(filled).toBe(p.volumeWh);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
