import { describe, expect, it } from 'vitest';
import { checkBill } from '../../src/modules/market/cli/bill-check.js';
import { market } from '../../src/modules/market/index.js';
import { statementHash } from '../../src/modules/settlement/keeper.js';
import { alice, at, bob, C, carol, cm1, dso, erin, m, NOW, ok, owner, pm1, rejects, setup, slotEnd, slotStart } from './helpers.js';

const S = NOW - 2; // 11:30–11:45 UTC
const F = NOW + 4; // 13:00–13:15 UTC
const DAY = '2026-06-01'; // Europe/Oslo (UTC+2): 2026-05-31T22:00Z … 2026-06-01T22:00Z

/** The day of the bills: a spot trade at S, an owner's external supply, a forward trade with a shortfall, a reconciliation. */
function day() {
  const chain = setup('continuous');
  ok(chain, pm1, m.reading('P1', S, 0, 5000, 1));
  ok(chain, cm1, m.reading('C1', S, 3000, 0, 1));
  ok(chain, alice, m.offer(S, 2000, 200_000, ['solar']));
  ok(chain, bob, m.bid(S, 2000, 200_000)); // t1: 2000 Wh, 400 000 µ, delivered at once
  ok(chain, owner, m.mutate(bob, S, 500, 'supplied by external party'));
  ok(chain, dso, m.official('C1', S, 3200, 0)); // the official channel: 200 Wh more import
  ok(chain, alice, m.offer(F, 4000, 150_000, ['solar']));
  ok(chain, bob, m.bid(F, 4000, 150_000)); // t2: 4000 Wh, 600 000 µ, for delivery
  at(chain, slotEnd(F) + 1000);
  ok(chain, pm1, m.reading('P1', F, 0, 2500, 2, { imp: 0, exp: 5000 }));
  ok(chain, cm1, m.reading('C1', F, 5000, 0, 2, { imp: 3000, exp: 0 })); // t2 delivers 2500, 1500 short
  at(chain, slotStart(NOW + 41)); // after the local day ended (22:15 UTC)
  return chain;
}

const byItem = (bill: any) => Object.fromEntries(bill.lines.map((l: any) => [l.item, [l.wh, l.amountMicro]]));

