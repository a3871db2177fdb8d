import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alice, bob, C, carol, dave, m, NOW, setup } from './helpers.js';

/**
 * maxOpenOrdersPerTrader is counted on the open-orders index (bench/market.ts found that counting
 * by reading every open order record made each post cost one record per open order of its trader).
 * The outcome must be what it was: a post is refused with MARKET_OPEN_ORDERS_LIMIT exactly when the
 * trader's order records in the community that are still open number the limit or more — checked
 * here against the records themselves over random posts (some trade, some fill) and cancellations.
 */

const LIMIT = 4;
const WHO = [alice, bob, carol, dave];
const SLOTS = [NOW + 2, NOW + 3];

/** Posts: alice and carol sell, bob and dave buy (no self-trade refusal hides the limit). */
type Op = { k: 'post'; who: number; slot: number; wh: number; price: number } | { k: 'cancel'; who: number; nth: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('post' as const),
      who: fc.integer({ min: 0, max: WHO.length - 1 }),
      slot: fc.integer({ min: 0, max: SLOTS.length - 1 }),
      wh: fc.integer({ min: 1, max: 300 }),
      price: fc.integer({ min: 1, max: 6 }).map((p) => p * 50_000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), who: fc.integer({ min: 0, max: WHO.length - 1 }), nth: fc.nat(10) }) },
);

function openRecordsOf(chain: ReturnType<typeof setup>, address: string): Array<{ id: string }> {
  return chain.store
    .scan<any>('market/order/')
    .map(([, o]) => o)
    .filter((o) => o.community === C && o.trader === address && o.status === 'open');
}

describe('maxOpenOrdersPerTrader counted on the open-orders index', () => {
  it('refuses a post exactly when the trader already has the limit of open order records', () => {
    let refusals = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 30 }), (ops) => {
        const chain = setup('continuous', {}, { maxOpenOrdersPerTrader: LIMIT });
        for (const op of ops) {
          const who = WHO[op.who]!;
          const open = openRecordsOf(chain, who.address);
          if (op.k === 'cancel') {
            if (open.length === 0) continue;
            const res = chain.send(who, m.cancel(open[op.nth % open.length]!.id), chain.time);
            expect(res.code).toBe('OK');
            continue;
          }
          const side = op.who % 2 === 0 ? 'offer' : 'bid';
          const msg = side === 'offer' ? m.offer(SLOTS[op.slot]!, op.wh, op.price) : m.bid(SLOTS[op.slot]!, op.wh, op.price);
          const res = chain.send(who, msg, chain.time);
          expect(res.code === 'MARKET_OPEN_ORDERS_LIMIT', `${open.length} open records, result ${res.code}`).toBe(open.length >= LIMIT);
          if (res.code === 'MARKET_OPEN_ORDERS_LIMIT') refusals++;
          else if (res.code === 'OK') accepted++;
          expect(chain.internalErrors).toEqual([]);
        }
      }),
      { numRuns: 25, seed: 12 },
    );
    // The runs reached the limit and also posted below it.
    expect(refusals).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });
});
