import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { anon, ANON_MSG, buildAdmission } from '../../src/modules/anon/index.js';
import { anonCore } from '../../src/modules/anon/module.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { loadVerifyingKey } from '../../src/zk/artifacts.js';
import { identityCommitment } from '../../src/zk/circuits.js';
import { closeProver, randomFieldElement } from '../../src/zk/prove.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';
import { collectPages } from '../helpers/pages.js';

/**
 * The anonymous offer board's rules on an in-process chain (the happy path and the dispute run on
 * a node through the CLI in cli.e2e.test.ts): who may post and take, which escrow settles an offer.
 */

const ASSET = 'NOK@microgrid';
const alice = account('alice');
const bob = account('bob');
const dso = account('dso');
const bank = account('bank');
const secrets = new Map([alice, bob].map((a) => [a.address, randomFieldElement()]));
const seller = account(`board-seller-${randomFieldElement().toString(36).slice(0, 6)}`);
const buyer = account(`board-buyer-${randomFieldElement().toString(36).slice(0, 6)}`);
let chain: TestChain;

function send(from: TestAccount, msg: Msg): { code: string; events: Array<{ type: string; attributes: Record<string, string> }> } {
  return chain.send(from, msg) as never;
}
function ok(from: TestAccount, msg: Msg) {
  const res = send(from, msg);
  expect(res, JSON.stringify(res)).toMatchObject({ code: 'OK' });
  return res;
}
const attr = (res: ReturnType<typeof send>, type: string, key: string) => res.events.find((e) => e.type === type)!.attributes[key]!;
const offerMsg = (over: Record<string, unknown> = {}): Msg => ({ type: ANON_MSG.offer, value: { energyWh: 4000, amount: '10000000', asset: ASSET, deliveryStart: 3_600_000, deliveryEnd: 7_200_000, ...over } });
const escrowMsg = (over: Record<string, unknown> = {}): Msg => ({ type: 'payments/escrow-open', value: { asset: ASSET, amount: '10000000', payee: seller.address, mediator: dso.address, ...over } });

beforeAll(async () => {
  chain = new TestChain({ modules: [registryCore, paymentsCore, anonCore], accounts: { alice: ['prosumer'], bob: ['consumer'], dso: ['grid-operator'], bank: ['issuer'] } });
  ok(chain.operator, { type: ANON_MSG.registerKey, value: { circuit: 'membership', key: loadVerifyingKey('membership') } });
  for (const m of [alice, bob]) ok(m, { type: ANON_MSG.register, value: { commitment: identityCommitment(secrets.get(m.address)!).toString() } });
  const status = chain.query(anon, 'anonStatus');
  const leaves = chain.query(anon, 'anonLeaves').leaves;
  for (const [member, fresh] of [[alice, seller], [bob, buyer]] as const) {
    const value = await buildAdmission({ chainId: chain.chainId, secret: secrets.get(member.address)!, leaves, epoch: status.epoch, slot: 0, maxSlots: status.maxSlots, address: fresh.address });
    const [res] = chain.block([signTx({ chainId: chain.chainId, sender: fresh.address, nonce: 0, expiresAtHeight: chain.app.height + 10, msgs: [{ type: ANON_MSG.admit, value }], memo: '' }, fresh.signer)]);
    expect(res).toMatchObject({ code: 'OK' });
  }
  ok(bank, { type: 'payments/create-asset', value: { code: 'NOK', scope: 'microgrid', name: 'Microgrid kroner' } });
  ok(bank, { type: 'payments/mint', value: { asset: ASSET, to: buyer.address, amount: '50000000', depositRef: 'BOARD-1' } });
});
afterAll(closeProver);

