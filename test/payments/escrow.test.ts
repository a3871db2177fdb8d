import { describe, expect, it } from 'vitest';
import { payments } from '../../src/modules/payments/index.js';
import { alice, balance, bob, carol, checkConservation, dave, dso, eventAttr, fundedChain, GENESIS_TIME, m, NOK, ok, rejects } from './helpers.js';

/** alice (buyer) pays `amount` into a 2-of-3 escrow for bob (seller) with the DSO as mediator. */
function trade(chain: ReturnType<typeof fundedChain>, amount = 10n * NOK, extra: Record<string, unknown> = {}): string {
  return eventAttr(ok(chain, alice, m.escrowOpen({ amount: String(amount), payee: bob.address, mediator: dso.address, ...extra })), 'payments.escrow_opened', 'id');
}
const escrow = (chain: ReturnType<typeof fundedChain>, id: string) => chain.query(payments, 'paymentsEscrow', { id }).escrow;

describe('2-of-3 escrow (PriWatt)', () => {
  it('takes the payment from the payer at once and releases it to the payee when two parties approve', () => {
    const chain = fundedChain();
    const id = trade(chain);
    expect(id).toBe('e1');
    expect(balance(chain, alice)).toBe(90n * NOK);
    expect(escrow(chain, id)).toMatchObject({ status: 'open', threshold: 2, parties: [alice.address, bob.address, dso.address], mediator: dso.address, remaining: '10000000' });
    checkConservation(chain);
    ok(chain, bob, m.approve(id, 'release'));
    expect(balance(chain, bob)).toBe(0n);
    ok(chain, alice, m.approve(id, 'release'));
    expect(balance(chain, bob)).toBe(10n * NOK);
    expect(escrow(chain, id)).toMatchObject({ status: 'released', paidToPayee: '10000000', paidToPayer: '0', remaining: '0' });
    // never twice
    rejects(chain, dso, m.approve(id, 'release'), 'PAY_ESCROW_CLOSED');
    rejects(chain, alice, m.approve(id, 'refund'), 'PAY_ESCROW_CLOSED');
    checkConservation(chain);
  });

  it('refunds the payer when two parties approve a refund; a party switching its vote withdraws the other one', () => {
    const chain = fundedChain();
    const id = trade(chain);
    ok(chain, bob, m.approve(id, 'release'));
    ok(chain, bob, m.approve(id, 'refund')); // bob changes his mind: his release approval is withdrawn
    expect(escrow(chain, id).approvals).toEqual({ release: [], refund: [bob.address] });
    ok(chain, alice, m.approve(id, 'release'));
    expect(escrow(chain, id).status).toBe('open');
    ok(chain, dso, m.approve(id, 'refund'));
    expect(escrow(chain, id)).toMatchObject({ status: 'refunded', paidToPayer: '10000000' });
    expect(balance(chain, alice)).toBe(100n * NOK);
    expect(balance(chain, bob)).toBe(0n);
    checkConservation(chain);
  });

  it('refunds after the deadline (height or time, whichever comes first) when nothing was released', () => {
    const chain = fundedChain();
    const byHeight = trade(chain, 5n * NOK, { deadlineHeight: chain.app.height + 4 }); // opened at height + 1
    const byTime = trade(chain, 5n * NOK, { deadlineTime: chain.time + 60_000 });
    rejects(chain, bob, m.refund(byHeight), 'PAY_DEADLINE_NOT_REACHED');
    ok(chain, bob, m.refund(byHeight)); // height + 4 reached
    rejects(chain, alice, m.refund(byTime), 'PAY_DEADLINE_NOT_REACHED');
    ok(chain, alice, m.refund(byTime), chain.time + 60_000);
    expect(balance(chain, alice)).toBe(100n * NOK);
    // without a deadline the default (7 days) applies
    const byDefault = trade(chain, 1n);
    expect(escrow(chain, byDefault).deadlineTime).toBe(chain.time + 7 * 24 * 3_600_000);
    checkConservation(chain);
  });

  it('splits a disputed trade 70/30 when the seller countersigns the mediator proposal', () => {
    const chain = fundedChain();
    const id = trade(chain, 10n * NOK);
    ok(chain, alice, m.dispute(id, 'only 7 of 10 kWh delivered'));
    rejects(chain, alice, m.refund(id), 'PAY_DEADLINE_NOT_REACHED');
    ok(chain, dso, m.propose(id, 7n * NOK, 3n * NOK));
    expect(escrow(chain, id).dispute).toMatchObject({ by: alice.address, proposal: { payeeAmount: '7000000', payerAmount: '3000000', by: dso.address } });
    ok(chain, bob, m.countersign(id, 7n * NOK, 3n * NOK));
    expect(balance(chain, bob)).toBe(7n * NOK);
    expect(balance(chain, alice)).toBe(93n * NOK);
    expect(escrow(chain, id)).toMatchObject({ status: 'split', paidToPayee: '7000000', paidToPayer: '3000000' });
    checkConservation(chain);
  });

  it('replaces the mediator after both reject, once both sign for the same new one; the old mediator loses its vote', () => {
    const chain = fundedChain();
    const id = trade(chain, 10n * NOK);
    ok(chain, dso, m.approve(id, 'refund')); // the old mediator's approval is dropped on replacement
    ok(chain, bob, m.dispute(id));
    ok(chain, dso, m.propose(id, 1n * NOK, 9n * NOK));
    ok(chain, bob, m.rejectSplit(id));
    rejects(chain, bob, m.replaceMediator(id, carol), 'PAY_REPLACEMENT_NOT_ALLOWED');
    ok(chain, alice, m.rejectSplit(id));
    ok(chain, bob, m.replaceMediator(id, carol));
    ok(chain, alice, m.replaceMediator(id, dave)); // different choices: nothing happens yet
    expect(escrow(chain, id).mediator).toBe(dso.address);
    ok(chain, alice, m.replaceMediator(id, carol));
    const e = escrow(chain, id);
    expect(e).toMatchObject({ mediator: carol.address, parties: [alice.address, bob.address, carol.address], approvals: { release: [], refund: [] } });
    expect(e.dispute).toMatchObject({ replaced: [dso.address], rejections: [], nominations: {} });
    expect(e.dispute.proposal).toBeUndefined();
    rejects(chain, dso, m.propose(id, 5n * NOK, 5n * NOK), 'PAY_NOT_MEDIATOR');
    ok(chain, carol, m.propose(id, 6n * NOK, 4n * NOK));
    ok(chain, alice, m.countersign(id, 6n * NOK, 4n * NOK));
    expect(balance(chain, bob)).toBe(6n * NOK);
    expect(balance(chain, alice)).toBe(94n * NOK);
    // the new mediator sees the escrow among its own
    expect(chain.query(payments, 'paymentsEscrows', {}, { party: carol.address, status: 'all' }).escrows.map((x: any) => x.id)).toEqual([id]);
    checkConservation(chain);
  });

  it('lets payer and payee agree by approvals even while disputed', () => {
    const chain = fundedChain();
    const id = trade(chain);
    ok(chain, alice, m.dispute(id));
    ok(chain, alice, m.approve(id, 'release'));
    ok(chain, bob, m.approve(id, 'release'));
    expect(escrow(chain, id).status).toBe('released');
    checkConservation(chain);
  });

  it('supports m-of-n with further parties and lists open escrows per party', () => {
    const chain = fundedChain();
    const id = trade(chain, 4n * NOK, { others: [carol.address, dave.address], threshold: 3 });
    const other = trade(chain, 1n * NOK);
    expect(escrow(chain, id).parties).toEqual([alice.address, bob.address, dso.address, carol.address, dave.address]);
    ok(chain, carol, m.approve(id, 'release'));
    ok(chain, dave, m.approve(id, 'release'));
    expect(escrow(chain, id).status).toBe('open');
    ok(chain, dso, m.approve(id, 'release'));
    expect(escrow(chain, id).status).toBe('released');
    const open = chain.query(payments, 'paymentsEscrows', {}, { party: bob.address });
    expect(open.escrows.map((e: any) => e.id)).toEqual([other]);
    const all = chain.query(payments, 'paymentsEscrows', {}, { party: bob.address, status: 'all' });
    expect(all.escrows.map((e: any) => e.id)).toEqual([other, id]);
    const closed = chain.query(payments, 'paymentsEscrows', {}, { party: carol.address, status: 'closed' });
    expect(closed.escrows.map((e: any) => e.id)).toEqual([id]);
    checkConservation(chain);
  });

  it('reports whether the deadline is reached', () => {
    const chain = fundedChain();
    const id = trade(chain, 1n, { deadlineTime: GENESIS_TIME + 3_600_000 });
    expect(escrow(chain, id).deadlineReached).toBe(false);
    chain.block([], GENESIS_TIME + 3_600_000);
    expect(escrow(chain, id).deadlineReached).toBe(true);
  });
});
