import { collection, FILTER_SCAN_ROWS } from '../../app/collections.js';
import type { ModuleQueryIndex, QueryIndexDef } from '../../app/query-index.js';
import type { KVStore } from '../../app/state.js';
import type { RegisteredKey as ZkRegisteredKey } from '../../zk/key-registry.js';
import type { PayloadType, SlotFingerprint } from './messages.js';
import type { TimedTxRef as TxRef } from '../../app/tx-ref.js';
export type { TimedTxRef as TxRef } from '../../app/tx-ref.js';

/**
 * Flex state layout (all keys under "flex/"):
 *   flex/params                                    → FlexParams
 *   flex/key/<id>                                  → RegisteredKey (Groth16 verifying key by id)
 *   flex/counter/<kind>                            → last number used for p<n>, ev<n>
 *   flex/program/<n16>                             → Program p<n>
 *   flex/event/<n16>                               → FlexEvent ev<n> (status, totals)
 *   flex/interval/<n16>/<i16>                      → IntervalRecord (requested, commitment, outcome)
 *   flex/party/<address>/<n16>                     → 1: events of an aggregator or prosumer
 *   flex/meter-event/<meterId>/<n16>               → 1: events a meter is enrolled in
 *   flex/private/<meterId>/<slot16>                → "<event>/<interval>": slots a meter committed privately
 *   flex/deadline/<time16>/<n16>/<i16>             → 1: intervals waiting for a proof, by deadline
 *   flex/expiry/<time16>/<n16>                     → 1: offered events, by the end of their enrolment
 *   flex/block-proofs                              → {height, count}: proofs verified in the current block
 *
 * Amounts are decimal strings of micro-units; energy is whole Wh. The measured value of an interval
 * is never stored: only its commitment, the slots' sample fingerprints and the proved deviation.
 */


export type RegisteredKey = ZkRegisteredKey<TxRef>;

export interface Program {
  id: string;
  name: string;
  aggregator: string;
  intervalMinutes: 15 | 60;
  asset: string;
  rewardPerInterval: string;
  penaltyPerWh: string;
  proofSystem: string;
  verifyingKey: string;
  createdAt: TxRef;
}

export type EventStatus = 'offered' | 'active' | 'completed' | 'forfeited' | 'withdrawn' | 'expired';

export interface FlexEvent {
  id: string;
  program: string;
  aggregator: string;
  prosumer: string;
  payloadType: PayloadType;
  start: number;
  intervalMinutes: 15 | 60;
  intervals: number;
  asset: string;
  rewardPerInterval: string;
  penaltyPerWh: string;
  verifyingKey: string;
  /** The payments escrow: flex/<event id>. */
  escrow: string;
  deposit: string;
  status: EventStatus;
  meterId?: string;
  memo?: string;
  /** Intervals settled so far (proved, missed or forfeited). */
  settled: number;
  /** Paid to the aggregator (penalties, missed shares, a forfeited deposit, a withdrawal) and to the prosumer (the remainder). */
  paidToAggregator: string;
  paidToProsumer: string;
  createdAt: TxRef;
  enrolledAt?: TxRef;
  closedAt?: TxRef;
}

export type IntervalStatus = 'pending' | 'committed' | 'proved' | 'missed' | 'invalid-proof' | 'forfeited' | 'withdrawn';

export interface IntervalRecord {
  index: number;
  requestedWh: number;
  status: IntervalStatus;
  commitment?: string;
  fingerprints?: SlotFingerprint[];
  committedAt?: TxRef;
  deviationWh?: number;
  /** What the interval's settlement paid to the aggregator (penalty, missed share, or the forfeited remainder). */
  toAggregator?: string;
  settledAt?: TxRef & { msgIndex: number };
}

export interface BlockProofs {
  height: number;
  count: number;
}

/** ev12 → 12; p3 → 3. */
export const numberOf = (id: string): number => Number(id.replace(/^[a-z]+/, ''));

const keys = collection<RegisteredKey>('flex/key/');
const counters = collection<number>('flex/counter/');
const programs = collection<Program>('flex/program/');
const events = collection<FlexEvent>('flex/event/');
const intervals = collection<IntervalRecord>('flex/interval/');
const parties = collection<number>('flex/party/');
const meterEvents = collection<number>('flex/meter-event/');
const privateSlots = collection<string>('flex/private/');
const deadlines = collection<number>('flex/deadline/');
const expiries = collection<number>('flex/expiry/');
const BLOCK_PROOFS = 'flex/block-proofs';

export function nextNumber(store: KVStore, kind: 'program' | 'event'): number {
  const n = (counters.get(store, kind) ?? 0) + 1;
  counters.put(store, n, kind);
  return n;
}

export const getKey = (store: KVStore, id: string) => keys.get(store, id);
export const putKey = (store: KVStore, k: RegisteredKey) => keys.put(store, k, k.id);
export const listKeys = (store: KVStore) => keys.list(store);

export const getProgram = (store: KVStore, id: string) => programs.get(store, numberOf(id));
export const putProgram = (store: KVStore, p: Program) => programs.put(store, p, numberOf(p.id));
export const listPrograms = (store: KVStore, limit: number) => programs.list(store, [], { limit, reverse: true });

