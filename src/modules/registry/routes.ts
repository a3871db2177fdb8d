import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { roleSchema } from './messages.js';

const txRef = txRefSchema;
const accountSchema = z.object({
  address: z.string(),
  roles: z.array(roleSchema),
  status: z.enum(['admitted', 'revoked']),
  admittedAt: txRef,
  admittedBy: z.string(),
  revokedAt: txRef.optional(),
  revokedBy: z.string().optional(),
  revokeReason: z.string().optional(),
});
const limit = pageLimit();
/** Where a page of the registry log ends: "<height>/<txHash or genesis>/<index>", as an answer's `next` gives it. */
const logCursor = z.string().regex(/^\d{16}\/([0-9a-f]{64}|genesis)\/\d{4,16}$/, 'the next of a previous answer');

const proposalSchema = z.object({
  id: z.string(),
  action: z.record(z.string(), z.unknown()),
  description: z.string().optional(),
  proposer: z.string(),
  approvals: z.array(z.string()),
  threshold: z.number(),
  status: z.enum(['open', 'executed']),
  proposedAt: txRef,
  executedAt: txRef.extend({ effectiveHeight: z.number() }).optional(),
});

export const registryRoutes = {
  getAccount: defineRoute({
    name: 'getAccount',
    method: 'GET',
    path: '/v1/accounts/:address',
    summary: 'An account: nonce, roles, admitted or revoked, and the transactions that did it',
    tags: ['registry'],
    params: z.object({ address: addressSchema }),
    response: z.object({
      address: z.string(),
      nonce: z.number(),
      admitted: z.boolean(),
      revoked: z.boolean(),
      roles: z.array(roleSchema),
      account: accountSchema.nullable(),
    }),
  }),
  listAccounts: defineRoute({
    name: 'listAccounts',
    method: 'GET',
    path: '/v1/registry/accounts',
    summary: 'Admitted and revoked accounts in address order, optionally only those with a role; a page at a time (`next` continues with after=). A role few accounts hold (operator, grid-operator, utility, aggregator, auditor, anchor-operator, issuer) is read through the node index: exact pages; another role, or any with prove=true, reads at most 10,000 accounts per request, so a page can be short and still have a next',
    tags: ['registry'],
    query: z.object({ after: addressSchema.optional(), limit, role: roleSchema.optional() }),
    response: z.object({ accounts: z.array(accountSchema), next: z.string().optional() }),
  }),
  registryLog: defineRoute({
    name: 'registryLog',
    method: 'GET',
    path: '/v1/registry/log',
    summary:
      'Admissions (genesis included), role changes and revocations (with their reasons), newest first, each with the transaction that made it; a page at a time (`next` continues with after=; filtered by address, a request reads at most 10,000 entries, so a page can be short and still have a next)',
    tags: ['registry'],
    query: z.object({ address: addressSchema.optional(), after: logCursor.optional(), limit }),
    response: z.object({
      entries: z.array(
        z.object({
          action: z.enum(['admit', 'revoke', 'set-roles']),
          address: z.string(),
          roles: z.array(roleSchema),
          previousRoles: z.array(roleSchema).optional(),
          by: z.string(),
          height: z.number(),
          txHash: z.string(),
          reason: z.string().optional(),
        }),
      ),
      next: z.string().optional(),
    }),
  }),
  inactiveAccounts: defineRoute({
    name: 'inactiveAccounts',
    method: 'GET',
    path: '/v1/registry/inactive',
    summary:
      'Admitted accounts that sent no transaction committed OK for `days` days of block time (admission counts as activity), in address order. Scans at most 2,000 accounts per call; continue with after=next.',
    tags: ['registry'],
    query: z.object({
      days: z.coerce.number().int().min(1).max(36_500),
      role: roleSchema.optional(),
      after: addressSchema.optional(),
      limit,
    }),
    response: z.object({
      height: z.number(),
      time: z.number(),
      /** Accounts last active at or before this block time are inactive. */
      cutoff: z.number(),
      accounts: z.array(z.object({ address: z.string(), roles: z.array(roleSchema), lastActive: z.object({ height: z.number(), time: z.number() }).nullable() })),
      /** Present when more accounts remain to scan: pass it as after=. */
      next: z.string().optional(),
    }),
  }),
  listValidators: defineRoute({
    name: 'listValidators',
    method: 'GET',
    path: '/v1/validators',
    summary: 'The validator set in force',
    tags: ['registry'],
    response: z.object({ validators: z.array(z.object({ address: z.string(), pubKey: z.string(), power: z.string(), name: z.string().optional() })) }),
  }),
  listJails: defineRoute({
    name: 'listJails',
    method: 'GET',
    path: '/v1/validators/jailed',
    summary: 'Validators jailed for equivocation (power 0 from the effective height, or pending under the validator-set step rule)',
    tags: ['registry'],
    response: z.object({
      jails: z.array(
        z.object({
          address: z.string(),
          offence: z.object({ height: z.number(), round: z.number(), vote: z.enum(['prevote', 'precommit']), committedAt: z.number() }),
          offences: z.number(),
          status: z.enum(['pending', 'jailed']),
          waiting: z.string().optional(),
          effectiveHeight: z.number().optional(),
        }),
      ),
    }),
  }),

  listProposals: defineRoute({
    name: 'listProposals',
    method: 'GET',
    path: '/v1/registry/proposals',
    summary: 'Governance proposals (validator set and operator changes) with their approvals',
    tags: ['registry'],
    response: z.object({ proposals: z.array(proposalSchema) }),
  }),
  getProposal: defineRoute({
    name: 'getProposal',
    method: 'GET',
    path: '/v1/registry/proposals/:id',
    summary: 'One governance proposal',
    tags: ['registry'],
    params: z.object({ id: z.string().max(64) }),
    response: proposalSchema,
  }),
};
