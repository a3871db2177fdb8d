import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { signTx } from '../../src/codec/tx.js';
import { verifySignature } from '../../src/crypto/ed25519.js';
import { payments } from '../../src/modules/payments/index.js';
import { signVoucher, verifyVoucher, voucherSignBytes } from '../../src/modules/payments/voucher.js';
import { account } from '../helpers/chain.js';
import { alice, balance, bob, carol, checkConservation, eventAttr, fundedChain, m, NOK, ok, rejects, voucher } from './helpers.js';

const HOUR = 3_600_000;
const channel = (chain: ReturnType<typeof fundedChain>, id: string) => chain.query(payments, 'paymentsChannel', { id }).channel;

describe('vouchers', () => {
  const body = { chainId: 'test-chain', channel: 'ch1', amount: '700000', wh: 7000, seq: 7 };

  it('sign the domain-separated canonical encoding (checked with an independent Ed25519 implementation)', () => {
    const expected = Buffer.concat([Buffer.from('GRIDLEDGER/PAYMENT-VOUCHER/V1', 'utf8'), Buffer.from([0]), Buffer.from('{"amount":"700000","chainId":"test-chain","channel":"ch1","seq":7,"wh":7000}', 'utf8')]);
    expect(Buffer.from(voucherSignBytes(body)).equals(expected)).toBe(true);
    const v = signVoucher(alice.signer, body);
    expect(v).toMatchObject({ ...body, pubKey: alice.publicKey });
    expect(ed25519.verify(Buffer.from(v.signature, 'hex'), expected, Buffer.from(alice.publicKey, 'hex'))).toBe(true);
    expect(verifyVoucher(v, { chainId: 'test-chain', channel: 'ch1', buyer: alice.address })).toEqual({ ok: true, voucher: v });
  });

  it('fail when any signed field changes, for another chain, channel or signer, and when malformed', () => {
    const v = signVoucher(alice.signer, body);
    for (const change of [{ amount: '700001' }, { wh: 7001 }, { seq: 8 }, { channel: 'ch2' }, { chainId: 'other-chain' }]) {
      expect(verifyVoucher({ ...v, ...change })).toEqual({ ok: false, problem: 'bad-signature' });
    }
    expect(verifyVoucher(v, { chainId: 'other-chain' })).toEqual({ ok: false, problem: 'wrong-chain' });
    expect(verifyVoucher(v, { channel: 'ch2' })).toEqual({ ok: false, problem: 'wrong-channel' });
    expect(verifyVoucher(v, { buyer: bob.address })).toEqual({ ok: false, problem: 'wrong-signer' });
    expect(verifyVoucher({ ...v, amount: '007' })).toEqual({ ok: false, problem: 'malformed' });
    expect(verifyVoucher({ ...v, extra: 1 })).toEqual({ ok: false, problem: 'malformed' });
    expect(verifyVoucher(null)).toEqual({ ok: false, problem: 'malformed' });
    // a signature by another key over the same body, presented with alice's key
    const forged = { ...v, signature: signVoucher(bob.signer, body).signature };
    expect(verifyVoucher(forged, { buyer: alice.address })).toEqual({ ok: false, problem: 'bad-signature' });
  });

  it('apply the ledger signature rule: a malleated signature (S + L) is refused', () => {
    const v = signVoucher(alice.signer, body);
    const sig = Buffer.from(v.signature, 'hex');
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const sPlusL = s + L;
    const high = Buffer.alloc(32);
    for (let i = 0, x = sPlusL; i < 32; i++, x >>= 8n) high[i] = Number(x & 0xffn);
    const malleated = { ...v, signature: Buffer.concat([sig.subarray(0, 32), high]).toString('hex') };
    expect(verifyVoucher(malleated)).toEqual({ ok: false, problem: 'bad-signature' });
  });

  it('are not valid as transactions and vice versa (domain separation)', () => {
    const v = signVoucher(alice.signer, body);
    const tx = signTx({ chainId: 'test-chain', sender: alice.address, nonce: 0, expiresAtHeight: 10, msgs: [{ type: 'payments/transfer', value: {} }], memo: '' }, alice.signer);
    const pub = Buffer.from(alice.publicKey, 'hex');
    // the voucher signature does not verify over the bare canonical JSON nor under the tx domain
    const bare = Buffer.from('{"amount":"700000","chainId":"test-chain","channel":"ch1","seq":7,"wh":7000}', 'utf8');
    expect(verifySignature(pub, bare, Buffer.from(v.signature, 'hex'))).toBe(false);
    expect(verifySignature(pub, Buffer.concat([Buffer.from('GRIDLEDGER/TX/V1\0', 'utf8'), bare]), Buffer.from(v.signature, 'hex'))).toBe(false);
    expect(verifyVoucher({ ...v, signature: tx.signature })).toEqual({ ok: false, problem: 'bad-signature' });
  });

  it('refuse bodies that are not vouchers when signing', () => {
    expect(() => signVoucher(alice.signer, { ...body, amount: '-1' })).toThrow();
    expect(() => signVoucher(alice.signer, { ...body, channel: 'e1' })).toThrow();
  });
});

