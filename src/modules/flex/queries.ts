import { API_ERRORS } from '../../api/errors.js';
import type { KVStore } from '../../app/state.js';
import type { QueryContext } from '../../surface/index.js';
import { E } from './errors.js';
import { deadlineOf, intervalStart, type FlexParams } from './rules.js';
import { eventMatches, eventPage, eventsByStatus, getEvent, getKey, getProgram, listIntervals, listKeys, listPrograms, meterEventIds, partyEventIds, type EventStatusFilter, type FlexEvent, type IntervalRecord } from './state.js';

/** Read-side views: OpenADR-shaped events and intervals, escrow balance over an event (computed, never stored). */

type Ctx = QueryContext<unknown, FlexParams>;

const duration = (e: FlexEvent) => (e.intervalMinutes === 60 ? 'PT1H' : 'PT15M');
const remaining = (e: FlexEvent) => (BigInt(e.deposit) - BigInt(e.paidToAggregator) - BigInt(e.paidToProsumer)).toString();

export function eventView(e: FlexEvent) {
  return {
    id: e.id,
    programID: e.program,
    ...(e.memo ? { eventName: e.memo } : {}),
    aggregator: e.aggregator,
    prosumer: e.prosumer,
    ...(e.meterId !== undefined ? { meterId: e.meterId } : {}),
    status: e.status,
    payloadDescriptors: [{ payloadType: e.payloadType, units: 'WH' as const }],
    intervalPeriod: { start: e.start, duration: duration(e) },
    intervalCount: e.intervals,
    asset: e.asset,
    rewardPerInterval: e.rewardPerInterval,
    penaltyPerWh: e.penaltyPerWh,
    verifyingKey: e.verifyingKey,
    escrow: e.escrow,
    deposit: e.deposit,
    paidToAggregator: e.paidToAggregator,
    paidToProsumer: e.paidToProsumer,
    remaining: remaining(e),
    settled: e.settled,
    createdAt: e.createdAt,
    ...(e.enrolledAt ? { enrolledAt: e.enrolledAt } : {}),
    ...(e.closedAt ? { closedAt: e.closedAt } : {}),
  };
}

function intervalView(e: FlexEvent, r: IntervalRecord, params: FlexParams) {
  return {
    id: r.index,
    intervalPeriod: { start: intervalStart(e, r.index), duration: duration(e) },
    payloads: [{ type: e.payloadType, values: [r.requestedWh] }],
    status: r.status,
    deadline: deadlineOf(e, r.index, params),
    ...(r.commitment !== undefined ? { commitment: r.commitment, fingerprints: r.fingerprints ?? [], committedAt: r.committedAt } : {}),
    ...(r.deviationWh !== undefined ? { deviationWh: r.deviationWh } : {}),
    ...(r.toAggregator !== undefined ? { toAggregator: r.toAggregator } : {}),
    ...(r.settledAt ? { settledAt: r.settledAt } : {}),
  };
}

type Step = { kind: 'deposit' | 'penalty' | 'missed' | 'forfeit' | 'payout' | 'withdrawn' | 'expired'; interval?: number; height: number; time: number; txHash: string; toAggregator: string; toProsumer: string; remaining: string };

