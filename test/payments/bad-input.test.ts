import { describe, expect, it } from 'vitest';
import type { Msg } from '../../src/codec/tx.js';
import { MAX_AMOUNT } from '../../src/modules/payments/amount.js';
import { E } from '../../src/modules/payments/errors.js';
import { CATALOGUE } from '../../src/util/errors.js';
import { account, type TestAccount, type TestChain } from '../helpers/chain.js';
import { alice, ASSET, balance, bob, carol, checkConservation, dave, dso, fundedChain, issuer, issuer2, m, NOK, ok, outsider, rejects, revokee, snapshot, voucher } from './helpers.js';

/**
 * The bad-input battery: every rule of the payments module rejected with its own code, each time
 * with every state entry unchanged except the sender's nonce. The fixture holds one object in each
 * state a rule can refuse.
 */

const probe = (module: string, action: string, value: Record<string, unknown>) => m.probe(module, action, value);
const open = (payee: TestAccount, amount: bigint, extra: Record<string, unknown> = {}) => m.escrowOpen({ amount: String(amount), payee: payee.address, ...extra });

function fixture(): TestChain {
  const chain = fundedChain();
  ok(chain, issuer2, m.createAsset('EUR', null, 'Community euro'));
  ok(chain, alice, m.redeem(5n * NOK)); // r1 pending
  ok(chain, alice, m.redeem(1n * NOK)); // r2 completed with PAYOUT-1
  ok(chain, issuer, m.complete('r2', 'PAYOUT-1'));
  ok(chain, alice, open(bob, 10n * NOK, { mediator: dso.address })); // e1 open, bob approved release
  ok(chain, bob, m.approve('e1', 'release'));
  ok(chain, alice, open(bob, 10n * NOK, { mediator: dso.address })); // e2 disputed, split 7/3 proposed
  ok(chain, alice, m.dispute('e2'));
  ok(chain, dso, m.propose('e2', 7n * NOK, 3n * NOK));
  ok(chain, alice, open(bob, 1n * NOK)); // e3 without mediator
  ok(chain, alice, open(bob, 1n * NOK, { mediator: dso.address, deadlineHeight: chain.app.height + 2 })); // e4 deadline passes
  ok(chain, alice, open(bob, 1n * NOK, { mediator: dso.address, deadlineHeight: chain.app.height + 3 })); // e5 disputed, deadline passes
  ok(chain, bob, m.dispute('e5'));
  ok(chain, alice, open(bob, 1n * NOK, { threshold: 1 })); // e6 released
  ok(chain, alice, m.approve('e6', 'release'));
  ok(chain, alice, open(bob, 1n * NOK, { mediator: dso.address })); // e7 disputed, split proposed, bob rejected
  ok(chain, alice, m.dispute('e7'));
  ok(chain, dso, m.propose('e7', 1n, 1n * NOK - 1n));
  ok(chain, bob, m.rejectSplit('e7'));
  ok(chain, alice, open(bob, 1n * NOK, { mediator: dso.address })); // e8 disputed, no proposal
  ok(chain, bob, m.dispute('e8'));
  ok(chain, alice, open(bob, 1n * NOK, { mediator: dso.address, others: [carol.address] })); // e9 both rejected
  ok(chain, alice, m.dispute('e9'));
  ok(chain, dso, m.propose('e9', 1n, 1n * NOK - 1n));
  ok(chain, bob, m.rejectSplit('e9'));
  ok(chain, alice, m.rejectSplit('e9'));
  ok(chain, alice, m.channelOpen(bob, 5n * NOK)); // ch1 open, 24 h
  ok(chain, alice, m.channelOpen(bob, 1n * NOK, 60_000)); // ch2 expires below
  ok(chain, alice, m.channelOpen(bob, 1n * NOK)); // ch3 closed
  ok(chain, bob, m.channelClose('ch3'));
  ok(chain, alice, probe('testmarket', 'lock', { ref: 'bid/1', asset: ASSET, amount: '1000' }));
  ok(chain, alice, probe('testmarket', 'escrow-open', { ref: 'm/1', payee: bob.address, asset: ASSET, amount: '1000' }));
  chain.block([], chain.time + 120_000); // ch2's refund time has come; e4, e5 deadlines reached
  return chain;
}

