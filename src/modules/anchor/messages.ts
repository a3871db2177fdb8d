import { z } from 'zod';
import { BITCOIN_NETWORKS, MAX_BLOCK_TXS, type BitcoinNetwork } from '../../bitcoin/index.js';
import { hashSchema, safeUintSchema } from '../../codec/tx.js';

/** Largest raw Bitcoin transaction an anchor record carries (a transaction must stay under 64 KiB). */
export const MAX_ANCHOR_TX_BYTES = 24_000;
/** ceil(log2(MAX_BLOCK_TXS)): the deepest branch a block can have. */
export const MAX_BRANCH_DEPTH = 17;

const rawTxHex = z
  .string()
  .max(2 * MAX_ANCHOR_TX_BYTES, { message: `a raw transaction of at most ${MAX_ANCHOR_TX_BYTES} bytes` })
  .regex(/^(?:[0-9a-f]{2})+$/, { message: 'raw transaction as lowercase hex (an even number of digits)' });
const checkpointHeight = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The operator records the Bitcoin transaction that carries a checkpoint (once broadcast). */
export const recordMsg = z
  .object({
    height: checkpointHeight,
    /** Display-order txid (as bitcoind and explorers print it). */
    txid: hashSchema,
    rawTx: rawTxHex,
  })
  .strict();

export const branchSchema = z
  .object({
    index: safeUintSchema,
    txCount: z.number().int().min(1).max(MAX_BLOCK_TXS),
    siblings: z.array(hashSchema).max(MAX_BRANCH_DEPTH),
  })
  .strict();

/** The operator records the Bitcoin block that includes the anchor transaction. */
export const confirmMsg = z
  .object({
    height: checkpointHeight,
    /** The 80-byte block header, hex; its hash, time and Merkle root are read from it. */
    blockHeader: z.string().regex(/^[0-9a-f]{160}$/, { message: 'an 80-byte block header as 160 lowercase hex digits' }),
    /** Optional: when given it must be the header's hash (display order). */
    blockHash: hashSchema.optional(),
    /** Height of the block in the Bitcoin chain (as the backend reports it; not provable from the header alone). */
    blockHeight: safeUintSchema,
    /** Merkle branch of the txid in that block, leaf to root, display order. */
    branch: branchSchema,
  })
  .strict();

export type RecordMsg = z.infer<typeof recordMsg>;
export type ConfirmMsg = z.infer<typeof confirmMsg>;

export const networkSchema = z.enum(BITCOIN_NETWORKS as unknown as [BitcoinNetwork, ...BitcoinNetwork[]]);

export const MSG = { record: 'anchor/record', confirm: 'anchor/confirm' } as const;
