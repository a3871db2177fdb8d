import { describe, expect, it } from 'vitest';
import type { Msg } from '../../src/codec/tx.js';
import { E } from '../../src/modules/market/errors.js';
import { market } from '../../src/modules/market/index.js';
import { CATALOGUE } from '../../src/util/errors.js';
import { account, type TestAccount, type TestChain } from '../helpers/chain.js';
import { checkConservation } from '../payments/helpers.js';
import { alice, at, bob, C, carol, checkMarket, dave, dso, erin, m, NOK, NOW, ok, owner, pm1, rejects, setup, slotEnd } from './helpers.js';

/**
 * The bad-input battery: every rule of the market module rejected with its own code, each time with
 * every state entry unchanged except the sender's nonce. The fixture holds one object in each state
 * a rule can refuse; the chain's market parameters are small so the limits are reachable.
 */

const PARAMS = { maxOrderWh: 1_000_000, maxPrice: 10_000_000, maxOpenOrdersPerTrader: 6, maxOrdersPerSession: 8, maxContractSlots: 100, maxNoticeSlots: 10 };
const S = NOW - 2;
const F = NOW + 4;
const nobody = account('nobody');
const contractTerms = (counterparty: TestAccount, startSlot: number, endSlot: number, extra: Record<string, unknown> = {}) => ({
  role: 'consumer',
  counterparty: counterparty.address,
  startSlot,
  endSlot,
  price: 100_000,
  maxPowerW: 4000,
  ...extra,
});
const deposit = { deposit: String(1n * NOK), mediator: dso.address };

function fixture(): TestChain {
  const chain = setup('continuous', {}, PARAMS);
  ok(chain, owner, [{ type: 'energy/create-community', value: { id: 'other', name: 'Other', timezone: 'Europe/Oslo' } }, m.addTrader(alice, 'other')]);
  ok(chain, pm1, m.reading('P1', S, 0, 5000, 1));
  ok(chain, alice, m.offer(S, 1000, 200_000, ['solar'])); // o1 spot, open
  ok(chain, alice, m.offer(F, 1000, 300_000)); // o2 forward, open
  ok(chain, bob, m.bid(F, 500, 100_000)); // o3 open
  ok(chain, carol, m.offer(F, 100, 500_000)); // o4 cancelled
  ok(chain, carol, m.cancel('o4'));
  for (let i = 1; i <= 6; i++) ok(chain, erin, m.offer(F + i, 10, 900_000)); // o5–o10: erin at the open-order limit
  for (let i = 0; i < 4; i++) ok(chain, dave, m.bid(F + 9, 10, 1000)); // slot F+9 full: 4 bids and 4 offers
  for (let i = 0; i < 4; i++) ok(chain, carol, m.offer(F + 9, 10, 2_000_000));
  ok(chain, bob, m.propose(contractTerms(alice, F + 20, F + 30))); // sc1 active, no deposit
  ok(chain, alice, m.accept('sc1'));
  ok(chain, dave, m.propose(contractTerms(carol, F + 20, F + 24, deposit))); // sc2 proposed, deposit held
  ok(chain, carol, m.propose(contractTerms(alice, F + 40, F + 44, deposit))); // sc3 active, disputed
  ok(chain, alice, m.accept('sc3'));
  ok(chain, carol, m.dispute('sc3'));
  ok(chain, dave, m.propose(contractTerms(alice, F + 50, F + 52, deposit))); // sc4 divided
  ok(chain, alice, m.accept('sc4'));
  ok(chain, alice, m.dispute('sc4'));
  ok(chain, dso, m.resolve('sc4', 1n, 1n * NOK - 1n));
  ok(chain, erin, m.propose(contractTerms(carol, F + 2, F + 12, { noticeSlots: 10 }))); // sc5 ending (notice reaches into it)
  ok(chain, carol, m.accept('sc5'));
  ok(chain, erin, m.end('sc5'));
  ok(chain, alice, m.propose({ ...contractTerms(dave, F + 8, F + 12), role: 'prosumer' })); // sc6 proposed to dave, who has bids at F+9
  ok(chain, dave, { type: 'payments/transfer', value: { asset: 'NOK@hood', to: owner.address, amount: String(998n * NOK) } }); // dave keeps < 1 NOK free
  ok(chain, owner, m.recordBills([{ member: bob.address, fromSlot: NOW - 8, toSlot: NOW - 4, hash: 'aa'.repeat(32) }]));
  at(chain, chain.time + 1000);
  return chain;
}

