import { toAmount } from './amount.js';
import { credit, debit } from './books.js';
import { E } from './errors.js';
import type { ChannelCloseMsg, ChannelIdMsg, ChannelOpenMsg } from './messages.js';
import { adjustHeld, requireAsset, requireCounterparty, requirePositive, txRef, type PaymentsContext } from './rules.js';
import { getChannel, indexParty, nextNumber, putChannel, type Channel } from './state.js';
import { verifyVoucher, type Voucher, type VoucherProblem } from './voucher.js';

/**
 * Unidirectional payment channels (PriWatt's micropayment channel). The buyer deposits; off the
 * ledger it signs vouchers with growing cumulative amounts; the seller closes with one before the
 * refund time (payout to the seller, the rest back to the buyer); after the refund time the buyer
 * reclaims the whole deposit. Either way payout + refund = deposit.
 */

export function openChannel(ctx: PaymentsContext, msg: ChannelOpenMsg): void {
  const deposit = requirePositive(msg.deposit, 'deposit');
  const asset = requireAsset(ctx.store, msg.asset);
  const buyer = ctx.sender;
  if (msg.seller === buyer) throw E.PAY_CHANNEL_SELF('the seller of a channel must not be its buyer');
  requireCounterparty(ctx, msg.seller, 'seller');
  const { minRefundDelayMs, maxRefundDelayMs, defaultRefundDelayMs } = ctx.params;
  const delay = msg.refundDelayMs ?? defaultRefundDelayMs;
  if (delay < minRefundDelayMs || delay > maxRefundDelayMs) {
    throw E.PAY_REFUND_DELAY_OUT_OF_RANGE(`refund delay ${delay} ms is outside ${minRefundDelayMs} … ${maxRefundDelayMs} ms`);
  }
  const id = `ch${nextNumber(ctx.store, 'channel')}`;
  debit(ctx, buyer, asset.id, deposit, { kind: 'channel-deposit', ref: id, counterparty: msg.seller, memo: msg.memo });
  adjustHeld(ctx.store, asset.id, 'channels', deposit);
  const channel: Channel = {
    id,
    buyer,
    seller: msg.seller,
    asset: asset.id,
    deposit: msg.deposit,
    refundTime: ctx.time + delay,
    status: 'open',
    ...(msg.memo ? { memo: msg.memo } : {}),
    openedAt: txRef(ctx),
  };
  putChannel(ctx.store, channel);
  indexParty(ctx.store, buyer, 'channel', ctx.height, id);
  indexParty(ctx.store, msg.seller, 'channel', ctx.height, id);
  ctx.emit('payments.channel_opened', { id, buyer, seller: msg.seller, asset: asset.id, deposit: msg.deposit, refundTime: channel.refundTime });
}

function openChannelOf(ctx: PaymentsContext, id: string): Channel {
  const c = getChannel(ctx.store, id);
  if (!c) throw E.PAY_CHANNEL_NOT_FOUND(`no channel ${id}`);
  return c;
}

function requireOpen(c: Channel): void {
  if (c.status !== 'open') throw E.PAY_CHANNEL_CLOSED(`channel ${c.id} was already ${c.status} (tx ${c.closedAt?.txHash})`);
}

function settle(ctx: PaymentsContext, c: Channel, payout: bigint, status: Channel['status'], voucher?: Voucher): void {
  const deposit = toAmount(c.deposit);
  const refund = deposit - payout;
  credit(ctx, c.seller, c.asset, payout, { kind: 'channel-payout', ref: c.id, counterparty: c.buyer });
  credit(ctx, c.buyer, c.asset, refund, { kind: 'channel-refund', ref: c.id, counterparty: c.seller });
  adjustHeld(ctx.store, c.asset, 'channels', -deposit);
  putChannel(ctx.store, {
    ...c,
    status,
    payout: payout.toString(),
    refund: refund.toString(),
    ...(voucher ? { voucher: { amount: voucher.amount, wh: voucher.wh, seq: voucher.seq } } : {}),
    closedAt: txRef(ctx),
  });
  ctx.emit(status === 'closed' ? 'payments.channel_closed' : 'payments.channel_reclaimed', { id: c.id, payout: payout.toString(), refund: refund.toString(), ...(voucher ? { seq: voucher.seq, wh: voucher.wh } : {}) });
}

const VOUCHER_ERRORS: Record<Exclude<VoucherProblem, 'malformed'>, (c: Channel) => Error> = {
  'wrong-chain': (c) => E.PAY_VOUCHER_WRONG_CHAIN(`the voucher was not signed for this chain (channel ${c.id})`),
  'wrong-channel': (c) => E.PAY_VOUCHER_WRONG_CHANNEL(`the voucher was signed for another channel than ${c.id}`),
  'wrong-signer': (c) => E.PAY_VOUCHER_WRONG_SIGNER(`the voucher key is not the key of the buyer ${c.buyer}`),
  'bad-signature': (c) => E.PAY_VOUCHER_BAD_SIGNATURE(`the voucher signature for channel ${c.id} is not valid`),
};

/** The seller closes before the refund time with the voucher of its choice (or none: all back to the buyer). */
export function closeChannel(ctx: PaymentsContext, msg: ChannelCloseMsg): void {
  const c = openChannelOf(ctx, msg.id);
  if (ctx.sender !== c.seller) throw E.PAY_NOT_SELLER(`only the seller ${c.seller} closes channel ${c.id}`);
  requireOpen(c);
  if (ctx.time >= c.refundTime) throw E.PAY_CHANNEL_EXPIRED(`channel ${c.id} reached its refund time ${c.refundTime} (block time ${ctx.time})`);
  if (!msg.voucher) {
    settle(ctx, c, 0n, 'closed');
    return;
  }
  const check = verifyVoucher(msg.voucher, { chainId: ctx.chainId, channel: c.id, buyer: c.buyer });
  // The message schema already checked the form, so 'malformed' cannot happen here.
  if (!check.ok) throw check.problem === 'malformed' ? E.PAY_VOUCHER_BAD_SIGNATURE('malformed voucher') : VOUCHER_ERRORS[check.problem](c);
  const amount = toAmount(check.voucher.amount);
  if (amount > toAmount(c.deposit)) throw E.PAY_VOUCHER_EXCEEDS_DEPOSIT(`the voucher pays ${amount}, the deposit of channel ${c.id} is ${c.deposit}`);
  settle(ctx, c, amount, 'closed', check.voucher);
}

/** After the refund time the buyer takes the whole deposit back. */
export function reclaimChannel(ctx: PaymentsContext, msg: ChannelIdMsg): void {
  const c = openChannelOf(ctx, msg.id);
  if (ctx.sender !== c.buyer) throw E.PAY_NOT_BUYER(`only the buyer ${c.buyer} reclaims channel ${c.id}`);
  requireOpen(c);
  if (ctx.time < c.refundTime) throw E.PAY_CHANNEL_NOT_EXPIRED(`channel ${c.id} refunds from ${c.refundTime}; block time is ${ctx.time}`);
  settle(ctx, c, 0n, 'reclaimed');
}
