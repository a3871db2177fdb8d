import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTER_SCAN_ROWS } from '../../src/app/collections.js';
import { Overlay, ReadOnlyStore, type KVStore } from '../../src/app/state.js';
import { payments } from '../../src/modules/payments/index.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { assetQuery, assetsQuery } from '../../src/modules/payments/queries.js';
import { paymentsRoutes } from '../../src/modules/payments/routes.js';
import { indexParty, listChannels, putAsset, listEscrows, listRedemptions, PENDING_SORT_ROWS, putChannel, putEscrow, putRedemption, type Channel, type Escrow, type PartyKind, type Redemption } from '../../src/modules/payments/state.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import type { QueryContext } from '../../src/surface/index.js';
import { TestChain } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { expectPagingInput, serveForCli, type ServedCli } from '../helpers/served-routes.js';
import { alice, ASSET, bob, carol, dave, dso, GENESIS_TIME, issuer, issuer2, keeperProbe, m, market, NOK, ok } from './helpers.js';

/**
 * The payments list routes answer a page at a time (ADR 0028): assets, an asset's pending
 * redemptions, redemptions, escrows and channels. Paged to the end each gives exactly the filtered
 * list, in its documented order, for several page sizes; a request reads at most FILTER_SCAN_ROWS
 * rows however much the state holds; bad paging input is refused with REQUEST_INVALID and changes
 * nothing; the CLI says how to go on.
 */

/** A module whose escrow ids (atlas/…) sort below the user ids e<n>; testmarket/… sorts above them. */
const atlas = keeperProbe('atlas');
const EUR = 'EUR';

type Query = Record<string, string | number>;
type Answer = Record<string, any>;
interface Page {
  items: Answer[];
  next?: string;
}

/** Runs a payments route's handler as the API does: query values as text through the route's schema, the answer through its response schema. */
function ask(ctx: QueryContext, name: string, query: Query, params: Query = {}): Answer {
  const r = payments.surface.routes!.find((x) => x.route.name === name)!;
  const text = (q: Query) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)]));
  const input = { params: r.route.params ? r.route.params.parse(text(params)) : undefined, query: r.route.query!.parse(text(query)), body: undefined };
  return r.route.response.parse(r.handle(ctx, input as never)) as Answer;
}

/** A query context over a bare store (the list handlers read the store, the height and the time). */
function contextOver(store: KVStore, height = 1_000_000, time = GENESIS_TIME): QueryContext {
  return { store, height, time } as unknown as QueryContext;
}

/** Every page from the first on, following `next`; checks that a request read at most `maxRows` rows when a counter is given. */
function allPages(fetch: (after: string | undefined) => Page, reads?: { rows: () => number; reset: () => void }): Page[] {
  const pages: Page[] = [];
  let after: string | undefined;
  do {
    reads?.reset();
    const page = fetch(after);
    if (reads) expect(reads.rows()).toBeLessThanOrEqual(FILTER_SCAN_ROWS);
    pages.push(page);
    after = page.next;
    expect(pages.length).toBeLessThan(100_000);
  } while (after !== undefined);
  return pages;
}

/** Pages of `limit`, each full but the last, which is not empty (unless the list is): a list read whole within one request's rows. */
function expectFullPages(pages: Page[], limit: number, expected: string[]): void {
  expect(pages.flatMap((p) => p.items.map((x) => x.id))).toEqual(expected);
  pages.slice(0, -1).forEach((p) => expect(p.items).toHaveLength(limit));
  expect(pages.at(-1)!.items.length > 0 || expected.length === 0).toBe(true);
}

const number = (id: string) => Number(id.replace(/^[a-z]+/, ''));
const byNumberDesc = (a: { id: string }, b: { id: string }) => number(b.id) - number(a.id);
const textDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/** The documented order of the lists without a party: numbered ids newest first, then module escrows (<module>/<ref>) in id order. */
function allInOrder<T extends { id: string }>(items: T[]): T[] {
  const numbered = items.filter((x) => !x.id.includes('/')).sort(byNumberDesc);
  const owned = items.filter((x) => x.id.includes('/')).sort((a, b) => -textDesc(a.id, b.id));
  return [...numbered, ...owned];
}

