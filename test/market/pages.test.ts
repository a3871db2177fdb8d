import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTER_SCAN_ROWS } from '../../src/app/collections.js';
import { Overlay, padKey, type KVStore } from '../../src/app/state.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { market } from '../../src/modules/market/index.js';
import { marketCore } from '../../src/modules/market/module.js';
import { marketRoutes } from '../../src/modules/market/routes.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { settlementCore } from '../../src/modules/settlement/module.js';
import { sharesCore } from '../../src/modules/shares/module.js';
import { utf8 } from '../../src/util/bytes.js';
import { account, TestChain } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { expectPagingInput, serveForCli, type ServedCli } from '../helpers/served-routes.js';
import { alice, bob, C, carol, dave, erin, GENESIS_TIME, issuer, m, NOK, NOW, ok, outsider, owner, setup } from './helpers.js';

/**
 * The market's list routes answer a page at a time (ADR 0028): producers, supply contracts, trades
 * and bills. Paged to the end, each gives exactly the full list in its order, for several page
 * sizes; a request reads a bounded number of rows however much the state holds; bad paging input is
 * refused with REQUEST_INVALID by the API server and changes nothing; the CLI prints how to go on.
 */

const F = NOW + 4;
const DAY = '2026-06-01';
const OTHER = 'other';
type Query = Record<string, string | number>;
type Answer = Record<string, any>;

/** Every page from the first on, following `next` to the end. */
function allPages(fetch: (after: string | undefined) => { items: string[]; next?: string }): Array<{ items: string[]; next?: string }> {
  const pages: Array<{ items: string[]; next?: string }> = [];
  let after: string | undefined;
  do {
    const page = fetch(after);
    pages.push(page);
    after = page.next;
    if (pages.length > 10_000) throw new Error('paging does not end');
  } while (after !== undefined);
  return pages;
}

/** The pages hold exactly `expected` in order; every page but the last is full, and the last is empty only when the list is. */
function expectPaged(pages: Array<{ items: string[]; next?: string }>, expected: string[], limit: number): void {
  expect(pages.flatMap((p) => p.items)).toEqual(expected);
  pages.slice(0, -1).forEach((p) => expect(p.items).toHaveLength(limit));
  expect(pages.at(-1)!.items.length > 0 || expected.length === 0).toBe(true);
  expect(pages.at(-1)!.next).toBeUndefined();
}

/** Runs a market route's handler as the API does (input and answer through the route's schemas), on `state` when given (counting from the handler on). */
function ask(chain: TestChain, name: string, params: Query, query: Query, state?: ReturnType<typeof countingStore>): Answer {
  const r = market.surface.routes!.find((x) => x.route.name === name)!;
  // query values arrive as text, as over HTTP
  const input = { params: r.route.params!.parse(params), query: r.route.query!.parse(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)]))), body: undefined };
  const ctx = chain.queryContext('market', state?.store);
  state?.reset();
  return r.route.response.parse(r.handle(ctx, input as never)) as Answer;
}

const MODULES = [registryCore, meteringCore, energyCore, sharesCore, settlementCore, paymentsCore, marketCore];
const PEOPLE = Array.from({ length: 12 }, (_, i) => account(`member-${i}`));
const METERS = PEOPLE.map((_, i) => account(`member-meter-${i}`));
/** member-0, -2, -4, … produce; -1, -5, -9 consume; -3, -7, -11 have no meter (-3 is removed). */
const kindOf = (i: number) => (['producer', 'consumer', 'producer', 'none'] as const)[i % 4]!;

/** Community "hood" of the twelve members with their meters, a continuous market, two producers offering. */
function producersChain(): TestChain {
  const chain = new TestChain({
    modules: MODULES,
    genesisTime: GENESIS_TIME,
    accounts: { owner: ['utility'], issuer: ['issuer'], ...Object.fromEntries(PEOPLE.map((p) => [p.name, ['prosumer', 'trader']])), ...Object.fromEntries(METERS.map((p) => [p.name, ['meter']])) },
  });
  ok(chain, owner, m.create());
  ok(chain, owner, PEOPLE.map((p) => m.addTrader(p)));
  ok(chain, owner, PEOPLE.flatMap((p, i) => (kindOf(i) === 'none' ? [] : [m.addMeter(`M${i}`, METERS[i]!, p, kindOf(i) as 'producer' | 'consumer', kindOf(i) === 'producer' ? ['solar'] : [])])));
  ok(chain, owner, m.removeTrader(PEOPLE[3]!));
  ok(chain, issuer, m.createAsset());
  ok(chain, issuer, PEOPLE.map((p, i) => m.mint(p, 1000n * NOK, `BANK-${i}`)));
  ok(chain, owner, m.open('continuous'));
  ok(chain, PEOPLE[0]!, [m.offer(F, 1000, 100_000, ['solar']), m.offer(F + 1, 500, 90_000, ['solar'])]);
  ok(chain, PEOPLE[2]!, m.offer(F, 700, 120_000, ['solar']));
  return chain;
}

