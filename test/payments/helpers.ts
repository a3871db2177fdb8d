import { expect } from 'vitest';
import { z } from 'zod';
import { defineModule, handler, type KeepersOf, type ModuleContext } from '../../src/app/module.js';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { claimFundsOwner } from '../../src/modules/payments/keeper.js';
import { allBalances, listChannels, listEscrows, listLocks, listRedemptions, listAssets } from '../../src/modules/payments/state.js';
import { signVoucher, type VoucherBody } from '../../src/modules/payments/voucher.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

export const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
export const ASSET = 'NOK@microgrid';
export const NOK = 1_000_000n;

export const issuer = account('issuer');
export const issuer2 = account('issuer2');
export const alice = account('alice');
export const bob = account('bob');
export const carol = account('carol');
export const dso = account('dso');
export const dave = account('dave');
export const outsider = account('outsider');
export const revokee = account('revokee');

/**
 * A module that uses the payments keeper the way market or flex will (a probe for tests): each
 * message calls one keeper method under the probe's own FundsOwner; `<name>/due-unlock` schedules
 * an unlock that runs at the end of the block (no signer there).
 */
export function keeperProbe(name: string) {
  const owner = claimFundsOwner(name);
  type Ctx = ModuleContext<KeepersOf<readonly ['payments']>>;
  const ref = z.string();
  const amt = z.string().regex(/^\d+$/);
  const opt = (s: z.ZodType) => s.optional();
  const big = (v: string | undefined) => (v === undefined ? undefined : BigInt(v));
  return defineModule({
    name,
    requires: ['payments'],
    messages: {
      [`${name}/lock`]: handler(z.object({ ref, asset: z.string(), amount: amt, account: opt(z.string()) }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.lock(owner, v.ref, v.account ?? ctx.sender, v.asset, BigInt(v.amount));
      }),
      [`${name}/unlock`]: handler(z.object({ ref, amount: opt(amt) }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.unlock(owner, v.ref, big(v.amount));
      }),
      [`${name}/pay`]: handler(z.object({ ref, to: z.string(), amount: amt }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.payFromLock(owner, v.ref, v.to, BigInt(v.amount));
      }),
      [`${name}/transfer`]: handler(z.object({ from: opt(z.string()), to: z.string(), asset: z.string(), amount: amt }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.transfer(v.from ?? ctx.sender, v.to, v.asset, BigInt(v.amount), 'via module');
      }),
      [`${name}/escrow-open`]: handler(z.object({ ref, payee: z.string(), asset: z.string(), amount: amt, payer: opt(z.string()) }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.openEscrow(owner, v.ref, { payer: v.payer ?? ctx.sender, payee: v.payee, asset: v.asset, amount: BigInt(v.amount) });
      }),
      [`${name}/escrow-release`]: handler(z.object({ ref, amount: opt(amt) }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.releaseEscrow(owner, v.ref, big(v.amount));
      }),
      [`${name}/escrow-refund`]: handler(z.object({ ref, amount: opt(amt) }).strict(), (ctx: Ctx, v: any) => {
        ctx.keepers.payments.refundEscrow(owner, v.ref, big(v.amount));
      }),
      [`${name}/due-unlock`]: handler(z.object({ ref }).strict(), (ctx: Ctx, v: any) => {
        ctx.store.set(`${name}/due/${v.ref}`, 1);
      }),
    },
    endBlock: (ctx: Ctx) => {
      for (const [key] of ctx.store.scan(`${name}/due/`)) {
        ctx.keepers.payments.unlock(owner, key.slice(`${name}/due/`.length));
        ctx.store.delete(key);
      }
    },
  });
}

export const market = keeperProbe('testmarket');
export const thief = keeperProbe('thief');

export function payChain(options: { extraModules?: boolean; genesisModules?: Record<string, unknown> } = {}): TestChain {
  const chain = new TestChain({
    modules: [registryCore, paymentsCore, ...(options.extraModules === false ? [] : [market, thief])],
    genesisTime: GENESIS_TIME,
    genesisModules: options.genesisModules,
    accounts: {
      issuer: ['issuer'],
      issuer2: ['issuer', 'utility'],
      alice: ['consumer'],
      bob: ['prosumer'],
      carol: ['prosumer'],
      dso: ['grid-operator'],
      dave: ['consumer'],
      revokee: ['consumer'],
    },
  });
  const res = chain.send(chain.operator, { type: 'registry/revoke', value: { address: revokee.address, reason: 'left the community' } });
  expect(res.code).toBe('OK');
  return chain;
}