describe('anonymous offer board', () => {
  it('only active anonymous accounts post; the asset must exist and the delivery window be proper', () => {
    expect(send(alice, offerMsg()).code).toBe('ANON_NOT_ANONYMOUS');
    expect(send(seller, offerMsg({ asset: 'EUR@nowhere' })).code).toBe('ANON_ASSET_NOT_FOUND');
    expect(send(seller, offerMsg({ deliveryEnd: 3_600_000 })).code).toBe('ANON_DELIVERY_WINDOW_INVALID');
    expect(send(seller, offerMsg({ messagingKey: 'zz' })).code).toBe('MSG_INVALID');
    const messagingKey = 'ab'.repeat(32);
    const id = attr(ok(seller, offerMsg({ messagingKey })), 'anon.offer_posted', 'id');
    expect(chain.query(anon, 'anonOffer', { id }).offer).toMatchObject({ status: 'open', seller: seller.address, energyWh: 4000, messagingKey });
  });

  it("take: the escrow must be the offer's 2-of-3 with a grid operator mediating, paid by the taker, used once", () => {
    const id = attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id');
    const escrowOf = (msg: Msg) => attr(ok(buyer, msg), 'payments.escrow_opened', 'id');
    expect(send(seller, { type: ANON_MSG.take, value: { offer: id, escrow: 'e99' } }).code).toBe('ANON_OWN_OFFER');
    expect(send(buyer, { type: ANON_MSG.take, value: { offer: id, escrow: 'e99' } }).code).toBe('ANON_ESCROW_NOT_FOUND');
    for (const wrong of [escrowMsg({ mediator: undefined }), escrowMsg({ amount: '9000000' }), escrowMsg({ mediator: alice.address }), escrowMsg({ threshold: 1 })]) {
      expect(send(buyer, { type: ANON_MSG.take, value: { offer: id, escrow: escrowOf(wrong) } }).code).toBe('ANON_ESCROW_MISMATCH');
    }
    const escrow = escrowOf(escrowMsg());
    expect(send(alice, { type: ANON_MSG.take, value: { offer: id, escrow } }).code).toBe('ANON_NOT_ANONYMOUS');
    ok(buyer, { type: ANON_MSG.take, value: { offer: id, escrow } });
    expect(chain.query(anon, 'anonOffer', { id }).offer).toMatchObject({ status: 'taken', buyer: buyer.address, escrow, mediator: dso.address });
    expect(send(buyer, { type: ANON_MSG.take, value: { offer: id, escrow } }).code).toBe('ANON_OFFER_NOT_OPEN');
    const other = attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id');
    expect(send(buyer, { type: ANON_MSG.take, value: { offer: other, escrow } }).code).toBe('ANON_ESCROW_USED');
  });

  it('withdraw: only the seller, only while open', () => {
    const id = attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id');
    expect(send(buyer, { type: ANON_MSG.withdrawOffer, value: { offer: id } }).code).toBe('ANON_NOT_SELLER');
    ok(seller, { type: ANON_MSG.withdrawOffer, value: { offer: id } });
    expect(send(seller, { type: ANON_MSG.withdrawOffer, value: { offer: id } }).code).toBe('ANON_OFFER_NOT_OPEN');
    expect(send(seller, { type: ANON_MSG.withdrawOffer, value: { offer: 'o999' } }).code).toBe('ANON_OFFER_NOT_FOUND');
    expect(chain.query(anon, 'anonOffers', {}, { status: 'withdrawn' }).offers.map((o: { id: string }) => o.id)).toEqual([id]);
    // the board a page at a time, newest first, to the first offer
    const more = [attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id'), attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id')];
    const everything = chain.query(anon, 'anonOffers', {}, {}).offers.map((o: { id: string }) => o.id);
    expect(everything.slice(0, 2)).toEqual([...more].reverse());
    const paged: string[] = [];
    let after: string | undefined;
    do {
      const page = chain.query(anon, 'anonOffers', {}, { limit: 1, ...(after ? { after } : {}) });
      paged.push(...page.offers.map((o: { id: string }) => o.id));
      after = page.next;
    } while (after !== undefined);
    expect(paged).toEqual(everything);
  });

  it('the board by status comes from the node index (ADR 0029 point 1): the answer the scan gives, in full pages', () => {
    const posted = Array.from({ length: 10 }, () => attr(ok(seller, offerMsg()), 'anon.offer_posted', 'id'));
    for (const id of posted.slice(0, 7)) ok(seller, { type: ANON_MSG.withdrawOffer, value: { offer: id } });
    // Through the node's index, or as a proven answer reads (no index).
    const collect = (status: string, indexed: boolean) => {
      const { items, sizes } = collectPages((after) => {
        const page = chain.query(anon, 'anonOffers', {}, { status, limit: '2', ...(after ? { after } : {}) }, { queryIndexes: indexed }) as { offers: Array<{ id: string }>; next?: string };
        return { items: page.offers.map((o) => o.id), next: page.next };
      });
      return { ids: items, sizes };
    };
    for (const status of ['open', 'taken', 'withdrawn']) {
      const viaIndex = collect(status, true);
      expect(viaIndex.ids, status).toEqual(collect(status, false).ids);
      expect(viaIndex.sizes.slice(0, -1).every((n) => n === 2), `${status}: ${viaIndex.sizes}`).toBe(true);
    }
    expect(collect('open', true).ids.slice(0, 3)).toEqual(posted.slice(7).reverse());
    // The node's answer is the index's: a row taken out of it is missing from the answer, not from the scan's.
    chain.storage.db.prepare("DELETE FROM query_index WHERE name = 'anon/offers-by-status' AND ikey = 'open' AND skey = ?").run('anon/offer/' + posted[9]!.slice(1).padStart(16, '0'));
    expect(collect('open', true).ids).not.toContain(posted[9]);
    expect(collect('open', false).ids).toContain(posted[9]);
  });
});
