import type { RouteInput, RouteOutput, RouteReader } from '../api/route.js';
import type { BoundRoute } from '../api/server.js';
import { energyRoutes, wholeCommunity, type CommunityDetail } from '../modules/energy/routes.js';
import { defineErrors, LedgerError } from '../util/errors.js';
import { localDay, parseDay } from '../util/localtime.js';
import { kpiRoutes } from './kpi-routes.js';
import { communityKpis, type CommunityKpis, type MemberSlotFlow, type Tariffs } from '../../sim/community/kpi.js';

/** Errors of community reports (the `report` command and the KPI route). */
export const REPORT_ERRORS = defineErrors('report', {
  REPORT_INPUT_INVALID: { meaning: 'report options are wrong: days not YYYY-MM-DD, the last day before the first, a range too long, or missing tariffs' },
  REPORT_COMMUNITY_NOT_FOUND: { status: 404, meaning: 'the community of the report does not exist on the ledger' },
});
const E = REPORT_ERRORS;

export { kpiRoutes };

/**
 * Community KPIs from ledger data only (`gridledger report`, `GET /v1/energy/communities/:id/kpis`): the community's traders and, per
 * trader, every balance change in the period (energy history). A trader's metered export is what it
 * produced for the community, its metered import what it consumed from it, transfers (and market
 * deliveries) in and out are internal purchases and sales; the rest of its import and export went
 * through the public grid. These per-slot flows feed the same KPI arithmetic as the simulation
 * (sim/community/kpi.ts). Energy behind a meter (PV used in the house) never reaches the ledger, so
 * the KPIs are those of the community's grid connection: self-sufficiency = internal purchases /
 * metered import, self-consumption = internal sales / metered export.
 */

/** Reads a route (the caller decides how: logged in as the owner, an auditor, …). */
export type Reader = RouteReader;

export interface ReportRequest {
  community: string;
  /** Local days (the community's time zone), both included. */
  fromDay: string;
  toDay: string;
  tariffs: Tariffs;
}

export interface SlotTotals {
  slot: number;
  producedWh: number;
  consumedWh: number;
  internalWh: number;
  gridImportWh: number;
  gridExportWh: number;
}

export interface LedgerReport {
  community: string;
  name: string;
  timezone: string;
  fromDay: string;
  toDay: string;
  fromSlot: number;
  toSlot: number;
  /** Traders of the community with the meters linked to them. */
  members: Array<{ address: string; meters: string[] }>;
  kpis: CommunityKpis;
  /** Community totals per slot (slots with any energy), for charts. */
  slots: SlotTotals[];
}

/** Longest report period: a year of history per trader is a lot of queries already. */
export const MAX_REPORT_DAYS = 366;
const HISTORY_LIMIT = 10_000;

type HistoryEntry = RouteOutput<typeof energyRoutes.history>['entries'][number];

/** The slot range of local days [fromDay, toDay] in the time zone. */
export function periodSlots(timezone: string, fromDay: string, toDay: string): { fromSlot: number; toSlot: number; days: number } {
  try {
    parseDay(fromDay);
    parseDay(toDay);
  } catch {
    throw E.REPORT_INPUT_INVALID(`days must be YYYY-MM-DD calendar days (got ${fromDay} and ${toDay})`);
  }
  const first = localDay(timezone, fromDay);
  const last = localDay(timezone, toDay);
  if (last.firstSlot < first.firstSlot) throw E.REPORT_INPUT_INVALID(`--to ${toDay} is before --from ${fromDay}`);
  const toSlot = last.firstSlot + last.slots;
  const days = Math.round((toSlot - first.firstSlot) / 96);
  if (days > MAX_REPORT_DAYS) throw E.REPORT_INPUT_INVALID(`a report covers at most ${MAX_REPORT_DAYS} days (asked for ${days})`);
  return { fromSlot: first.firstSlot, toSlot, days };
}

/** A trader's history in [from, to): split in halves while an answer is full, so nothing is cut off. */
async function historyOf(read: Reader, community: string, trader: string, from: number, to: number): Promise<HistoryEntry[]> {
  const { entries } = await read(energyRoutes.history, { params: { id: community }, query: { trader, fromSlot: String(from), toSlot: String(to), limit: HISTORY_LIMIT } });
  if (entries.length < HISTORY_LIMIT) return entries;
  if (to - from <= 1) throw E.REPORT_INPUT_INVALID(`trader ${trader} has more than ${HISTORY_LIMIT} balance changes in slot ${from}`);
  const mid = from + Math.floor((to - from) / 2);
  return [...(await historyOf(read, community, trader, from, mid)), ...(await historyOf(read, community, trader, mid, to))];
}

