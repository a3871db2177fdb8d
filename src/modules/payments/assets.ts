import { toAmount } from './amount.js';
import { credit, debit, note } from './books.js';
import { DECIMALS } from './amount.js';
import { E } from './errors.js';
import type { AttestMsg, CompleteRedeemMsg, CreateAssetMsg, MintMsg, RedeemMsg, RejectRedeemMsg, TransferMsg } from './messages.js';
import { adjustHeld, adjustSupply, requireAsset, requireCounterparty, requireIssuer, requirePositive, txRef, type PaymentsContext } from './rules.js';
import {
  getAsset,
  hasAsset,
  getDeposit,
  getPayout,
  getRedemption,
  indexParty,
  nextNumber,
  putAsset,
  putAttestation,
  putDeposit,
  putPayout,
  putRedemption,
  ZERO_HELD,
  type Redemption,
} from './state.js';

/** Assets backed by fiat: creation, mint against a deposit, redemption, reserve attestations, transfers. */

export function assetId(code: string, scope?: string): string {
  return scope === undefined ? code : `${code}@${scope}`;
}

export function createAsset(ctx: PaymentsContext, msg: CreateAssetMsg): void {
  if (!ctx.keepers.registry.isActive(ctx.sender, 'issuer')) throw E.PAY_NOT_ISSUER_ROLE(`${ctx.sender} is not admitted with role issuer`);
  const id = assetId(msg.code, msg.scope);
  if (getAsset(ctx.store, id)) throw E.PAY_ASSET_EXISTS(`asset ${id} already exists`);
  putAsset(ctx.store, {
    id,
    code: msg.code,
    ...(msg.scope !== undefined ? { scope: msg.scope } : {}),
    name: msg.name,
    decimals: DECIMALS,
    issuer: ctx.sender,
    supply: '0',
    minted: '0',
    burned: '0',
    held: ZERO_HELD,
    attestations: 0,
    createdAt: txRef(ctx),
  });
  ctx.emit('payments.asset_created', { asset: id, issuer: ctx.sender });
}

/** The issuer mints against a fiat deposit; the deposit reference can mint only once per issuer. */
export function mint(ctx: PaymentsContext, msg: MintMsg): void {
  const amount = requirePositive(msg.amount);
  const asset = requireAsset(ctx.store, msg.asset);
  requireIssuer(ctx, asset);
  requireCounterparty(ctx, msg.to, 'recipient');
  const used = getDeposit(ctx.store, asset.issuer, msg.depositRef);
  if (used) throw E.PAY_DEPOSIT_REF_USED(`deposit reference ${msg.depositRef} already minted ${used.amount} of ${used.asset} (tx ${used.at.txHash})`);
  adjustSupply(ctx.store, asset.id, amount);
  credit(ctx, msg.to, asset.id, amount, { kind: 'mint', ref: msg.depositRef, counterparty: asset.issuer, memo: msg.memo });
  putDeposit(ctx.store, { issuer: asset.issuer, ref: msg.depositRef, asset: asset.id, to: msg.to, amount: msg.amount, at: txRef(ctx) });
  ctx.emit('payments.mint', { asset: asset.id, to: msg.to, amount: msg.amount, depositRef: msg.depositRef });
}

/** A holder asks the issuer to pay fiat back; the amount is locked at once. */
export function redeem(ctx: PaymentsContext, msg: RedeemMsg): void {
  const amount = requirePositive(msg.amount);
  const asset = requireAsset(ctx.store, msg.asset);
  const id = `r${nextNumber(ctx.store, 'redeem')}`;
  debit(ctx, ctx.sender, asset.id, amount, { kind: 'redeem-lock', ref: id, counterparty: asset.issuer, memo: msg.memo });
  adjustHeld(ctx.store, asset.id, 'redeeming', amount);
  const r: Redemption = { id, asset: asset.id, holder: ctx.sender, amount: msg.amount, status: 'pending', ...(msg.memo ? { memo: msg.memo } : {}), requestedAt: txRef(ctx) };
  putRedemption(ctx.store, r);
  indexParty(ctx.store, ctx.sender, 'redeem', ctx.height, id);
  if (asset.issuer !== ctx.sender) indexParty(ctx.store, asset.issuer, 'redeem', ctx.height, id);
  ctx.emit('payments.redeem_requested', { id, asset: asset.id, holder: ctx.sender, amount: msg.amount });
}

