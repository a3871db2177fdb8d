import { toAmount } from './amount.js';
import { credit, debit } from './books.js';
import { E } from './errors.js';
import type { EscrowApproveMsg, EscrowDisputeMsg, EscrowIdMsg, EscrowOpenMsg, EscrowRejectSplitMsg, EscrowReplaceMediatorMsg, EscrowSplitMsg } from './messages.js';
import { adjustHeld, requireAsset, requireCounterparty, requirePositive, txRef, type PaymentsContext } from './rules.js';
import { getEscrow, indexParty, nextNumber, putEscrow, type Dispute, type Escrow } from './state.js';

/**
 * m-of-n escrow (PriWatt's 2-of-3 multisignature with the grid operator as mediator). The payer's
 * funds leave its free balance at opening and leave the escrow exactly once: released to the payee,
 * refunded to the payer, or split by the mediator — every path pays out the whole amount.
 */

const DEFAULT_THRESHOLD = 2;

export function openEscrow(ctx: PaymentsContext, msg: EscrowOpenMsg): void {
  const amount = requirePositive(msg.amount);
  const asset = requireAsset(ctx.store, msg.asset);
  const payer = ctx.sender;
  if (msg.payee === payer) throw E.PAY_ESCROW_PAYEE_IS_PAYER('the payee of an escrow must not be its payer');
  const parties = [payer, msg.payee, ...(msg.mediator !== undefined ? [msg.mediator] : []), ...(msg.others ?? [])];
  const duplicate = parties.find((p, i) => parties.indexOf(p) !== i);
  if (duplicate !== undefined) throw E.PAY_ESCROW_PARTY_DUPLICATE(`${duplicate} appears twice among the parties`);
  if (parties.length > ctx.params.maxEscrowParties) throw E.PAY_ESCROW_TOO_MANY_PARTIES(`${parties.length} parties; at most ${ctx.params.maxEscrowParties}`);
  const threshold = msg.threshold ?? DEFAULT_THRESHOLD;
  if (threshold < 1 || threshold > parties.length) throw E.PAY_ESCROW_THRESHOLD_INVALID(`threshold ${threshold} with ${parties.length} parties`);
  requireCounterparty(ctx, msg.payee, 'payee');
  if (msg.mediator !== undefined) requireCounterparty(ctx, msg.mediator, 'mediator');
  for (const p of msg.others ?? []) requireCounterparty(ctx, p, 'party');
  if (msg.deadlineHeight !== undefined && msg.deadlineHeight <= ctx.height) throw E.PAY_DEADLINE_NOT_FUTURE(`deadline height ${msg.deadlineHeight} is not after height ${ctx.height}`);
  if (msg.deadlineTime !== undefined && msg.deadlineTime <= ctx.time) throw E.PAY_DEADLINE_NOT_FUTURE(`deadline time ${msg.deadlineTime} is not after block time ${ctx.time}`);
  const deadlineTime = msg.deadlineTime ?? (msg.deadlineHeight === undefined ? ctx.time + ctx.params.defaultEscrowDeadlineMs : undefined);

  const id = `e${nextNumber(ctx.store, 'escrow')}`;
  debit(ctx, payer, asset.id, amount, { kind: 'escrow-deposit', ref: id, counterparty: msg.payee, memo: msg.memo });
  adjustHeld(ctx.store, asset.id, 'escrowed', amount);
  const escrow: Escrow = {
    id,
    kind: 'user',
    asset: asset.id,
    amount: msg.amount,
    payer,
    payee: msg.payee,
    parties,
    ...(msg.mediator !== undefined ? { mediator: msg.mediator } : {}),
    threshold,
    ...(msg.deadlineHeight !== undefined ? { deadlineHeight: msg.deadlineHeight } : {}),
    ...(deadlineTime !== undefined ? { deadlineTime } : {}),
    status: 'open',
    approvals: { release: [], refund: [] },
    paidToPayee: '0',
    paidToPayer: '0',
    ...(msg.memo ? { memo: msg.memo } : {}),
    openedAt: txRef(ctx),
  };
  putEscrow(ctx.store, escrow);
  for (const p of parties) indexParty(ctx.store, p, 'escrow', ctx.height, id);
  ctx.emit('payments.escrow_opened', { id, asset: asset.id, amount: msg.amount, payer, payee: msg.payee, threshold });
}

export function deadlineReached(e: Pick<Escrow, 'deadlineHeight' | 'deadlineTime'>, height: number, time: number): boolean {
  return (e.deadlineHeight !== undefined && height >= e.deadlineHeight) || (e.deadlineTime !== undefined && time >= e.deadlineTime);
}

/** An open escrow that messages may act on (module escrows belong to their module). */
function openUserEscrow(ctx: PaymentsContext, id: string): Escrow {
  const e = getEscrow(ctx.store, id);
  if (!e) throw E.PAY_ESCROW_NOT_FOUND(`no escrow ${id}`);
  if (e.kind !== 'user') throw E.PAY_ESCROW_MODULE_OWNED(`escrow ${id} is driven by module ${e.owner}`);
  if (e.status !== 'open') throw E.PAY_ESCROW_CLOSED(`escrow ${id} was already ${e.status} (tx ${e.closedAt?.txHash})`);
  return e;
}

