import { describe, expect, it } from 'vitest';
import { market } from '../../src/modules/market/index.js';
import { checkConservation } from '../payments/helpers.js';
import {
  alice,
  at,
  bob,
  C,
  carol,
  checkMarket,
  cm1,
  contract,
  dave,
  dso,
  energy,
  free,
  m,
  moneyLock,
  NOK,
  NOW,
  ok,
  owner,
  pm1,
  rejects,
  setup,
  slotEnd,
} from './helpers.js';

const F = NOW + 4;

/** bob (consumer, C1) buys from alice (prosumer, P1 solar) for 4 slots at 0.20 NOK/kWh, up to 8 kW (2000 Wh a slot). */
const terms = (extra: Record<string, unknown> = {}) => ({ role: 'consumer', counterparty: alice.address, startSlot: F, endSlot: F + 4, price: 200_000, maxPowerW: 8000, ...extra });

/** Each slot's readings arrive right after it ends (before its settlement deadline). */
function readings(chain: ReturnType<typeof setup>, exports: number[], imports: number[]): void {
  let pe = 0;
  let ci = 0;
  exports.forEach((wh, i) => {
    at(chain, slotEnd(F + i) + 1000);
    ok(chain, pm1, m.reading('P1', F + i, 0, wh, i + 1, { imp: 0, exp: pe }));
    ok(chain, cm1, m.reading('C1', F + i, imports[i]!, 0, i + 1, { imp: ci, exp: 0 }));
    pe += wh;
    ci += imports[i]!;
  });
}

