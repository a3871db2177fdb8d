import { z } from 'zod';
import { MODULE_REF } from '../../app/owners.js';
import { addressSchema, safeUintSchema } from '../../codec/tx.js';
import { amountSchema } from './amount.js';
import { channelIdSchema, voucherSchema } from './voucher.js';

/** Currency code: ISO 4217 style (NOK, EUR) or a longer unit name, upper case. */
export const assetCodeSchema = z.string().regex(/^[A-Z][A-Z0-9]{2,7}$/, { message: 'currency code: 3–8 of A–Z 0–9, starting with a letter (e.g. NOK, EUR)' });
/** Community scope: the id of the community the credits circulate in (same form as energy community ids). */
export const scopeSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'scope: 1–32 of a–z 0–9 - (starting with a letter or digit)' });
/** Asset id: CODE or CODE@scope, e.g. NOK@microgrid. */
export const assetIdSchema = z.string().regex(/^[A-Z][A-Z0-9]{2,7}(@[a-z0-9][a-z0-9-]{0,31})?$/, { message: 'asset: CODE or CODE@scope, e.g. NOK@microgrid' });
/** External references: bank transfer ids, payout ids, audit report ids. */
export const refSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, { message: 'reference: 1–64 of A–Z a–z 0–9 . _ : - (starting with a letter or digit)' });
export const memoSchema = z.string().max(256);
const reasonSchema = z.string().min(1).max(256);

export const redemptionIdSchema = z.string().regex(/^r[1-9][0-9]{0,15}$/, { message: 'redemption id: r1, r2, …' });
export { channelIdSchema };
/** A reference a module chooses for its locks and escrows, e.g. "bid/42" (becomes "market/bid/42"). */
export const moduleRefSchema = z.string().regex(MODULE_REF, { message: 'module reference: 1–4 segments of A–Z a–z 0–9 . _ : - separated by /' });
/** Escrow id: e1, e2, … (opened by a message) or <module>/<ref> (driven by a module through the keeper). */
export const escrowIdSchema = z
  .string()
  .max(128)
  .regex(/^(e[1-9][0-9]{0,15}|[a-z][a-z0-9-]{0,31}(\/[A-Za-z0-9._:-]{1,64}){1,4})$/, { message: 'escrow id: e1, e2, … or <module>/<reference>' });

const addressList = z.array(addressSchema).max(16);

export const createAssetMsg = z.object({ code: assetCodeSchema, scope: scopeSchema.optional(), name: z.string().min(1).max(64) }).strict();
export const mintMsg = z.object({ asset: assetIdSchema, to: addressSchema, amount: amountSchema, depositRef: refSchema, memo: memoSchema.optional() }).strict();
export const redeemMsg = z.object({ asset: assetIdSchema, amount: amountSchema, memo: memoSchema.optional() }).strict();
export const completeRedeemMsg = z.object({ id: redemptionIdSchema, payoutRef: refSchema }).strict();
export const rejectRedeemMsg = z.object({ id: redemptionIdSchema, reason: reasonSchema }).strict();
export const attestMsg = z.object({ asset: assetIdSchema, reserve: amountSchema, ref: refSchema.optional(), memo: memoSchema.optional() }).strict();
export const transferMsg = z.object({ asset: assetIdSchema, to: addressSchema, amount: amountSchema, memo: memoSchema.optional() }).strict();

export const escrowOpenMsg = z
  .object({
    asset: assetIdSchema,
    amount: amountSchema,
    payee: addressSchema,
    mediator: addressSchema.optional(),
    /** Parties besides payer (the sender), payee and mediator. */
    others: addressList.optional(),
    /** Approvals needed to release or refund (default 2). */
    threshold: z.number().int().min(0).max(64).optional(),
    /** The deadline is reached at this height or at this block time (ms), whichever comes first; default: block time + defaultEscrowDeadlineMs. */
    deadlineHeight: safeUintSchema.optional(),
    deadlineTime: safeUintSchema.optional(),
    memo: memoSchema.optional(),
  })
  .strict();
export const escrowApproveMsg = z.object({ id: escrowIdSchema, action: z.enum(['release', 'refund']) }).strict();
export const escrowDisputeMsg = z.object({ id: escrowIdSchema, reason: reasonSchema }).strict();
export const escrowSplitMsg = z.object({ id: escrowIdSchema, payeeAmount: amountSchema, payerAmount: amountSchema }).strict();
export const escrowRejectSplitMsg = z.object({ id: escrowIdSchema, reason: memoSchema.optional() }).strict();
export const escrowReplaceMediatorMsg = z.object({ id: escrowIdSchema, mediator: addressSchema }).strict();
export const escrowIdMsg = z.object({ id: escrowIdSchema }).strict();

export const channelOpenMsg = z
  .object({ seller: addressSchema, asset: assetIdSchema, deposit: amountSchema, refundDelayMs: safeUintSchema.optional(), memo: memoSchema.optional() })
  .strict();
/** Without a voucher the seller takes nothing and the whole deposit returns to the buyer. */
export const channelCloseMsg = z.object({ id: channelIdSchema, voucher: voucherSchema.optional() }).strict();
export const channelIdMsg = z.object({ id: channelIdSchema }).strict();

export type CreateAssetMsg = z.infer<typeof createAssetMsg>;
export type MintMsg = z.infer<typeof mintMsg>;
export type RedeemMsg = z.infer<typeof redeemMsg>;
export type CompleteRedeemMsg = z.infer<typeof completeRedeemMsg>;
export type RejectRedeemMsg = z.infer<typeof rejectRedeemMsg>;
export type AttestMsg = z.infer<typeof attestMsg>;
export type TransferMsg = z.infer<typeof transferMsg>;
export type EscrowOpenMsg = z.infer<typeof escrowOpenMsg>;
export type EscrowApproveMsg = z.infer<typeof escrowApproveMsg>;
export type EscrowDisputeMsg = z.infer<typeof escrowDisputeMsg>;
export type EscrowSplitMsg = z.infer<typeof escrowSplitMsg>;
export type EscrowRejectSplitMsg = z.infer<typeof escrowRejectSplitMsg>;
export type EscrowReplaceMediatorMsg = z.infer<typeof escrowReplaceMediatorMsg>;
export type EscrowIdMsg = z.infer<typeof escrowIdMsg>;
export type ChannelOpenMsg = z.infer<typeof channelOpenMsg>;
export type ChannelCloseMsg = z.infer<typeof channelCloseMsg>;
export type ChannelIdMsg = z.infer<typeof channelIdMsg>;

export const MSG = {
  createAsset: 'payments/create-asset',
  mint: 'payments/mint',
  redeem: 'payments/redeem',
  completeRedeem: 'payments/complete-redeem',
  rejectRedeem: 'payments/reject-redeem',
  attest: 'payments/attest',
  transfer: 'payments/transfer',
  escrowOpen: 'payments/escrow-open',
  escrowApprove: 'payments/escrow-approve',
  escrowDispute: 'payments/escrow-dispute',
  escrowProposeSplit: 'payments/escrow-propose-split',
  escrowCountersign: 'payments/escrow-countersign',
  escrowRejectSplit: 'payments/escrow-reject-split',
  escrowReplaceMediator: 'payments/escrow-replace-mediator',
  escrowRefund: 'payments/escrow-refund',
  channelOpen: 'payments/channel-open',
  channelClose: 'payments/channel-close',
  channelReclaim: 'payments/channel-reclaim',
} as const;