const contractTerms = (community: string, consumer: { address: string }, startSlot: number) => ({ community, role: 'prosumer', counterparty: consumer.address, startSlot, endSlot: startSlot + 2, price: 100_000, maxPowerW: 4000 });

/**
 * Supply contracts in "hood" and in a second market "other", numbered across both: sc1 hood active,
 * sc2 other proposed, sc3 hood proposed, sc4 hood declined, sc5 other active, sc6 hood active, sc7
 * hood proposed, sc8 hood withdrawn. Every proposal is the prosumer's (the consumer's side named).
 */
function contractsChain(): TestChain {
  const chain = setup('continuous');
  ok(chain, owner, [m.create(OTHER), m.addTrader(alice, OTHER), m.addTrader(bob, OTHER)]);
  ok(chain, owner, m.open('continuous', {}, OTHER));
  const propose = (prosumer: typeof alice, community: string, consumer: typeof bob, start: number) => ok(chain, prosumer, m.propose(contractTerms(community, consumer, start)));
  propose(alice, C, bob, F + 10); // sc1
  ok(chain, bob, m.accept('sc1'));
  propose(alice, OTHER, bob, F + 10); // sc2
  propose(carol, C, dave, F + 20); // sc3
  propose(alice, C, erin, F + 30); // sc4
  ok(chain, erin, m.end('sc4')); // declined
  propose(alice, OTHER, bob, F + 40); // sc5
  ok(chain, bob, m.accept('sc5'));
  propose(carol, C, bob, F + 50); // sc6
  ok(chain, bob, m.accept('sc6'));
  propose(alice, C, dave, F + 60); // sc7
  propose(carol, C, erin, F + 70); // sc8
  ok(chain, carol, m.end('sc8')); // withdrawn
  return chain;
}

/** Contract records of `community` in the state, newest first (what every page of a contract list is checked against). */
function contractsIn(store: KVStore, community: string, q: { party?: string; status?: string } = {}): string[] {
  return store
    .scan<any>('market/contract/')
    .map(([, k]) => k)
    .filter((k) => k.community === community && (q.party === undefined || k.consumer === q.party || k.prosumer === q.party) && (q.status === undefined || k.status === q.status))
    .sort((a, b) => Number(b.id.slice(2)) - Number(a.id.slice(2)))
    .map((k) => k.id);
}

/**
 * Trades: carol's eight offers at F + 1 are taken first (t1…t8, by bob), then alice's twelve at F
 * (t9…t14 by bob, t15…t20 by dave), so (slot, id) order differs from id order.
 */
function tradesChain(): TestChain {
  const chain = setup('continuous', {}, { maxOpenOrdersPerTrader: 100 });
  ok(chain, carol, Array.from({ length: 8 }, (_, i) => m.offer(F + 1, 10, 100_000 + i * 1000)));
  ok(chain, bob, m.bid(F + 1, 80, 200_000));
  ok(chain, alice, Array.from({ length: 12 }, (_, i) => m.offer(F, 10, 100_000 + i * 1000)));
  ok(chain, bob, m.bid(F, 60, 200_000));
  ok(chain, dave, m.bid(F, 60, 200_000));
  return chain;
}

/** Trade records of the community in (slot, id) order, optionally of a trader and a slot range. */
function tradesIn(store: KVStore, q: { trader?: string; fromSlot?: number; toSlot?: number } = {}): string[] {
  return store
    .scan<any>('market/trade/')
    .map(([, t]) => t)
    .filter((t) => t.community === C && (q.trader === undefined || t.buyer === q.trader || t.seller === q.trader) && t.slot >= (q.fromSlot ?? 0) && t.slot < (q.toSlot ?? Infinity))
    .sort((a, b) => a.slot - b.slot || Number(a.id.slice(1)) - Number(b.id.slice(1)))
    .map((t) => t.id);
}

/** A well-formed address that is no account (for fabricated trader records). */
const fakeAddress = (i: number) => addressFromPublicKey(utf8(`fabricated trader ${i}`));