describe('supply contracts (Tundal)', () => {
  it('cover the consumer’s metered import from the prosumer’s production, slot by slot, paid from the consumer’s lock', () => {
    const chain = setup('continuous');
    const bobStart = free(chain, bob);
    const aliceStart = free(chain, alice);
    ok(chain, bob, m.propose(terms())); // sc1: bob locks 4 × ⌊2000 × 200 000 / 1000⌋ = 1 600 000
    expect(contract(chain, 'sc1')).toMatchObject({ status: 'proposed', consumer: bob.address, prosumer: alice.address, capWh: 2000, perSlotMicro: '400000' });
    expect(moneyLock(chain, 'contract/sc1')).toBe(1_600_000n);
    rejects(chain, bob, m.accept('sc1'), 'MARKET_NOT_COUNTERPARTY');
    ok(chain, alice, m.accept('sc1'));
    // exclusivity: bob's other bids in the contract's slots are refused
    rejects(chain, bob, m.bid(F + 1, 100, 1_000_000), 'MARKET_CONTRACT_EXCLUSIVE');
    ok(chain, bob, m.bid(F + 4, 100, 1_000)); // after the contract: fine
    checkMarket(chain);
    // production 3000, 1000, 0, 2500; import 1500, 2500, 1000, 3000 → covered 1500, 1000, 0, 2000
    readings(chain, [3000, 1000, 0, 2500], [1500, 2500, 1000, 3000]);
    const k = contract(chain, 'sc1');
    expect(k).toMatchObject({ status: 'finished', coveredWh: 4500, paidMicro: '900000' });
    const slots = chain.store.scan<any>(`market/cslot/${'1'.padStart(16, '0')}/`).map(([, v]) => [v.consumerImportWh, v.prosumerAvailableWh, v.coveredWh, v.paidMicro]);
    expect(slots).toEqual([
      [1500, 3000, 1500, '300000'],
      [2500, 1000, 1000, '200000'],
      [1000, 0, 0, '0'],
      [3000, 2500, 2000, '400000'],
    ]);
    expect(energy(chain, bob, F, ['solar'])).toBe(1500);
    expect(energy(chain, alice, F, ['solar'])).toBe(1500);
    expect(energy(chain, bob, F + 3, ['solar'])).toBe(2000);
    expect(free(chain, alice) - aliceStart).toBe(900_000n);
    expect(bobStart - free(chain, bob) - moneyLock(chain, 'order/o1')).toBe(900_000n);
    expect(moneyLock(chain, 'contract/sc1')).toBe(0n);
    checkMarket(chain);
    checkConservation(chain);
  });

  it("are listed per community newest first, each once (the index holds a contract under both parties), by status and limit", () => {
    const chain = setup('continuous');
    ok(chain, bob, m.propose(terms())); // sc1
    ok(chain, alice, m.accept('sc1'));
    ok(chain, bob, m.propose(terms({ startSlot: F + 10, endSlot: F + 14 }))); // sc2
    ok(chain, bob, m.end('sc2')); // withdrawn by its proposer
    ok(chain, alice, m.propose({ ...terms({ startSlot: F + 20, endSlot: F + 24 }), role: 'prosumer', counterparty: bob.address })); // sc3
    const ids = (query: Record<string, unknown>) => chain.query(market, 'marketContracts', { community: C }, query).contracts.map((k: any) => `${k.id}:${k.status}`);
    expect(ids({})).toEqual(['sc3:proposed', 'sc2:withdrawn', 'sc1:active']);
    expect(ids({ limit: 2 })).toEqual(['sc3:proposed', 'sc2:withdrawn']);
    expect(ids({ status: 'active' })).toEqual(['sc1:active']);
    expect(ids({ party: alice.address })).toEqual(['sc3:proposed', 'sc2:withdrawn', 'sc1:active']);
    expect(ids({ party: dave.address })).toEqual([]);
  });

  it('may be proposed by the prosumer: the consumer funds it when it accepts', () => {
    const chain = setup('continuous');
    ok(chain, alice, m.propose({ ...terms(), role: 'prosumer', counterparty: bob.address }));
    expect(moneyLock(chain, 'contract/sc1')).toBe(0n);
    ok(chain, bob, m.accept('sc1'));
    expect(moneyLock(chain, 'contract/sc1')).toBe(1_600_000n);
    checkMarket(chain);
  });

  it('end with notice: the contract stops after the notice period and the rest of the lock goes back at once', () => {
    const chain = setup('continuous');
    ok(chain, bob, m.propose(terms({ endSlot: F + 20, noticeSlots: 2 })));
    ok(chain, alice, m.accept('sc1'));
    at(chain, slotEnd(F) - 10_000); // during slot F
    ok(chain, alice, m.end('sc1')); // notice: F+1, F+2 still run; the contract ends before F+3
    expect(contract(chain, 'sc1')).toMatchObject({ status: 'active', endSlot: F + 3, endNotice: { by: alice.address } });
    expect(moneyLock(chain, 'contract/sc1')).toBe(3n * 400_000n);
    rejects(chain, bob, m.end('sc1'), 'MARKET_CONTRACT_ENDING');
    at(chain, slotEnd(F + 2) + 900_000); // no readings: the deadline settles each slot with nothing covered
    expect(contract(chain, 'sc1')).toMatchObject({ status: 'finished', coveredWh: 0 });
    expect(free(chain, bob)).toBe(1000n * NOK);
    rejects(chain, bob, m.end('sc1'), 'MARKET_CONTRACT_CLOSED');
    checkMarket(chain);
  });

  it('a withdrawn or declined proposal gives everything back', () => {
    const chain = setup('continuous');
    ok(chain, bob, m.propose(terms({ deposit: String(5n * NOK), mediator: dso.address })));
    expect(free(chain, bob)).toBe(1000n * NOK - 1_600_000n - 5n * NOK);
    ok(chain, alice, m.end('sc1'));
    expect(contract(chain, 'sc1')).toMatchObject({ status: 'declined', depositState: 'returned' });
    expect(free(chain, bob)).toBe(1000n * NOK);
    ok(chain, bob, m.propose(terms()));
    ok(chain, bob, m.end('sc2'));
    expect(contract(chain, 'sc2').status).toBe('withdrawn');
    rejects(chain, alice, m.accept('sc2'), 'MARKET_CONTRACT_CLOSED');
    checkMarket(chain);
    checkConservation(chain);
  });

  it('overlap, conflict and bad terms are refused with their codes', () => {
    const chain = setup('continuous');
    rejects(chain, bob, m.propose(terms({ endSlot: F })), 'MARKET_CONTRACT_INVALID');
    rejects(chain, bob, m.propose(terms({ startSlot: NOW })), 'MARKET_CONTRACT_NOT_FUTURE');
    rejects(chain, bob, m.propose(terms({ counterparty: bob.address })), 'MARKET_SELF_TRADE');
    ok(chain, bob, m.propose(terms())); // sc1
    ok(chain, bob, m.propose(terms({ counterparty: carol.address, startSlot: F + 3, endSlot: F + 8 }))); // sc2, both pending
    ok(chain, alice, m.accept('sc1'));
    rejects(chain, carol, m.accept('sc2'), 'MARKET_CONTRACT_OVERLAP');
    rejects(chain, bob, m.propose(terms({ counterparty: carol.address, startSlot: F + 2, endSlot: F + 3 })), 'MARKET_CONTRACT_OVERLAP');
    ok(chain, dave, m.bid(F + 1, 1000, 300_000));
    ok(chain, dave, m.propose({ ...terms(), counterparty: carol.address })); // sc3
    rejects(chain, carol, m.accept('sc3'), 'MARKET_CONTRACT_CONFLICT');
    checkMarket(chain);
  });
});