interface Case {
  code: string;
  name: string;
  from: TestAccount;
  msgs: Msg | Msg[];
}
const c = (code: string, name: string, from: TestAccount, msgs: Msg | Msg[]): Case => ({ code, name, from, msgs });

const CASES: Case[] = [
  // markets and tariffs
  c('MARKET_COMMUNITY_NOT_FOUND', 'open a market in an unknown community', owner, m.open('continuous', {}, 'nope')),
  c('MARKET_COMMUNITY_NOT_FOUND', 'offer in an unknown community', alice, m.offer(F, 1, 1, undefined, 'nope')),
  c('MARKET_NOT_OWNER', 'open by a trader', alice, m.open('continuous', {}, 'other')),
  c('MARKET_NOT_OWNER', 'tariffs by a trader', alice, m.setTariffs(1, 1, F)),
  c('MARKET_EXISTS', 'open a second market', owner, m.open('pay-as-clear')),
  c('MARKET_NOT_FOUND', 'offer where no market is open', alice, m.offer(F, 1, 1, undefined, 'other')),
  c('MARKET_ASSET_NOT_FOUND', 'open with an unknown asset', owner, { type: 'market/open', value: { community: 'other', type: 'continuous', asset: 'EUR@other', importPrice: 1, exportPrice: 1 } }),
  c('MARKET_TARIFF_NOT_FUTURE', 'tariffs for the current slot', owner, m.setTariffs(1, 1, NOW)),
  c('MARKET_PRICE_LIMIT', 'tariff above maxPrice', owner, m.setTariffs(10_000_001, 1, F)),
  // orders
  c('MARKET_NOT_TRADER', 'offer by a non-trader', dso, m.offer(F, 1, 1)),
  c('MARKET_VOLUME_LIMIT', 'offer above maxOrderWh', alice, m.offer(F, 1_000_001, 1)),
  c('MARKET_PRICE_LIMIT', 'bid above maxPrice', bob, m.bid(F, 1, 10_000_001)),
  c('MARKET_OPEN_ORDERS_LIMIT', 'a seventh open order', erin, m.offer(F + 7, 10, 900_000)),
  c('MARKET_SESSION_FULL', 'a ninth order in one slot', bob, m.bid(F + 9, 10, 1000)),
  c('MARKET_SLOT_UNKNOWN', 'a slot beyond the horizon', bob, m.bid(NOW + 673, 10, 1000)),
  c('MARKET_GATE_CLOSED', 'the slot in delivery', bob, m.bid(NOW, 10, 1000)),
  c('MARKET_GATE_CLOSED', 'an ended slot past its spot gate', bob, m.bid(NOW - 6, 10, 1000)),
  c('MARKET_SELF_TRADE', 'a bid crossing one’s own offer', alice, m.bid(F, 100, 400_000)),
  c('MARKET_CONTRACT_EXCLUSIVE', 'a bid during one’s supply contract', bob, m.bid(F + 25, 10, 1000)),
  c('MARKET_INSUFFICIENT_FUNDS', 'a bid above the free balance', bob, m.bid(F + 2, 1_000_000, 10_000_000)),
  c('MARKET_INSUFFICIENT_FUNDS', 'a forward offer whose collateral is above the free balance', dave, m.offer(F + 3, 1_000_000, 1)),
  c('MARKET_INSUFFICIENT_ENERGY', 'a spot offer of locked energy', alice, m.offer(S, 4001, 100_000, ['solar'])),
  c('MARKET_INSUFFICIENT_ENERGY', 'a spot offer of a label set one does not hold', alice, m.offer(S, 1, 100_000, ['wind'])),
  c('MARKET_ORDER_NOT_FOUND', 'cancel an unknown order', bob, m.cancel('o99')),
  c('MARKET_NOT_ORDER_OWNER', 'cancel someone else’s order', bob, m.cancel('o1')),
  c('MARKET_ORDER_CLOSED', 'cancel a cancelled order', carol, m.cancel('o4')),
  // supply contracts
  c('MARKET_COUNTERPARTY_NOT_TRADER', 'a contract with a non-trader', bob, m.propose(contractTerms(dso, F + 80, F + 81))),
  c('MARKET_SELF_TRADE', 'a contract with oneself', bob, m.propose(contractTerms(bob, F + 80, F + 81))),
  c('MARKET_CONTRACT_NOT_FOUND', 'accept an unknown contract', alice, m.accept('sc99')),
  c('MARKET_CONTRACT_INVALID', 'end before start', dave, m.propose(contractTerms(alice, F + 80, F + 80))),
  c('MARKET_CONTRACT_INVALID', 'maximum power below 4 W', dave, m.propose(contractTerms(alice, F + 80, F + 81, { maxPowerW: 3 }))),
  c('MARKET_CONTRACT_INVALID', 'a deposit without a mediator', dave, m.propose(contractTerms(alice, F + 80, F + 81, { deposit: '1' }))),
  c('MARKET_CONTRACT_INVALID', 'a party as mediator', dave, m.propose(contractTerms(alice, F + 80, F + 81, { deposit: '1', mediator: alice.address }))),
  c('MARKET_CONTRACT_NOT_FUTURE', 'a contract starting now', dave, m.propose(contractTerms(alice, NOW, NOW + 4))),
  c('MARKET_SLOT_UNKNOWN', 'a contract beyond the horizon', dave, m.propose(contractTerms(alice, NOW + 700, NOW + 704))),
  c('MARKET_CONTRACT_TOO_LONG', 'a contract over maxContractSlots', dave, m.propose(contractTerms(alice, F + 100, F + 201))),
  c('MARKET_NOTICE_TOO_LONG', 'notice over maxNoticeSlots', dave, m.propose(contractTerms(alice, F + 100, F + 101, { noticeSlots: 11 }))),
  c('MARKET_PRICE_LIMIT', 'a contract price above maxPrice', dave, m.propose(contractTerms(alice, F + 100, F + 101, { price: 10_000_001 }))),
  c('MARKET_MEDIATOR_NOT_ADMITTED', 'a mediator who is not admitted', dave, m.propose(contractTerms(alice, F + 100, F + 101, { deposit: '1', mediator: nobody.address }))),
  c('MARKET_INSUFFICIENT_FUNDS', 'a contract whose payments exceed the free balance', dave, m.propose(contractTerms(alice, F + 100, F + 200, { price: 10_000_000, maxPowerW: 1_000_000_000 }))),
  c('MARKET_CONTRACT_OVERLAP', 'a second contract for the same slots', bob, m.propose(contractTerms(carol, F + 25, F + 26))),
  c('MARKET_CONTRACT_CONFLICT', 'accepting while the consumer has open bids in the period', dave, m.accept('sc6')),
  c('MARKET_NOT_COUNTERPARTY', 'the proposer accepts its own proposal', dave, m.accept('sc2')),
  c('MARKET_NOT_PARTY', 'an outsider ends a contract', erin, m.end('sc1')),
  c('MARKET_CONTRACT_CLOSED', 'accept an active contract', alice, m.accept('sc1')),
  c('MARKET_CONTRACT_ENDING', 'end twice', erin, m.end('sc5')),
  c('MARKET_NO_DEPOSIT', 'dispute a contract without deposit', bob, m.dispute('sc1')),
  c('MARKET_CONTRACT_CLOSED', 'dispute a proposal', dave, m.dispute('sc2')),
  c('MARKET_ALREADY_DISPUTED', 'dispute twice', alice, m.dispute('sc3')),
  c('MARKET_DISPUTE_CLOSED', 'dispute a divided deposit', dave, m.dispute('sc4')),
  c('MARKET_DISPUTE_CLOSED', 'resolve a divided deposit', dso, m.resolve('sc4', 1n, 1n * NOK - 1n)),
  c('MARKET_NOT_DISPUTED', 'resolve an undisputed deposit', dso, m.resolve('sc2', 1n, 1n * NOK - 1n)),
  c('MARKET_NOT_MEDIATOR', 'a party resolves', carol, m.resolve('sc3', 1n, 1n * NOK - 1n)),
  c('MARKET_SPLIT_MISMATCH', 'a division that does not add up', dso, m.resolve('sc3', 1n, 1n * NOK)),
  // bills
  c('MARKET_NOT_OWNER', 'bills recorded by a trader', alice, m.recordBills([{ member: bob.address, fromSlot: NOW - 8, toSlot: NOW - 4, hash: 'bb'.repeat(32) }])),
  c('MARKET_BILL_INVALID_PERIOD', 'an empty bill period', owner, m.recordBills([{ member: bob.address, fromSlot: NOW - 4, toSlot: NOW - 4, hash: 'bb'.repeat(32) }])),
  c('MARKET_BILL_PERIOD_OPEN', 'a period not ended', owner, m.recordBills([{ member: bob.address, fromSlot: NOW - 4, toSlot: NOW + 1, hash: 'bb'.repeat(32) }])),
  c('MARKET_BILL_NOT_MEMBER', 'a bill of a non-member', owner, m.recordBills([{ member: dso.address, fromSlot: NOW - 8, toSlot: NOW - 4, hash: 'bb'.repeat(32) }])),
  c('MARKET_BILL_DUPLICATE', 'a recorded hash again', owner, m.recordBills([{ member: bob.address, fromSlot: NOW - 8, toSlot: NOW - 4, hash: 'aa'.repeat(32) }])),
  // malformed values never reach the rules
  c('MSG_INVALID', 'zero Wh', alice, { type: 'market/offer', value: { community: C, slot: F, wh: 0, price: 1 } }),
  c('MSG_INVALID', 'a negative price', bob, { type: 'market/bid', value: { community: C, slot: F, wh: 1, price: -1 } }),
  c('MSG_INVALID', 'repeated labels', bob, { type: 'market/bid', value: { community: C, slot: F, wh: 1, price: 1, labels: ['solar', 'solar'] } }),
  c('MSG_INVALID', 'an unknown field', bob, { type: 'market/bid', value: { community: C, slot: F, wh: 1, price: 1, fee: 1 } }),
  c('MSG_INVALID', 'a malformed order id', bob, m.cancel('x1')),
  c('MSG_INVALID', 'a deposit as a number', dave, { type: 'market/contract-propose', value: { community: C, ...contractTerms(alice, F + 100, F + 101), deposit: 1, mediator: dso.address } }),
  // nothing partially applied
  c('MARKET_SELF_TRADE', 'a valid bid, then one crossing one’s own offer', alice, [m.bid(F + 2, 10, 1000), m.bid(F, 100, 400_000)]),
  c('MARKET_INSUFFICIENT_FUNDS', 'a valid contract proposal, then a bid the balance no longer covers', bob, [m.propose(contractTerms(carol, F + 80, F + 90)), m.bid(F + 2, 999_000, 1_000_000)]),
  c('MARKET_ORDER_CLOSED', 'a cancellation, then the same again', bob, [m.cancel('o3'), m.cancel('o3')]),
];