function emptyFlow(member: string, slot: number): MemberSlotFlow {
  return { member, slot, producedWh: 0, consumedWh: 0, boughtInternallyWh: 0, soldInternallyWh: 0, gridImportWh: 0, gridExportWh: 0 };
}

/** Adds one balance change to the member's flow of its slot. Label moves (reduce) and owner adjustments are not energy flows. */
function addEntry(flow: MemberSlotFlow, e: HistoryEntry): void {
  const wh = Math.abs(e.deltaWh);
  switch (e.kind) {
    case 'production':
      flow.producedWh += wh;
      break;
    case 'consumption':
      flow.consumedWh += wh;
      break;
    case 'transfer-in':
    case 'delivery-in':
      flow.boughtInternallyWh += wh;
      break;
    case 'transfer-out':
    case 'delivery-out':
      flow.soldInternallyWh += wh;
      break;
  }
}

/**
 * What was not exchanged inside the community went through the grid. A member that bought more
 * than it consumed in a slot (or sold more than it produced) traded ahead of its meter: nothing of
 * that slot is counted twice, the grid share is just 0.
 */
function settleGrid(flow: MemberSlotFlow): void {
  flow.gridImportWh = Math.max(0, flow.consumedWh - flow.boughtInternallyWh);
  flow.gridExportWh = Math.max(0, flow.producedWh - flow.soldInternallyWh);
}

/** KPIs of a community over local days, from ledger queries only. */
export async function ledgerReport(read: Reader, request: ReportRequest): Promise<LedgerReport> {
  let info: CommunityDetail;
  try {
    info = await wholeCommunity(read, request.community);
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'ENERGY_COMMUNITY_NOT_FOUND') throw E.REPORT_COMMUNITY_NOT_FOUND(`community ${request.community} does not exist on the ledger`);
    throw err;
  }
  const { fromSlot, toSlot } = periodSlots(info.community.timezone, request.fromDay, request.toDay);
  const traders = [...new Set(info.traders.map((t) => t.address))].sort();
  const metersOf = new Map<string, string[]>(traders.map((t) => [t, []]));
  for (const m of info.meters) {
    const owners = new Set(m.links.filter((l) => l.community === request.community && l.trader !== null).map((l) => l.trader!));
    for (const t of owners) metersOf.get(t)?.push(m.meterId);
  }
  const bySlot = new Map<number, Map<string, MemberSlotFlow>>();
  for (const trader of traders) {
    for (const e of await historyOf(read, request.community, trader, fromSlot, toSlot)) {
      const flows = bySlot.get(e.slot) ?? new Map<string, MemberSlotFlow>();
      bySlot.set(e.slot, flows);
      const flow = flows.get(trader) ?? emptyFlow(trader, e.slot);
      flows.set(trader, flow);
      addEntry(flow, e);
    }
  }
  const slots = [...bySlot.keys()].sort((a, b) => a - b).map((slot) => {
    const flows = [...bySlot.get(slot)!.values()];
    flows.forEach(settleGrid);
    return { slot, flows };
  });
  const kpis = communityKpis({ community: request.community, fromSlot, toSlot, members: traders, tariffs: request.tariffs, slots });
  return {
    community: request.community,
    name: info.community.name,
    timezone: info.community.timezone,
    fromDay: request.fromDay,
    toDay: request.toDay,
    fromSlot,
    toSlot,
    members: traders.map((address) => ({ address, meters: metersOf.get(address)!.sort() })),
    kpis,
    slots: slots.map(({ slot, flows }) => ({
      slot,
      producedWh: sum(flows, 'producedWh'),
      consumedWh: sum(flows, 'consumedWh'),
      internalWh: sum(flows, 'boughtInternallyWh'),
      gridImportWh: sum(flows, 'gridImportWh'),
      gridExportWh: sum(flows, 'gridExportWh'),
    })),
  };
}

function sum(flows: MemberSlotFlow[], key: keyof Omit<MemberSlotFlow, 'member' | 'slot'>): number {
  return flows.reduce((a, f) => a + f[key], 0);
}

/** The KPI route, answered from the node's own energy queries (committed state, no HTTP round trip). */
export function kpiHandlers(read: Reader): BoundRoute[] {
  return [
    {
      route: kpiRoutes.communityKpis,
      handler: async (input) => {
        const { params, query } = input as unknown as RouteInput<typeof kpiRoutes.communityKpis> & { params: { id: string }; query: { fromDay: string; toDay: string; importPrice: number; exportPrice: number; communityPrice: number } };
        const tariffs = { importMicroEurPerKwh: query.importPrice, exportMicroEurPerKwh: query.exportPrice, communityMicroEurPerKwh: query.communityPrice };
        return ledgerReport(read, { community: params.id, fromDay: query.fromDay, toDay: query.toDay, tariffs });
      },
    },
  ];
}
