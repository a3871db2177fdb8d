import { describe, expect, it } from 'vitest';
import { energy } from '../../src/modules/energy/index.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { registry } from '../../src/modules/registry/index.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { account, TestChain } from '../helpers/chain.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { LOG_SCAN_ROWS, ROLE_SCAN_ROWS } from '../../src/modules/registry/state.js';
import { alice, bob, carol, energyChain, GENESIS_TIME, gridop, m, ok, owner, S, setupCommunity } from './helpers.js';
import { COMMUNITY_DETAIL_ROWS } from '../../src/modules/energy/state.js';
import { DIFFERENCE_METERS_PER_REQUEST } from '../../src/modules/energy/queries.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { communitiesOfTrader, wholeCommunity } from '../../src/modules/energy/routes.js';
import type { RouteReader } from '../../src/api/route.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { meteringCore } from '../../src/modules/metering/module.js';

/** Every page of a list route from the first on, following `next` to the end. */
function allPages<T>(fetch: (after: string | undefined) => { items: T[]; next?: string }): T[][] {
  const pages: T[][] = [];
  let after: string | undefined;
  do {
    const page = fetch(after);
    pages.push(page.items);
    after = page.next;
  } while (after !== undefined);
  return pages;
}

/** The energy routes of an in-process chain as a client's reader (for the paging helpers clients use). */
function readerOf(chain: TestChain): RouteReader {
  return async (route, input) => chain.query(energy, route.name, (input as { params?: Record<string, unknown> }).params, (input as { query?: Record<string, unknown> }).query);
}