describe('community bills', () => {
  it("bob's bill: purchases, shortfall compensation, residual import, external supply and reconciliation, by hand", () => {
    const chain = day();
    const { bills } = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member: bob.address });
    const bill = bills[0];
    expect(bill).toMatchObject({ kind: 'gridledger/market-bill', community: C, member: bob.address, asset: 'NOK@hood', period: { fromDay: DAY, toDay: DAY }, energyWh: { meteredImport: 8000, meteredExport: 0 }, pendingTrades: 0 });
    expect(bill.period.toSlot - bill.period.fromSlot).toBe(96);
    expect(byItem(bill)).toEqual({
      'market-purchases': [4500, '1000000'], // 2000 + 2500 Wh delivered; 400 000 + 600 000 paid
      'market-shortfall-compensation': [1500, '-375000'], // ⌊1500 × 250 000 / 1000⌋
      'market-sales': [0, '0'],
      'market-shortfall-charge': [0, '0'],
      'contract-purchases': [0, '0'],
      'contract-sales': [0, '0'],
      'residual-import': [3000, '750000'], // S: −3000 + 2000 + 500 = −500; F: −5000 + 2500 = −2500
      'residual-export': [0, '0'],
      adjustments: [500, '125000'],
      'reconciliation-import': [200, '50000'],
      'reconciliation-export': [0, '0'],
    });
    expect(bill.totals).toEqual({ settledMicro: '625000', dueMicro: '925000', totalMicro: '1550000' });
    expect(bill.hash).toBe(statementHash(bill));
    const localDay = bill.days[0];
    expect(localDay).toMatchObject({ day: DAY, slots: 96, meteredImportWh: 8000, boughtWh: 4500, residualImportWh: 3000 });
  });

  it("alice's bill: sales, the shortfall she pays, residual export", () => {
    const chain = day();
    const bill = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member: alice.address }).bills[0];
    expect(byItem(bill)).toMatchObject({
      'market-sales': [4500, '-1000000'],
      'market-shortfall-charge': [1500, '375000'],
      'residual-export': [3000, '-150000'], // S: 5000 − 2000; F: 2500 − 2500
      'residual-import': [0, '0'],
    });
    expect(bill.totals).toEqual({ settledMicro: '-625000', dueMicro: '-150000', totalMicro: '-775000' });
  });

  it('are computed for every member (paged by address), deterministically', () => {
    const chain = day();
    const all = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY });
    const members = all.bills.map((b: any) => b.member);
    expect(members).toHaveLength(5);
    expect(members).toEqual([...members].sort());
    expect(members).toContain(erin.address);
    const first = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, limit: 2 });
    expect(first.bills).toHaveLength(2);
    const second = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, limit: 10, after: first.next });
    expect([...first.bills, ...second.bills].map((b: any) => b.hash)).toEqual(all.bills.map((b: any) => b.hash));
    expect(chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY }).bills.map((b: any) => b.hash)).toEqual(all.bills.map((b: any) => b.hash));
  });

  it('bill hashes are recorded by the owner once the period ended; a new hash for the same period is a revision', () => {
    const chain = day();
    const bill = chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member: bob.address }).bills[0];
    const ref = { member: bob.address, fromSlot: bill.period.fromSlot, toSlot: bill.period.toSlot, hash: bill.hash };
    rejects(chain, alice, m.recordBills([ref]), 'MARKET_NOT_OWNER');
    rejects(chain, owner, m.recordBills([{ ...ref, member: dso.address }]), 'MARKET_BILL_NOT_MEMBER');
    rejects(chain, owner, m.recordBills([{ ...ref, toSlot: ref.fromSlot }]), 'MARKET_BILL_INVALID_PERIOD');
    rejects(chain, owner, m.recordBills([{ ...ref, toSlot: NOW + 1000 }]), 'MARKET_BILL_PERIOD_OPEN');
    rejects(chain, owner, m.recordBills([ref, ref]), 'MARKET_BILL_DUPLICATE');
    ok(chain, owner, m.recordBills([ref]));
    rejects(chain, owner, m.recordBills([ref]), 'MARKET_BILL_DUPLICATE');
    expect(chain.query(market, 'marketBillRecord', { hash: bill.hash })).toMatchObject({ record: { member: bob.address, revision: 1 }, superseded: false });
    const corrected = 'ab'.repeat(32);
    ok(chain, owner, m.recordBills([{ ...ref, hash: corrected }]));
    expect(chain.query(market, 'marketBillRecord', { hash: bill.hash })).toMatchObject({ superseded: true, latest: { hash: corrected, revision: 2 } });
    expect(() => chain.query(market, 'marketBillRecord', { hash: 'cd'.repeat(32) })).toThrow(expect.objectContaining({ code: 'MARKET_BILL_NOT_FOUND' }));
  });

  it('checkBill (CLI verify statement and the dashboard Verify button): recorded and recomputed pass; unrecorded, tampered, superseded or foreign fail', async () => {
    const chain = day();
    const billsOf = (member: string) => chain.query(market, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member }).bills[0];
    const lookups = {
      record: async (hash: string) => {
        try {
          return chain.query(market, 'marketBillRecord', { hash });
        } catch (e) {
          if ((e as { code?: string }).code === 'MARKET_BILL_NOT_FOUND') return undefined;
          throw e;
        }
      },
      recompute: async (b: { community: string; member: string; fromDay: string; toDay: string }) =>
        chain.query(market, 'marketBills', { community: b.community }, { fromDay: b.fromDay, toDay: b.toDay, member: b.member }).bills[0]?.hash,
    };
    const bill = billsOf(bob.address);
    const before = await checkBill(bill, lookups);
    expect(before.ok).toBe(false);
    expect(before.checks.map((c) => [c.name, c.ok])).toEqual([['recorded', false], ['recomputed', true]]);
    expect(before.checks[0]!.detail).toContain('no bill with hash');

    const ref = (b: any, hash = b.hash) => ({ member: b.member, fromSlot: b.period.fromSlot, toSlot: b.period.toSlot, hash });
    ok(chain, owner, m.recordBills([ref(bill)]));
    const verified = await checkBill(bill, lookups);
    expect(verified).toMatchObject({ ok: true, hash: bill.hash });
    expect(verified.checks.map((c) => [c.name, c.ok])).toEqual([['recorded', true], ['recomputed', true]]);
    expect(await checkBill({ ...bill, hash: undefined }, lookups)).toMatchObject({ ok: true, hash: bill.hash });

    // a tampered copy: its hash field no longer matches, and neither is its content recorded nor recomputed
    const tampered = { ...bill, totals: { ...bill.totals, totalMicro: String(BigInt(bill.totals.totalMicro) - 1n) } };
    const t = await checkBill(tampered, lookups);
    expect(t.ok).toBe(false);
    expect(t.checks.map((c) => [c.name, c.ok])).toEqual([['hash', false], ['recorded', false], ['recomputed', false]]);
    // the same tampered content without its hash field: recorded and recomputed still fail
    expect((await checkBill({ ...tampered, hash: undefined }, lookups)).checks.map((c) => c.ok)).toEqual([false, false]);
    // alice's recorded hash presented as bob's bill: recorded for another member
    const aliceBill = billsOf(alice.address);
    ok(chain, owner, m.recordBills([ref(aliceBill)]));
    const foreign = await checkBill({ ...aliceBill, member: bob.address, hash: undefined }, { ...lookups, record: async () => lookups.record(aliceBill.hash) });
    expect(foreign.checks[0]).toMatchObject({ name: 'recorded', ok: false, detail: 'the recorded hash belongs to another community, member or period' });
    // a correction supersedes the first hash
    ok(chain, owner, m.recordBills([ref(bill, 'ab'.repeat(32))]));
    const superseded = await checkBill(bill, lookups);
    expect(superseded.ok).toBe(false);
    expect(superseded.checks[0]!.detail).toContain(`superseded by ${'ab'.repeat(32)} (revision 2)`);
    // not a bill at all
    expect(await checkBill({ kind: 'something else' }, lookups)).toMatchObject({ ok: false, hash: null, checks: [{ name: 'form', ok: false }] });
  });
});

