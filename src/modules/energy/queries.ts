import type { KeepersOf } from '../../app/module.js';
import { API_ERRORS } from '../../api/errors.js';
import { sumDifferences, type ReadingDifference } from '../metering/keeper.js';
import type { QueryContext } from '../../surface/index.js';
import { slotRange, withIso } from '../../surface/query.js';
import type { REQUIRES } from './rules.js';
import { safeAdd } from '../../util/int.js';
import { localDay, slotLocalIso } from '../../util/localtime.js';
import { slotIso } from '../../util/slots.js';
import { labelSchema } from './messages.js';
import {
  adjustmentPage,
  communityBalances,
  historyPage,
  getCommunity,
  labelsFromKey,
  labelsKey,
  communityMetersFrom,
  linkAt,
  normalizeLabels,
  requireCommunity,
  traderBalances,
  type BalanceRow,
  type HistoryEntry,
} from './state.js';

type Range = { slot?: string; fromSlot?: string; toSlot?: string };
type Ctx = QueryContext<KeepersOf<typeof REQUIRES>>;

/** How many levels up `communityOwnersQuery` follows parents (the read policy's reach, too). */
const MAX_OWNER_LEVELS = 32;

/**
 * The owner of a community and of each community above it, nearest first, at most
 * MAX_OWNER_LEVELS: what the read policy needs of a community, read from the community records
 * alone (the community's detail lists every trader and meter link).
 */
export function communityOwnersQuery(ctx: Ctx, id: string) {
  const community = requireCommunity(ctx.store, id);
  const owners = [{ community: id, owner: community.owner }];
  for (let parent = community.parent; parent !== undefined && owners.length < MAX_OWNER_LEVELS; ) {
    const c = getCommunity(ctx.store, parent);
    if (!c) break;
    owners.push({ community: c.id, owner: c.owner });
    parent = c.parent;
  }
  return { community: id, owners };
}

/** "solar,local" → exact label set; "-" or "" → the empty set. */
export function parseLabelFilter(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s !== '-');
  for (const p of parts) if (!labelSchema.safeParse(p).success) throw API_ERRORS.REQUEST_INVALID(`labels: ${JSON.stringify(p)} is not a label`);
  return normalizeLabels(parts);
}

function byLabels(rows: Array<{ labels: string[]; wh: number }>): Array<{ labels: string[]; wh: number }> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(labelsKey(r.labels), safeAdd(m.get(labelsKey(r.labels)) ?? 0, r.wh));
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, wh]) => ({ labels: labelsFromKey(k), wh }));
}

export function balancesQuery(ctx: Ctx, id: string, q: Range & { trader?: string; labels?: string; limit: number }) {
  const { store } = ctx;
  requireCommunity(store, id);
  const { fromSlot, toSlot } = slotRange(q);
  const want = q.labels === undefined ? undefined : labelsKey(parseLabelFilter(q.labels));
  const source: BalanceRow[] = q.trader ? traderBalances(store, id, q.trader, fromSlot, toSlot) : communityBalances(store, id, fromSlot, toSlot);
  const all = want === undefined ? source : source.filter((r) => labelsKey(r.labels) === want);
  const rows = all.slice(0, q.limit);
  const traders = new Map<string, number>();
  for (const r of all) traders.set(r.trader, safeAdd(traders.get(r.trader) ?? 0, r.wh));
  return {
    community: id,
    balances: rows.map(withIso),
    truncated: all.length > rows.length,
    totals: {
      wh: all.reduce((s, r) => safeAdd(s, r.wh), 0),
      byLabels: byLabels(all),
      byTrader: [...traders.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([trader, wh]) => ({ trader, wh })),
    },
  };
}

export function dayQuery(ctx: Ctx, id: string, q: { day: string; trader?: string }) {
  const { store } = ctx;
  const c = requireCommunity(store, id);
  const day = localDay(c.timezone, q.day);
  const end = day.firstSlot + day.slots;
  const rows = q.trader ? traderBalances(store, id, q.trader, day.firstSlot, end) : communityBalances(store, id, day.firstSlot, end);
  const perSlot = new Map<number, BalanceRow[]>();
  for (const r of rows) perSlot.set(r.slot, [...(perSlot.get(r.slot) ?? []), r]);
  const positions = [];
  for (let slot = day.firstSlot; slot < end; slot++) {
    const here = perSlot.get(slot) ?? [];
    positions.push({ slot, slotIso: slotIso(slot), local: slotLocalIso(c.timezone, slot), wh: here.reduce((s, r) => safeAdd(s, r.wh), 0), byLabels: byLabels(here) });
  }
  return { community: id, trader: q.trader ?? null, day: q.day, timezone: c.timezone, firstSlot: day.firstSlot, slots: day.slots, positions, totalWh: positions.reduce((s, p) => safeAdd(s, p.wh), 0) };
}

