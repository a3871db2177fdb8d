import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { hashSchema } from '../../codec/tx.js';
import { CHECKS } from './verify.js';

const txRef = txRefSchema;
const branch = z.object({ index: z.number(), txCount: z.number(), siblings: z.array(z.string()) });

export const paramsSchema = z.object({ checkpointInterval: z.number(), network: z.string() });
export const checkpointSchema = z.object({
  height: z.number(),
  blockHash: z.string(),
  stateRoot: z.string(),
  intervalRoot: z.string(),
  chainIdHash: z.string(),
  digest: z.string(),
  fromHeight: z.number(),
  itemCount: z.number(),
  takenAt: z.number(),
});
export const confirmationSchema = z.object({
  blockHash: z.string(),
  blockHeight: z.number(),
  blockTime: z.number(),
  blockHeader: z.string(),
  merkleRoot: z.string(),
  branch,
  confirmedBy: z.string(),
  confirmedAt: txRef,
});
export const anchorSchema = z.object({
  height: z.number(),
  txid: z.string(),
  wtxid: z.string(),
  rawTx: z.string(),
  outputIndex: z.number(),
  sequence: z.number(),
  recordedBy: z.string(),
  recordedAt: txRef,
  confirmation: confirmationSchema.optional(),
});
const statusSchema = z.enum(['pending', 'recorded', 'confirmed']);
/** A checkpoint in a list: its anchor in short (no raw transaction). */
export const checkpointEntrySchema = checkpointSchema.extend({
  status: statusSchema,
  txid: z.string().optional(),
  bitcoinBlock: z.object({ height: z.number(), hash: z.string(), time: z.number() }).optional(),
});
export const itemSchema = z.object({ item: z.string(), kind: z.string(), meterId: z.string(), slot: z.number(), height: z.number(), seq: z.number(), txHash: z.string() });
const pathSchema = z.object({ index: z.number(), leafCount: z.number(), siblings: z.array(z.string()) });
export const reportSchema = z.object({
  height: z.number(),
  ok: z.boolean(),
  status: statusSchema,
  network: z.string(),
  digest: z.string(),
  checks: z.array(z.object({ name: z.enum(CHECKS as unknown as [string, ...string[]]), ok: z.boolean(), detail: z.string() })),
  failure: z.object({ check: z.string(), code: z.string(), message: z.string() }).optional(),
  anchoredIn: z.object({ blockHeight: z.number(), blockHash: z.string(), time: z.number() }).optional(),
  txid: z.string().optional(),
  headerSource: z.string().optional(),
});

const heightParam = z.object({ height: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const page = { after: z.coerce.number().int().min(0).optional(), limit: pageLimit(1000, 100), order: z.enum(['asc', 'desc']).default('asc') };

export const anchorRoutes = {
  anchorStatus: defineRoute({
    name: 'anchorStatus',
    method: 'GET',
    path: '/v1/anchor/status',
    summary: 'Anchoring parameters (checkpoint interval, Bitcoin network), the latest checkpoint and counts',
    tags: ['anchor'],
    response: z.object({
      params: paramsSchema,
      height: z.number(),
      nextCheckpointHeight: z.number(),
      latest: checkpointEntrySchema.nullable(),
      anchors: z.number(),
      itemsCollected: z.number(),
      pendingItems: z.number(),
    }),
  }),
  listCheckpoints: defineRoute({
    name: 'listCheckpoints',
    method: 'GET',
    path: '/v1/anchor/checkpoints',
    summary: 'Checkpoints with their anchor status (pending: no Bitcoin transaction recorded; recorded: not yet in a block; confirmed)',
    tags: ['anchor'],
    query: z.object({ status: z.enum(['pending', 'recorded']).optional(), ...page }),
    response: z.object({ checkpoints: z.array(checkpointEntrySchema) }),
  }),
  getCheckpoint: defineRoute({
    name: 'getCheckpoint',
    method: 'GET',
    path: '/v1/anchor/checkpoints/:height',
    summary: 'One checkpoint with its anchor record (raw Bitcoin transaction, including block and Merkle branch)',
    tags: ['anchor'],
    params: heightParam,
    response: z.object({ checkpoint: checkpointSchema, status: statusSchema, anchor: anchorSchema.nullable() }),
  }),
  checkpointItems: defineRoute({
    name: 'checkpointItems',
    method: 'GET',
    path: '/v1/anchor/checkpoints/:height/items',
    summary: 'The items (meter interval fingerprints) a checkpoint covers, in commit order (paginate with cursor=)',
    tags: ['anchor'],
    params: heightParam,
    query: z.object({ cursor: z.string().regex(/^\d{1,16}\/\d{1,16}$/).optional(), limit: pageLimit(10_000, 1000) }),
    response: z.object({ height: z.number(), itemCount: z.number(), items: z.array(itemSchema), next: z.string().nullable() }),
  }),
  listAnchors: defineRoute({
    name: 'listAnchors',
    method: 'GET',
    path: '/v1/anchor/anchors',
    summary: 'Anchor records (Bitcoin transactions carrying checkpoints) by checkpoint height',
    tags: ['anchor'],
    query: z.object(page),
    response: z.object({ anchors: z.array(anchorSchema) }),
  }),
  inclusion: defineRoute({
    name: 'anchorInclusion',
    method: 'GET',
    path: '/v1/anchor/inclusion/:item',
    summary: 'Inclusion path from an item (a meter interval fingerprint) to the interval root of the checkpoint that covers it',
    tags: ['anchor'],
    params: z.object({ item: hashSchema }),
    response: z.object({ item: itemSchema, checkpoint: checkpointSchema, chainId: z.string(), path: pathSchema, status: statusSchema, txid: z.string().nullable() }),
  }),
  verification: defineRoute({
    name: 'anchorVerification',
    method: 'GET',
    path: '/v1/anchor/checkpoints/:height/verification',
    summary: "Checks a checkpoint's anchor from the ledger's records: digest, transaction, OP_RETURN, Merkle branch, header proof of work (the dashboard's badge)",
    tags: ['anchor'],
    params: heightParam,
    response: reportSchema,
  }),
};
