import { timedTxRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { assetIdSchema, channelIdSchema, escrowIdSchema, redemptionIdSchema } from './messages.js';

/** Amounts are decimal strings of micro-units (a signed one for differences). */
const amount = z.string();
const txRef = timedTxRefSchema;
const held = z.object({ redeeming: amount, locked: amount, escrowed: amount, channels: amount });

export const attestationSchema = z.object({
  asset: z.string(),
  seq: z.number(),
  reserve: amount,
  supply: amount,
  ref: z.string().optional(),
  memo: z.string().optional(),
  by: z.string(),
  at: txRef,
});
export const assetSchema = z.object({
  id: z.string(),
  code: z.string(),
  scope: z.string().optional(),
  name: z.string(),
  decimals: z.number(),
  issuer: z.string(),
  supply: amount,
  minted: amount,
  burned: amount,
  held,
  attestations: z.number(),
  reserve: attestationSchema.optional(),
  createdAt: txRef,
});
/** Supply against the latest attested reserve; circulating = supply − held = Σ free balances. */
export const supplySchema = z.object({
  asset: z.string(),
  code: z.string(),
  issuer: z.string(),
  supply: amount,
  circulating: amount,
  held,
  reserve: amount.nullable(),
  reserveAt: txRef.nullable(),
  /** reserve − supply at the latest attestation's reserve and today's supply (negative: under-covered). */
  reserveMinusSupply: amount.nullable(),
  covered: z.boolean().nullable(),
  /** Whether the supply changed since the reserve was attested. */
  supplyChangedSinceAttestation: z.boolean().nullable(),
});
export const historySchema = z.object({
  address: z.string(),
  asset: z.string(),
  delta: amount,
  balance: amount,
  kind: z.string(),
  ref: z.string().optional(),
  counterparty: z.string().optional(),
  memo: z.string().optional(),
  height: z.number(),
  time: z.number(),
  txHash: z.string(),
  msgIndex: z.number(),
});
/** A count of items to show, 0 for none. */
const count = (max: number, fallback: number) => z.coerce.number().int().min(0).max(max).default(fallback);
const redemptionId = /r[1-9][0-9]{0,15}/.source;
const channelId = /ch[1-9][0-9]{0,15}/.source;
const escrowId = /(e[1-9][0-9]{0,15}|[a-z][a-z0-9-]{0,31}(\/[A-Za-z0-9._:-]{1,64}){1,4})/.source;
/** A list's cursor, the `next` of a previous answer: an id, or with party= the position in the party's index "<height16>/<id>". */
const listCursor = (id: string) => z.string().max(160).regex(new RegExp(`^(\\d{16}\\/)?${id}$`), 'the next of a previous answer');
/** Where a page of an account's history ends: "<height>/<asset>/<row>/<index>", as an answer's `next` gives it. */
const historyCursor = z.string().regex(/^\d{16}\/[A-Z][A-Z0-9]{2,7}(@[a-z0-9][a-z0-9-]{0,31})?\/\d{16}\/\d{1,4}$/, 'the next of a previous answer');
export const redemptionSchema = z.object({
  id: z.string(),
  asset: z.string(),
  holder: z.string(),
  amount,
  status: z.enum(['pending', 'completed', 'rejected']),
  memo: z.string().optional(),
  requestedAt: txRef,
  payoutRef: z.string().optional(),
  reason: z.string().optional(),
  closedAt: txRef.optional(),
});
const proposal = z.object({ payeeAmount: amount, payerAmount: amount, by: z.string(), at: txRef });
export const escrowSchema = z.object({
  id: z.string(),
  kind: z.enum(['user', 'module']),
  owner: z.string().optional(),
  asset: z.string(),
  amount,
  payer: z.string(),
  payee: z.string(),
  parties: z.array(z.string()),
  mediator: z.string().optional(),
  threshold: z.number(),
  deadlineHeight: z.number().optional(),
  deadlineTime: z.number().optional(),
  status: z.enum(['open', 'released', 'refunded', 'split', 'closed']),
  approvals: z.object({ release: z.array(z.string()), refund: z.array(z.string()) }),
  dispute: z
    .object({
      by: z.string(),
      reason: z.string(),
      at: txRef,
      proposal: proposal.optional(),
      rejections: z.array(z.string()),
      nominations: z.record(z.string(), z.string()),
      replaced: z.array(z.string()),
    })
    .optional(),
  paidToPayee: amount,
  paidToPayer: amount,
  memo: z.string().optional(),
  openedAt: txRef,
  closedAt: txRef.optional(),
  /** Computed: amount − paid out. */
  remaining: amount,
  /** Computed: whether the deadline is reached at the latest block. */
  deadlineReached: z.boolean(),
});
export const channelSchema = z.object({
  id: z.string(),
  buyer: z.string(),
  seller: z.string(),
  asset: z.string(),
  deposit: amount,
  refundTime: z.number(),
  status: z.enum(['open', 'closed', 'reclaimed']),
  memo: z.string().optional(),
  openedAt: txRef,
  payout: amount.optional(),
  refund: amount.optional(),
  voucher: z.object({ amount, wh: z.number(), seq: z.number() }).optional(),
  closedAt: txRef.optional(),
  /** Computed: the refund time is reached at the latest block. */
  expired: z.boolean(),
});
export const lockSchema = z.object({ id: z.string(), module: z.string(), account: z.string(), asset: z.string(), amount, original: amount, lockedAt: txRef });

const status = z.enum(['open', 'closed', 'all']).default('open');

export const paymentsRoutes = {
  listAssets: defineRoute({
    name: 'paymentsAssets',
    method: 'GET',
    path: '/v1/payments/assets',
    summary: 'Assets with their supply against the latest attested fiat reserve, in id order, a page at a time: `next` continues with after=',
    tags: ['payments'],
    query: z.object({ after: assetIdSchema.optional(), limit: pageLimit(500, 100) }),
    response: z.object({ assets: z.array(assetSchema), supply: z.array(supplySchema), next: z.string().optional() }),
  }),
  getAsset: defineRoute({
    name: 'paymentsAsset',
    method: 'GET',
    path: '/v1/payments/assets/:asset',
    summary:
      'One asset: issuer, supply, held amounts, supply vs reserve, the latest `attestations` reserve attestations and the newest `pending` pending redemption ids (newest first by number; `pendingRedemptionsNext` continues in the redemptions route with asset=, status=pending, after=); attestations=0&pending=0 reads the asset alone',
    tags: ['payments'],
    params: z.object({ asset: assetIdSchema }),
    query: z.object({ attestations: count(1000, 10), pending: count(1000, 100) }),
    response: z.object({
      asset: assetSchema,
      supply: supplySchema,
      attestations: z.array(attestationSchema),
      pendingRedemptions: z.array(z.string()),
      pendingRedemptionsNext: z.string().optional(),
    }),
  }),
  balances: defineRoute({
    name: 'paymentsBalances',
    method: 'GET',
    path: '/v1/payments/accounts/:address/balances',
    summary: "An account's free balance per asset and what it has held in redemptions, escrows, channels and locks",
    tags: ['payments'],
    params: z.object({ address: addressSchema }),
    response: z.object({
      address: z.string(),
      balances: z.array(z.object({ asset: z.string(), code: z.string(), free: amount, held, total: amount })),
    }),
  }),
  history: defineRoute({
    name: 'paymentsHistory',
    method: 'GET',
    path: '/v1/payments/accounts/:address/history',
    summary: "Every change of an account's free balances, newest first, with the transaction behind it; `next` continues with after= (or start below a height with beforeHeight=)",
    tags: ['payments'],
    params: z.object({ address: addressSchema }),
    query: z.object({ asset: assetIdSchema.optional(), beforeHeight: z.coerce.number().int().min(1).optional(), after: historyCursor.optional(), limit: pageLimit(5000, 100) }),
    response: z.object({ address: z.string(), entries: z.array(historySchema), next: z.string().optional() }),
  }),
  locks: defineRoute({
    name: 'paymentsLocks',
    method: 'GET',
    path: '/v1/payments/accounts/:address/locks',
    summary: "Funds of an account locked by modules (e.g. market bids), by lock id",
    tags: ['payments'],
    params: z.object({ address: addressSchema }),
    response: z.object({ address: z.string(), locks: z.array(lockSchema) }),
  }),
  redemptions: defineRoute({
    name: 'paymentsRedemptions',
    method: 'GET',
    path: '/v1/payments/redemptions',
    summary:
      'Redemption requests, a page at a time (`next` continues with after=): of a party (holder or issuer), newest first by the block of the request (within a block by id, descending as text); of an asset or all, newest first by number. A request reads at most 10,000 rows, so a page of a rare filter can be short and still have a next',
    tags: ['payments'],
    query: z.object({
      asset: assetIdSchema.optional(),
      party: addressSchema.optional(),
      status: z.enum(['pending', 'closed', 'all']).default('all'),
      after: listCursor(redemptionId).optional(),
      limit: pageLimit(1000, 100),
    }),
    response: z.object({ redemptions: z.array(redemptionSchema), next: z.string().optional() }),
  }),
  redemption: defineRoute({
    name: 'paymentsRedemption',
    method: 'GET',
    path: '/v1/payments/redemptions/:id',
    summary: 'One redemption request',
    tags: ['payments'],
    params: z.object({ id: redemptionIdSchema }),
    response: z.object({ redemption: redemptionSchema }),
  }),
  escrows: defineRoute({
    name: 'paymentsEscrows',
    method: 'GET',
    path: '/v1/payments/escrows',
    summary:
      'Escrows, status open (default), closed or all, a page at a time (`next` continues with after=): of a party (payer, payee, mediator or other party), newest first by the block it joined (within a block by id, descending as text); all: user escrows newest first by number, then module escrows in id order. A request reads at most 10,000 rows, so a page can be short and still have a next',
    tags: ['payments'],
    query: z.object({ party: addressSchema.optional(), status, after: listCursor(escrowId).optional(), limit: pageLimit(1000, 100) }),
    response: z.object({ escrows: z.array(escrowSchema), next: z.string().optional() }),
  }),
  escrow: defineRoute({
    name: 'paymentsEscrow',
    method: 'GET',
    path: '/v1/payments/escrows/:id',
    summary: 'One escrow with approvals, dispute, split proposal and payouts',
    tags: ['payments'],
    params: z.object({ id: escrowIdSchema }),
    response: z.object({ escrow: escrowSchema }),
  }),
  channels: defineRoute({
    name: 'paymentsChannels',
    method: 'GET',
    path: '/v1/payments/channels',
    summary:
      'Payment channels, status open (default), closed or all, a page at a time (`next` continues with after=): of a party (buyer or seller), newest first by the opening block (within a block by id, descending as text); all: newest first by number. A request reads at most 10,000 rows, so a page can be short and still have a next',
    tags: ['payments'],
    query: z.object({ party: addressSchema.optional(), status, after: listCursor(channelId).optional(), limit: pageLimit(1000, 100) }),
    response: z.object({ channels: z.array(channelSchema), next: z.string().optional() }),
  }),
  channel: defineRoute({
    name: 'paymentsChannel',
    method: 'GET',
    path: '/v1/payments/channels/:id',
    summary: 'One payment channel: deposit, refund time, and how it was closed',
    tags: ['payments'],
    params: z.object({ id: channelIdSchema }),
    response: z.object({ channel: channelSchema }),
  }),
};