describe('market producers: a page of traders by address', () => {
  it('paged to the end: exactly the active traders with a producer meter, in address order, for every page size', () => {
    const chain = producersChain();
    const producers = PEOPLE.filter((_, i) => kindOf(i) === 'producer').map((p) => p.address).sort();
    const whole = ask(chain, 'marketProducers', { community: C }, { limit: 500 });
    expect(whole.producers.map((p: any) => p.trader)).toEqual(producers);
    expect(whole).not.toHaveProperty('next');
    const first = whole.producers.find((p: any) => p.trader === PEOPLE[0]!.address);
    expect(first).toEqual({ trader: PEOPLE[0]!.address, meters: [{ meterId: 'M0', labels: ['solar'] }], openOffers: 2, offeredWh: 1500, bestPrice: 90_000 });
    expect(ask(chain, 'marketProducers', { community: C }, {}).producers).toEqual(whole.producers); // default page: 100
    for (const limit of [1, 2, 3, 4, 5, 6, 7]) {
      const pages = allPages((after) => {
        const page = ask(chain, 'marketProducers', { community: C }, { limit, ...(after ? { after } : {}) });
        return { items: page.producers.map((p: any) => p.trader), ...(page.next ? { next: page.next } : {}) };
      });
      expectPaged(pages, producers, limit);
    }
    // a cursor need not be a trader: the page starts after it
    const middle = producers[2]!;
    expect(ask(chain, 'marketProducers', { community: C }, { after: middle }).producers.map((p: any) => p.trader)).toEqual(producers.slice(3));
  });

  it('a request looks at most FILTER_SCAN_ROWS traders when few produce; `next` leads on to the rest', () => {
    const chain = producersChain();
    const producers = PEOPLE.filter((_, i) => kindOf(i) === 'producer').map((p) => p.address).sort();
    // 10,500 more traders without a meter, spread over the address space among the real ones
    const state = new Overlay(chain.storage);
    for (let i = 0; i < FILTER_SCAN_ROWS + 500; i++) {
      const address = fakeAddress(i);
      state.set(`energy/trader/${C}/${address}`, { community: C, address, status: 'active', addedAt: { height: 1, txHash: '00'.repeat(32) } });
    }
    const counted = countingStore(state);
    const pages: Array<{ items: string[]; next?: string }> = [];
    let after: string | undefined;
    do {
      const page = ask(chain, 'marketProducers', { community: C }, after ? { after } : {}, counted);
      // one look at a trader's meters per trader considered
      expect(counted.scans('energy/tmeter')).toBeLessThanOrEqual(FILTER_SCAN_ROWS);
      expect(counted.rows('energy/trader')).toBeLessThanOrEqual(FILTER_SCAN_ROWS + 100);
      pages.push({ items: page.producers.map((p: any) => p.trader), ...(page.next ? { next: page.next } : {}) });
      after = page.next;
    } while (after !== undefined);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.items)).toEqual(producers);
  });
});

describe('market contracts: newest first, numbered below `after`', () => {
  const queries: Array<{ party?: string; status?: string }> = [{}, { status: 'active' }, { status: 'proposed' }, { status: 'declined' }, { status: 'lapsed' }, { party: alice.address }, { party: bob.address, status: 'active' }, { party: erin.address }, { party: outsider.address }];

  it('paged to the end: exactly the community’s contracts (of the party, of the status), each once, newest first, for every page size', () => {
    const chain = contractsChain();
    expect(contractsIn(chain.store, C)).toEqual(['sc8', 'sc7', 'sc6', 'sc4', 'sc3', 'sc1']);
    for (const q of queries) {
      const expected = contractsIn(chain.store, C, q);
      expect(ask(chain, 'marketContracts', { community: C }, q).contracts.map((k: any) => k.id), JSON.stringify(q)).toEqual(expected);
      for (const limit of [1, 2, 3, 5]) {
        const pages = allPages((after) => {
          const page = ask(chain, 'marketContracts', { community: C }, { ...q, limit, ...(after ? { after } : {}) });
          return { items: page.contracts.map((k: any) => k.id), ...(page.next ? { next: page.next } : {}) };
        });
        expectPaged(pages, expected, limit);
      }
    }
    // the other market's contracts are its own
    expect(ask(chain, 'marketContracts', { community: OTHER }, {}).contracts.map((k: any) => k.id)).toEqual(['sc5', 'sc2']);
    // a cursor is any contract id: the page holds the community's contracts numbered below it
    expect(ask(chain, 'marketContracts', { community: C }, { after: 'sc5' }).contracts.map((k: any) => k.id)).toEqual(['sc4', 'sc3', 'sc1']);
  });

  it('a community of more than 5,000 contracts and a party of more than 10,000: exact pages, at most FILTER_SCAN_ROWS contracts and index rows read per request', () => {
    const chain = contractsChain();
    const template = chain.store.get<any>(`market/contract/${padKey(1)}`)!;
    // 10,500 more in hood (21,000 index rows: both parties, alice and bob), 2,000 in the other market, interleaved; every 997th lapsed
    const state = new Overlay(chain.storage);
    for (let n = 100; n < 100 + 12_500; n++) {
      const community = n % 25 < 21 ? C : OTHER;
      const id = `sc${n}`;
      state.set(`market/contract/${padKey(n)}`, { ...template, id, community, status: n % 997 === 0 ? 'lapsed' : 'finished' });
      for (const party of [template.consumer, template.prosumer]) state.set(`market/contractby/${community}/${party}/${padKey(n)}`, id);
    }
    const counted = countingStore(state);
    for (const q of [{}, { status: 'lapsed' }, { party: alice.address, status: 'lapsed' }, { party: bob.address }] as Array<{ party?: string; status?: string }>) {
      const expected = contractsIn(state, C, q);
      const pages = allPages((after) => {
        const page = ask(chain, 'marketContracts', { community: C }, { ...q, limit: 1000, ...(after ? { after } : {}) }, counted);
        expect(counted.rows('market/contractby'), JSON.stringify(q)).toBeLessThanOrEqual(FILTER_SCAN_ROWS + 1);
        expect(counted.rows('market/contract') + counted.rows('market/active'), JSON.stringify(q)).toBeLessThanOrEqual(FILTER_SCAN_ROWS);
        return { items: page.contracts.map((k: any) => k.id), ...(page.next ? { next: page.next } : {}) };
      });
      expect(pages.flatMap((p) => p.items), JSON.stringify(q)).toEqual(expected);
      expect(pages.length).toBeGreaterThan(1);
    }
  });
});

