import { timedTxRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { fieldElementSchema, offerIdSchema } from './messages.js';

/**
 * Public routes of the anon module. Everything here is on the ledger already: identity commitments
 * (members register them openly), the members' tree and its roots, used nullifiers, and anonymous
 * accounts with their expiry. A member reads *all* leaves and computes its own path locally, so
 * the node never learns which leaf a prover holds.
 */

const txRef = timedTxRefSchema;

export const memberSchema = z.object({
  address: z.string(),
  commitment: z.string(),
  leafIndex: z.number(),
  status: z.enum(['active', 'revoked']),
  registeredAt: txRef,
  revokedAt: txRef.optional(),
});

export const anonAccountSchema = z.object({
  address: z.string(),
  epoch: z.number(),
  admittedAt: txRef,
  expiresAt: z.number(),
  status: z.enum(['active', 'expired']),
});

export const offerSchema = z.object({
  id: z.string(),
  seller: z.string(),
  energyWh: z.number(),
  amount: z.string(),
  asset: z.string(),
  deliveryStart: z.number(),
  deliveryEnd: z.number(),
  memo: z.string().optional(),
  messagingKey: z.string().optional(),
  status: z.enum(['open', 'taken', 'withdrawn']),
  buyer: z.string().optional(),
  escrow: z.string().optional(),
  mediator: z.string().optional(),
  createdAt: txRef,
  closedAt: txRef.optional(),
});

export const anonRoutes = {
  offers: defineRoute({
    name: 'anonOffers',
    method: 'GET',
    path: '/v1/anon/offers',
    summary: 'The anonymous offer board, newest first (open, taken or withdrawn); sellers and buyers are trader-anon accounts. A page at a time: `next` continues with after=. One status is read through the node index (full pages); with prove=true, or for every status, a request reads at most 10,000 offers, so a page can be short and still have a next',
    tags: ['anon'],
    query: z.object({ status: z.enum(['open', 'taken', 'withdrawn', 'all']).default('all'), after: z.string().regex(/^\d{16}$/, 'the next of a previous answer').optional(), limit: pageLimit(1000, 100) }),
    response: z.object({ offers: z.array(offerSchema), next: z.string().optional() }),
  }),
  offer: defineRoute({
    name: 'anonOffer',
    method: 'GET',
    path: '/v1/anon/offers/:id',
    summary: 'One anonymous offer and the escrow that settles it',
    tags: ['anon'],
    params: z.object({ id: offerIdSchema }),
    response: z.object({ offer: offerSchema }),
  }),
  status: defineRoute({
    name: 'anonStatus',
    method: 'GET',
    path: '/v1/anon/status',
    summary: "The membership verifying key, the epoch, the slot limit, the members' tree size and the roots a proof may use now",
    tags: ['anon'],
    response: z.object({
      keyId: z.string().optional(),
      height: z.number(),
      epoch: z.number(),
      epochBlocks: z.number(),
      maxSlots: z.number(),
      accountLifetimeMs: z.number(),
      treeSize: z.number(),
      currentRoot: z.string(),
      validRoots: z.array(z.string()),
    }),
  }),
  leaves: defineRoute({
    name: 'anonLeaves',
    method: 'GET',
    path: '/v1/anon/leaves',
    summary: "Every leaf of the members' tree in index order (0 for a revoked member), and the current root",
    tags: ['anon'],
    response: z.object({ leaves: z.array(z.string()), root: z.string() }),
  }),
  roots: defineRoute({
    name: 'anonRoots',
    method: 'GET',
    path: '/v1/anon/roots',
    summary: "History of the members' root: the root at the end of each block that changed it, newest first",
    tags: ['anon'],
    query: z.object({ limit: pageLimit(1000, 100) }),
    response: z.object({ roots: z.array(z.object({ height: z.number(), root: z.string() })) }),
  }),
  member: defineRoute({
    name: 'anonMember',
    method: 'GET',
    path: '/v1/anon/members/:address',
    summary: "A member's registered identity commitment and its leaf",
    tags: ['anon'],
    params: z.object({ address: addressSchema }),
    response: z.object({ member: memberSchema }),
  }),
  account: defineRoute({
    name: 'anonAccount',
    method: 'GET',
    path: '/v1/anon/accounts/:address',
    summary: 'An anonymous trade account: the epoch it was admitted in and its expiry (never its member)',
    tags: ['anon'],
    params: z.object({ address: addressSchema }),
    response: z.object({ account: anonAccountSchema }),
  }),
  nullifier: defineRoute({
    name: 'anonNullifier',
    method: 'GET',
    path: '/v1/anon/nullifiers/:nullifier',
    summary: 'Whether a nullifier was used (and in which epoch and block)',
    tags: ['anon'],
    params: z.object({ nullifier: fieldElementSchema }),
    response: z.object({ used: z.boolean(), epoch: z.number().optional(), height: z.number().optional() }),
  }),
};