function requireParty(ctx: PaymentsContext, e: Escrow): void {
  if (!e.parties.includes(ctx.sender)) throw E.PAY_NOT_PARTY(`${ctx.sender} is not a party of escrow ${e.id}`);
}

/** Payer or payee: the two parties other than the mediator. */
function requireCounterpartyOf(ctx: PaymentsContext, e: Escrow): void {
  if (ctx.sender !== e.payer && ctx.sender !== e.payee) throw E.PAY_NOT_COUNTERPARTY(`only the payer or the payee of escrow ${e.id} may do this`);
}

function requireDispute(e: Escrow): Dispute {
  if (!e.dispute) throw E.PAY_ESCROW_NOT_DISPUTED(`escrow ${e.id} is not disputed`);
  return e.dispute;
}

/**
 * Pays out of an escrow: `toPayee` to the payee, `toPayer` to the payer. Closes it with `status`
 * once nothing remains. Shared by the message rules and module-driven escrows.
 */
export function payOutEscrow(ctx: PaymentsContext, e: Escrow, toPayee: bigint, toPayer: bigint, status: Escrow['status']): Escrow {
  const paidToPayee = toAmount(e.paidToPayee) + toPayee;
  const paidToPayer = toAmount(e.paidToPayer) + toPayer;
  const remaining = toAmount(e.amount) - paidToPayee - paidToPayer;
  if (remaining < 0n) throw E.PAY_ESCROW_INSUFFICIENT(`escrow ${e.id} holds ${toAmount(e.amount) - toAmount(e.paidToPayee) - toAmount(e.paidToPayer)}, asked for ${toPayee + toPayer}`);
  const split = status === 'split';
  credit(ctx, e.payee, e.asset, toPayee, { kind: split ? 'escrow-split' : 'escrow-release', ref: e.id, counterparty: e.payer });
  credit(ctx, e.payer, e.asset, toPayer, { kind: split ? 'escrow-split' : 'escrow-refund', ref: e.id, counterparty: e.payee });
  adjustHeld(ctx.store, e.asset, 'escrowed', -(toPayee + toPayer));
  const closed = remaining === 0n;
  const next: Escrow = { ...e, paidToPayee: paidToPayee.toString(), paidToPayer: paidToPayer.toString(), ...(closed ? { status, closedAt: txRef(ctx) } : {}) };
  putEscrow(ctx.store, next);
  ctx.emit('payments.escrow_payout', { id: e.id, toPayee: toPayee.toString(), toPayer: toPayer.toString(), status: next.status });
  return next;
}

export function approveEscrow(ctx: PaymentsContext, msg: EscrowApproveMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  requireParty(ctx, e);
  const other = msg.action === 'release' ? 'refund' : 'release';
  if (e.approvals[msg.action].includes(ctx.sender)) throw E.PAY_ALREADY_APPROVED(`${ctx.sender} already approved the ${msg.action} of escrow ${e.id}`);
  // One vote per party: approving one action withdraws an approval of the other.
  const approvals = { [msg.action]: [...e.approvals[msg.action], ctx.sender].sort(), [other]: e.approvals[other].filter((p) => p !== ctx.sender) } as Escrow['approvals'];
  const updated: Escrow = { ...e, approvals };
  ctx.emit('payments.escrow_approved', { id: e.id, by: ctx.sender, action: msg.action, approvals: approvals[msg.action].length, threshold: e.threshold });
  if (approvals[msg.action].length < e.threshold) {
    putEscrow(ctx.store, updated);
    return;
  }
  const amount = toAmount(e.amount);
  if (msg.action === 'release') payOutEscrow(ctx, updated, amount, 0n, 'released');
  else payOutEscrow(ctx, updated, 0n, amount, 'refunded');
}

/** After the deadline with no release, any party returns the funds to the payer (not while disputed). */
export function refundAfterDeadline(ctx: PaymentsContext, msg: EscrowIdMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  requireParty(ctx, e);
  if (!deadlineReached(e, ctx.height, ctx.time)) {
    throw E.PAY_DEADLINE_NOT_REACHED(`escrow ${e.id} deadline (height ${e.deadlineHeight ?? '-'}, time ${e.deadlineTime ?? '-'}) is not reached at height ${ctx.height}, time ${ctx.time}`);
  }
  if (e.dispute) throw E.PAY_ESCROW_DISPUTED(`escrow ${e.id} is disputed: the mediator's split or ${e.threshold} approvals decide`);
  payOutEscrow(ctx, e, 0n, toAmount(e.amount), 'refunded');
}