describe('market trades: (slot, id) order, continued after the last trade', () => {
  it('paged to the end: every trade of the list once, in (slot, id) order, for every page size; truncated exactly when next is given', () => {
    const chain = tradesChain();
    const everything = tradesIn(chain.store);
    expect(everything).toEqual([...Array.from({ length: 12 }, (_, i) => `t${i + 9}`), ...Array.from({ length: 8 }, (_, i) => `t${i + 1}`)]);
    const lists: Array<[Query, string[]]> = [
      [{}, everything],
      [{ trader: dave.address }, tradesIn(chain.store, { trader: dave.address })],
      [{ trader: bob.address }, tradesIn(chain.store, { trader: bob.address })],
      [{ slot: F }, tradesIn(chain.store, { fromSlot: F, toSlot: F + 1 })],
      [{ fromSlot: F + 1 }, tradesIn(chain.store, { fromSlot: F + 1 })],
      [{ trader: bob.address, toSlot: F + 1 }, tradesIn(chain.store, { trader: bob.address, toSlot: F + 1 })],
      [{ trader: erin.address }, []],
    ];
    for (const [q, expected] of lists) {
      for (const limit of [1, 2, 3, 5, 7, 20]) {
        const counted = countingStore(chain.store);
        const pages = allPages((after) => {
          const page = ask(chain, 'marketTrades', { community: C }, { ...q, limit, ...(after ? { after } : {}) }, counted);
          expect(page.truncated).toBe(page.next !== undefined);
          // the page and one index row more; the page's records and the cursor's
          expect(counted.rows('market/tradeslot') + counted.rows('market/tradeby')).toBeLessThanOrEqual(limit + 1);
          expect(counted.rows('market/trade')).toBeLessThanOrEqual(limit + 1);
          return { items: page.trades.map((t: any) => t.id), ...(page.next ? { next: page.next } : {}) };
        });
        expectPaged(pages, expected, limit);
      }
    }
  });
});

