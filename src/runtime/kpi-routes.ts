import { z } from 'zod';
import { defineRoute } from '../api/route.js';
import { communityIdSchema } from '../modules/energy/messages.js';

/**
 * The community KPI route's definition, apart from its handler (community-kpis.ts) so the
 * dashboard's typed client can import it without the node's time-zone table.
 */

const price = z.coerce.number().int().min(0).max(100_000_000);
const day = z.string().max(10);

export const kpiRoutes = {
  communityKpis: defineRoute({
    name: 'communityKpis',
    method: 'GET',
    path: '/v1/energy/communities/:id/kpis',
    summary:
      "A community's KPIs over local days from its ledger data (as `gridledger report`): self-sufficiency, self-consumption, import/export totals and peaks per slot, per-member bills and savings against a grid-only baseline at the given tariffs (µ€/kWh)",
    tags: ['energy'],
    params: z.object({ id: communityIdSchema }),
    query: z.object({ fromDay: day, toDay: day, importPrice: price, exportPrice: price, communityPrice: price }),
    response: z.object({
      community: z.string(),
      name: z.string(),
      timezone: z.string(),
      fromDay: z.string(),
      toDay: z.string(),
      fromSlot: z.number(),
      toSlot: z.number(),
      members: z.array(z.object({ address: z.string(), meters: z.array(z.string()) })),
      // The CommunityKpis object of sim/community/kpi.ts (docs/simulation.md, "KPIs").
      kpis: z.record(z.string(), z.unknown()),
      slots: z.array(z.object({ slot: z.number(), producedWh: z.number(), consumedWh: z.number(), internalWh: z.number(), gridImportWh: z.number(), gridExportWh: z.number() })),
    }),
  }),
};