interface Case {
  code: string;
  name: string;
  from: TestAccount;
  msgs: (chain: TestChain) => Msg | Msg[];
}
const c = (code: string, name: string, from: TestAccount, msgs: Case['msgs']): Case => ({ code, name, from, msgs });
const strangers = Array.from({ length: 9 }, (_, i) => account(`stranger-${i}`).address);

const CASES: Case[] = [
  // assets, mint, redeem, reserve
  c('PAY_NOT_ISSUER_ROLE', 'create-asset without role issuer', alice, () => m.createAsset('ALC', 'x')),
  c('PAY_ASSET_EXISTS', 'create an existing asset', issuer, () => m.createAsset()),
  c('PAY_ASSET_NOT_FOUND', 'transfer of an unknown asset', alice, () => m.transfer(bob, 1n, undefined, 'XYZ')),
  c('PAY_ASSET_NOT_FOUND', 'mint of an unknown asset', issuer, () => m.mint(bob, 1n, 'B-9', 'XYZ@hood')),
  c('PAY_NOT_ISSUER', 'mint by another issuer', issuer2, () => m.mint(bob, 1n, 'B-9')),
  c('PAY_NOT_ISSUER', 'attest by a holder', alice, () => m.attest(1n)),
  c('PAY_NOT_ISSUER', 'complete-redeem by another issuer', issuer2, () => m.complete('r1', 'P-9')),
  c('PAY_NOT_ISSUER', 'reject-redeem by the holder', alice, () => m.reject('r1')),
  c('PAY_AMOUNT_NOT_POSITIVE', 'mint of 0', issuer, () => m.mint(bob, 0n, 'B-9')),
  c('PAY_AMOUNT_NOT_POSITIVE', 'transfer of 0', alice, () => m.transfer(bob, 0n)),
  c('PAY_AMOUNT_NOT_POSITIVE', 'redeem of 0', alice, () => m.redeem(0n)),
  c('PAY_AMOUNT_NOT_POSITIVE', 'escrow of 0', alice, () => open(bob, 0n)),
  c('PAY_AMOUNT_NOT_POSITIVE', 'channel deposit of 0', alice, () => m.channelOpen(bob, 0n)),
  c('PAY_AMOUNT_NOT_POSITIVE', 'module lock of 0', alice, () => probe('testmarket', 'lock', { ref: 'z', asset: ASSET, amount: '0' })),
  c('PAY_SUPPLY_LIMIT', 'mint above 10^24 − 1 in supply', issuer, () => m.mint(bob, MAX_AMOUNT, 'B-9')),
  c('PAY_DEPOSIT_REF_USED', 'mint twice against one deposit', issuer, () => m.mint(bob, 1n, 'BANK-1')),
  c('PAY_PAYOUT_REF_USED', 'complete twice with one payout reference', issuer, () => m.complete('r1', 'PAYOUT-1')),
  c('PAY_REDEMPTION_NOT_FOUND', 'complete an unknown redemption', issuer, () => m.complete('r99', 'P-9')),
  c('PAY_REDEMPTION_CLOSED', 'complete a completed redemption', issuer, () => m.complete('r2', 'P-9')),
  c('PAY_REDEMPTION_CLOSED', 'reject a completed redemption', issuer, () => m.reject('r2')),
  // accounts and balances
  c('PAY_ACCOUNT_NOT_ADMITTED', 'transfer to a non-admitted account', alice, () => m.transfer(outsider, 1n)),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'mint to a non-admitted account', issuer, () => m.mint(outsider, 1n, 'B-9')),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'escrow payee not admitted', alice, () => open(outsider, 1n)),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'escrow mediator not admitted', alice, () => open(bob, 1n, { mediator: outsider.address })),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'escrow party not admitted', alice, () => open(bob, 1n, { others: [outsider.address] })),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'channel seller not admitted', alice, () => m.channelOpen(outsider, 1n)),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'new mediator not admitted', bob, () => m.replaceMediator('e9', outsider)),
  c('PAY_ACCOUNT_NOT_ADMITTED', 'module pays from a lock to a non-admitted account', alice, () => probe('testmarket', 'pay', { ref: 'bid/1', to: outsider.address, amount: '1' })),
  c('PAY_ACCOUNT_REVOKED', 'transfer to a revoked account', alice, () => m.transfer(revokee, 1n)),
  c('PAY_ACCOUNT_REVOKED', 'mint to a revoked account', issuer, () => m.mint(revokee, 1n, 'B-9')),
  c('PAY_ACCOUNT_REVOKED', 'escrow to a revoked payee', alice, () => open(revokee, 1n)),
  c('PAY_ACCOUNT_REVOKED', 'channel to a revoked seller', alice, () => m.channelOpen(revokee, 1n)),
  c('PAY_SELF_TRANSFER', 'transfer to oneself', alice, () => m.transfer(alice, 1n)),
  c('PAY_INSUFFICIENT_BALANCE', 'transfer above the balance', alice, () => m.transfer(bob, 1000n * NOK)),
  c('PAY_INSUFFICIENT_BALANCE', 'transfer without any balance', dave, () => m.transfer(bob, 1n)),
  c('PAY_INSUFFICIENT_BALANCE', 'redeem above the balance', alice, () => m.redeem(1000n * NOK)),
  c('PAY_INSUFFICIENT_BALANCE', 'escrow above the balance', alice, () => open(bob, 1000n * NOK)),
  c('PAY_INSUFFICIENT_BALANCE', 'channel deposit above the balance', alice, () => m.channelOpen(bob, 1000n * NOK)),
  c('PAY_INSUFFICIENT_BALANCE', 'module lock above the balance', alice, () => probe('testmarket', 'lock', { ref: 'big', asset: ASSET, amount: String(1000n * NOK) })),
  c('PAY_DEBIT_NOT_SIGNER', 'module locks funds of another account', bob, () => probe('testmarket', 'lock', { ref: 'z', asset: ASSET, amount: '1', account: alice.address })),
  // escrow
  c('PAY_ESCROW_NOT_FOUND', 'approve an unknown escrow', alice, () => m.approve('e99', 'release')),
  c('PAY_ESCROW_EXISTS', 'module reuses an escrow reference', alice, () => probe('testmarket', 'escrow-open', { ref: 'm/1', payee: bob.address, asset: ASSET, amount: '1' })),
  c('PAY_ESCROW_MODULE_OWNED', 'approve a module escrow', bob, () => m.approve('testmarket/m/1', 'release')),
  c('PAY_ESCROW_PAYEE_IS_PAYER', 'escrow to oneself', alice, () => open(alice, 1n)),
  c('PAY_ESCROW_PAYEE_IS_PAYER', 'module escrow to the payer', alice, () => probe('testmarket', 'escrow-open', { ref: 'self', payee: alice.address, asset: ASSET, amount: '1' })),
  c('PAY_ESCROW_PARTY_DUPLICATE', 'payee as mediator', alice, () => open(bob, 1n, { mediator: bob.address })),
  c('PAY_ESCROW_PARTY_DUPLICATE', 'mediator again among the others', alice, () => open(bob, 1n, { mediator: dso.address, others: [dso.address] })),
  c('PAY_ESCROW_TOO_MANY_PARTIES', '11 parties', alice, () => open(bob, 1n, { others: strangers })),
  c('PAY_ESCROW_THRESHOLD_INVALID', 'threshold above the parties', alice, () => open(bob, 1n, { mediator: dso.address, threshold: 4 })),
  c('PAY_ESCROW_THRESHOLD_INVALID', 'threshold 0', alice, () => open(bob, 1n, { threshold: 0 })),
  c('PAY_DEADLINE_NOT_FUTURE', 'deadline height not after the block', alice, (ch) => open(bob, 1n, { deadlineHeight: ch.app.height + 1 })),
  c('PAY_DEADLINE_NOT_FUTURE', 'deadline time not after the block', alice, (ch) => open(bob, 1n, { deadlineTime: ch.time + 1000 })),
  c('PAY_ESCROW_CLOSED', 'approve a released escrow', bob, () => m.approve('e6', 'refund')),
  c('PAY_ESCROW_CLOSED', 'module releases a closed escrow', alice, () => [probe('testmarket', 'escrow-release', { ref: 'm/1' }), probe('testmarket', 'escrow-release', { ref: 'm/1' })]),
  c('PAY_NOT_PARTY', 'approval by an outsider to the escrow', carol, () => m.approve('e1', 'release')),
  c('PAY_NOT_PARTY', 'dispute by an outsider to the escrow', carol, () => m.dispute('e1')),
  c('PAY_ALREADY_APPROVED', 'the same approval twice', bob, () => m.approve('e1', 'release')),
  c('PAY_DEADLINE_NOT_REACHED', 'refund before the deadline', alice, () => m.refund('e1')),
  c('PAY_ESCROW_DEADLINE_PASSED', 'dispute after the deadline', bob, () => m.dispute('e4')),
  c('PAY_ESCROW_DISPUTED', 'deadline refund of a disputed escrow', alice, () => m.refund('e5')),
  c('PAY_ESCROW_NO_MEDIATOR', 'dispute without a mediator', bob, () => m.dispute('e3')),
  c('PAY_ESCROW_ALREADY_DISPUTED', 'dispute twice', bob, () => m.dispute('e2')),
  c('PAY_ESCROW_NOT_DISPUTED', 'split without a dispute', dso, () => m.propose('e1', 5n * NOK, 5n * NOK)),
  c('PAY_NOT_MEDIATOR', 'split proposed by the payee', bob, () => m.propose('e2', 10n * NOK, 0n)),
  c('PAY_SPLIT_SUM_MISMATCH', 'split that does not sum to the escrow', dso, () => m.propose('e2', 7n * NOK, 2n * NOK)),
  c('PAY_SPLIT_SUM_MISMATCH', 'split above the escrow', dso, () => m.propose('e2', 7n * NOK, 3n * NOK + 1n)),
  c('PAY_NO_SPLIT_PROPOSED', 'countersign before any proposal', alice, () => m.countersign('e8', 1n, 0n)),
  c('PAY_SPLIT_MISMATCH', 'countersign other amounts', bob, () => m.countersign('e2', 6n * NOK, 4n * NOK)),
  c('PAY_NOT_COUNTERPARTY', 'the mediator countersigns itself', dso, () => m.countersign('e2', 7n * NOK, 3n * NOK)),
  c('PAY_NOT_COUNTERPARTY', 'another party nominates a mediator', carol, () => m.replaceMediator('e9', dave)),
  c('PAY_ALREADY_REJECTED', 'reject twice', bob, () => m.rejectSplit('e7')),
  c('PAY_REPLACEMENT_NOT_ALLOWED', 'replace after one rejection', bob, () => m.replaceMediator('e7', carol)),
  c('PAY_MEDIATOR_INVALID', 'the current mediator again', bob, () => m.replaceMediator('e9', dso)),
  c('PAY_MEDIATOR_INVALID', 'another party as mediator', bob, () => m.replaceMediator('e9', carol)),
  c('PAY_ESCROW_INSUFFICIENT', 'module releases more than remains', alice, () => probe('testmarket', 'escrow-release', { ref: 'm/1', amount: '1001' })),
  // channels
  c('PAY_CHANNEL_NOT_FOUND', 'close an unknown channel', bob, () => m.channelClose('ch99')),
  c('PAY_CHANNEL_SELF', 'channel to oneself', alice, () => m.channelOpen(alice, 1n)),
  c('PAY_REFUND_DELAY_OUT_OF_RANGE', 'refund delay below the minimum', alice, () => m.channelOpen(bob, 1n, 1000)),
  c('PAY_NOT_SELLER', 'the buyer closes', alice, () => m.channelClose('ch1')),
  c('PAY_NOT_BUYER', 'the seller reclaims', bob, () => m.reclaim('ch1')),
  c('PAY_CHANNEL_CLOSED', 'close a closed channel', bob, () => m.channelClose('ch3')),
  c('PAY_CHANNEL_EXPIRED', 'close after the refund time', bob, () => m.channelClose('ch2', voucher(alice, { channel: 'ch2', amount: '1' }))),
  c('PAY_CHANNEL_NOT_EXPIRED', 'reclaim before the refund time', alice, () => m.reclaim('ch1')),
  c('PAY_VOUCHER_WRONG_CHAIN', 'voucher of another chain', bob, () => m.channelClose('ch1', voucher(alice, { channel: 'ch1', amount: '1' }, 'other-chain'))),
  c('PAY_VOUCHER_WRONG_CHANNEL', 'voucher of another channel', bob, () => m.channelClose('ch1', voucher(alice, { channel: 'ch2', amount: '1' }))),
  c('PAY_VOUCHER_WRONG_SIGNER', 'voucher signed by someone else', bob, () => m.channelClose('ch1', voucher(carol, { channel: 'ch1', amount: '1' }))),
  c('PAY_VOUCHER_BAD_SIGNATURE', 'tampered voucher', bob, () => m.channelClose('ch1', { ...voucher(alice, { channel: 'ch1', amount: '1' }), amount: String(5n * NOK) })),
  c('PAY_VOUCHER_EXCEEDS_DEPOSIT', 'voucher above the deposit', bob, () => m.channelClose('ch1', voucher(alice, { channel: 'ch1', amount: String(5n * NOK + 1n) }))),
  // module locks
  c('PAY_LOCK_EXISTS', 'lock reference reused', alice, () => probe('testmarket', 'lock', { ref: 'bid/1', asset: ASSET, amount: '1' })),
  c('PAY_LOCK_NOT_FOUND', 'unlock an unknown lock', alice, () => probe('testmarket', 'unlock', { ref: 'bid/99' })),
  c('PAY_LOCK_NOT_FOUND', "another module's lock", alice, () => probe('thief', 'unlock', { ref: 'bid/1' })),
  c('PAY_LOCK_INSUFFICIENT', 'unlock more than remains', alice, () => probe('testmarket', 'unlock', { ref: 'bid/1', amount: '1001' })),
  // malformed values never reach the rules
  c('MSG_INVALID', 'amount with leading zeros', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: '01' } })),
  c('MSG_INVALID', 'negative amount', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: '-1' } })),
  c('MSG_INVALID', 'decimal amount', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: '1.5' } })),
  c('MSG_INVALID', 'amount as a JSON number', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: 1 } })),
  c('MSG_INVALID', 'amount of 25 digits', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: '1'.repeat(25) } })),
  c('MSG_INVALID', 'malformed asset id', alice, () => ({ type: 'payments/transfer', value: { asset: 'nok', to: bob.address, amount: '1' } })),
  c('MSG_INVALID', 'unknown field', alice, () => ({ type: 'payments/transfer', value: { asset: ASSET, to: bob.address, amount: '1', fee: '1' } })),
  c('MSG_INVALID', 'malformed voucher', bob, () => m.channelClose('ch1', { ...voucher(alice, { channel: 'ch1', amount: '1' }), signature: 'zz' })),
  c('MSG_INVALID', 'memo too long', alice, () => m.transfer(bob, 1n, 'x'.repeat(257))),
  // nothing partially applied
  c('PAY_ACCOUNT_NOT_ADMITTED', 'a valid transfer followed by an invalid one', alice, () => [m.transfer(bob, 1n * NOK), m.transfer(outsider, 1n)]),
  c('PAY_INSUFFICIENT_BALANCE', 'a valid escrow and channel, then a transfer the balance no longer covers', alice, () => [open(bob, 20n * NOK), m.channelOpen(bob, 20n * NOK), m.transfer(bob, 50n * NOK)]),
  c('PAY_REDEMPTION_CLOSED', 'a completion followed by a second one', issuer, () => [m.complete('r1', 'P-7'), m.complete('r1', 'P-8')]),
];

describe('bad input: every rule rejected with its own code, state unchanged', () => {
  it.each(CASES.map((x) => [`${x.code}: ${x.name}`, x] as const))('%s', (_name, x) => {
    const chain = fixture();
    rejects(chain, x.from, x.msgs(chain), x.code);
    checkConservation(chain);
  });

  it('covers every code the module declares', () => {
    const declared = E[CATALOGUE].entries.map((e) => e.code).sort();
    const covered = new Set(CASES.map((x) => x.code));
    expect(declared.filter((code) => !covered.has(code))).toEqual([]);
  });

  it('the fixture itself conserves every asset and the rejected transactions leave balances alone', () => {
    const chain = fixture();
    checkConservation(chain);
    const before = snapshot(chain);
    const aliceBefore = balance(chain, alice);
    rejects(chain, alice, [m.transfer(bob, 1n * NOK), m.transfer(outsider, 1n)], 'PAY_ACCOUNT_NOT_ADMITTED');
    expect(balance(chain, alice)).toBe(aliceBefore);
    expect(snapshot(chain).size).toBe(before.size);
  });
});