describe('market bills: a page of members by address', () => {
  it('paged to the end: one bill per member who ever traded there (a removed one too), by address, the same bills as unpaged', () => {
    const chain = setup('continuous');
    ok(chain, owner, m.removeTrader(erin));
    const members = [alice, bob, carol, dave, erin].map((p) => p.address).sort();
    const whole = ask(chain, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY });
    expect(whole.bills.map((b: any) => b.member)).toEqual(members);
    expect(whole).not.toHaveProperty('next');
    const hashes = new Map(whole.bills.map((b: any) => [b.member, b.hash]));
    for (const limit of [1, 2, 3, 4, 5]) {
      const counted = countingStore(chain.store);
      const pages = allPages((after) => {
        const page = ask(chain, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, limit, ...(after ? { after } : {}) }, counted);
        // the trades of the page's members only
        expect(counted.scans('market/tradeby')).toBe(page.bills.length);
        expect(counted.rows('energy/trader')).toBeLessThanOrEqual(limit + 1);
        for (const b of page.bills) expect(b.hash).toBe(hashes.get(b.member));
        return { items: page.bills.map((b: any) => b.member), ...(page.next ? { next: page.next } : {}) };
      });
      expectPaged(pages, members, limit);
    }
    expect(ask(chain, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member: erin.address }).bills.map((b: any) => b.hash)).toEqual([hashes.get(erin.address)]);
    expect(() => ask(chain, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, member: outsider.address })).toThrow(expect.objectContaining({ code: 'MARKET_BILL_NOT_MEMBER' }));
    expect(ask(chain, 'marketBills', { community: C }, { fromDay: DAY, toDay: DAY, after: members.at(-1)! })).toEqual({ community: C, bills: [] });
  });
});

describe('paging input through the API server', () => {
  it('a page size out of range, a malformed cursor or one not of the list: 400 REQUEST_INVALID, and nothing changes', async () => {
    const chain = tradesChain();
    const base = `/v1/market/communities/${C}`;
    const bills = `${base}/bills?fromDay=${DAY}&toDay=${DAY}`;
    const bobOnly = tradesIn(chain.store, { trader: bob.address })[0]!;
    const bad = [
      `${base}/producers?limit=0`,
      `${base}/producers?limit=501`,
      `${base}/producers?after=alice`,
      `${base}/producers?after=${alice.address.toUpperCase()}`,
      `${base}/contracts?limit=0`,
      `${base}/contracts?limit=1001`,
      `${base}/contracts?after=sc0`,
      `${base}/contracts?after=12`,
      `${base}/contracts?after=t1`,
      `${base}/trades?limit=0`,
      `${base}/trades?limit=10001`,
      `${base}/trades?after=sc1`,
      `${base}/trades?after=t0`,
      `${base}/trades?after=t999`, // no such trade
      `${base}/trades?trader=${dave.address}&after=${bobOnly}`, // not a trade of dave's
      `${bills}&limit=0`,
      `${bills}&limit=1001`,
      `${bills}&after=bob`,
    ];
    await expectPagingInput(chain, market, { bad, good: [`${base}/producers?limit=1`, `${base}/contracts?limit=1&after=sc3`, `${base}/trades?limit=2&after=${bobOnly}`, `${bills}&limit=1&after=${alice.address}`] });
  });
});

describe('the CLI pages with --after and --limit and says how to go on', () => {
  let chain: TestChain;
  let served: ServedCli;
  beforeAll(async () => {
    chain = tradesChain();
    for (const [who, start] of [[alice, F + 10], [carol, F + 20], [alice, F + 30]] as const) ok(chain, who, m.propose(contractTerms(C, who === alice ? dave : erin, start)));
    served = await serveForCli(chain, market);
  });
  afterAll(async () => {
    await served?.close();
  });
  const cli = (...argv: string[]) => served.cli(...argv);
  const follow = async (argv: string[]) => served.follow(argv);

  it('trades, contracts, producers and bills', async () => {
    const trades = await follow(['query', 'market', 'trades', '--community', C, '--limit', '7']);
    expect(trades.map((p) => p.length)).toEqual([7, 7, 6]);
    expect(trades.flat().map((l) => l.split(' ')[0])).toEqual(tradesIn(chain.store));
    const contracts = await follow(['query', 'market', 'contracts', '--community', C, '--limit', '2']);
    expect(contracts.flat().map((l) => l.split(' ')[0])).toEqual(contractsIn(chain.store, C));
    expect(contracts.length).toBe(2);
    const producers = await follow(['query', 'market', 'producers', '--community', C, '--limit', '1']);
    expect(producers.flat().map((l) => l.split(' ')[0])).toEqual([alice.address, carol.address].sort());
    const bills = await follow(['query', 'market', 'bills', '--community', C, '--from-day', DAY, '--to-day', DAY, '--limit', '2']);
    expect(bills.flat().map((l) => l.split(' ')[0])).toEqual([alice, bob, carol, dave, erin].map((p) => p.address).sort());
    expect(bills.map((p) => p.length)).toEqual([2, 2, 1]);
    // JSON carries the cursor as `next`
    const json = JSON.parse(await cli('-o', 'json', 'query', 'market', 'trades', '--community', C, '--limit', '19'));
    expect(json).toMatchObject({ truncated: true, next: tradesIn(chain.store)[18] });
    expect(marketRoutes.trades.response.safeParse(json).success).toBe(true);
  });
});