export const m = {
  createAsset: (code = 'NOK', scope: string | null = 'microgrid', name = 'Microgrid kroner'): Msg => ({ type: 'payments/create-asset', value: { code, ...(scope ? { scope } : {}), name } }),
  mint: (to: TestAccount, amount: bigint | string, depositRef: string, asset = ASSET): Msg => ({ type: 'payments/mint', value: { asset, to: to.address, amount: String(amount), depositRef } }),
  redeem: (amount: bigint | string, asset = ASSET): Msg => ({ type: 'payments/redeem', value: { asset, amount: String(amount) } }),
  complete: (id: string, payoutRef: string): Msg => ({ type: 'payments/complete-redeem', value: { id, payoutRef } }),
  reject: (id: string, reason = 'account details do not match'): Msg => ({ type: 'payments/reject-redeem', value: { id, reason } }),
  attest: (reserve: bigint | string, ref?: string, asset = ASSET): Msg => ({ type: 'payments/attest', value: { asset, reserve: String(reserve), ...(ref ? { ref } : {}) } }),
  transfer: (to: TestAccount, amount: bigint | string, memo?: string, asset = ASSET): Msg => ({ type: 'payments/transfer', value: { asset, to: to.address, amount: String(amount), ...(memo ? { memo } : {}) } }),
  escrowOpen: (value: Record<string, unknown>): Msg => ({ type: 'payments/escrow-open', value: { asset: ASSET, ...value } }),
  approve: (id: string, action: 'release' | 'refund'): Msg => ({ type: 'payments/escrow-approve', value: { id, action } }),
  dispute: (id: string, reason = 'not delivered'): Msg => ({ type: 'payments/escrow-dispute', value: { id, reason } }),
  propose: (id: string, payeeAmount: bigint | string, payerAmount: bigint | string): Msg => ({ type: 'payments/escrow-propose-split', value: { id, payeeAmount: String(payeeAmount), payerAmount: String(payerAmount) } }),
  countersign: (id: string, payeeAmount: bigint | string, payerAmount: bigint | string): Msg => ({ type: 'payments/escrow-countersign', value: { id, payeeAmount: String(payeeAmount), payerAmount: String(payerAmount) } }),
  rejectSplit: (id: string): Msg => ({ type: 'payments/escrow-reject-split', value: { id, reason: 'unfair' } }),
  replaceMediator: (id: string, mediator: TestAccount): Msg => ({ type: 'payments/escrow-replace-mediator', value: { id, mediator: mediator.address } }),
  refund: (id: string): Msg => ({ type: 'payments/escrow-refund', value: { id } }),
  channelOpen: (seller: TestAccount, deposit: bigint | string, refundDelayMs?: number, asset = ASSET): Msg => ({
    type: 'payments/channel-open',
    value: { seller: seller.address, asset, deposit: String(deposit), ...(refundDelayMs !== undefined ? { refundDelayMs } : {}) },
  }),
  channelClose: (id: string, voucher?: unknown): Msg => ({ type: 'payments/channel-close', value: { id, ...(voucher !== undefined ? { voucher } : {}) } }),
  reclaim: (id: string): Msg => ({ type: 'payments/channel-reclaim', value: { id } }),
  probe: (module: string, action: string, value: Record<string, unknown>): Msg => ({ type: `${module}/${action}`, value }),
};

export function voucher(buyer: TestAccount, body: Partial<VoucherBody> & { channel: string; amount: string }, chainId = 'test-chain') {
  return signVoucher(buyer.signer, { chainId, wh: 0, seq: 1, ...body });
}

export function ok(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], time?: number) {
  const res = chain.send(from, msgs, time);
  expect(res.message, `${res.code}: ${res.message}`).toBe('');
  expect(res.code).toBe('OK');
  return res;
}

