import { describe, expect, it } from 'vitest';
import { clearUniform } from '../../src/modules/market/clearing.js';
import { checkConservation } from '../payments/helpers.js';
import { alice, at, bob, carol, checkMarket, dave, energy, erin, free, m, moneyLock, NOW, ok, order, pm1, pm2, setup, slotStart, slotEnd, trade, trades } from './helpers.js';

const F = NOW + 4;
const S = NOW - 2;

describe('pay-as-clear: the worked example (5 offers, 5 bids)', () => {
  /*
   * Offers by arrival: O1 alice 3000 Wh @ 100 000, O2 carol 2000 @ 120 000, O3 erin 1500 @ 150 000,
   * O4 alice 2500 @ 180 000, O5 carol 4000 @ 250 000 (µ per kWh).
   * Bids: B1 bob 2000 @ 300 000, B2 dave 2500 @ 200 000, B3 bob 1000 @ 180 000, B4 dave 3000 @ 160 000,
   * B5 erin 2000 @ 110 000.
   * Walk (bids descending, offers ascending):
   *   B1–O1 2000 | B2–O1 1000 | B2–O2 1500 | B3–O2 500 | B3–O3 500 | B4–O3 1000 | B4 160 000 < O4 180 000: stop.
   * Clearing price = the last matched offer's price = 150 000 (O3); volume 6500 Wh; B4 is the marginal
   * bid, filled 1000 of 3000; every fill is paid ⌊Wh × 150 000 / 1000⌋ = Wh × 150 µ.
   */
  const offers = [
    [alice, 3000, 100_000],
    [carol, 2000, 120_000],
    [erin, 1500, 150_000],
    [alice, 2500, 180_000],
    [carol, 4000, 250_000],
  ] as const;
  const bids = [
    [bob, 2000, 300_000],
    [dave, 2500, 200_000],
    [bob, 1000, 180_000],
    [dave, 3000, 160_000],
    [erin, 2000, 110_000],
  ] as const;

  it('clears at 150 000 µ/kWh with 6500 Wh; every matched buyer pays and every matched seller receives that price', () => {
    const chain = setup('pay-as-clear');
    const before = new Map([alice, bob, carol, dave, erin].map((p) => [p.address, free(chain, p)]));
    // interleave the arrivals: O1 B1 O2 B2 …
    for (let i = 0; i < 5; i++) {
      ok(chain, offers[i]![0], m.offer(F, offers[i]![1], offers[i]![2]));
      ok(chain, bids[i]![0], m.bid(F, bids[i]![1], bids[i]![2]));
    }
    expect(trades(chain)).toEqual([]); // nothing matches before the gate
    at(chain, slotStart(F) - 300_000 - 1);
    expect(trades(chain)).toEqual([]);
    at(chain, slotStart(F) - 300_000); // the forward gate closes 300 s before the slot starts
    const result = chain.store.get<any>(`market/clearing/hood/${String(F).padStart(16, '0')}/fwd`);
    expect(result).toMatchObject({ bids: 5, offers: 5, volumeWh: 6500, classes: [{ labels: [], price: 150_000, volumeWh: 6500, trades: 6 }] });
    // ids: offers o1 o3 o5 o7 o9, bids o2 o4 o6 o8 o10
    expect(trades(chain).map((t) => [t.bid, t.offer, t.wh, t.price, t.valueMicro])).toEqual([
      ['o2', 'o1', 2000, 150_000, '300000'],
      ['o4', 'o1', 1000, 150_000, '150000'],
      ['o4', 'o3', 1500, 150_000, '225000'],
      ['o6', 'o3', 500, 150_000, '75000'],
      ['o6', 'o5', 500, 150_000, '75000'],
      ['o8', 'o5', 1000, 150_000, '150000'],
    ]);
    const filled = (id: string) => order(chain, id).wh - order(chain, id).remainingWh;
    expect(['o2', 'o4', 'o6', 'o8', 'o10'].map(filled)).toEqual([2000, 2500, 1000, 1000, 0]);
    expect(['o1', 'o3', 'o5', 'o7', 'o9'].map(filled)).toEqual([3000, 2000, 1500, 0, 0]);
    expect(['o8', 'o10', 'o7', 'o9'].map((id) => order(chain, id).status)).toEqual(['expired', 'expired', 'expired', 'expired']);
    // buyers' locks now hold exactly what they owe at the clearing price: bob 450 000, dave 525 000
    expect(moneyLock(chain, 'order/o2') + moneyLock(chain, 'order/o6')).toBe(450_000n);
    expect(moneyLock(chain, 'order/o4') + moneyLock(chain, 'order/o8')).toBe(525_000n);
    expect(before.get(bob.address)! - free(chain, bob)).toBe(450_000n);
    expect(before.get(dave.address)! - free(chain, dave)).toBe(525_000n);
    checkMarket(chain);
    // delivery: every seller produced enough
    at(chain, slotEnd(F));
    ok(chain, pm1, m.reading('P1', F, 0, 3000, 1));
    ok(chain, pm2, m.reading('P2', F, 0, 2000, 1));
    at(chain, slotEnd(F) + 900_000); // erin has no meter: the deadline settles her trades (all short)
    expect(trades(chain).every((t) => t.status === 'settled')).toBe(true);
    expect(free(chain, alice) - before.get(alice.address)!).toBe(450_000n); // O1 sold in full and delivered: the price, all collateral back
    expect(energy(chain, bob, F, ['solar'])).toBe(2000);
    expect(energy(chain, dave, F, ['solar'])).toBe(1000);
    expect(energy(chain, dave, F, ['wind'])).toBe(1500);
    expect(trade(chain, 't4').delivery).toMatchObject({ deliveredWh: 500, shortfallWh: 0 });
    expect(trade(chain, 't6').delivery).toMatchObject({ deliveredWh: 0, shortfallWh: 1000, compensationMicro: '250000' });
    checkMarket(chain);
    checkConservation(chain);
  });

  it('the pure clearing gives the same price, volume and fills for any arrival order of these orders (distinct prices)', () => {
    const orders = (perm: number[]) => {
      const all = [...offers.map((o, i) => ({ side: 'offer', key: `O${i + 1}`, wh: o[1], price: o[2] })), ...bids.map((b, i) => ({ side: 'bid', key: `B${i + 1}`, wh: b[1], price: b[2] }))];
      const arrived = perm.map((p, seq) => ({ ...all[p]!, seq }));
      const toClear = (side: string) => arrived.filter((o) => o.side === side).map((o) => ({ id: o.key, seq: o.seq, price: o.price, wh: o.wh, labels: [] }));
      return clearUniform(toClear('bid'), toClear('offer'));
    };
    const base = orders([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(base).toEqual([
      {
        labels: [],
        price: 150_000,
        volumeWh: 6500,
        bids: 5,
        offers: 5,
        fills: [
          { bid: 'B1', offer: 'O1', wh: 2000 },
          { bid: 'B2', offer: 'O1', wh: 1000 },
          { bid: 'B2', offer: 'O2', wh: 1500 },
          { bid: 'B3', offer: 'O2', wh: 500 },
          { bid: 'B3', offer: 'O3', wh: 500 },
          { bid: 'B4', offer: 'O3', wh: 1000 },
        ],
      },
    ]);
    expect(orders([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])).toEqual(base);
    expect(orders([5, 0, 9, 1, 8, 2, 7, 3, 6, 4])).toEqual(base);
  });
});

describe('pay-as-clear: products and ended slots', () => {
  it('bids requiring solar form their own product with their own price; leftover offers serve unlabelled bids', () => {
    const result = clearUniform(
      [
        { id: 'b1', seq: 1, price: 300, wh: 1000, labels: ['solar'] },
        { id: 'b2', seq: 2, price: 200, wh: 1000, labels: [] },
      ],
      [
        { id: 'w', seq: 3, price: 50, wh: 1000, labels: ['wind'] },
        { id: 's', seq: 4, price: 250, wh: 1500, labels: ['solar'] },
      ],
    );
    // solar first: b1 takes 1000 of s at 250; then b2 takes w at 50 (s at 250 is above 200)
    expect(result.map((p) => [p.labels, p.price, p.volumeWh, p.fills])).toEqual([
      [['solar'], 250, 1000, [{ bid: 'b1', offer: 's', wh: 1000 }]],
      [[], 50, 1000, [{ bid: 'b2', offer: 'w', wh: 1000 }]],
    ]);
  });

  it('a spot session clears at the gate after the slot: locked energy is delivered at once', () => {
    const chain = setup('pay-as-clear', { gateAfterEndSec: 1200 });
    ok(chain, pm1, m.reading('P1', S, 0, 4000, 1));
    ok(chain, alice, m.offer(S, 4000, 100_000, ['solar']));
    ok(chain, bob, m.bid(S, 1500, 200_000));
    ok(chain, dave, m.bid(S, 1500, 150_000));
    at(chain, slotEnd(S) + 1_200_000);
    expect(trades(chain).map((t) => [t.buyer === bob.address ? 'bob' : 'dave', t.wh, t.price, t.status])).toEqual([
      ['bob', 1500, 100_000, 'settled'],
      ['dave', 1500, 100_000, 'settled'],
    ]);
    expect(energy(chain, bob, S, ['solar'])).toBe(1500);
    expect(energy(chain, alice, S, ['solar'])).toBe(1000);
    expect(order(chain, 'o1').status).toBe('expired');
    expect(chain.store.get('energy/lock/market/order/o1')).toBeUndefined();
    checkMarket(chain);
    checkConservation(chain);
  });
});

describe('pay-as-offer (one-sided)', () => {
  it('buyers take offers at the offer price; a bid never rests', () => {
    const chain = setup('pay-as-offer');
    ok(chain, alice, m.offer(F, 1000, 100_000));
    ok(chain, carol, m.offer(F, 1000, 140_000));
    ok(chain, bob, m.bid(F, 1500, 150_000));
    expect(trades(chain).map((t) => [t.seller === alice.address ? 'alice' : 'carol', t.wh, t.price])).toEqual([
      ['alice', 1000, 100_000],
      ['carol', 500, 140_000],
    ]);
    ok(chain, dave, m.bid(F, 1000, 120_000)); // below the remaining offer: nothing, and it does not rest
    expect(order(chain, 'o4')).toMatchObject({ status: 'expired', remainingWh: 1000 });
    expect(moneyLock(chain, 'order/o4')).toBe(0n);
    checkMarket(chain);
  });
});
