import { amountString } from './amount.js';
import { E } from './errors.js';
import type { PaymentsContext } from './rules.js';
import { getBalanceRow, putBalanceRow, putHistory, type BalanceRow, type HistoryKind } from './state.js';

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
  const row = getBalanceRow(ctx.store, address, asset);
  return row ? BigInt(row.amount) : 0n;
}

function book(ctx: PaymentsContext, address: string, asset: string, delta: bigint, b: Booking): void {
  const row: BalanceRow = getBalanceRow(ctx.store, address, asset) ?? { amount: '0', n: 0 };
  const after = BigInt(row.amount) + delta;
  if (after < 0n) throw E.PAY_INSUFFICIENT_BALANCE(`${address} holds ${row.amount} of ${asset}, needs ${-delta}`);
  putBalanceRow(ctx.store, address, asset, { amount: amountString(after), n: row.n + 1 });
  putHistory(
    ctx.store,
    {
      address,
      asset,
      delta: delta.toString(),
      balance: after.toString(),
      kind: b.kind,
      ...(b.ref !== undefined ? { ref: b.ref } : {}),
      ...(b.counterparty !== undefined ? { counterparty: b.counterparty } : {}),
      ...(b.memo ? { memo: b.memo } : {}),
      height: ctx.height,
      time: ctx.time,
      txHash: ctx.txHash,
      msgIndex: ctx.msgIndex,
    },
    row.n,
  );
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
