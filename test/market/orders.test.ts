import { describe, expect, it } from 'vitest';
import { checkConservation } from '../payments/helpers.js';
import {
  alice,
  at,
  bob,
  carol,
  checkMarket,
  dave,
  energy,
  erin,
  eventsOf,
  free,
  m,
  moneyLock,
  NOK,
  NOW,
  ok,
  order,
  pm1,
  pm2,
  cm1,
  rejects,
  setup,
  slotEnd,
  slotStart,
  trade,
  trades,
} from './helpers.js';

const S = NOW - 2; // ended 11:45, spot trading open until 12:45
const F = NOW + 4; // 13:00–13:15, forward trading until 12:55

describe('continuous market (pay-as-bid): spot offers lock energy and deliver at once', () => {
  it('an incoming bid takes a resting offer at the offer price; energy and money move in the same transaction', () => {
    const chain = setup('continuous');
    ok(chain, pm1, m.reading('P1', S, 0, 5_000, 1));
    ok(chain, alice, m.offer(S, 3_000, 200_000, ['solar']));
    expect(order(chain, 'o1')).toMatchObject({ session: 'spot', status: 'open', energyLocked: true, remainingWh: 3_000 });
    expect(chain.store.get<any>('energy/lock/market/order/o1').wh).toBe(3_000);
    // the locked energy is neither transferable nor offered twice
    rejects(chain, alice, m.transfer(bob, S, ['solar'], 2_001), 'ENERGY_INSUFFICIENT_BALANCE');
    rejects(chain, alice, m.offer(S, 2_001, 100_000, ['solar']), 'MARKET_INSUFFICIENT_ENERGY');
    const aliceBefore = free(chain, alice);
    const bobBefore = free(chain, bob);
    const res = ok(chain, bob, m.bid(S, 2_000, 250_000));
    expect(eventsOf(res, 'market.trade')).toEqual([expect.objectContaining({ id: 't1', wh: '2000', price: '200000', value: '400000' })]);
    expect(trade(chain, 't1')).toMatchObject({ status: 'settled', buyer: bob.address, seller: alice.address, labels: ['solar'], delivery: { deliveredWh: 2_000, shortfallWh: 0 } });
    expect(energy(chain, bob, S, ['solar'])).toBe(2_000);
    expect(energy(chain, alice, S, ['solar'])).toBe(3_000);
    expect(free(chain, alice) - aliceBefore).toBe(400_000n);
    expect(bobBefore - free(chain, bob)).toBe(400_000n); // locked 500 000, paid 400 000, the rest released
    expect(order(chain, 'o2').status).toBe('filled');
    expect(order(chain, 'o1')).toMatchObject({ status: 'open', remainingWh: 1_000 });
    expect(chain.store.get<any>('energy/lock/market/order/o1').wh).toBe(1_000);
    checkMarket(chain);
    checkConservation(chain);
  });

  it('an incoming offer takes resting bids best price first, then by arrival; the price is the bid’s', () => {
    const chain = setup('continuous');
    ok(chain, pm1, m.reading('P1', S, 0, 10_000, 1));
    ok(chain, bob, m.bid(S, 1_000, 300_000)); // o1
    ok(chain, dave, m.bid(S, 1_000, 320_000)); // o2 best
    ok(chain, carol, m.bid(S, 1_000, 300_000)); // o3 same price as o1, later
    ok(chain, erin, m.bid(S, 1_000, 100_000)); // o4 below the ask
    ok(chain, alice, m.offer(S, 2_500, 250_000, ['solar'])); // o5
    expect(trades(chain).map((t) => [t.bid, t.wh, t.price])).toEqual([
      ['o2', 1_000, 320_000],
      ['o1', 1_000, 300_000],
      ['o3', 500, 300_000],
    ]);
    expect(order(chain, 'o5')).toMatchObject({ status: 'filled', remainingWh: 0 });
    expect(order(chain, 'o4')).toMatchObject({ status: 'open', remainingWh: 1_000 });
    checkMarket(chain);
  });

  it('required labels: a bid for solar skips wind offers', () => {
    const chain = setup('continuous');
    ok(chain, pm1, m.reading('P1', S, 0, 1_000, 1));
    ok(chain, pm2, m.reading('P2', S, 0, 1_000, 1));
    ok(chain, carol, m.offer(S, 1_000, 100_000, ['wind'])); // cheaper, wrong label
    ok(chain, alice, m.offer(S, 1_000, 200_000, ['solar']));
    ok(chain, bob, m.bid(S, 1_000, 300_000, ['solar']));
    expect(trades(chain).map((t) => [t.seller, t.labels])).toEqual([[alice.address, ['solar']]]);
    expect(energy(chain, bob, S, ['solar'])).toBe(1_000);
    checkMarket(chain);
  });

  it('cancel releases locks exactly; unmatched orders expire at gate closure', () => {
    const chain = setup('continuous');
    ok(chain, pm1, m.reading('P1', S, 0, 5_000, 1));
    const before = free(chain, bob);
    ok(chain, bob, m.bid(F, 1_000, 123_457)); // o1 locks ⌈1000 × 123457 / 1000⌉ = 123 457
    expect(moneyLock(chain, 'order/o1')).toBe(123_457n);
    ok(chain, alice, m.offer(S, 2_000, 300_000, ['solar'])); // o2 locks energy
    ok(chain, alice, m.offer(F, 1_000, 400_000, ['solar'])); // o3 locks collateral ⌈1000 × 250000 / 1000⌉
    expect(moneyLock(chain, 'order/o3')).toBe(250_000n);
    rejects(chain, alice, m.cancel('o1'), 'MARKET_NOT_ORDER_OWNER');
    ok(chain, bob, m.cancel('o1'));
    expect(free(chain, bob)).toBe(before);
    rejects(chain, bob, m.cancel('o1'), 'MARKET_ORDER_CLOSED');
    rejects(chain, bob, m.cancel('o99'), 'MARKET_ORDER_NOT_FOUND');
    // the spot gate of S closes 3600 s after its end, the forward gate of F 300 s before its start
    at(chain, slotEnd(S) + 3600_000);
    expect(order(chain, 'o2').status).toBe('expired');
    expect(chain.store.get('energy/lock/market/order/o2')).toBeUndefined();
    expect(order(chain, 'o3').status).toBe('open');
    at(chain, slotStart(F) - 300_000);
    expect(order(chain, 'o3').status).toBe('expired');
    expect(moneyLock(chain, 'order/o3')).toBe(0n);
    expect(free(chain, alice)).toBe(1000n * NOK);
    checkMarket(chain);
    checkConservation(chain);
  });
});