describe('contract deposits: disputes go through a payments escrow', () => {
  const withDeposit = () => terms({ deposit: String(5n * NOK), mediator: dso.address });

  it('without a dispute the deposit returns to the consumer once the dispute window after the end passed', () => {
    const chain = setup('continuous');
    ok(chain, bob, m.propose(withDeposit()));
    expect(chain.store.get<any>('payments/escrow/market/contract/sc1/deposit')).toMatchObject({ payer: bob.address, payee: alice.address, amount: '5000000', status: 'open' });
    ok(chain, alice, m.accept('sc1'));
    at(chain, slotEnd(F + 3) + 900_000);
    expect(contract(chain, 'sc1')).toMatchObject({ status: 'finished', depositState: 'held' });
    const finishedAt = contract(chain, 'sc1').closedAt.time;
    at(chain, finishedAt + 3 * 86_400_000);
    expect(contract(chain, 'sc1').depositState).toBe('returned');
    expect(free(chain, bob)).toBe(1000n * NOK);
    rejects(chain, alice, m.dispute('sc1'), 'MARKET_DISPUTE_CLOSED');
    checkConservation(chain);
  });

  it('in a dispute the mediator divides the deposit; it is never paid twice', () => {
    const chain = setup('continuous');
    ok(chain, bob, m.propose(withDeposit()));
    ok(chain, alice, m.accept('sc1'));
    rejects(chain, dso, m.resolve('sc1', 1n, 5n * NOK - 1n), 'MARKET_NOT_DISPUTED');
    rejects(chain, carol, m.dispute('sc1'), 'MARKET_NOT_PARTY');
    ok(chain, alice, m.dispute('sc1', 'the consumer’s meter was bypassed'));
    rejects(chain, bob, m.dispute('sc1'), 'MARKET_ALREADY_DISPUTED');
    rejects(chain, alice, m.resolve('sc1', 3n * NOK, 2n * NOK), 'MARKET_NOT_MEDIATOR');
    rejects(chain, dso, m.resolve('sc1', 3n * NOK, 3n * NOK), 'MARKET_SPLIT_MISMATCH');
    const aliceBefore = free(chain, alice);
    ok(chain, dso, m.resolve('sc1', 3n * NOK, 2n * NOK));
    expect(free(chain, alice) - aliceBefore).toBe(3n * NOK);
    expect(contract(chain, 'sc1')).toMatchObject({ depositState: 'divided', resolution: { toProsumer: '3000000', toConsumer: '2000000' } });
    rejects(chain, dso, m.resolve('sc1', 3n * NOK, 2n * NOK), 'MARKET_DISPUTE_CLOSED');
    at(chain, slotEnd(F + 3) + 900_000 + 3 * 86_400_000);
    expect(free(chain, bob)).toBe(1000n * NOK - 3n * NOK);
    checkMarket(chain);
    checkConservation(chain);
    void owner;
  });
});
