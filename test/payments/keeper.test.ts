import { describe, expect, it } from 'vitest';
import { newExec } from '../../src/app/kernel.js';
import { Overlay } from '../../src/app/state.js';
import { payments } from '../../src/modules/payments/index.js';
import { claimFundsOwner, type PaymentsKeeper } from '../../src/modules/payments/keeper.js';
import { alice, ASSET, balance, bob, carol, checkConservation, fundedChain, m, NOK, ok, rejects, revokee } from './helpers.js';

const probe = (module: string, action: string, value: Record<string, unknown>) => m.probe(module, action, value);
const lockKey = (id: string) => `payments/lock/${id}`;

describe('keeper: module locks', () => {
  it('lock the signer’s funds; the owning module unlocks, pays out in parts, and the lock disappears when emptied', () => {
    const chain = fundedChain();
    ok(chain, alice, probe('testmarket', 'lock', { ref: 'bid/42', asset: ASSET, amount: String(20n * NOK) }));
    expect(balance(chain, alice)).toBe(80n * NOK);
    expect(chain.store.get<any>(lockKey('testmarket/bid/42'))).toMatchObject({ module: 'testmarket', account: alice.address, amount: '20000000' });
    expect(chain.query(payments, 'paymentsLocks', { address: alice.address }).locks.map((l: any) => l.id)).toEqual(['testmarket/bid/42']);
    checkConservation(chain);
    ok(chain, carol, probe('testmarket', 'pay', { ref: 'bid/42', to: bob.address, amount: String(5n * NOK) })); // any sender: the module decides
    ok(chain, carol, probe('testmarket', 'unlock', { ref: 'bid/42', amount: String(5n * NOK) }));
    expect(balance(chain, bob)).toBe(5n * NOK);
    expect(balance(chain, alice)).toBe(85n * NOK);
    rejects(chain, carol, probe('testmarket', 'pay', { ref: 'bid/42', to: bob.address, amount: String(10n * NOK + 1n) }), 'PAY_LOCK_INSUFFICIENT');
    rejects(chain, carol, probe('testmarket', 'pay', { ref: 'bid/42', to: revokee.address, amount: '1' }), 'PAY_ACCOUNT_REVOKED');
    ok(chain, carol, probe('testmarket', 'pay', { ref: 'bid/42', to: bob.address, amount: String(10n * NOK) }));
    expect(chain.store.get(lockKey('testmarket/bid/42'))).toBeUndefined();
    expect(chain.query(payments, 'paymentsLocks', { address: alice.address }).locks).toEqual([]);
    const kinds = chain.query(payments, 'paymentsHistory', { address: alice.address }).entries.map((e: any) => [e.kind, e.delta]);
    expect(kinds).toEqual([
      ['lock-payment-out', '0'],
      ['unlock', '5000000'],
      ['lock-payment-out', '0'],
      ['lock', '-20000000'],
      ['mint', '100000000'],
    ]);
    checkConservation(chain);
  });

  it('belong to their module: another module cannot unlock, pay from or release them, and the ref namespaces are separate', () => {
    const chain = fundedChain();
    ok(chain, alice, probe('testmarket', 'lock', { ref: 'bid/1', asset: ASSET, amount: '1000' }));
    rejects(chain, alice, probe('thief', 'unlock', { ref: 'bid/1' }), 'PAY_LOCK_NOT_FOUND');
    rejects(chain, alice, probe('thief', 'pay', { ref: 'bid/1', to: bob.address, amount: '1000' }), 'PAY_LOCK_NOT_FOUND');
    ok(chain, alice, probe('thief', 'lock', { ref: 'bid/1', asset: ASSET, amount: '7' }));
    expect(chain.store.get<any>(lockKey('thief/bid/1')).amount).toBe('7');
    expect(chain.store.get<any>(lockKey('testmarket/bid/1')).amount).toBe('1000');
    ok(chain, bob, probe('testmarket', 'unlock', { ref: 'bid/1' })); // the owner gives it back
    expect(balance(chain, alice)).toBe(100n * NOK - 7n);
    checkConservation(chain);
  });

  it('a FundsOwner is minted once per module name and cannot be forged', () => {
    expect(() => claimFundsOwner('testmarket')).toThrow(/already claimed/);
    expect(() => claimFundsOwner('payments')).toThrow(/invalid/);
    const chain = fundedChain();
    ok(chain, alice, probe('testmarket', 'lock', { ref: 'bid/9', asset: ASSET, amount: '10' }));
    const exec = newExec({ state: new Overlay(chain.storage), chainId: chain.chainId, block: { height: chain.app.height + 1, time: chain.time }, sender: alice.address, txHash: 'x', msgIndex: 0 });
    const keeper = chain.app.kernel.keeper<PaymentsKeeper>('payments', exec);
    expect(() => keeper.unlock({ module: 'testmarket' }, 'bid/9')).toThrow(/not a FundsOwner/);
  });

  it('debit only the transaction signer: never another account, never at the end of a block', () => {
    const chain = fundedChain();
    rejects(chain, bob, probe('testmarket', 'lock', { ref: 'x', asset: ASSET, amount: '1', account: alice.address }), 'PAY_DEBIT_NOT_SIGNER');
    rejects(chain, bob, probe('testmarket', 'transfer', { from: alice.address, to: bob.address, asset: ASSET, amount: '1' }), 'PAY_DEBIT_NOT_SIGNER');
    rejects(chain, bob, probe('testmarket', 'escrow-open', { ref: 't', payer: alice.address, payee: bob.address, asset: ASSET, amount: '1' }), 'PAY_DEBIT_NOT_SIGNER');
    ok(chain, alice, probe('testmarket', 'transfer', { to: bob.address, asset: ASSET, amount: '5' }));
    expect(balance(chain, bob)).toBe(5n);
    // end of block: there is no signer
    const exec = newExec({ state: new Overlay(chain.storage), chainId: chain.chainId, block: { height: chain.app.height + 1, time: chain.time }, sender: '', txHash: '', msgIndex: 0 });
    const keeper = chain.app.kernel.keeper<PaymentsKeeper>('payments', exec);
    expect(() => keeper.transfer('', bob.address, ASSET, 1n)).toThrow(expect.objectContaining({ code: 'PAY_DEBIT_NOT_SIGNER' }));
    expect(keeper.balance(alice.address, ASSET)).toBe(100n * NOK - 5n);
    expect(keeper.balance(carol.address, ASSET)).toBe(0n);
    expect(keeper.asset(ASSET)?.issuer).toBeDefined();
  });

  it('unlock at the end of a block (the owning module needs no signer to give funds back)', () => {
    const chain = fundedChain();
    ok(chain, alice, [probe('testmarket', 'lock', { ref: 'bid/7', asset: ASSET, amount: '300' }), probe('testmarket', 'due-unlock', { ref: 'bid/7' })]);
    expect(chain.internalErrors).toEqual([]);
    expect(balance(chain, alice)).toBe(100n * NOK);
    expect(chain.store.get(lockKey('testmarket/bid/7'))).toBeUndefined();
    checkConservation(chain);
  });
});