export const getEvent = (store: KVStore, id: string) => events.get(store, numberOf(id));
export const putEvent = (store: KVStore, e: FlexEvent) => events.put(store, e, numberOf(e.id));
/** A page of events newest first that `keep` accepts, after the cursor `after`; at most FILTER_SCAN_ROWS events read per request. */
export const eventPage = (store: KVStore, keep: (e: FlexEvent) => boolean, page: { after?: string; limit: number }) => events.matchingPage(store, keep, { ...page, reverse: true, maxRows: FILTER_SCAN_ROWS });

/** Statuses of an event still to be settled (the list's `open`; every other one is `closed`). */
export const OPEN_EVENT_STATUSES: ReadonlySet<EventStatus> = new Set(['offered', 'active']);
/** The status filters of the events list: an event's own status, or `open` / `closed`. */
export type EventStatusFilter = EventStatus | 'open' | 'closed';
export const eventMatches = (e: FlexEvent, filter: EventStatusFilter | 'all'): boolean =>
  filter === 'all' || e.status === filter || filter === (OPEN_EVENT_STATUSES.has(e.status) ? 'open' : 'closed');

/** Events by status, kept by the node for queries only (ADR 0029 point 1): each event under its status and under open or closed. */
export const EVENTS_BY_STATUS = 'events-by-status';
export const flexQueryIndexes: readonly QueryIndexDef[] = [
  {
    name: EVENTS_BY_STATUS,
    version: 1,
    prefix: events.prefix,
    keysOf: (_key, value) => {
      const { status } = JSON.parse(value) as FlexEvent;
      return [status, OPEN_EVENT_STATUSES.has(status) ? 'open' : 'closed'];
    },
  },
];
/** A page of the events of one status filter newest first, through that index: full pages, whatever the others hold. */
export const eventsByStatus = (store: KVStore, index: ModuleQueryIndex, filter: EventStatusFilter, page: { after?: string; limit: number }) =>
  events.indexedPage(store, index, EVENTS_BY_STATUS, filter, (e) => eventMatches(e, filter), { ...page, reverse: true });

export const getInterval = (store: KVStore, event: string, index: number) => intervals.get(store, numberOf(event), index);
export const putInterval = (store: KVStore, event: string, r: IntervalRecord) => intervals.put(store, r, numberOf(event), r.index);
export const listIntervals = (store: KVStore, event: string) => intervals.list(store, [numberOf(event)]);

export function indexParty(store: KVStore, address: string, event: string): void {
  parties.put(store, 1, address, numberOf(event));
}
/** Event ids of a party, newest first. */
export function partyEventIds(store: KVStore, address: string): string[] {
  return parties.entries(store, [address], { reverse: true }).map(([k]) => `ev${Number(k.slice(k.lastIndexOf('/') + 1))}`);
}

export function indexMeterEvent(store: KVStore, meterId: string, event: string): void {
  meterEvents.put(store, 1, meterId, numberOf(event));
}
export function meterEventIds(store: KVStore, meterId: string): string[] {
  return meterEvents.entries(store, [meterId], { reverse: true }).map(([k]) => `ev${Number(k.slice(k.lastIndexOf('/') + 1))}`);
}

export const markPrivate = (store: KVStore, meterId: string, slot: number, ref: string) => privateSlots.put(store, ref, meterId, slot);
export const privateRef = (store: KVStore, meterId: string, slot: number) => privateSlots.get(store, meterId, slot);
/** Private slots of a meter in [fromSlot, toSlot): slot → "<event>/<interval>". */
export function privateSlotsOf(store: KVStore, meterId: string, fromSlot: number, toSlot: number): Array<{ slot: number; ref: string }> {
  return privateSlots.entries(store, [meterId], { from: fromSlot, to: toSlot }).map(([k, ref]) => ({ slot: Number(k.slice(k.lastIndexOf('/') + 1)), ref }));
}

export const addDeadline = (store: KVStore, time: number, event: string, index: number) => deadlines.put(store, 1, time, numberOf(event), index);
export const dropDeadline = (store: KVStore, time: number, event: string, index: number) => deadlines.delete(store, time, numberOf(event), index);
/** Intervals whose deadline is at or before `time`, oldest first: [deadline, event id, index]. */
export function dueDeadlines(store: KVStore, time: number, limit: number): Array<[number, string, number]> {
  return deadlines.entries(store, [], { to: time + 1, limit }).map(([k]) => {
    const [t, n, i] = k.split('/');
    return [Number(t), `ev${Number(n)}`, Number(i)];
  });
}

export const addExpiry = (store: KVStore, time: number, event: string) => expiries.put(store, 1, time, numberOf(event));
export const dropExpiry = (store: KVStore, time: number, event: string) => expiries.delete(store, time, numberOf(event));
export function dueExpiries(store: KVStore, time: number, limit: number): Array<[number, string]> {
  return expiries.entries(store, [], { to: time + 1, limit }).map(([k]) => {
    const [t, n] = k.split('/');
    return [Number(t), `ev${Number(n)}`];
  });
}

export const getBlockProofs = (store: KVStore) => store.get<BlockProofs>(BLOCK_PROOFS);
export const putBlockProofs = (store: KVStore, b: BlockProofs) => store.set(BLOCK_PROOFS, b);
