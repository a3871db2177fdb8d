import { z } from 'zod';
import { defineRoute, pageLimit } from './route.js';
import { addressSchema, hashSchema } from '../codec/tx.js';

const hash = hashSchema;
const txResult = z.object({ code: z.string(), message: z.string(), events: z.array(z.object({ type: z.string(), attributes: z.record(z.string(), z.string()) })) });
const blockEnvelope = z.object({ hash: z.string(), block: z.record(z.string(), z.unknown()), commit: z.record(z.string(), z.unknown()), results: z.array(txResult) });

/** Errors a submitted transaction can meet before it is admitted (see docs/errors.md for every code). */
const TX_ERROR_DOCS = {
  '400': 'TX_MALFORMED, TX_BAD_SIGNATURE, TX_SENDER_KEY_MISMATCH, TX_WRONG_CHAIN, TX_EXPIRED, TX_NONCE_USED, TX_NONCE_TOO_HIGH, TX_UNKNOWN_MSG_TYPE, MSG_INVALID, …',
  '403': 'TX_SENDER_NOT_ADMITTED, TX_SENDER_REVOKED',
  '409': 'TX_DUPLICATE, TX_ALREADY_COMMITTED, TX_NONCE_PENDING: the same transaction (or nonce) is already pending or committed',
  '413': 'TX_TOO_LARGE: the encoded transaction exceeds 64 KiB',
  '429': 'RATE_LIMITED',
  '503': 'MEMPOOL_FULL: the node holds its maximum of pending transactions; retry later',
};

/** Routes of the ledger core. Module routes live in their modules and are added by the node. */
export const coreRoutes = {
  submitTx: defineRoute({
    name: 'submitTx',
    method: 'POST',
    path: '/v1/txs',
    summary: 'Submit a signed transaction; answers with its hash once admitted to the mempool',
    tags: ['txs'],
    body: z.unknown(),
    bodyDoc: { $ref: '#/components/schemas/SignedTx' },
    response: z.object({ hash, admission: z.object({ code: z.literal('OK') }) }),
    errorDocs: TX_ERROR_DOCS,
  }),
  submitTxBatch: defineRoute({
    name: 'submitTxBatch',
    method: 'POST',
    path: '/v1/txs/batch',
    summary: 'Submit up to 1000 signed transactions; one admission result each, in order',
    tags: ['txs'],
    body: z.object({ txs: z.array(z.unknown()).min(1).max(1000) }),
    bodyDoc: { type: 'object', required: ['txs'], additionalProperties: false, properties: { txs: { type: 'array', minItems: 1, maxItems: 1000, items: { $ref: '#/components/schemas/SignedTx' } } } },
    response: z.object({ results: z.array(z.object({ hash: hash.nullable(), code: z.string(), message: z.string() })) }),
    errorDocs: { '429': 'RATE_LIMITED: a batch spends one unit of the client\'s rate per transaction' },
    // up to 1000 transactions: the one route that needs a large body (capped by config api.bodyLimitBytes)
    bodyLimitBytes: 8 * 1024 * 1024,
    rateCost: (body) => body.txs.length,
  }),
  getTx: defineRoute({
    name: 'getTx',
    method: 'GET',
    path: '/v1/txs/:hash',
    summary: 'Status and committed result of a transaction; wait=SECONDS waits up to 60 s for the commit',
    tags: ['txs'],
    params: z.object({ hash }),
    query: z.object({ wait: z.coerce.number().int().min(0).max(60).default(0) }),
    response: z.object({
      hash,
      status: z.enum(['pending', 'committed']),
      height: z.number().optional(),
      index: z.number().optional(),
      result: txResult.optional(),
    }),
  }),
  accountNonce: defineRoute({
    name: 'accountNonce',
    method: 'GET',
    path: '/v1/accounts/:address/nonce',
    summary: 'Committed nonce of an account and the next nonce to use counting its pending transactions',
    tags: ['txs'],
    params: z.object({ address: addressSchema }),
    response: z.object({ address: z.string(), committed: z.number(), next: z.number(), height: z.number() }),
  }),
  latestBlock: defineRoute({
    name: 'latestBlock',
    method: 'GET',
    path: '/v1/blocks/latest',
    summary: 'The latest committed block with its commit and results',
    tags: ['blocks'],
    response: blockEnvelope,
  }),
  getBlock: defineRoute({
    name: 'getBlock',
    method: 'GET',
    path: '/v1/blocks/:height',
    summary: 'A committed block by height, with its commit and results',
    tags: ['blocks'],
    params: z.object({ height: z.coerce.number().int().min(1) }),
    response: blockEnvelope,
  }),
  status: defineRoute({
    name: 'status',
    method: 'GET',
    path: '/v1/status',
    summary: 'Chain id, height, latest block hash and time, state root, validator, mempool',
    tags: ['node'],
    response: z.object({
      chainId: z.string(),
      height: z.number(),
      latestBlockHash: z.string(),
      latestBlockTime: z.number(),
      stateRoot: z.string(),
      validator: z.object({ address: z.string().nullable() }),
      mempool: z.object({ txs: z.number(), bytes: z.number() }),
      consensus: z.object({ height: z.number(), round: z.number(), step: z.string(), lastCommitTime: z.number() }).nullable(),
      peers: z.array(z.object({ id: z.string(), address: z.string(), direction: z.string(), connectedSince: z.number() })),
      sync: z.object({ bestPeerHeight: z.number(), syncing: z.boolean() }).nullable(),
      messageTypes: z.array(z.string()),
    }),
  }),
  evidence: defineRoute({
    name: 'evidence',
    method: 'GET',
    path: '/v1/evidence',
    summary: 'Committed evidence of validator equivocation (two conflicting signed votes), newest first',
    tags: ['consensus'],
    query: z.object({ limit: pageLimit() }),
    response: z.object({ evidence: z.array(z.object({ height: z.number(), evidence: z.record(z.string(), z.unknown()) })) }),
  }),
  modules: defineRoute({
    name: 'modules',
    method: 'GET',
    path: '/v1/modules',
    summary: 'The application modules of this node: dependencies, whether each is active, its parameters in force, and scheduled upgrades',
    tags: ['node'],
    response: z.object({
      modules: z.array(z.object({
        name: z.string(),
        requires: z.array(z.string()),
        active: z.boolean(),
        activeFrom: z.number().nullable(),
        params: z.unknown(),
        messageTypes: z.array(z.string()),
        /** The module's state version on the chain (null while inactive); ADR 0029. */
        stateVersion: z.number().nullable(),
        /** The newest state version this node's code executes. */
        latestStateVersion: z.number(),
      })),
      scheduled: z.array(z.object({ module: z.string(), kind: z.enum(['params', 'activate', 'migrate']), params: z.unknown().optional(), stateVersion: z.number().optional(), height: z.number() })),
    }),
  }),
  health: defineRoute({
    name: 'health',
    method: 'GET',
    path: '/v1/health',
    summary: 'Liveness: 200 while the node serves',
    tags: ['node'],
    response: z.object({ ok: z.boolean(), height: z.number() }),
  }),
};

export type CoreRoutes = typeof coreRoutes;