describe('keeper: module-driven escrows (flex deposits a reward)', () => {
  it('open from the signer, pay penalties back in parts, release the rest once; never twice', () => {
    const chain = fundedChain();
    ok(chain, alice, probe('testmarket', 'escrow-open', { ref: 'program/1/bob', payee: bob.address, asset: ASSET, amount: String(24n * NOK) }));
    const id = 'testmarket/program/1/bob';
    expect(chain.query(payments, 'paymentsEscrow', { id }).escrow).toMatchObject({ kind: 'module', owner: 'testmarket', status: 'open', remaining: '24000000' });
    ok(chain, carol, probe('testmarket', 'escrow-refund', { ref: 'program/1/bob', amount: String(3n * NOK) })); // penalty back to the aggregator
    ok(chain, carol, probe('testmarket', 'escrow-refund', { ref: 'program/1/bob', amount: String(1n * NOK) }));
    rejects(chain, carol, probe('testmarket', 'escrow-release', { ref: 'program/1/bob', amount: String(20n * NOK + 1n) }), 'PAY_ESCROW_INSUFFICIENT');
    ok(chain, carol, probe('testmarket', 'escrow-release', { ref: 'program/1/bob' }));
    expect(balance(chain, bob)).toBe(20n * NOK);
    expect(balance(chain, alice)).toBe(80n * NOK);
    expect(chain.query(payments, 'paymentsEscrow', { id }).escrow).toMatchObject({ status: 'closed', paidToPayee: '20000000', paidToPayer: '4000000', remaining: '0' });
    rejects(chain, carol, probe('testmarket', 'escrow-release', { ref: 'program/1/bob' }), 'PAY_ESCROW_CLOSED');
    rejects(chain, alice, probe('testmarket', 'escrow-open', { ref: 'program/1/bob', payee: bob.address, asset: ASSET, amount: '1' }), 'PAY_ESCROW_EXISTS');
    checkConservation(chain);
  });

  it('are refused to user messages and to other modules', () => {
    const chain = fundedChain();
    ok(chain, alice, probe('testmarket', 'escrow-open', { ref: 'p/2', payee: bob.address, asset: ASSET, amount: '50' }));
    rejects(chain, bob, m.approve('testmarket/p/2', 'release'), 'PAY_ESCROW_MODULE_OWNED');
    rejects(chain, bob, m.dispute('testmarket/p/2'), 'PAY_ESCROW_MODULE_OWNED');
    rejects(chain, bob, probe('thief', 'escrow-release', { ref: 'p/2' }), 'PAY_ESCROW_NOT_FOUND');
    checkConservation(chain);
  });
});