/** The documented order of a party's list, from its index: newest first by the height of the party's first entry for an id; within a height by id, descending as text. */
function partyOrder(store: KVStore, address: string, kind: PartyKind): string[] {
  const prefix = `payments/party/${address}/${kind}/`;
  const first = new Map<string, number>();
  for (const [key, id] of store.scan<string>(prefix)) {
    const height = Number(key.slice(prefix.length, prefix.length + 16));
    if (!first.has(id) || first.get(id)! > height) first.set(id, height);
  }
  return [...first.entries()].sort(([a, ha], [b, hb]) => hb - ha || textDesc(a, b)).map(([id]) => id);
}

// ── a chain with every kind of list item ──

function probeChain(): TestChain {
  return new TestChain({
    modules: [registryCore, paymentsCore, market, atlas],
    genesisTime: GENESIS_TIME,
    accounts: { issuer: ['issuer'], issuer2: ['issuer', 'utility'], alice: ['consumer'], bob: ['prosumer'], carol: ['prosumer'], dso: ['grid-operator'], dave: ['consumer'] },
  });
}

const openEscrow = (payee: string, amount: bigint, extra: Record<string, unknown> = {}) => m.escrowOpen({ amount: String(amount), payee, ...extra });

/**
 * Two assets (NOK@microgrid of issuer, EUR of issuer2); redemptions, user and module escrows and
 * channels over several blocks, many of them opened in one block (ids r9, r10 … share a height),
 * some closed.
 */
function busyChain(): TestChain {
  const chain = probeChain();
  ok(chain, issuer, m.createAsset());
  ok(chain, issuer2, m.createAsset(EUR, null, 'Euro'));
  for (const [who, i] of [[alice, 1], [bob, 2], [carol, 3]] as const) {
    ok(chain, issuer, m.mint(who, 1000n * NOK, `NOK-${i}`));
    ok(chain, issuer2, m.mint(who, 1000n * NOK, `EUR-${i}`, EUR));
  }
  // redemptions r1 … r12 in one block, then one a block
  ok(chain, alice, Array.from({ length: 12 }, (_, i) => m.redeem(BigInt(i + 1) * NOK, i % 3 === 0 ? EUR : ASSET)));
  ok(chain, bob, m.redeem(5n * NOK));
  ok(chain, carol, m.redeem(3n * NOK, EUR));
  ok(chain, issuer2, m.complete('r1', 'PAY-1'));
  ok(chain, issuer, m.complete('r2', 'PAY-2'));
  ok(chain, issuer, m.reject('r3'));
  ok(chain, alice, m.redeem(2n * NOK));
  ok(chain, issuer, m.complete('r13', 'PAY-3'));
  // user escrows e1 … e11 in one block, e12 … e13 later; module escrows of atlas and testmarket between them
  ok(chain, alice, Array.from({ length: 11 }, (_, i) => openEscrow(bob.address, BigInt(i + 1) * NOK, i % 2 === 0 ? { mediator: dso.address } : { others: [carol.address] })));
  ok(chain, alice, m.probe('testmarket', 'escrow-open', { ref: 'bid/1', payee: bob.address, asset: ASSET, amount: String(NOK) }));
  ok(chain, bob, m.probe('atlas', 'escrow-open', { ref: 'x/1', payee: carol.address, asset: EUR, amount: String(NOK) }));
  ok(chain, bob, openEscrow(carol.address, 4n * NOK, { mediator: dso.address }));
  ok(chain, carol, [m.probe('atlas', 'escrow-open', { ref: 'x/2', payee: alice.address, asset: ASSET, amount: String(NOK) }), m.probe('testmarket', 'escrow-open', { ref: 'ask/9', payee: bob.address, asset: ASSET, amount: String(NOK) })]);
  ok(chain, carol, openEscrow(alice.address, NOK));
  ok(chain, alice, m.approve('e1', 'release'));
  ok(chain, bob, m.approve('e1', 'release'));
  ok(chain, bob, m.approve('e10', 'refund'));
  ok(chain, alice, m.approve('e10', 'refund'));
  ok(chain, alice, m.probe('testmarket', 'escrow-release', { ref: 'bid/1' }));
  // channels ch1 … ch11 in one block, ch12 later; two closed
  ok(chain, alice, Array.from({ length: 11 }, (_, i) => m.channelOpen(i % 4 === 0 ? carol : bob, BigInt(i + 1) * NOK)));
  ok(chain, carol, m.channelOpen(bob, NOK, undefined, EUR));
  ok(chain, bob, m.channelClose('ch2'));
  ok(chain, carol, m.channelClose('ch1'));
  return chain;
}