function pendingRedemption(ctx: PaymentsContext, id: string): Redemption {
  const r = getRedemption(ctx.store, id);
  if (!r) throw E.PAY_REDEMPTION_NOT_FOUND(`no redemption ${id}`);
  requireIssuer(ctx, requireAsset(ctx.store, r.asset));
  if (r.status !== 'pending') throw E.PAY_REDEMPTION_CLOSED(`redemption ${id} was already ${r.status} (tx ${r.closedAt?.txHash})`);
  return r;
}

/** The issuer paid the fiat out: the locked credits are burned. */
export function completeRedeem(ctx: PaymentsContext, msg: CompleteRedeemMsg): void {
  const r = pendingRedemption(ctx, msg.id);
  const issuer = ctx.sender;
  const used = getPayout(ctx.store, issuer, msg.payoutRef);
  if (used !== undefined) throw E.PAY_PAYOUT_REF_USED(`payout reference ${msg.payoutRef} already completed redemption ${used}`);
  const amount = toAmount(r.amount);
  adjustHeld(ctx.store, r.asset, 'redeeming', -amount);
  adjustSupply(ctx.store, r.asset, -amount);
  putPayout(ctx.store, issuer, msg.payoutRef, r.id);
  putRedemption(ctx.store, { ...r, status: 'completed', payoutRef: msg.payoutRef, closedAt: txRef(ctx) });
  note(ctx, r.holder, r.asset, { kind: 'redeem-paid-out', ref: r.id, counterparty: issuer, memo: `payout ${msg.payoutRef}` });
  ctx.emit('payments.redeem_completed', { id: r.id, asset: r.asset, amount: r.amount, payoutRef: msg.payoutRef });
}

/** The issuer refuses: the locked credits return to the holder. */
export function rejectRedeem(ctx: PaymentsContext, msg: RejectRedeemMsg): void {
  const r = pendingRedemption(ctx, msg.id);
  const amount = toAmount(r.amount);
  adjustHeld(ctx.store, r.asset, 'redeeming', -amount);
  credit(ctx, r.holder, r.asset, amount, { kind: 'redeem-rejected', ref: r.id, counterparty: ctx.sender, memo: msg.reason });
  putRedemption(ctx.store, { ...r, status: 'rejected', reason: msg.reason, closedAt: txRef(ctx) });
  ctx.emit('payments.redeem_rejected', { id: r.id, asset: r.asset, amount: r.amount });
}

/** The issuer states its fiat reserve; queries compare it with the supply. */
export function attest(ctx: PaymentsContext, msg: AttestMsg): void {
  const asset = requireAsset(ctx.store, msg.asset);
  requireIssuer(ctx, asset);
  const seq = asset.attestations + 1;
  const attestation = {
    asset: asset.id,
    seq,
    reserve: msg.reserve,
    supply: asset.supply,
    ...(msg.ref !== undefined ? { ref: msg.ref } : {}),
    ...(msg.memo ? { memo: msg.memo } : {}),
    by: ctx.sender,
    at: txRef(ctx),
  };
  putAttestation(ctx.store, attestation);
  putAsset(ctx.store, { ...asset, attestations: seq, reserve: attestation });
  ctx.emit('payments.reserve_attested', { asset: asset.id, seq, reserve: msg.reserve, supply: asset.supply });
}

/**
 * Moves free balance from `from` to `to` (the message rule, and the keeper's `transfer`). The
 * recipient must be admitted and not revoked.
 */
export function moveFunds(ctx: PaymentsContext, from: string, to: string, asset: string, amountValue: string | bigint, memo?: string): void {
  const amount = requirePositive(amountValue);
  if (!hasAsset(ctx.store, asset)) throw E.PAY_ASSET_NOT_FOUND(`no asset ${asset}`);
  if (to === from) throw E.PAY_SELF_TRANSFER(`${from} cannot transfer to itself`);
  requireCounterparty(ctx, to, 'recipient');
  debit(ctx, from, asset, amount, { kind: 'transfer-out', counterparty: to, memo });
  credit(ctx, to, asset, amount, { kind: 'transfer-in', counterparty: from, memo });
  ctx.emit('payments.transfer', { asset, from, to, amount: amount.toString() });
}

export function transfer(ctx: PaymentsContext, msg: TransferMsg): void {
  moveFunds(ctx, ctx.sender, msg.to, msg.asset, msg.amount, msg.memo);
}
