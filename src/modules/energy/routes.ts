import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, everyPage, pageLimit, type RouteOutput, type RouteReader } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { communityIdSchema } from './messages.js';
import { differenceSchema, meterParams } from '../metering/routes.js';
import { meterIdSchema } from '../metering/keeper.js';

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
const communityMeterSchema = z.object({ meterId: z.string(), links: z.array(linkSchema) });
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
/** Where a page of a community's differences goes on: "<meterId>/<slot>" (that meter, from that slot), as an answer's `next` gives it. */
const differenceCursor = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\/\d{1,16}$/, 'the next of a previous answer');
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
    summary:
      'A community with its first 500 traders, member communities and meters (with their links), each in id order; `tradersNext`, `childrenNext` and `metersNext` say a list goes on (the traders, children and meters routes continue with after=)',
    tags: ['energy'],
    params,
    response: z.object({
      community: communitySchema,
      traders: z.array(traderSchema),
      tradersNext: z.string().optional(),
      children: z.array(z.string()),
      childrenNext: z.string().optional(),
      meters: z.array(communityMeterSchema),
      metersNext: z.string().optional(),
    }),
  }),
  traders: defineRoute({
    name: 'energyTraders',
    method: 'GET',
    path: '/v1/energy/communities/:id/traders',
    summary: "A community's traders (active and removed) by address, a page at a time (`next` continues with after=)",
    tags: ['energy'],
    params,
    query: z.object({ after: addressSchema.optional(), limit: pageLimit() }),
    response: z.object({ community: z.string(), traders: z.array(traderSchema), next: z.string().optional() }),
  }),
  children: defineRoute({
    name: 'energyChildren',
    method: 'GET',
    path: '/v1/energy/communities/:id/children',
    summary: "A community's member communities by id, a page at a time (`next` continues with after=)",
    tags: ['energy'],
    params,
    query: z.object({ after: communityIdSchema.optional(), limit: pageLimit() }),
    response: z.object({ community: z.string(), children: z.array(z.string()), next: z.string().optional() }),
  }),
  meters: defineRoute({
    name: 'energyMeters',
    method: 'GET',
    path: '/v1/energy/communities/:id/meters',
    summary: 'The meters ever linked in a community, by meter id, each with its links over time; a page at a time (`next` continues with after=)',
    tags: ['energy'],
    params,
    query: z.object({ after: meterIdSchema.optional(), limit: pageLimit() }),
    response: z.object({ community: z.string(), meters: z.array(communityMeterSchema), next: z.string().optional() }),
  }),
  traderCommunities: defineRoute({
    name: 'energyTraderCommunities',
    method: 'GET',
    path: '/v1/energy/traders/:address/communities',
    summary:
      'The communities where an account is or was a trader, in community id order, with its trader record and the meters ever linked to it there; a page at a time (`next` continues with after=; a request reads at most 10,000 communities, so a page can be short and still have a next)',
    tags: ['energy'],
    params: z.object({ address: addressSchema }),
    query: z.object({ after: communityIdSchema.optional(), limit: pageLimit() }),
    response: z.object({ address: z.string(), communities: z.array(z.object({ community: communitySchema, trader: traderSchema, meters: z.array(z.string()) })), next: z.string().optional() }),
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
    summary:
      "Grid-operator reconciliation for the community's meters: official − reported per meter and slot (meter, then slot order), with the trader and the mutation that would settle it; a page at a time with the page's totals, `next` continues with after= (a request reads at most 1,000 meters, so a narrow range can answer a short page that still has a next)",
    tags: ['energy'],
    params,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, after: differenceCursor.optional(), limit: pageLimit(10_000, 1000) }),
    response: z.object({
      community: z.string(),
      differences: z.array(differenceSchema.omit({ height: true }).extend({ trader: z.string(), labels: labelsOut })),
      totals: z.object({ importDiffWh: z.number(), exportDiffWh: z.number() }),
      next: z.string().optional(),
    }),
  }),
};


export type CommunityDetail = RouteOutput<typeof energyRoutes.getCommunity>;

/** The first page's items and the rest from `next` on (none when `next` is undefined). */
async function restOf<T>(first: T[], next: string | undefined, page: (after: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  return next === undefined ? first : [...first, ...(await everyPage((after) => page(after!), next))];
}

/**
 * A community with all of its traders, member communities and meters: the detail carries the first
 * 500 of each (ADR 0028: an answer is bounded), and the traders, children and meters routes page on
 * where a list goes on. For clients that need the whole membership (the KPI report, the dashboard).
 */
export async function wholeCommunity(read: RouteReader, id: string): Promise<CommunityDetail> {
  const detail = await read(energyRoutes.getCommunity, { params: { id } });
  const query = (after: string) => ({ params: { id }, query: { after, limit: 500 } });
  const [traders, children, meters] = await Promise.all([
    restOf(detail.traders, detail.tradersNext, async (after) => {
      const r = await read(energyRoutes.traders, query(after));
      return { items: r.traders, ...(r.next !== undefined ? { next: r.next } : {}) };
    }),
    restOf(detail.children, detail.childrenNext, async (after) => {
      const r = await read(energyRoutes.children, query(after));
      return { items: r.children, ...(r.next !== undefined ? { next: r.next } : {}) };
    }),
    restOf(detail.meters, detail.metersNext, async (after) => {
      const r = await read(energyRoutes.meters, query(after));
      return { items: r.meters, ...(r.next !== undefined ? { next: r.next } : {}) };
    }),
  ]);
  return { community: detail.community, traders, children, meters };
}

/** Every community where `address` is or was a trader, with the meters ever linked to it there, following `next`. */
export function communitiesOfTrader(read: RouteReader, address: string): Promise<RouteOutput<typeof energyRoutes.traderCommunities>['communities']> {
  return everyPage(async (after) => {
    const r = await read(energyRoutes.traderCommunities, { params: { address }, query: { ...(after !== undefined ? { after } : {}), limit: 500 } });
    return { items: r.communities, ...(r.next !== undefined ? { next: r.next } : {}) };
  });
}