describe('bad input: every rule rejected with its own code, state unchanged', () => {
  it.each(CASES.map((x) => [`${x.code}: ${x.name}`, x] as const))('%s', (_name, x) => {
    const chain = fixture();
    rejects(chain, x.from, x.msgs, x.code);
    checkMarket(chain);
  });

  it('a query for an unrecorded bill is refused with MARKET_BILL_NOT_FOUND; unknown orders and contracts with theirs', () => {
    const chain = fixture();
    expect(() => chain.query(market, 'marketBillRecord', { hash: 'cc'.repeat(32) })).toThrow(expect.objectContaining({ code: 'MARKET_BILL_NOT_FOUND' }));
    expect(() => chain.query(market, 'marketOrder', { id: 'o99' })).toThrow(expect.objectContaining({ code: 'MARKET_ORDER_NOT_FOUND' }));
    expect(() => chain.query(market, 'marketContract', { id: 'sc99' })).toThrow(expect.objectContaining({ code: 'MARKET_CONTRACT_NOT_FOUND' }));
    expect(() => chain.query(market, 'marketBook', { community: 'other' }, { slot: String(F) })).toThrow(expect.objectContaining({ code: 'MARKET_NOT_FOUND' }));
  });

  it('covers every code the module declares', () => {
    const declared = E[CATALOGUE].entries.map((e) => e.code).sort();
    const covered = new Set([...CASES.map((x) => x.code), 'MARKET_BILL_NOT_FOUND']);
    expect(declared.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('the fixture itself keeps every market and payments invariant', () => {
    const chain = fixture();
    checkMarket(chain);
    checkConservation(chain);
    void slotEnd;
  });
});
