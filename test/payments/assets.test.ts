import { describe, expect, it } from 'vitest';
import { txHash } from '../../src/codec/tx.js';
import { payments } from '../../src/modules/payments/index.js';
import { paymentsRoutes } from '../../src/modules/payments/routes.js';
import { alice, ASSET, balance, bob, carol, checkConservation, eventAttr, fundedChain, issuer, issuer2, m, NOK, ok, payChain } from './helpers.js';

const asset = (chain: ReturnType<typeof payChain>, id = ASSET) => chain.store.get<any>(`payments/asset/${id}`);

describe('assets', () => {
  it('are created by issuers with code, optional community scope and 6 decimals', () => {
    const chain = payChain();
    const res = ok(chain, issuer, m.createAsset('NOK', 'microgrid', 'Microgrid kroner'));
    expect(eventAttr(res, 'payments.asset_created', 'asset')).toBe('NOK@microgrid');
    ok(chain, issuer2, m.createAsset('EUR', null, 'Community euro'));
    expect(asset(chain)).toMatchObject({ id: 'NOK@microgrid', code: 'NOK', scope: 'microgrid', decimals: 6, issuer: issuer.address, supply: '0' });
    expect(asset(chain, 'EUR')).toMatchObject({ id: 'EUR', code: 'EUR', issuer: issuer2.address });
    expect(asset(chain, 'EUR').scope).toBeUndefined();
    const listed = chain.query(payments, 'paymentsAssets');
    expect(listed.assets.map((a: any) => a.id)).toEqual(['EUR', 'NOK@microgrid']);
  });
});

describe('mint against fiat, redeem back', () => {
  it('mints against a deposit reference that is unique per issuer', () => {
    const chain = fundedChain();
    expect(balance(chain, alice)).toBe(100n * NOK);
    expect(asset(chain)).toMatchObject({ supply: '100000000', minted: '100000000', burned: '0' });
    expect(chain.store.get<any>(`payments/deposit/${issuer.address}/BANK-1`)).toMatchObject({ asset: ASSET, to: alice.address, amount: '100000000' });
    // another issuer may use the same bank reference for its own deposits
    ok(chain, issuer2, m.createAsset('EUR', 'hood', 'Hood euro'));
    ok(chain, issuer2, m.mint(bob, 5n * NOK, 'BANK-1', 'EUR@hood'));
    expect(balance(chain, bob, 'EUR@hood')).toBe(5n * NOK);
    checkConservation(chain);
  });

  it('locks a redemption at once; the issuer completes it (burn) or rejects it (unlock)', () => {
    const chain = fundedChain();
    const r1 = eventAttr(ok(chain, alice, m.redeem(40n * NOK)), 'payments.redeem_requested', 'id');
    expect(r1).toBe('r1');
    expect(balance(chain, alice)).toBe(60n * NOK);
    expect(asset(chain)).toMatchObject({ supply: '100000000', held: { redeeming: '40000000' } });
    checkConservation(chain);
    const r2 = eventAttr(ok(chain, alice, m.redeem(10n * NOK)), 'payments.redeem_requested', 'id');
    const pending = chain.query(payments, 'paymentsRedemptions', {}, { asset: ASSET, status: 'pending' });
    expect(pending.redemptions.map((r: any) => r.id)).toEqual(['r2', 'r1']);

    ok(chain, issuer, m.complete(r1, 'PAYOUT-1'));
    expect(asset(chain)).toMatchObject({ supply: '60000000', burned: '40000000', held: { redeeming: '10000000' } });
    expect(balance(chain, alice)).toBe(50n * NOK);
    ok(chain, issuer, m.reject(r2, 'IBAN does not match'));
    expect(balance(chain, alice)).toBe(60n * NOK);
    expect(asset(chain)).toMatchObject({ supply: '60000000', held: { redeeming: '0' } });
    expect(chain.query(payments, 'paymentsRedemption', { id: r1 }).redemption).toMatchObject({ status: 'completed', payoutRef: 'PAYOUT-1', holder: alice.address });
    expect(chain.query(payments, 'paymentsRedemption', { id: r2 }).redemption).toMatchObject({ status: 'rejected', reason: 'IBAN does not match' });
    expect(chain.query(payments, 'paymentsRedemptions', {}, { asset: ASSET, status: 'pending' }).redemptions).toEqual([]);
    expect(chain.query(payments, 'paymentsRedemptions', {}, { party: issuer.address }).redemptions.map((r: any) => r.id)).toEqual(['r2', 'r1']);
    checkConservation(chain);
  });

  it('records reserve attestations and compares them with the supply', () => {
    const chain = fundedChain();
    let supply = chain.query(payments, 'paymentsAsset', { asset: ASSET }).supply;
    expect(supply).toMatchObject({ supply: '100000000', reserve: null, covered: null });
    ok(chain, issuer, m.attest(100n * NOK, 'AUDIT-2026-06'));
    supply = chain.query(payments, 'paymentsAsset', { asset: ASSET }).supply;
    expect(supply).toMatchObject({ reserve: '100000000', reserveMinusSupply: '0', covered: true, supplyChangedSinceAttestation: false });
    ok(chain, issuer, m.mint(bob, 20n * NOK, 'BANK-2'));
    const view = chain.query(payments, 'paymentsAsset', { asset: ASSET });
    expect(view.supply).toMatchObject({ supply: '120000000', circulating: '120000000', reserveMinusSupply: '-20000000', covered: false, supplyChangedSinceAttestation: true });
    ok(chain, issuer, m.attest(125n * NOK));
    const after = chain.query(payments, 'paymentsAsset', { asset: ASSET });
    expect(after.attestations.map((a: any) => [a.seq, a.reserve, a.supply])).toEqual([
      [2, '125000000', '120000000'],
      [1, '100000000', '100000000'],
    ]);
    expect(after.supply).toMatchObject({ covered: true, reserveMinusSupply: '5000000' });
  });

  it('keeps exact sums above 2^53 micro-units', () => {
    const chain = payChain();
    ok(chain, issuer, m.createAsset());
    const big = 10n ** 23n + 7n; // 10^17 NOK: far above Number.MAX_SAFE_INTEGER micro-units
    ok(chain, issuer, m.mint(alice, big, 'BANK-A'));
    ok(chain, issuer, m.mint(bob, big, 'BANK-B'));
    ok(chain, alice, m.transfer(bob, big - 1n));
    expect(balance(chain, alice)).toBe(1n);
    expect(balance(chain, bob)).toBe(2n * big - 1n);
    expect(asset(chain).supply).toBe((2n * big).toString());
    checkConservation(chain);
  });
});