const SIZES = [1, 2, 3, 5, 7, 1000];

describe('redemptions, escrows and channels: paged to the end, exactly the filtered list in its order', () => {
  const chain = busyChain();
  const ctx = () => chain.queryContext('payments');
  const pagesOf = (route: string, key: string, query: Query, limit: number) =>
    allPages((after) => {
      const answer = ask(ctx(), route, { ...query, ...(after ? { after } : {}), limit });
      return { items: answer[key], ...(answer.next ? { next: answer.next } : {}) };
    });

  it('redemptions: all, of an asset, of a party (holder or issuer), by status', () => {
    const all = listRedemptions(chain.store);
    expect(all.length).toBe(15);
    const keepOf = (q: { asset?: string; status?: string }) => (r: Redemption) => (q.asset === undefined || r.asset === q.asset) && (q.status === undefined || q.status === 'all' || (q.status === 'pending') === (r.status === 'pending'));
    let cases = 0;
    for (const party of [undefined, alice.address, bob.address, issuer.address, issuer2.address, dave.address]) {
      for (const asset of [undefined, ASSET, EUR]) {
        for (const status of ['all', 'pending', 'closed'] as const) {
          const keep = keepOf({ ...(asset ? { asset } : {}), status });
          const order = party === undefined ? allInOrder(all).map((r) => r.id) : partyOrder(chain.store, party, 'redeem');
          const expected = order.filter((id) => keep(all.find((r) => r.id === id)!));
          const query = { ...(party ? { party } : {}), ...(asset ? { asset } : {}), status };
          for (const size of SIZES) expectFullPages(pagesOf('paymentsRedemptions', 'redemptions', query, size), size, expected);
          if (expected.length > 0) cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(20);
    // of a party: newest first by block; r1 … r12 share one block, where ids run in descending text order
    expect(ask(ctx(), 'paymentsRedemptions', { party: alice.address }).redemptions.map((r: Redemption) => r.id)).toEqual(['r15', 'r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r12', 'r11', 'r10', 'r1']);
    // without a party: newest first by number
    expect(ask(ctx(), 'paymentsRedemptions', { asset: ASSET, status: 'pending' }).redemptions.map((r: Redemption) => r.id)).toEqual(['r15', 'r12', 'r11', 'r9', 'r8', 'r6', 'r5']);
  });

  it('escrows: all (user escrows by number, then module escrows by id), of each party, by status', () => {
    const all = listEscrows(chain.store);
    expect(all.filter((e) => e.kind === 'module').map((e) => e.id).sort()).toEqual(['atlas/x/1', 'atlas/x/2', 'testmarket/ask/9', 'testmarket/bid/1']);
    expect(ask(ctx(), 'paymentsEscrows', { status: 'all' }).escrows.map((e: Escrow) => e.id)).toEqual([
      'e13', 'e12', 'e11', 'e10', 'e9', 'e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'atlas/x/1', 'atlas/x/2', 'testmarket/ask/9', 'testmarket/bid/1',
    ]);
    for (const party of [undefined, alice.address, bob.address, carol.address, dso.address, dave.address]) {
      for (const status of ['open', 'closed', 'all'] as const) {
        const keep = (e: Escrow) => status === 'all' || (status === 'open') === (e.status === 'open');
        const order = party === undefined ? allInOrder(all).map((e) => e.id) : partyOrder(chain.store, party, 'escrow');
        const expected = order.filter((id) => keep(all.find((e) => e.id === id)!));
        for (const size of SIZES) expectFullPages(pagesOf('paymentsEscrows', 'escrows', { ...(party ? { party } : {}), status }, size), size, expected);
      }
    }
  });

  it('channels: all and of each party, by status', () => {
    const all = listChannels(chain.store);
    expect(all.length).toBe(12);
    for (const party of [undefined, alice.address, bob.address, carol.address, dave.address]) {
      for (const status of ['open', 'closed', 'all'] as const) {
        const keep = (c: Channel) => status === 'all' || (status === 'open') === (c.status === 'open');
        const order = party === undefined ? allInOrder(all).map((c) => c.id) : partyOrder(chain.store, party, 'channel');
        const expected = order.filter((id) => keep(all.find((c) => c.id === id)!));
        for (const size of SIZES) expectFullPages(pagesOf('paymentsChannels', 'channels', { ...(party ? { party } : {}), status }, size), size, expected);
      }
    }
    expect(ask(ctx(), 'paymentsChannels', { status: 'all' }).channels.map((c: Channel) => c.id)).toEqual(['ch12', 'ch11', 'ch10', 'ch9', 'ch8', 'ch7', 'ch6', 'ch5', 'ch4', 'ch3', 'ch2', 'ch1']);
  });

  it("a mediator appointed again after it was replaced sees the escrow once, at its first entry in its index", () => {
    const c = probeChain();
    ok(c, issuer, m.createAsset());
    ok(c, issuer, m.mint(alice, 100n * NOK, 'D-1'));
    ok(c, alice, openEscrow(bob.address, 10n * NOK, { mediator: dso.address })); // e1
    ok(c, alice, openEscrow(carol.address, NOK, { mediator: dso.address })); // e2: another escrow of the mediators, between the appointments
    ok(c, alice, m.dispute('e1'));
    // dso (original) → dave → dso → dave: dso has two entries for e1, dave two as well (never the original)
    for (const [now, next] of [[dso, dave], [dave, dso], [dso, dave]] as const) {
      ok(c, now, m.propose('e1', 6n * NOK, 4n * NOK));
      ok(c, alice, m.rejectSplit('e1'));
      ok(c, bob, m.rejectSplit('e1'));
      ok(c, alice, m.replaceMediator('e1', next));
      ok(c, bob, m.replaceMediator('e1', next));
      ok(c, alice, openEscrow(carol.address, NOK, { mediator: next.address })); // e3, e4, e5
    }
    const entries = (who: string) => c.store.scan<string>(`payments/party/${who}/escrow/`).filter(([, id]) => id === 'e1');
    expect(entries(dso.address)).toHaveLength(2);
    expect(entries(dave.address)).toHaveLength(2);
    expect(c.store.get<Escrow>('payments/escrow/e1')!.dispute!.replaced).toEqual([dso.address, dave.address, dso.address]);
    const ctxC = c.queryContext('payments');
    for (const who of [dso, dave, alice]) {
      const expected = partyOrder(c.store, who.address, 'escrow');
      expect(expected.filter((id) => id === 'e1')).toHaveLength(1);
      for (const size of SIZES) {
        const pages = allPages((after) => {
          const answer = ask(ctxC, 'paymentsEscrows', { party: who.address, status: 'all', ...(after ? { after } : {}), limit: size });
          return { items: answer.escrows, ...(answer.next ? { next: answer.next } : {}) };
        });
        expect(pages.flatMap((p) => p.items.map((x) => x.id))).toEqual(expected);
      }
    }
    // dso at the opening (e1 below e2), dave at its first appointment (after e2, before e3 … e5)
    expect(ask(ctxC, 'paymentsEscrows', { party: dso.address, status: 'all' }).escrows.map((e: Escrow) => e.id)).toEqual(['e4', 'e2', 'e1']);
    expect(ask(ctxC, 'paymentsEscrows', { party: dave.address, status: 'all' }).escrows.map((e: Escrow) => e.id)).toEqual(['e5', 'e3', 'e1']);
  });
});

describe('assets and an asset\'s pending redemptions', () => {
  it('assets: pages of `limit` in id order, `next` until the last one', () => {
    const chain = probeChain();
    const codes = ['NOK', 'SEK', 'DKK', 'EUR', 'ISK', 'CHF', 'GBP'];
    for (const code of codes) ok(chain, code === 'EUR' ? issuer2 : issuer, m.createAsset(code, code === 'SEK' ? 'north' : null, code));
    const ids = codes.map((c) => (c === 'SEK' ? 'SEK@north' : c)).sort();
    // through the route's handler, as the API runs it
    const list = (query: Query) => ask(chain.queryContext('payments'), 'paymentsAssets', query) as ReturnType<typeof assetsQuery>;
    expect(list({}).assets.map((a) => a.id)).toEqual(ids);
    expect(list({})).not.toHaveProperty('next');
    for (const size of [1, 2, 3, 7]) {
      const pages = allPages((after) => {
        const answer = list({ ...(after ? { after } : {}), limit: size });
        expect(answer.supply.map((s) => s.asset)).toEqual(answer.assets.map((a) => a.id));
        return { items: answer.assets, ...(answer.next ? { next: answer.next } : {}) };
      });
      expectFullPages(pages, size, ids);
    }
    expect(list({ after: ids.at(-1)! }).assets).toEqual([]);
    expect(paymentsRoutes.listAssets.query!.parse({}).limit).toBe(100);
  });

  it("an asset's answer carries the newest pending redemption ids, and the redemptions route pages on from there", () => {
    const chain = probeChain();
    ok(chain, issuer, m.createAsset());
    ok(chain, issuer, m.mint(alice, 1000n * NOK, 'D-1'));
    for (let block = 0; block < 3; block++) ok(chain, alice, Array.from({ length: 45 }, () => m.redeem(1n)));
    ok(chain, issuer, [m.complete('r100', 'P-1'), m.reject('r7')]);
    const pending = Array.from({ length: 135 }, (_, i) => `r${135 - i}`).filter((id) => id !== 'r100' && id !== 'r7');
    const view = ask(chain.queryContext('payments'), 'paymentsAsset', {}, { asset: ASSET });
    expect(view.pendingRedemptions).toEqual(pending.slice(0, 100));
    expect(view.pendingRedemptionsNext).toBe(pending[99]);
    const rest = ask(chain.queryContext('payments'), 'paymentsRedemptions', { asset: ASSET, status: 'pending', after: view.pendingRedemptionsNext, limit: 1000 });
    expect(rest.redemptions.map((r: Redemption) => r.id)).toEqual(pending.slice(100));
    expect(rest).not.toHaveProperty('next');
    // all of them: no next
    const few = paymentsRoutes.getAsset.response.parse(assetQuery(chain.queryContext('payments'), ASSET, 1, 1000));
    expect(few.pendingRedemptions).toEqual(pending);
    expect(few).not.toHaveProperty('pendingRedemptionsNext');
    // attestations=0 and pending=0: the asset record alone (what the read policy needs to learn the issuer)
    const reads = countingStore(chain.store);
    const ctx = chain.queryContext('payments', reads.store);
    reads.reset();
    const bare = assetQuery(ctx, ASSET, 0, 0);
    expect(reads.rows()).toBe(1);
    expect(bare).toMatchObject({ attestations: [], pendingRedemptions: [] });
    expect(bare.asset.issuer).toBe(issuer.address);
    expect(paymentsRoutes.getAsset.query!.parse({ attestations: '0', pending: '0' })).toEqual({ attestations: 0, pending: 0 });
  });
});

// ── bounded reads on a large state ──

const HEIGHT_OF = (n: number) => Math.ceil(n / 7);
const at = (height: number) => ({ height, time: GENESIS_TIME + height * 1000, txHash: 'ab'.repeat(32) });

/**
 * A state far larger than one request reads, written directly (queries only read): 24,000
 * redemptions (every 500th of bob, every 1000th of EUR, a quarter of NOK pending: more than one
 * request sorts), 15,000 user escrows and 120 module escrows (a few open), 12,000 channels (a few
 * open), seven items a block.
 */
function bigState() {
  const overlay = new Overlay(new Storage(':memory:'));
  const redemptions: Redemption[] = [];
  for (let n = 1; n <= 24_000; n++) {
    const asset = n % 1000 === 7 ? EUR : ASSET;
    const holder = n % 500 === 0 ? bob.address : alice.address;
    const status = asset === EUR || n % 4 === 0 ? 'pending' : n % 2 ? 'completed' : 'rejected';
    const r: Redemption = { id: `r${n}`, asset, holder, amount: '1', status, requestedAt: at(HEIGHT_OF(n)), ...(status !== 'pending' ? { closedAt: at(HEIGHT_OF(n) + 1) } : {}) };
    putRedemption(overlay, r);
    indexParty(overlay, holder, 'redeem', HEIGHT_OF(n), r.id);
    indexParty(overlay, asset === EUR ? issuer2.address : issuer.address, 'redeem', HEIGHT_OF(n), r.id);
    redemptions.push(r);
  }
  const escrows: Escrow[] = [];
  const escrow = (id: string, n: number, payee: string, kind: 'user' | 'module', open: boolean): Escrow => ({
    id,
    kind,
    ...(kind === 'module' ? { owner: id.split('/')[0]! } : {}),
    asset: ASSET,
    amount: '10',
    payer: alice.address,
    payee,
    parties: [alice.address, payee],
    threshold: kind === 'user' ? 2 : 0,
    status: open ? 'open' : 'released',
    approvals: { release: [], refund: [] },
    paidToPayee: open ? '0' : '10',
    paidToPayer: '0',
    openedAt: at(HEIGHT_OF(n)),
  });
  for (let n = 1; n <= 15_000; n++) escrows.push(escrow(`e${n}`, n, n % 300 === 0 ? carol.address : bob.address, 'user', n % 1000 === 1));
  for (let k = 1; k <= 40; k++) for (const module of ['atlas', 'flex', 'testmarket']) escrows.push(escrow(`${module}/ref/${k}`, 15_000 + k, bob.address, 'module', k % 10 === 3));
  for (const e of escrows) {
    putEscrow(overlay, e);
    for (const p of e.parties) indexParty(overlay, p, 'escrow', e.openedAt.height, e.id);
  }
  const channels: Channel[] = [];
  for (let n = 1; n <= 12_000; n++) {
    const open = n % 997 === 0;
    const c: Channel = { id: `ch${n}`, buyer: alice.address, seller: bob.address, asset: ASSET, deposit: '5', refundTime: GENESIS_TIME + 1e9, status: open ? 'open' : 'closed', openedAt: at(HEIGHT_OF(n)), ...(open ? {} : { payout: '2', refund: '3', closedAt: at(HEIGHT_OF(n) + 1) }) };
    putChannel(overlay, c);
    indexParty(overlay, alice.address, 'channel', HEIGHT_OF(n), c.id);
    indexParty(overlay, bob.address, 'channel', HEIGHT_OF(n), c.id);
    channels.push(c);
  }
  for (const [kind, n] of [['redeem', 24_000], ['escrow', 15_000], ['channel', 12_000]] as const) overlay.set(`payments/counter/${kind}`, n);
  for (const [id, by] of [[ASSET, issuer], [EUR, issuer2]] as const) {
    const held = { redeeming: '0', locked: '0', escrowed: '0', channels: '0' };
    putAsset(overlay, { id, code: id.split('@')[0]!, name: id, decimals: 6, issuer: by.address, supply: '0', minted: '0', burned: '0', held, attestations: 0, createdAt: at(1) });
  }
  const storage = new Storage(':memory:');
  storage.writeGenesis(overlay.writes, []);
  return { store: new ReadOnlyStore(storage), redemptions, escrows, channels };
}

describe('a request reads at most FILTER_SCAN_ROWS rows however large the state', () => {
  const big = bigState();
  const reads = countingStore(big.store);
  const ctx = contextOver(reads.store);
  const pagesOf = (route: string, key: string, query: Query, limit: number) =>
    allPages((after) => {
      const answer = ask(ctx, route, { ...query, ...(after ? { after } : {}), limit });
      return { items: answer[key], ...(answer.next ? { next: answer.next } : {}) };
    }, reads);
  const ids = (pages: Page[]) => pages.flatMap((p) => p.items.map((x) => x.id));

  it('redemptions: every filter, paged to the end, each item once in order; a rare filter answers short pages that go on', () => {
    const cases: Array<{ query: Query; keep: (r: Redemption) => boolean; order: string[] }> = [];
    const all = allInOrder(big.redemptions).map((r) => r.id);
    cases.push({ query: { status: 'all' }, keep: () => true, order: all });
    cases.push({ query: { asset: EUR, status: 'all' }, keep: (r) => r.asset === EUR, order: all });
    cases.push({ query: { asset: ASSET, status: 'pending' }, keep: (r) => r.asset === ASSET && r.status === 'pending', order: all });
    cases.push({ query: { asset: EUR, status: 'pending' }, keep: (r) => r.asset === EUR && r.status === 'pending', order: all });
    cases.push({ query: { party: bob.address, status: 'all' }, keep: () => true, order: partyOrder(big.store, bob.address, 'redeem') });
    cases.push({ query: { party: issuer.address, status: 'closed' }, keep: (r) => r.status !== 'pending', order: partyOrder(big.store, issuer.address, 'redeem') });
    cases.push({ query: { party: issuer2.address, status: 'pending' }, keep: (r) => r.status === 'pending', order: partyOrder(big.store, issuer2.address, 'redeem') });
    cases.push({ query: { party: alice.address, asset: EUR, status: 'all' }, keep: (r) => r.asset === EUR, order: partyOrder(big.store, alice.address, 'redeem') });
    const byId = new Map(big.redemptions.map((r) => [r.id, r]));
    expect(big.redemptions.filter((r) => r.asset === ASSET && r.status === 'pending').length).toBeGreaterThan(PENDING_SORT_ROWS);
    for (const { query, keep, order } of cases) {
      const expected = order.filter((id) => keep(byId.get(id)!));
      for (const size of [1000, 137]) expect(ids(pagesOf('paymentsRedemptions', 'redemptions', query, size)), JSON.stringify(query)).toEqual(expected);
    }
    // 24 EUR redemptions among 24,000: each request stops at its rows, with a short page and a next
    const rare = pagesOf('paymentsRedemptions', 'redemptions', { asset: EUR, status: 'all' }, 1000);
    expect(rare.length).toBeGreaterThanOrEqual(3);
    expect(rare[0]!.items.length).toBeLessThan(24);
    // the pending index of EUR is small: read whole and sorted, one page
    expect(pagesOf('paymentsRedemptions', 'redemptions', { asset: EUR, status: 'pending' }, 1000)).toHaveLength(1);
    // an asset's answer: its newest pending ids (100 and a next), then the redemptions route from there
    const pendingOf = (asset: string) => allInOrder(big.redemptions.filter((r) => r.asset === asset && r.status === 'pending')).map((r) => r.id);
    for (const asset of [ASSET, EUR]) {
      reads.reset();
      const view = ask(ctx, 'paymentsAsset', { attestations: 0 }, { asset });
      expect(reads.rows()).toBeLessThanOrEqual(FILTER_SCAN_ROWS);
      expect(view.pendingRedemptions).toEqual(pendingOf(asset).slice(0, 100));
      if (asset === EUR) expect(view).not.toHaveProperty('pendingRedemptionsNext');
      else expect([...view.pendingRedemptions, ...ids(pagesOf('paymentsRedemptions', 'redemptions', { asset, status: 'pending', after: view.pendingRedemptionsNext }, 1000))]).toEqual(pendingOf(asset));
    }
  });

  it('escrows: all (user escrows, then module escrows), open ones (rare), of a party', () => {
    const byId = new Map(big.escrows.map((e) => [e.id, e]));
    const all = allInOrder(big.escrows).map((e) => e.id);
    const open = (id: string) => byId.get(id)!.status === 'open';
    for (const size of [1000, 137]) {
      expect(ids(pagesOf('paymentsEscrows', 'escrows', { status: 'all' }, size))).toEqual(all);
      expect(ids(pagesOf('paymentsEscrows', 'escrows', { status: 'open' }, size))).toEqual(all.filter(open));
      expect(ids(pagesOf('paymentsEscrows', 'escrows', { status: 'closed', party: carol.address }, size))).toEqual(partyOrder(big.store, carol.address, 'escrow').filter((id) => !open(id)));
      expect(ids(pagesOf('paymentsEscrows', 'escrows', { status: 'open', party: alice.address }, size))).toEqual(partyOrder(big.store, alice.address, 'escrow').filter(open));
    }
    expect(all.slice(15_000, 15_003)).toEqual(['atlas/ref/1', 'atlas/ref/10', 'atlas/ref/11']);
  });

  it('channels: all, open ones (rare), of a party', () => {
    const all = allInOrder(big.channels).map((c) => c.id);
    const open = new Set(big.channels.filter((c) => c.status === 'open').map((c) => c.id));
    for (const size of [1000, 137]) {
      expect(ids(pagesOf('paymentsChannels', 'channels', { status: 'all' }, size))).toEqual(all);
      expect(ids(pagesOf('paymentsChannels', 'channels', { status: 'open' }, size))).toEqual(all.filter((id) => open.has(id)));
      expect(ids(pagesOf('paymentsChannels', 'channels', { status: 'open', party: bob.address }, size))).toEqual(partyOrder(big.store, bob.address, 'channel').filter((id) => open.has(id)));
    }
  });
});

// ── bad input and the CLI ──

describe('paging input through the API server', () => {
  it('a page size out of range, a malformed cursor or one of the other kind of list: 400 REQUEST_INVALID, and nothing changes', async () => {
    const chain = busyChain();
    const partyCursor = ask(chain.queryContext('payments'), 'paymentsEscrows', { party: alice.address, status: 'all', limit: 1 }).next as string;
    expect(partyCursor).toMatch(/^\d{16}\/e\d+$/);
    const p = '/v1/payments';
    const bad = [
      `${p}/assets?limit=0`,
      `${p}/assets?limit=501`,
      `${p}/assets?after=nok`,
      `${p}/assets/${encodeURIComponent(ASSET)}?pending=1001`,
      `${p}/assets/${encodeURIComponent(ASSET)}?attestations=-1`,
      `${p}/redemptions?limit=0`,
      `${p}/redemptions?limit=1001`,
      `${p}/redemptions?after=r0`,
      `${p}/redemptions?after=e1`,
      `${p}/redemptions?after=12%2Fr1`,
      `${p}/redemptions?after=${encodeURIComponent(`${'0'.repeat(16)}/r1`)}`,
      `${p}/redemptions?party=${alice.address}&after=r5`,
      `${p}/escrows?limit=0`,
      `${p}/escrows?limit=1001`,
      `${p}/escrows?after=ch1`,
      `${p}/escrows?after=Market%2Fbid`,
      `${p}/escrows?after=${encodeURIComponent(partyCursor)}`,
      `${p}/escrows?party=${bob.address}&after=e3`,
      `${p}/channels?limit=0`,
      `${p}/channels?after=c1`,
      `${p}/channels?party=${bob.address}&after=ch3`,
    ];
    await expectPagingInput(chain, payments, { bad, good: [`${p}/assets?limit=1&after=EUR`, `${p}/escrows?status=all&after=${encodeURIComponent('atlas/x/1')}`, `${p}/escrows?party=${alice.address}&after=${encodeURIComponent(partyCursor)}`, `${p}/redemptions?after=r3`, `${p}/channels?status=all&after=ch2&limit=1`] });
  });
});

describe('the CLI pages with --after and --limit and says how to go on', () => {
  let chain: TestChain;
  let served: ServedCli;
  beforeAll(async () => {
    chain = busyChain();
    served = await serveForCli(chain, payments);
  });
  afterAll(async () => {
    await served?.close();
  });
  const cli = (...argv: string[]) => served.cli(...argv);
  const follow = async (argv: string[]) => (await served.follow(argv)).map((page) => page.map((l) => l.split(' ')[0]!));

  it('redemptions, escrows and channels', async () => {
    const redemptions = await follow(['query', 'pay', 'redemptions', '--limit', '4']);
    expect(redemptions.map((p) => p.length)).toEqual([4, 4, 4, 3]);
    expect(redemptions.flat()).toEqual(allInOrder(listRedemptions(chain.store)).map((r) => r.id));
    const escrows = await follow(['query', 'escrow', 'list', '--party', alice.address, '--status', 'all', '--limit', '5']);
    expect(escrows.flat()).toEqual(partyOrder(chain.store, alice.address, 'escrow'));
    expect(escrows.length).toBeGreaterThan(2);
    const channels = await follow(['query', 'channel', 'list', '--party', bob.address, '--status', 'all', '--limit', '3']);
    expect(channels.flat()).toEqual(partyOrder(chain.store, bob.address, 'channel'));
    // JSON carries the cursor as `next`
    const json = JSON.parse(await cli('-o', 'json', 'query', 'pay', 'redemptions', '--limit', '2'));
    expect(json.next).toBe('r14');
    expect(paymentsRoutes.redemptions.response.safeParse(json).success).toBe(true);
  });
});