/** The escrow's movements in ledger order (height, message, interval) with what remained after each. */
export function escrowTimeline(e: FlexEvent, intervals: IntervalRecord[]): Step[] {
  let left = BigInt(e.deposit);
  const steps: Step[] = [{ kind: 'deposit', ...e.createdAt, toAggregator: '0', toProsumer: '0', remaining: e.deposit }];
  const kinds: Record<string, Step['kind']> = { proved: 'penalty', missed: 'missed', 'invalid-proof': 'forfeit' };
  const settled = intervals
    .filter((r) => r.settledAt && kinds[r.status] !== undefined)
    .sort((a, b) => a.settledAt!.height - b.settledAt!.height || a.settledAt!.msgIndex - b.settledAt!.msgIndex || a.index - b.index);
  for (const r of settled) {
    const out = BigInt(r.toAggregator ?? '0');
    left -= out;
    const { height, time, txHash } = r.settledAt!;
    steps.push({ kind: kinds[r.status]!, interval: r.index, height, time, txHash, toAggregator: out.toString(), toProsumer: '0', remaining: left.toString() });
  }
  if (e.closedAt && (e.status === 'withdrawn' || e.status === 'expired')) {
    steps.push({ kind: e.status, ...e.closedAt, toAggregator: e.paidToAggregator, toProsumer: '0', remaining: '0' });
  }
  if (e.closedAt && e.status === 'completed') {
    left -= BigInt(e.paidToProsumer);
    steps.push({ kind: 'payout', ...e.closedAt, toAggregator: '0', toProsumer: e.paidToProsumer, remaining: left.toString() });
  }
  return steps;
}

function requireEventView(store: KVStore, id: string): FlexEvent {
  const e = getEvent(store, id);
  if (!e) throw E.FLEX_EVENT_NOT_FOUND(`no event ${id}`);
  return e;
}

export function eventQuery(ctx: Ctx, id: string) {
  const e = requireEventView(ctx.store, id);
  const intervals = listIntervals(ctx.store, id);
  return { event: eventView(e), intervals: intervals.map((r) => intervalView(e, r, ctx.params)), escrow: escrowTimeline(e, intervals) };
}

export function eventsQuery(ctx: Ctx, q: { party?: string; meter?: string; status: EventStatusFilter | 'all'; after?: string; limit: number }) {
  const filter = q.status;
  const wanted = (e: FlexEvent) => eventMatches(e, filter);
  if (q.party !== undefined || q.meter !== undefined) {
    if (q.after !== undefined) throw API_ERRORS.REQUEST_INVALID('after= pages the list of all events; with party= or meter= narrow by status instead');
    return { events: firstEvents(ctx.store, idsFor(ctx.store, q), wanted, q.limit).map(eventView) };
  }
  // On the node, a status filter is read through its index (full pages); answered with a proof, or
  // for every status, the events are read until the page is full or the request's rows are read.
  const page = filter !== 'all' && ctx.queryIndex ? eventsByStatus(ctx.store, ctx.queryIndex, filter, q) : eventPage(ctx.store, wanted, q);
  return { events: page.items.map(eventView), ...(page.next !== undefined ? { next: page.next } : {}) };
}

/** The first `limit` events of `ids` that `wanted` accepts, reading events only until the page is full. */
function firstEvents(store: KVStore, ids: string[], wanted: (e: FlexEvent) => boolean, limit: number): FlexEvent[] {
  const out: FlexEvent[] = [];
  for (const id of ids) {
    if (out.length >= limit) break;
    const e = getEvent(store, id)!;
    if (wanted(e)) out.push(e);
  }
  return out;
}

function idsFor(store: KVStore, q: { party?: string; meter?: string }): string[] {
  const party = q.party !== undefined ? partyEventIds(store, q.party) : undefined;
  const meter = q.meter !== undefined ? meterEventIds(store, q.meter) : undefined;
  if (party && meter) {
    const ofMeter = new Set(meter);
    return party.filter((id) => ofMeter.has(id));
  }
  return party ?? meter ?? [];
}

export function keysQuery(ctx: Ctx) {
  return { keys: listKeys(ctx.store) };
}

export function keyQuery(ctx: Ctx, id: string) {
  const key = getKey(ctx.store, id);
  if (!key) throw E.FLEX_KEY_NOT_FOUND(`no verifying key ${id}`);
  return { key };
}

export function programsQuery(ctx: Ctx, limit: number) {
  return { programs: listPrograms(ctx.store, limit) };
}

export function programQuery(ctx: Ctx, id: string) {
  const program = getProgram(ctx.store, id);
  if (!program) throw E.FLEX_PROGRAM_NOT_FOUND(`no program ${id}`);
  return { program };
}
