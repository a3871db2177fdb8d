import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { communityIdSchema } from './messages.js';
import { differenceSchema, meterParams } from '../metering/routes.js';

const txRef = txRefSchema;
const slotParam = z.string().max(40).optional();
const labelsOut = z.array(z.string());

export const communitySchema = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  timezone: z.string(),
  parent: z.string().optional(),
  createdAt: txRef,
});
const traderSchema = z.object({ community: z.string(), address: z.string(), status: z.enum(['active', 'removed']), addedAt: txRef, removedAt: txRef.optional() });
const linkSchema = z.object({
  meterId: z.string(),
  community: z.string(),
  kind: z.enum(['producer', 'consumer']),
  trader: z.string().nullable(),
  labels: labelsOut,
  fromSlot: z.number(),
  height: z.number(),
  txHash: z.string(),
});
const balanceRow = z.object({ trader: z.string(), slot: z.number(), slotIso: z.string(), labels: labelsOut, wh: z.number() });
const labelTotal = z.object({ labels: labelsOut, wh: z.number() });
export const historySchema = z.object({
  community: z.string(),
  trader: z.string(),
  slot: z.number(),
  slotIso: z.string(),
  labels: labelsOut,
  deltaWh: z.number(),
  balanceWh: z.number(),
  kind: z.string(),
  counterparty: z.string().optional(),
  meterId: z.string().optional(),
  description: z.string().optional(),
  height: z.number(),
  txHash: z.string(),
  msgIndex: z.number(),
});
const params = z.object({ id: communityIdSchema });
/** Where a page of adjustments or of a trader's history ends: "<height>/<txHash>/<message>/<entry>" as an answer's `next` gives it. */
const historyCursor = z.string().regex(/^\d{16}\/[0-9a-f]{64}\/\d{4,16}\/\d{4,16}$/, 'the next of a previous answer');

export const energyRoutes = {
  listCommunities: defineRoute({
    name: 'listCommunities',
    method: 'GET',
    path: '/v1/energy/communities',
    summary: 'Energy communities (contexts) in id order, a page at a time (`next` continues with after=)',
    tags: ['energy'],
    query: z.object({ after: communityIdSchema.optional(), limit: pageLimit() }),
    response: z.object({ communities: z.array(communitySchema), next: z.string().optional() }),
  }),
  getCommunity: defineRoute({
    name: 'getCommunity',
    method: 'GET',
    path: '/v1/energy/communities/:id',
    summary: 'A community with its traders, member communities and meter links',
    tags: ['energy'],
    params,
    response: z.object({ community: communitySchema, traders: z.array(traderSchema), children: z.array(z.string()), meters: z.array(z.object({ meterId: z.string(), links: z.array(linkSchema) })) }),
  }),
  communityOwners: defineRoute({
    name: 'energyCommunityOwners',
    method: 'GET',
    path: '/v1/energy/communities/:id/owners',
    summary: 'The owner of a community and of each community above it, nearest first (at most 32 levels)',
    tags: ['energy'],
    params,
    response: z.object({ community: z.string(), owners: z.array(z.object({ community: z.string(), owner: z.string() })) }),
  }),
  meterLinks: defineRoute({
    name: 'energyMeterLinks',
    method: 'GET',
    path: '/v1/energy/meters/:meterId/links',
    summary: "A meter's links to traders in communities over time (every community it was linked in), oldest first",
    tags: ['energy'],
    params: meterParams,
    response: z.object({ meterId: z.string(), links: z.array(linkSchema) }),
  }),
  balances: defineRoute({
    name: 'energyBalances',
    method: 'GET',
    path: '/v1/energy/communities/:id/balances',
    summary: 'Non-zero balances in Wh by trader, slot and label set, with totals; filter by trader, slot or range and labels (comma list; "-" = unlabelled)',
    tags: ['energy'],
    params,
    query: z.object({ trader: addressSchema.optional(), slot: slotParam, fromSlot: slotParam, toSlot: slotParam, labels: z.string().max(300).optional(), limit: pageLimit(10_000, 10_000) }),
    response: z.object({
      community: z.string(),
      balances: z.array(balanceRow),
      truncated: z.boolean(),
      totals: z.object({ wh: z.number(), byLabels: z.array(labelTotal), byTrader: z.array(z.object({ trader: z.string(), wh: z.number() })) }),
    }),
  }),
  day: defineRoute({
    name: 'energyDay',
    method: 'GET',
    path: '/v1/energy/communities/:id/day',
    summary: "A trader's (or the whole community's) net position per slot of a local calendar day: 96 slots, 92 or 100 on DST change days",
    tags: ['energy'],
    params,
    query: z.object({ day: z.string().max(10), trader: addressSchema.optional() }),
    response: z.object({
      community: z.string(),
      trader: z.string().nullable(),
      day: z.string(),
      timezone: z.string(),
      firstSlot: z.number(),
      slots: z.number(),
      positions: z.array(z.object({ slot: z.number(), slotIso: z.string(), local: z.string(), wh: z.number(), byLabels: z.array(labelTotal) })),
      totalWh: z.number(),
    }),
  }),
  history: defineRoute({
    name: 'energyHistory',
    method: 'GET',
    path: '/v1/energy/communities/:id/history',
    summary:
      "Every change of a trader's balances with the transaction behind it, oldest first (order=desc: newest first); a page at a time: `next` continues with after= (a request reads at most 10,000 entries, so a narrow slot range can answer a short page that still has a next)",
    tags: ['energy'],
    params,
    query: z.object({ trader: addressSchema, slot: slotParam, fromSlot: slotParam, toSlot: slotParam, order: z.enum(['asc', 'desc']).default('asc'), after: historyCursor.optional(), limit: pageLimit(10_000, 1000) }),
    response: z.object({ community: z.string(), trader: z.string(), entries: z.array(historySchema), next: z.string().optional() }),
  }),
  adjustments: defineRoute({
    name: 'energyAdjustments',
    method: 'GET',
    path: '/v1/energy/communities/:id/adjustments',
    summary: 'Owner mutations and settlements with the parent, oldest first (what is billed outside the community); a page at a time, `next` continues with after= (a request reads at most 10,000 adjustments)',
    tags: ['energy'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, after: historyCursor.optional(), limit: pageLimit(10_000, 1000) }),
    response: z.object({ community: z.string(), adjustments: z.array(historySchema), next: z.string().optional() }),
  }),
  differences: defineRoute({
    name: 'energyDifferences',
    method: 'GET',
    path: '/v1/energy/communities/:id/differences',
    summary: "Grid-operator reconciliation for the community's meters: official − reported per slot, with the trader and the mutation that would settle it",
    tags: ['energy'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam }),
    response: z.object({
      community: z.string(),
      differences: z.array(differenceSchema.omit({ height: true }).extend({ trader: z.string(), labels: labelsOut })),
      totals: z.object({ importDiffWh: z.number(), exportDiffWh: z.number() }),
    }),
  }),
};