describe('transfers', () => {
  it('move credits between admitted accounts with a memo, and every change is in the history with its transaction', () => {
    const chain = fundedChain();
    const res = ok(chain, alice, m.transfer(bob, 12_500_000n, 'energy, May'));
    ok(chain, bob, m.transfer(carol, 2_500_000n));
    const bobHistory = chain.query(payments, 'paymentsHistory', { address: bob.address });
    expect(bobHistory.entries.map((e: any) => [e.kind, e.delta, e.balance, e.counterparty])).toEqual([
      ['transfer-out', '-2500000', '10000000', carol.address],
      ['transfer-in', '12500000', '12500000', alice.address],
    ]);
    const incoming = bobHistory.entries[1];
    expect(incoming.memo).toBe('energy, May');
    const [txOfEntry] = chain.storage.getBlock(incoming.height)!.block.txs;
    expect(incoming.txHash).toBe(txHash(txOfEntry!.body));
    expect(txOfEntry!.body.sender).toBe(alice.address);
    expect(res.events.some((e) => e.type === 'payments.transfer' && e.attributes.amount === '12500000')).toBe(true);
    const aliceHistory = chain.query(payments, 'paymentsHistory', { address: alice.address }, { limit: '10' });
    expect(aliceHistory.entries.map((e: any) => e.kind)).toEqual(['transfer-out', 'mint']);
    expect(aliceHistory.entries[1]).toMatchObject({ ref: 'BANK-1', delta: '100000000' });
    // paging: entries below the height of the newest one
    const older = chain.query(payments, 'paymentsHistory', { address: alice.address }, { beforeHeight: String(aliceHistory.entries[0].height) });
    expect(older.entries.map((e: any) => e.kind)).toEqual(['mint']);
    checkConservation(chain);
  });

  it('keep every change in execution order when a balance changes many times in one block (rows of 8)', () => {
    const chain = fundedChain();
    ok(chain, issuer2, m.createAsset('EUR', null, 'Community euro'));
    ok(chain, issuer2, m.mint(alice, 50n, 'E-1', 'EUR'));
    const txs = [];
    for (let i = 1; i <= 20; i++) txs.push(chain.tx(alice, [m.transfer(i % 2 === 0 ? bob : carol, BigInt(i)), ...(i % 5 === 0 ? [m.transfer(bob, 1n, undefined, 'EUR')] : [])]));
    const results = chain.block(txs);
    expect(results.every((r) => r.code === 'OK')).toBe(true);
    const height = chain.app.height;
    expect(chain.store.scan(`payments/hist/${alice.address}/${String(height).padStart(16, '0')}/${ASSET}/`).length).toBe(3); // 20 changes: 8 + 8 + 4
    const nok = chain.query(payments, 'paymentsHistory', { address: alice.address }, { asset: ASSET, limit: '25' }).entries;
    expect(nok.slice(0, 20).map((e: any) => e.delta)).toEqual(Array.from({ length: 20 }, (_, i) => String(-(20 - i))));
    expect(nok.slice(0, 20).map((e: any) => e.txHash)).toEqual(txs.map((t) => txHash(t.body)).reverse());
    // balances after each change, newest first, end where the mint left off
    let balanceAfter = 100n * NOK - 210n;
    for (const e of nok.slice(0, 20)) {
      expect(e.balance).toBe(balanceAfter.toString());
      balanceAfter -= BigInt(e.delta);
    }
    expect(nok[20]).toMatchObject({ kind: 'mint', balance: '100000000' });
    const all = chain.query(payments, 'paymentsHistory', { address: alice.address }, { limit: '100' }).entries;
    expect(all.filter((e: any) => e.height === height).length).toBe(24);
    expect(all.filter((e: any) => e.asset === 'EUR').map((e: any) => e.delta)).toEqual(['-1', '-1', '-1', '-1', '50']);
    expect(chain.query(payments, 'paymentsHistory', { address: alice.address }, { limit: '3' }).entries.length).toBe(3);
    // paging with `next`: every page size, with and without an asset, gives each entry exactly once,
    // in order, though 24 of them share one height (a page can end inside a row of 8)
    for (const asset of [undefined, ASSET]) {
      const whole = chain.query(payments, 'paymentsHistory', { address: alice.address }, { ...(asset ? { asset } : {}), limit: '100' }).entries;
      for (const size of [1, 3, 5, 7, 8, 9, 24]) {
        const paged: unknown[] = [];
        let after: string | undefined;
        do {
          const page = chain.query(payments, 'paymentsHistory', { address: alice.address }, { ...(asset ? { asset } : {}), ...(after ? { after } : {}), limit: String(size) });
          expect(page.entries.length).toBeGreaterThan(0);
          paged.push(...page.entries);
          after = page.next;
        } while (after !== undefined);
        expect(paged).toEqual(whole);
      }
    }
    const h = chain.query(payments, 'paymentsHistory', { address: alice.address }, { limit: '1' });
    expect(() => chain.query(payments, 'paymentsHistory', { address: alice.address }, { after: h.next, beforeHeight: '5' })).toThrow(/either after/);
    expect(paymentsRoutes.history.query!.safeParse({ after: 'h12' }).success).toBe(false);
    checkConservation(chain);
  });

  it('show free and held balances per account', () => {
    const chain = fundedChain();
    ok(chain, alice, m.redeem(10n * NOK));
    ok(chain, alice, m.escrowOpen({ amount: String(5n * NOK), payee: bob.address }));
    ok(chain, alice, m.channelOpen(bob, 3n * NOK));
    const { balances } = chain.query(payments, 'paymentsBalances', { address: alice.address });
    expect(balances).toEqual([{ asset: ASSET, code: 'NOK', free: '82000000', held: { redeeming: '10000000', locked: '0', escrowed: '5000000', channels: '3000000' }, total: '100000000' }]);
    checkConservation(chain);
  });
});