describe('queries', () => {
  it('the clearing view groups trades read in chunks (over a thousand) by slot and session', () => {
    const chain = setup('continuous', {}, { maxOpenOrdersPerTrader: 1200 });
    for (const slot of [F, F + 1]) {
      for (let i = 0; i < 600; i += 50) ok(chain, alice, Array.from({ length: 50 }, () => m.offer(slot, 1, 100_000 + i)));
    }
    ok(chain, bob, [m.bid(F, 600, 200_000), m.bid(F + 1, 600, 200_000)]);
    const clearing = chain.query(market, 'marketClearing', { community: C }, {});
    expect(clearing.slots.map((r: { slot: number; session: string; trades: number; volumeWh: number }) => [r.slot, r.session, r.trades, r.volumeWh])).toEqual([
      [F, 'fwd', 600, 600],
      [F + 1, 'fwd', 600, 600],
    ]);
    expect(chain.query(market, 'marketClearing', { community: C }, { limit: '1' })).toMatchObject({ slots: [{ slot: F, trades: 600 }], nextSlot: F + 1 });
  });

  it('the advert board lists open offers slot by slot, best price first, from the book alone', () => {
    const chain = setup('continuous');
    ok(chain, carol, m.offer(F + 2, 700, 95_000)); // o1: a later slot at a lower price
    ok(chain, alice, m.offer(F, 1000, 120_000)); // o2
    ok(chain, alice, m.offer(F, 500, 100_000)); // o3
    ok(chain, carol, m.offer(F + 1, 400, 130_000)); // o4
    ok(chain, bob, m.bid(F + 1, 300, 90_000)); // o5: a bid, not an advert
    const offers = (query: Record<string, string>) => chain.query(market, 'marketOffers', { community: C }, query).offers.map((o: { id: string }) => o.id);
    expect(offers({})).toEqual(['o3', 'o2', 'o4', 'o1']);
    expect(offers({ limit: '2' })).toEqual(['o3', 'o2']);
    expect(offers({ fromSlot: String(F + 1) })).toEqual(['o4', 'o1']);
    expect(offers({ fromSlot: String(F), toSlot: String(F + 2) })).toEqual(['o3', 'o2', 'o4']);
    expect(offers({ maxPrice: '120000' })).toEqual(['o3', 'o2', 'o1']);
    expect(offers({ seller: carol.address, limit: '1' })).toEqual(['o4']);
    // a filled offer leaves the board; the partly filled one stays with what remains
    ok(chain, bob, m.bid(F, 1200, 130_000)); // takes o3 (500) and 700 of o2
    const board = chain.query(market, 'marketOffers', { community: C }, { slot: String(F) }).offers;
    expect(board.map((o: { id: string; remainingWh: number }) => [o.id, o.remainingWh])).toEqual([['o2', 300]]);
    // the clearing view of those trades, a page of whole slots at a time
    ok(chain, bob, m.bid(F + 1, 100, 130_000)); // takes 100 of o4
    const clearing = (query: Record<string, string>) => chain.query(market, 'marketClearing', { community: C }, query);
    expect(clearing({}).slots.map((r: { slot: number; trades: number; volumeWh: number }) => [r.slot, r.trades, r.volumeWh])).toEqual([
      [F, 2, 1200],
      [F + 1, 1, 100],
    ]);
    expect(clearing({})).not.toHaveProperty('nextSlot');
    const first = clearing({ limit: '1' });
    expect(first.slots.map((r: { slot: number }) => r.slot)).toEqual([F]);
    expect(first.nextSlot).toBe(F + 1);
    expect(clearing({ fromSlot: String(first.nextSlot), limit: '1' }).slots.map((r: { slot: number }) => r.slot)).toEqual([F + 1]);
  });

  it('book depth, adverts, orders, trades, clearing, producers', () => {
    const chain = setup('continuous');
    ok(chain, alice, m.offer(F, 1000, 100_000, ['solar']));
    ok(chain, alice, m.offer(F, 500, 100_000, ['solar']));
    ok(chain, carol, m.offer(F, 2000, 120_000, ['wind']));
    ok(chain, bob, m.bid(F, 300, 90_000));
    const book = chain.query(market, 'marketBook', { community: C }, { slot: String(F) });
    expect(book.sessions).toEqual([{ session: 'fwd', gateTime: slotStart(F) - 300_000, closed: false, offers: [{ price: 100_000, wh: 1500, orders: 2 }, { price: 120_000, wh: 2000, orders: 1 }], bids: [{ price: 90_000, wh: 300, orders: 1 }] }]);
    expect(chain.query(market, 'marketOffers', { community: C }, { fromSlot: String(F), toSlot: String(F + 1), labels: 'wind' }).offers.map((o: any) => o.id)).toEqual(['o3']);
    expect(chain.query(market, 'marketOffers', { community: C }, { slot: String(F), maxPrice: '110000' }).offers.map((o: any) => o.id)).toEqual(['o1', 'o2']);
    expect(chain.query(market, 'marketOffers', { community: C }, { seller: carol.address }).offers.map((o: any) => o.id)).toEqual(['o3']);
    ok(chain, bob, m.bid(F, 1200, 110_000)); // takes o1 (1000) and 200 of o2 at 100 000
    expect(chain.query(market, 'marketOrders', { community: C }, { trader: bob.address, status: 'all' }).orders.map((o: any) => [o.id, o.status])).toEqual([
      ['o5', 'filled'],
      ['o4', 'open'],
    ]);
    const orderIds = (trader: string, status: string, limit?: number) => chain.query(market, 'marketOrders', { community: C }, { trader, status, ...(limit ? { limit } : {}) }).orders.map((o: any) => o.id);
    expect(orderIds(bob.address, 'open')).toEqual(['o4']);
    expect(orderIds(bob.address, 'closed')).toEqual(['o5']);
    expect(orderIds(alice.address, 'open')).toEqual(['o2']); // o1 was filled
    expect(orderIds(alice.address, 'all', 1)).toEqual(['o2']);
    expect(chain.query(market, 'marketOrder', { id: 'o5' }).trades.map((t: any) => [t.id, t.offer, t.wh])).toEqual([
      ['t1', 'o1', 1000],
      ['t2', 'o2', 200],
    ]);
    expect(chain.query(market, 'marketTrades', { community: C }, { slot: String(F) }).trades).toHaveLength(2);
    expect(chain.query(market, 'marketClearing', { community: C }, { slot: String(F) }).slots).toEqual([
      { slot: F, slotIso: new Date(slotStart(F)).toISOString(), session: 'fwd', source: 'trades', price: 100_000, volumeWh: 1200, trades: 2, minPrice: 100_000, maxPrice: 100_000, products: [] },
    ]);
    const producers = chain.query(market, 'marketProducers', { community: C }, {}).producers;
    expect(producers.map((p: any) => [p.trader, p.meters.map((x: any) => x.meterId), p.openOffers, p.offeredWh, p.bestPrice])).toEqual(
      [
        [alice.address, ['P1'], 1, 300, 100_000],
        [carol.address, ['P2'], 1, 2000, 120_000],
      ].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    expect(chain.query(market, 'marketShow', { community: C }).market).toMatchObject({ type: 'continuous', asset: 'NOK@hood' });
    expect(() => chain.query(market, 'marketShow', { community: 'nope' })).toThrow(expect.objectContaining({ code: 'MARKET_COMMUNITY_NOT_FOUND' }));
  });
});