export function disputeEscrow(ctx: PaymentsContext, msg: EscrowDisputeMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  requireParty(ctx, e);
  if (e.mediator === undefined) throw E.PAY_ESCROW_NO_MEDIATOR(`escrow ${e.id} has no mediator`);
  if (e.dispute) throw E.PAY_ESCROW_ALREADY_DISPUTED(`escrow ${e.id} is already disputed by ${e.dispute.by}`);
  if (deadlineReached(e, ctx.height, ctx.time)) throw E.PAY_ESCROW_DEADLINE_PASSED(`the deadline of escrow ${e.id} has passed`);
  putEscrow(ctx.store, { ...e, dispute: { by: ctx.sender, reason: msg.reason, at: txRef(ctx), rejections: [], nominations: {}, replaced: [] } });
  ctx.emit('payments.escrow_disputed', { id: e.id, by: ctx.sender });
}

export function proposeSplit(ctx: PaymentsContext, msg: EscrowSplitMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  const d = requireDispute(e);
  if (ctx.sender !== e.mediator) throw E.PAY_NOT_MEDIATOR(`only the mediator ${e.mediator} of escrow ${e.id} proposes a split`);
  if (toAmount(msg.payeeAmount) + toAmount(msg.payerAmount) !== toAmount(e.amount)) {
    throw E.PAY_SPLIT_SUM_MISMATCH(`${msg.payeeAmount} + ${msg.payerAmount} ≠ ${e.amount} held in escrow ${e.id}`);
  }
  const proposal = { payeeAmount: msg.payeeAmount, payerAmount: msg.payerAmount, by: ctx.sender, at: txRef(ctx) };
  putEscrow(ctx.store, { ...e, dispute: { ...d, proposal, rejections: [], nominations: {} } });
  ctx.emit('payments.split_proposed', { id: e.id, payeeAmount: msg.payeeAmount, payerAmount: msg.payerAmount });
}

function currentProposal(e: Escrow, d: Dispute): NonNullable<Dispute['proposal']> {
  if (!d.proposal) throw E.PAY_NO_SPLIT_PROPOSED(`the mediator of escrow ${e.id} has not proposed a split`);
  return d.proposal;
}

/** Payer or payee countersigns the mediator's split (naming its amounts): it executes at once. */
export function countersignSplit(ctx: PaymentsContext, msg: EscrowSplitMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  const d = requireDispute(e);
  requireCounterpartyOf(ctx, e);
  const p = currentProposal(e, d);
  if (p.payeeAmount !== msg.payeeAmount || p.payerAmount !== msg.payerAmount) {
    throw E.PAY_SPLIT_MISMATCH(`the current split of escrow ${e.id} is payee ${p.payeeAmount} / payer ${p.payerAmount}`);
  }
  payOutEscrow(ctx, e, toAmount(p.payeeAmount), toAmount(p.payerAmount), 'split');
}

export function rejectSplit(ctx: PaymentsContext, msg: EscrowRejectSplitMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  const d = requireDispute(e);
  requireCounterpartyOf(ctx, e);
  currentProposal(e, d);
  if (d.rejections.includes(ctx.sender)) throw E.PAY_ALREADY_REJECTED(`${ctx.sender} already rejected the split of escrow ${e.id}`);
  putEscrow(ctx.store, { ...e, dispute: { ...d, rejections: [...d.rejections, ctx.sender].sort() } });
  ctx.emit('payments.split_rejected', { id: e.id, by: ctx.sender });
}

/**
 * After both payer and payee rejected the split, each signs for a new mediator; when both named the
 * same account it replaces the old one (whose approvals are dropped) and the dispute starts over.
 */
export function replaceMediator(ctx: PaymentsContext, msg: EscrowReplaceMediatorMsg): void {
  const e = openUserEscrow(ctx, msg.id);
  const d = requireDispute(e);
  requireCounterpartyOf(ctx, e);
  if (!d.proposal || !d.rejections.includes(e.payer) || !d.rejections.includes(e.payee)) {
    throw E.PAY_REPLACEMENT_NOT_ALLOWED(`both payer and payee must have rejected the current split of escrow ${e.id}`);
  }
  if (e.parties.includes(msg.mediator)) throw E.PAY_MEDIATOR_INVALID(`${msg.mediator} is already a party of escrow ${e.id}`);
  requireCounterparty(ctx, msg.mediator, 'mediator');
  const nominations = { ...d.nominations, [ctx.sender]: msg.mediator };
  if (nominations[e.payer] !== nominations[e.payee]) {
    putEscrow(ctx.store, { ...e, dispute: { ...d, nominations } });
    ctx.emit('payments.mediator_nominated', { id: e.id, by: ctx.sender, mediator: msg.mediator });
    return;
  }
  const old = e.mediator!;
  const replaced: Escrow = {
    ...e,
    mediator: msg.mediator,
    parties: e.parties.map((p) => (p === old ? msg.mediator : p)),
    approvals: { release: e.approvals.release.filter((p) => p !== old), refund: e.approvals.refund.filter((p) => p !== old) },
    dispute: { by: d.by, reason: d.reason, at: d.at, rejections: [], nominations: {}, replaced: [...d.replaced, old] },
  };
  putEscrow(ctx.store, replaced);
  indexParty(ctx.store, msg.mediator, 'escrow', ctx.height, e.id);
  ctx.emit('payments.mediator_replaced', { id: e.id, old, mediator: msg.mediator });
}