/** The event attribute of the first event of `type` in a result (e.g. the id of a new escrow). */
export function eventAttr(res: { events: Array<{ type: string; attributes: Record<string, string> }> }, type: string, attr: string): string {
  const e = res.events.find((x) => x.type === type);
  if (!e) throw new Error(`no ${type} event in ${JSON.stringify(res.events)}`);
  return e.attributes[attr]!;
}

/** Every state entry (raw). */
export function snapshot(chain: TestChain): Map<string, string> {
  return new Map(chain.storage.allState());
}

/**
 * Sends a transaction that must be rejected with `code`; afterwards every state entry equals its
 * value before except the sender's nonce, which advanced by one.
 */
export function rejects(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], code: string, time?: number): string {
  const before = snapshot(chain);
  const res = chain.send(from, msgs, time);
  expect(res.code, res.message).toBe(code);
  expect(res.message.length).toBeGreaterThan(0);
  const after = snapshot(chain);
  const nonceKey = NONCE_PREFIX + from.address;
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  expect(changed).toEqual([nonceKey]);
  expect(Number(after.get(nonceKey))).toBe(Number(before.get(nonceKey) ?? 0) + 1);
  return res.message;
}

export function balance(chain: TestChain, who: TestAccount, asset = ASSET): bigint {
  return BigInt(chain.store.get<{ a: string }>(`payments/bal/${who.address}/${asset}`)?.a ?? '0');
}

/**
 * The conservation invariant of every asset, from the individual records (not the aggregates):
 * supply = Σ free balances + Σ pending redemptions + Σ locks + Σ escrow remainders + Σ open channel
 * deposits; each held aggregate equals the sum of its records; no amount is negative; every closed
 * escrow and channel paid out exactly what it held.
 */
export function checkConservation(chain: TestChain): void {
  const store = chain.store;
  const sums = new Map<string, { free: bigint; redeeming: bigint; locked: bigint; escrowed: bigint; channels: bigint }>();
  const s = (asset: string) => {
    let v = sums.get(asset);
    if (!v) sums.set(asset, (v = { free: 0n, redeeming: 0n, locked: 0n, escrowed: 0n, channels: 0n }));
    return v;
  };
  for (const { asset, amount } of allBalances(store)) {
    expect(BigInt(amount) >= 0n).toBe(true);
    s(asset).free += BigInt(amount);
  }
  for (const r of listRedemptions(store)) if (r.status === 'pending') s(r.asset).redeeming += BigInt(r.amount);
  for (const l of listLocks(store)) {
    expect(BigInt(l.amount) > 0n).toBe(true);
    s(l.asset).locked += BigInt(l.amount);
  }
  for (const e of listEscrows(store)) {
    const remaining = BigInt(e.amount) - BigInt(e.paidToPayee) - BigInt(e.paidToPayer);
    expect(remaining >= 0n).toBe(true);
    expect(remaining === 0n).toBe(e.status !== 'open');
    s(e.asset).escrowed += remaining;
  }
  for (const c of listChannels(store)) {
    if (c.status === 'open') s(c.asset).channels += BigInt(c.deposit);
    else expect(BigInt(c.payout!) + BigInt(c.refund!)).toBe(BigInt(c.deposit));
  }
  for (const a of listAssets(store)) {
    const v = s(a.id);
    expect({ redeeming: a.held.redeeming, locked: a.held.locked, escrowed: a.held.escrowed, channels: a.held.channels }).toEqual({
      redeeming: v.redeeming.toString(),
      locked: v.locked.toString(),
      escrowed: v.escrowed.toString(),
      channels: v.channels.toString(),
    });
    expect(BigInt(a.supply)).toBe(v.free + v.redeeming + v.locked + v.escrowed + v.channels);
    expect(BigInt(a.supply)).toBe(BigInt(a.minted) - BigInt(a.burned));
  }
}

/** The chain with asset NOK@microgrid of `issuer` and 100 NOK minted to alice (deposit BANK-1). */
export function fundedChain(options: Parameters<typeof payChain>[0] = {}): TestChain {
  const chain = payChain(options);
  ok(chain, issuer, m.createAsset());
  ok(chain, issuer, m.mint(alice, 100n * NOK, 'BANK-1'));
  return chain;
}
