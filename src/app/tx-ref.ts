import { z } from 'zod';

/**
 * Where a record was made: the transaction that made it. The first modules store `{height,
 * txHash}`; those from payments on also keep the block time. Both shapes stay as they are stored
 * (state roots depend on them); this is their one definition, with the response schemas.
 */
export interface TxRef {
  height: number;
  txHash: string;
}

export interface TimedTxRef {
  height: number;
  /** Block time, ms. */
  time: number;
  txHash: string;
}

export const txRefSchema = z.object({ height: z.number(), txHash: z.string() });
export const timedTxRefSchema = z.object({ height: z.number(), time: z.number(), txHash: z.string() });

/** The timed reference of the transaction a handler runs in. */
export function timedTxRef(ctx: { readonly height: number; readonly time: number; readonly txHash: string }): TimedTxRef {
  return { height: ctx.height, time: ctx.time, txHash: ctx.txHash };
}
