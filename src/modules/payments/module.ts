import { z } from 'zod';
import { defineModule, handler } from '../../app/module.js';
import { attest, completeRedeem, createAsset, mint, redeem, rejectRedeem, transfer } from './assets.js';
import { closeChannel, openChannel, reclaimChannel } from './channels.js';
import { E } from './errors.js';
import { approveEscrow, countersignSplit, disputeEscrow, openEscrow, proposeSplit, refundAfterDeadline, rejectSplit, replaceMediator } from './escrow.js';
import { paymentsKeeper, type PaymentsKeeper } from './keeper.js';
import {
  attestMsg,
  channelCloseMsg,
  channelIdMsg,
  channelOpenMsg,
  completeRedeemMsg,
  createAssetMsg,
  escrowApproveMsg,
  escrowDisputeMsg,
  escrowIdMsg,
  escrowOpenMsg,
  escrowRejectSplitMsg,
  escrowReplaceMediatorMsg,
  escrowSplitMsg,
  mintMsg,
  MSG,
  redeemMsg,
  rejectRedeemMsg,
  transferMsg,
} from './messages.js';
import { DEFAULT_PARAMS, REQUIRES, type PaymentsParams } from './rules.js';
import { paymentsQueryIndexes } from './state.js';

const ms = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** The shortest refund delay a chain may allow: 1 s (test chains); the default is 60 s. */
export const MIN_REFUND_DELAY_FLOOR_MS = 1000;

const params = z
  .object({
    defaultRefundDelayMs: ms,
    minRefundDelayMs: ms.min(MIN_REFUND_DELAY_FLOOR_MS),
    maxRefundDelayMs: ms,
    defaultEscrowDeadlineMs: ms.min(1),
    maxEscrowParties: z.number().int().min(3).max(16),
  })
  .strict()
  .refine((p) => p.minRefundDelayMs <= p.defaultRefundDelayMs && p.defaultRefundDelayMs <= p.maxRefundDelayMs, {
    message: 'refund delays must satisfy minRefundDelayMs ≤ defaultRefundDelayMs ≤ maxRefundDelayMs',
  });

export const paymentsCore = defineModule<PaymentsKeeper, PaymentsParams>({
  name: 'payments',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.createAsset]: handler(createAssetMsg, createAsset),
    [MSG.mint]: handler(mintMsg, mint),
    [MSG.redeem]: handler(redeemMsg, redeem),
    [MSG.completeRedeem]: handler(completeRedeemMsg, completeRedeem),
    [MSG.rejectRedeem]: handler(rejectRedeemMsg, rejectRedeem),
    [MSG.attest]: handler(attestMsg, attest),
    [MSG.transfer]: handler(transferMsg, transfer),
    [MSG.escrowOpen]: handler(escrowOpenMsg, openEscrow),
    [MSG.escrowApprove]: handler(escrowApproveMsg, approveEscrow),
    [MSG.escrowDispute]: handler(escrowDisputeMsg, disputeEscrow),
    [MSG.escrowProposeSplit]: handler(escrowSplitMsg, proposeSplit),
    [MSG.escrowCountersign]: handler(escrowSplitMsg, countersignSplit),
    [MSG.escrowRejectSplit]: handler(escrowRejectSplitMsg, rejectSplit),
    [MSG.escrowReplaceMediator]: handler(escrowReplaceMediatorMsg, replaceMediator),
    [MSG.escrowRefund]: handler(escrowIdMsg, refundAfterDeadline),
    [MSG.channelOpen]: handler(channelOpenMsg, openChannel),
    [MSG.channelClose]: handler(channelCloseMsg, closeChannel),
    [MSG.channelReclaim]: handler(channelIdMsg, reclaimChannel),
  },
  params: { schema: params, defaults: DEFAULT_PARAMS },
  keeper: paymentsKeeper,
  queryIndexes: paymentsQueryIndexes,
});