describe('payment channels', () => {
  it('pay per kWh: ten vouchers, the seller closes with the 7th; payout + refund = deposit', () => {
    const chain = fundedChain();
    const res = ok(chain, alice, m.channelOpen(bob, 10n * NOK));
    const id = eventAttr(res, 'payments.channel_opened', 'id');
    expect(id).toBe('ch1');
    expect(channel(chain, id)).toMatchObject({ buyer: alice.address, seller: bob.address, deposit: '10000000', refundTime: chain.time + 24 * HOUR, status: 'open', expired: false });
    expect(balance(chain, alice)).toBe(90n * NOK);
    checkConservation(chain);
    const price = 250_000n; // 0.25 NOK per kWh
    const vouchers = Array.from({ length: 10 }, (_, i) => voucher(alice, { channel: id, amount: String(price * BigInt(i + 1)), wh: 1000 * (i + 1), seq: i + 1 }));
    ok(chain, bob, m.channelClose(id, vouchers[6]));
    expect(balance(chain, bob)).toBe(7n * price);
    expect(balance(chain, alice)).toBe(100n * NOK - 7n * price);
    expect(channel(chain, id)).toMatchObject({ status: 'closed', payout: '1750000', refund: '8250000', voucher: { amount: '1750000', wh: 7000, seq: 7 } });
    rejects(chain, bob, m.channelClose(id, vouchers[9]), 'PAY_CHANNEL_CLOSED');
    checkConservation(chain);
  });

  it('lets the seller close with any voucher (a stale one only costs the seller) or none', () => {
    const chain = fundedChain();
    const a = eventAttr(ok(chain, alice, m.channelOpen(bob, 5n * NOK)), 'payments.channel_opened', 'id');
    const b = eventAttr(ok(chain, alice, m.channelOpen(carol, 5n * NOK)), 'payments.channel_opened', 'id');
    ok(chain, bob, m.channelClose(a, voucher(alice, { channel: a, amount: '1000', seq: 1 })));
    ok(chain, carol, m.channelClose(b));
    expect(balance(chain, bob)).toBe(1000n);
    expect(balance(chain, carol)).toBe(0n);
    expect(balance(chain, alice)).toBe(100n * NOK - 1000n);
    expect(channel(chain, b)).toMatchObject({ status: 'closed', payout: '0', refund: '5000000' });
    checkConservation(chain);
  });

  it('lets the buyer reclaim the whole deposit at the refund time, and not before; the seller can no longer close', () => {
    const chain = fundedChain({ genesisModules: { payments: { minRefundDelayMs: 1000 } } });
    const opened = chain.time + 1000;
    const id = eventAttr(ok(chain, alice, m.channelOpen(bob, 3n * NOK, 2000), opened), 'payments.channel_opened', 'id');
    const v = voucher(alice, { channel: id, amount: '100', seq: 1 });
    rejects(chain, alice, m.reclaim(id), 'PAY_CHANNEL_NOT_EXPIRED', opened + 1999);
    rejects(chain, bob, m.channelClose(id, v), 'PAY_CHANNEL_EXPIRED', opened + 2000);
    expect(channel(chain, id).expired).toBe(true);
    ok(chain, alice, m.reclaim(id), opened + 2001);
    expect(balance(chain, alice)).toBe(100n * NOK);
    expect(channel(chain, id)).toMatchObject({ status: 'reclaimed', payout: '0', refund: '3000000' });
    rejects(chain, alice, m.reclaim(id), 'PAY_CHANNEL_CLOSED');
    checkConservation(chain);
  });

  it('keep the refund delay within the chain parameters (default 60 s … 366 days)', () => {
    const chain = fundedChain();
    rejects(chain, alice, m.channelOpen(bob, 1n, 59_999), 'PAY_REFUND_DELAY_OUT_OF_RANGE');
    ok(chain, alice, m.channelOpen(bob, 1n, 60_000));
    rejects(chain, alice, m.channelOpen(bob, 1n, 366 * 24 * HOUR + 1), 'PAY_REFUND_DELAY_OUT_OF_RANGE');
    expect(() => fundedChain({ genesisModules: { payments: { minRefundDelayMs: 999 } } })).toThrow(/minRefundDelayMs/);
  });

  it('lists open channels per party', () => {
    const chain = fundedChain();
    ok(chain, alice, m.channelOpen(bob, 1n));
    ok(chain, alice, m.channelOpen(carol, 1n));
    ok(chain, bob, m.channelClose('ch1'));
    expect(chain.query(payments, 'paymentsChannels', {}, { party: alice.address }).channels.map((c: any) => c.id)).toEqual(['ch2']);
    expect(chain.query(payments, 'paymentsChannels', {}, { party: alice.address, status: 'all' }).channels.map((c: any) => c.id)).toEqual(['ch2', 'ch1']);
    expect(chain.query(payments, 'paymentsChannels', {}, { party: bob.address, status: 'closed' }).channels.map((c: any) => c.id)).toEqual(['ch1']);
    expect(chain.query(payments, 'paymentsChannels', {}, { party: account('nobody').address }).channels).toEqual([]);
  });
});
