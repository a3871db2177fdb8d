import { amountString } from './amount.js';
import { E } from './errors.js';
import type { PaymentsContext } from './rules.js';
import { bookChange, getBalance, getBalanceRow, type HistoryKind } from './state.js';

/**
 * The one place free balances change. Every change writes the new balance and a history entry
 * with the transaction behind it; a debit never takes a balance below zero.
 */

export interface Booking {
  kind: HistoryKind;
  ref?: string;
  counterparty?: string;
  memo?: string;
}

export function freeBalance(ctx: PaymentsContext, address: string, asset: string): bigint {
  return getBalance(ctx.store, address, asset);
}

function book(ctx: PaymentsContext, address: string, asset: string, delta: bigint, b: Booking): void {
  const row = getBalanceRow(ctx.store, address, asset);
  const before = BigInt(row?.a ?? '0');
  const after = before + delta;
  if (after < 0n) throw E.PAY_INSUFFICIENT_BALANCE(`${address} holds ${before} of ${asset}, needs ${-delta}`);
  bookChange(ctx.store, row, {
    address,
    asset,
    delta: delta.toString(),
    balance: amountString(after),
    kind: b.kind,
    ...(b.ref !== undefined ? { ref: b.ref } : {}),
    ...(b.counterparty !== undefined ? { counterparty: b.counterparty } : {}),
    ...(b.memo ? { memo: b.memo } : {}),
    height: ctx.height,
    time: ctx.time,
    txHash: ctx.txHash,
    msgIndex: ctx.msgIndex,
  });
}

/** Adds to a free balance (nothing for 0). */
export function credit(ctx: PaymentsContext, address: string, asset: string, amount: bigint, b: Booking): void {
  if (amount > 0n) book(ctx, address, asset, amount, b);
}

/** Takes from a free balance; PAY_INSUFFICIENT_BALANCE when it holds less. */
export function debit(ctx: PaymentsContext, address: string, asset: string, amount: bigint, b: Booking): void {
  if (amount > 0n) book(ctx, address, asset, -amount, b);
}

/** A history entry without a balance change (e.g. a redemption paid out from the locked amount). */
export function note(ctx: PaymentsContext, address: string, asset: string, b: Booking): void {
  book(ctx, address, asset, 0n, b);
}