describe('list routes answer a page at a time and say where to continue', () => {
  it('communities: pages of `limit` in id order, `next` until the last one', () => {
    const chain = energyChain();
    for (const id of ['e', 'b', 'd', 'a', 'c']) ok(chain, owner, m.create({ id, name: `Community ${id}` }));
    const list = (query: Record<string, unknown>) => chain.query(energy, 'listCommunities', {}, query);
    expect(list({}).communities.map((c: { id: string }) => c.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(list({})).not.toHaveProperty('next');
    const pages = allPages((after) => {
      const page = list({ ...(after ? { after } : {}), limit: '2' });
      return { items: page.communities.map((c: { id: string }) => c.id), ...(page.next ? { next: page.next } : {}) };
    });
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(list({ after: 'e' }).communities).toEqual([]);
    // the page size is bounded, and a cursor must be a community id
    for (const bad of [{ limit: '0' }, { limit: '501' }, { after: 'Not An Id!' }]) expect(energyRoutes.listCommunities.query!.safeParse(bad).success).toBe(false);
  });

  it('adjustments: a slot filter and a page size, continued with the cursor an answer gives', () => {
    const chain = energyChain();
    setupCommunity(chain);
    const slots = [S, S + 1, S, S + 1, S];
    slots.forEach((slot, i) => ok(chain, owner, m.mutate('nb', i % 2 === 0 ? alice : bob, slot, 100 + i, `adjustment ${i}`)));
    const adjustments = (chainState: TestChain, query: Record<string, unknown>) => chainState.query(energy, 'energyAdjustments', { id: 'nb' }, query);
    const page = (query: Record<string, unknown>) => (after: string | undefined) => {
      const answer = adjustments(chain, { ...query, ...(after ? { after } : {}) });
      return { items: answer.adjustments.map((a: { description: string }) => a.description), ...(answer.next ? { next: answer.next } : {}) };
    };
    expect(allPages(page({ limit: '2' }))).toEqual([['adjustment 0', 'adjustment 1'], ['adjustment 2', 'adjustment 3'], ['adjustment 4']]);
    expect(allPages(page({ slot: String(S), limit: '2' }))).toEqual([['adjustment 0', 'adjustment 2'], ['adjustment 4']]);
    expect(allPages(page({ slot: String(S + 1) }))).toEqual([['adjustment 1', 'adjustment 3']]);
    // the default page is 1,000; 10,000 at most; a cursor has the shape an answer gives
    expect(energyRoutes.adjustments.query!.parse({}).limit).toBe(1000);
    for (const bad of [{ limit: '10001' }, { after: 'h1' }, { after: `${'0'.repeat(16)}/${'A'.repeat(64)}/0000/0000` }]) expect(energyRoutes.adjustments.query!.safeParse(bad).success).toBe(false);
  });

  it('accounts by role: a full page of that role however many others come first, and a `next` to continue', () => {
    const chain = energyChain();
    const traders = [alice, bob, carol].map((a) => a.address).sort();
    const list = (query: Record<string, unknown>) => chain.query(registry, 'listAccounts', {}, query);
    const pages = allPages((after) => {
      const page = list({ role: 'trader', ...(after ? { after } : {}), limit: '1' });
      return { items: page.accounts.map((a: { address: string }) => a.address), ...(page.next ? { next: page.next } : {}) };
    });
    expect(pages).toEqual(traders.map((t) => [t]));
    expect(list({ role: 'trader' }).accounts.map((a: { address: string }) => a.address)).toEqual(traders);
    // without a role: every account, a page at a time
    const everyone = list({ limit: '500' }).accounts.map((a: { address: string }) => a.address);
    expect(allPages((after) => {
      const page = list({ ...(after ? { after } : {}), limit: '3' });
      return { items: page.accounts.map((a: { address: string }) => a.address), ...(page.next ? { next: page.next } : {}) };
    }).flat()).toEqual(everyone);
    expect(registryRoutes.listAccounts.query!.safeParse({ limit: '501' }).success).toBe(false);
  });

  it('accounts by a rare role: a request reads at most ROLE_SCAN_ROWS accounts, and `next` leads on to the match', () => {
    const accounts: Record<string, string[]> = { lone: ['auditor'] };
    for (let i = 0; i < ROLE_SCAN_ROWS + 50; i++) accounts[`member-${i}`] = ['consumer'];
    const chain = new TestChain({ modules: [registryCore], accounts });
    const pages: Array<{ accounts: Array<{ address: string }>; next?: string }> = [];
    let after: string | undefined;
    do {
      // Without the node's query index, as a proven answer reads: the bounded scan.
      const page = chain.query(registry, 'listAccounts', {}, { role: 'auditor', ...(after ? { after } : {}) }, { queryIndexes: false });
      pages.push(page);
      after = page.next;
    } while (after !== undefined);
    expect(pages.length).toBeGreaterThan(1); // the first request stopped after ROLE_SCAN_ROWS accounts
    expect(pages.flatMap((p) => p.accounts.map((a) => a.address))).toEqual([account('lone').address]);
    // Through the node's index of the roles few accounts hold (ADR 0029 point 1): one exact page; and
    // the 10,050 ordinary admissions wrote no index row (only the accounts holding a rare role have one).
    expect(chain.query(registry, 'listAccounts', {}, { role: 'auditor' })).toEqual({ accounts: [expect.objectContaining({ address: account('lone').address, roles: ['auditor'] })] });
    const rareRoleAccounts = [...chain.storage.allState()].filter(([k, v]) => k.startsWith('registry/account/') && /"(operator|grid-operator|utility|aggregator|auditor|anchor-operator|issuer)"/.test(v)).length;
    expect(chain.storage.db.prepare("SELECT COUNT(*) AS n FROM query_index WHERE name = 'registry/accounts-by-rare-role'").get()).toEqual({ n: rareRoleAccounts });
    expect(rareRoleAccounts).toBeLessThan(5);
    // the registry log filtered by that account: at most LOG_SCAN_ROWS entries read per request, then on to its admission
    const logPages: Array<{ entries: Array<{ address: string; action: string }>; next?: string }> = [];
    let cursor: string | undefined;
    do {
      const page = chain.query(registry, 'registryLog', {}, { address: account('lone').address, ...(cursor ? { after: cursor } : {}) });
      logPages.push(page);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(logPages.length).toBeGreaterThanOrEqual(Math.ceil(Object.keys(accounts).length / LOG_SCAN_ROWS)); // one genesis admission per account
    expect(logPages.flatMap((p) => p.entries.map((e) => [e.address, e.action]))).toEqual([[account('lone').address, 'admit']]);
  });

  it('the registry log: newest first, a page at a time to the genesis admissions', () => {
    const chain = energyChain();
    const everything = chain.query(registry, 'registryLog', {}, { limit: '500' }).entries;
    expect(everything.length).toBeGreaterThan(5);
    for (const size of ['1', '2', '3']) {
      expect(allPages((after) => {
        const page = chain.query(registry, 'registryLog', {}, { ...(after ? { after } : {}), limit: size });
        return { items: page.entries, ...(page.next ? { next: page.next } : {}) };
      }).flat()).toEqual(everything);
    }
    expect(registryRoutes.registryLog.query!.safeParse({ after: 'yesterday' }).success).toBe(false);
  });

  it("a community's detail carries the first 500 traders; the traders route pages on to every one, once, in address order", async () => {
    const names = Array.from({ length: COMMUNITY_DETAIL_ROWS + 3 }, (_, i) => `member-${i}`);
    const chain = new TestChain({
      modules: [registryCore, meteringCore, energyCore],
      genesisTime: GENESIS_TIME,
      accounts: { owner: ['utility'], ...Object.fromEntries(names.map((n) => [n, ['trader']])) },
    });
    ok(chain, owner, m.create({ id: 'big', name: 'Big' }));
    for (let i = 0; i < names.length; i += 64) ok(chain, owner, names.slice(i, i + 64).map((n) => m.addTrader('big', account(n))));
    const everyone = names.map((n) => account(n).address).sort();
    const detail = chain.query(energy, 'getCommunity', { id: 'big' });
    expect(detail.traders.map((t: { address: string }) => t.address)).toEqual(everyone.slice(0, COMMUNITY_DETAIL_ROWS));
    expect(detail.tradersNext).toBe(everyone[COMMUNITY_DETAIL_ROWS - 1]);
    expect(detail).not.toHaveProperty('metersNext');
    const rest = chain.query(energy, 'energyTraders', { id: 'big' }, { after: detail.tradersNext });
    expect(rest.traders.map((t: { address: string }) => t.address)).toEqual(everyone.slice(COMMUNITY_DETAIL_ROWS));
    expect(rest).not.toHaveProperty('next');
    for (const size of ['1', '7', '500']) {
      expect(allPages((after) => {
        const page = chain.query(energy, 'energyTraders', { id: 'big' }, { ...(after ? { after } : {}), limit: size });
        return { items: page.traders.map((t: { address: string }) => t.address), ...(page.next ? { next: page.next } : {}) };
      }).flat()).toEqual(everyone);
    }
    // the paging helper clients use gives the whole membership
    const read = readerOf(chain);
    expect((await wholeCommunity(read, 'big')).traders.map((t) => t.address)).toEqual(everyone);
    for (const bad of [{ limit: '0' }, { limit: '501' }, { after: 'member-1' }]) expect(energyRoutes.traders.query!.safeParse(bad).success).toBe(false);
    expect(() => chain.query(energy, 'energyTraders', { id: 'nowhere' })).toThrow(/does not exist/);
  });

  it("a community's meters and member communities, a page at a time; the communities an account trades in", async () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, owner, m.addTrader('nb', owner)); // the owner of a member community represents it in the parent
    for (const id of ['s3', 's1', 's2']) ok(chain, owner, m.create({ id, name: `Street ${id}`, parent: 'nb' }));
    const detail = chain.query(energy, 'getCommunity', { id: 'nb' });
    expect(detail.children).toEqual(['s1', 's2', 's3']);
    expect(detail).not.toHaveProperty('childrenNext');
    expect(allPages((after) => {
      const page = chain.query(energy, 'energyChildren', { id: 'nb' }, { ...(after ? { after } : {}), limit: '2' });
      return { items: page.children, ...(page.next ? { next: page.next } : {}) };
    })).toEqual([['s1', 's2'], ['s3']]);
    const meterIds = detail.meters.map((x: { meterId: string }) => x.meterId);
    expect(meterIds.length).toBeGreaterThan(1);
    expect(allPages((after) => {
      const page = chain.query(energy, 'energyMeters', { id: 'nb' }, { ...(after ? { after } : {}), limit: '1' });
      return { items: page.meters, ...(page.next ? { next: page.next } : {}) };
    }).flat()).toEqual(detail.meters);
    // alice trades in nb (with the meters ever linked to her there) and in a second community
    ok(chain, owner, m.create({ id: 'zz', name: 'Other' }));
    ok(chain, owner, m.addTrader('zz', alice));
    const ofAlice = (query: Record<string, unknown>) => chain.query(energy, 'energyTraderCommunities', { address: alice.address }, query);
    const linkedToAlice = detail.meters.filter((x: { links: Array<{ trader: string | null }> }) => x.links.some((l) => l.trader === alice.address)).map((x: { meterId: string }) => x.meterId);
    expect(ofAlice({}).communities.map((c: { community: { id: string }; meters: string[] }) => [c.community.id, c.meters])).toEqual([['nb', linkedToAlice], ['zz', []]]);
    expect(allPages((after) => {
      const page = ofAlice({ ...(after ? { after } : {}), limit: '1' });
      return { items: page.communities.map((c: { community: { id: string } }) => c.community.id), ...(page.next ? { next: page.next } : {}) };
    })).toEqual([['nb'], ['zz']]);
    const read = readerOf(chain);
    expect((await communitiesOfTrader(read, bob.address)).map((c) => c.community.id)).toEqual(['nb']);
    expect(await communitiesOfTrader(read, carol.address)).toEqual([]);
    expect(energyRoutes.traderCommunities.params!.safeParse({ address: 'alice' }).success).toBe(false);
  });

  it("a community's differences: meter by meter, slots in order, a page at a time with the page's totals; unlinked slots left out", () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, gridop, [m.official('C', S, 1_400, 0), m.official('C', S + 1, 800, 0), m.official('P', S, 0, 300)]);
    // C is unlinked from the next slot on: its official value there is nobody's in this community
    const later = GENESIS_TIME + 4 * SLOT_MS;
    ok(chain, owner, m.removeMeter({ community: 'nb', meterId: 'C' }), later);
    const unlinked = Math.floor(later / SLOT_MS) + 1;
    ok(chain, gridop, m.official('C', unlinked, 500, 0), later + 3 * SLOT_MS);
    const differences = (query: Record<string, unknown>) => chain.query(energy, 'energyDifferences', { id: 'nb' }, query);
    const whole = differences({});
    expect(whole.differences.map((d: { meterId: string; slot: number; importDiffWh: number }) => [d.meterId, d.slot, d.importDiffWh])).toEqual([['C', S, 1_400], ['C', S + 1, 800], ['P', S, 0]]);
    expect(whole.totals).toEqual({ importDiffWh: 2_200, exportDiffWh: 300 });
    expect(whole).not.toHaveProperty('next');
    for (const size of ['1', '2']) {
      const pages: Array<{ differences: unknown[]; totals: { importDiffWh: number; exportDiffWh: number }; next?: string }> = [];
      let after: string | undefined;
      do {
        const page = differences({ ...(after ? { after } : {}), limit: size });
        pages.push(page);
        after = page.next;
      } while (after !== undefined);
      expect(pages.flatMap((p) => p.differences)).toEqual(whole.differences);
      expect(pages.reduce((t, p) => t + p.totals.importDiffWh, 0)).toBe(2_200);
    }
    expect(differences({ limit: '1' }).next).toBe(`C/${S + 1}`);
    // a range narrows every meter's read
    expect(differences({ slot: String(S + 1) }).differences.map((d: { meterId: string }) => d.meterId)).toEqual(['C']);
    for (const bad of [{ limit: '0' }, { limit: '10001' }, { after: 'C' }, { after: 'C/x' }, { after: '/12' }]) expect(energyRoutes.differences.query!.safeParse(bad).success).toBe(false);
  });

  it(`a request for a community's differences reads at most ${DIFFERENCE_METERS_PER_REQUEST} meters, and \`next\` goes on from the first one left`, () => {
    const count = DIFFERENCE_METERS_PER_REQUEST + 2;
    const names = Array.from({ length: count }, (_, i) => `meter-${String(i).padStart(4, '0')}`);
    const chain = new TestChain({
      modules: [registryCore, meteringCore, energyCore],
      genesisTime: GENESIS_TIME,
      accounts: { owner: ['utility'], gridop: ['grid-operator'], alice: ['trader'], ...Object.fromEntries(names.map((n) => [n, ['meter']])) },
    });
    ok(chain, owner, m.create({ id: 'big', name: 'Big' }));
    ok(chain, owner, m.addTrader('big', alice));
    for (let i = 0; i < names.length; i += 64) {
      ok(chain, owner, names.slice(i, i + 64).map((n) => m.addMeter({ community: 'big', meterId: n, address: account(n).address, maxPowerW: 10_000, kind: 'consumer', trader: alice.address })));
    }
    ok(chain, gridop, m.official(names[count - 1]!, S, 100, 0)); // only the last meter has a difference
    const first = chain.query(energy, 'energyDifferences', { id: 'big' }, {});
    expect(first.differences).toEqual([]);
    expect(first.next).toBe(`${names[DIFFERENCE_METERS_PER_REQUEST]}/0`);
    const second = chain.query(energy, 'energyDifferences', { id: 'big' }, { after: first.next });
    expect(second.differences.map((d: { meterId: string; slot: number }) => [d.meterId, d.slot])).toEqual([[names[count - 1], S]]);
    expect(second).not.toHaveProperty('next');
  });
});