describe('forward trades: delivery settlement against the meters, and the shortfall rule', () => {
  it('a seller short of energy pays the buyer the shortfall at the import tariff from its collateral', () => {
    const chain = setup('continuous');
    ok(chain, alice, m.offer(F, 4_000, 150_000, ['solar'])); // collateral ⌈4000 × 250000 / 1000⌉ = 1 000 000
    ok(chain, bob, m.bid(F, 4_000, 200_000)); // locks 800 000; trade at 150 000: value 600 000
    expect(trade(chain, 't1')).toMatchObject({ status: 'pending', wh: 4_000, price: 150_000, valueMicro: '600000' });
    expect(moneyLock(chain, 'order/o1')).toBe(1_000_000n);
    expect(moneyLock(chain, 'order/o2')).toBe(600_000n);
    checkMarket(chain);
    const aliceBefore = free(chain, alice);
    const bobBefore = free(chain, bob);
    // the slot ends; alice's meter reports 2 500 Wh, bob's 5 000 Wh of import
    at(chain, slotEnd(F) + 1_000);
    expect(trade(chain, 't1').status).toBe('pending');
    ok(chain, cm1, m.reading('C1', F, 5_000, 0, 1));
    expect(trade(chain, 't1').status).toBe('pending'); // the seller's meter has not reported yet
    ok(chain, pm1, m.reading('P1', F, 0, 2_500, 1));
    expect(trade(chain, 't1')).toMatchObject({ status: 'settled', delivery: { deliveredWh: 2_500, shortfallWh: 1_500, compensationMicro: '375000' } });
    expect(energy(chain, bob, F, ['solar'])).toBe(2_500);
    expect(energy(chain, alice, F, ['solar'])).toBe(0);
    // bob paid 600 000 for 4 000 Wh and got 1 500 × 0.25 back for the 1 500 Wh he takes from the grid
    expect(free(chain, bob) - bobBefore).toBe(375_000n);
    expect(free(chain, alice) - aliceBefore).toBe(600_000n + 625_000n); // the price, and the collateral less the shortfall charge
    expect(free(chain, alice)).toBe(1000n * NOK + 600_000n - 375_000n);
    expect(moneyLock(chain, 'order/o1')).toBe(0n);
    expect(moneyLock(chain, 'order/o2')).toBe(0n);
    checkMarket(chain);
    checkConservation(chain);
  });

  it('settles at the deadline when a meter never reports: no production means the whole trade is short', () => {
    const chain = setup('continuous', { settleAfterSec: 600 });
    ok(chain, alice, m.offer(F, 1_000, 100_000, ['solar']));
    ok(chain, bob, m.bid(F, 1_000, 100_000));
    at(chain, slotEnd(F) + 599_000);
    expect(trade(chain, 't1').status).toBe('pending');
    at(chain, slotEnd(F) + 600_000);
    expect(trade(chain, 't1')).toMatchObject({ status: 'settled', delivery: { deliveredWh: 0, shortfallWh: 1_000, compensationMicro: '250000' } });
    checkMarket(chain);
    checkConservation(chain);
  });
});
