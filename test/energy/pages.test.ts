import { describe, expect, it } from 'vitest';
import { energy } from '../../src/modules/energy/index.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { registry } from '../../src/modules/registry/index.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { account, TestChain } from '../helpers/chain.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { LOG_SCAN_ROWS, ROLE_SCAN_ROWS } from '../../src/modules/registry/state.js';
import { alice, bob, carol, energyChain, m, ok, owner, S, setupCommunity } from './helpers.js';

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
      const page = chain.query(registry, 'listAccounts', {}, { role: 'auditor', ...(after ? { after } : {}) });
      pages.push(page);
      after = page.next;
    } while (after !== undefined);
    expect(pages.length).toBeGreaterThan(1); // the first request stopped after ROLE_SCAN_ROWS accounts
    expect(pages.flatMap((p) => p.accounts.map((a) => a.address))).toEqual([account('lone').address]);
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
});