function inRange(e: HistoryEntry, r: { fromSlot: number; toSlot: number }): boolean {
  return e.slot >= r.fromSlot && e.slot < r.toSlot;
}

export function historyQuery(ctx: Ctx, id: string, q: Range & { trader: string; order: 'asc' | 'desc'; after?: string; limit: number }) {
  const { store } = ctx;
  requireCommunity(store, id);
  const range = slotRange(q);
  const page = historyPage(store, id, q.trader, (e) => inRange(e, range), { ...(q.after !== undefined ? { after: q.after } : {}), limit: q.limit, reverse: q.order === 'desc' });
  return { community: id, trader: q.trader, entries: page.items.map(withIso), ...(page.next !== undefined ? { next: page.next } : {}) };
}

export function adjustmentsQuery(ctx: Ctx, id: string, q: Range & { after?: string; limit: number }) {
  const { store } = ctx;
  requireCommunity(store, id);
  const range = slotRange(q);
  const page = adjustmentPage(store, id, (e) => inRange(e, range), q);
  return { community: id, adjustments: page.items.map(withIso), ...(page.next !== undefined ? { next: page.next } : {}) };
}

/** A row of the community's differences: the meter's, with the trader and labels it was linked to in that slot. */
function differenceRow(meterId: string, d: ReadingDifference, link: { trader: string | null; labels: string[] }) {
  return {
    meterId,
    slot: d.slot,
    slotIso: slotIso(d.slot),
    trader: link.trader!,
    labels: link.labels,
    officialImportWh: d.officialImportWh,
    officialExportWh: d.officialExportWh,
    reportedImportWh: d.reportedImportWh,
    reportedExportWh: d.reportedExportWh,
    importDiffWh: d.importDiffWh,
    exportDiffWh: d.exportDiffWh,
    txHash: d.txHash,
  };
}

/** Meters one differences request reads at most (a range read each, most of them empty for a narrow range). */
export const DIFFERENCE_METERS_PER_REQUEST = 1_000;

/**
 * A page of the community's differences, meter by meter and by slot within a meter: the meters
 * ever linked here, from the cursor's meter on, each read from the cursor's slot (or the range's
 * start) until the page is full. Rows of slots when the meter was linked elsewhere (or unlinked)
 * are skipped. `next` is "<meter>/<slot>": where the next page starts.
 */
export function differencesQuery(ctx: Ctx, id: string, q: Range & { after?: string; limit: number }) {
  const { store } = ctx;
  requireCommunity(store, id);
  const { fromSlot, toSlot } = slotRange(q);
  const cursor = q.after === undefined ? undefined : { meterId: q.after.slice(0, q.after.lastIndexOf('/')), slot: Number(q.after.slice(q.after.lastIndexOf('/') + 1)) };
  const meters = communityMetersFrom(store, id, cursor?.meterId, DIFFERENCE_METERS_PER_REQUEST + 1);
  const differences = [];
  let next: string | undefined;
  for (const [i, meterId] of meters.entries()) {
    if (i === DIFFERENCE_METERS_PER_REQUEST) {
      next = `${meterId}/0`;
      break;
    }
    let slot = Math.max(fromSlot, cursor?.meterId === meterId ? cursor.slot : 0);
    while (slot < toSlot) {
      const want = q.limit - differences.length;
      const chunk = ctx.keepers.metering.differences(meterId, slot, toSlot, want);
      for (const d of chunk) {
        slot = d.slot + 1;
        const link = linkAt(store, meterId, d.slot);
        if (link?.community === id && link.trader !== null) differences.push(differenceRow(meterId, d, link));
      }
      // Rows pushed ≤ rows read ≤ want: a full page ends with a chunk.
      if (differences.length === q.limit) next = `${meterId}/${slot}`;
      if (next !== undefined || chunk.length < want) break;
    }
    if (next !== undefined) break;
  }
  return { community: id, differences, totals: sumDifferences(differences), ...(next !== undefined ? { next } : {}) };
}
