import type Database from 'better-sqlite3';
import type { RouteOutput } from '../api/route.js';
import { eventField, FLEX_MSG, slotsOf, type CommitMsg, type SlotFingerprint } from '../modules/flex/index.js';
import type { flexRoutes } from '../modules/flex/routes.js';
import { absoluteDeviation, deviationCommitment } from '../zk/circuits.js';
import { proveDeviation, randomFieldElement } from '../zk/prove.js';
import type { Groth16Proof } from '../zk/encoding.js';
import { EDGE_ERRORS as E } from './errors.js';
import { deriveInterval } from './interval.js';
import type { SampleStore } from './store.js';
import { verifySamples } from './verify.js';

/**
 * The meter edge's side of a demand-response event (issue 14, docs/flex.md): for each interval of an
 * event the meter is enrolled in, the edge derives the measured value from its own samples, draws a
 * salt, and puts only Poseidon(value, salt) on the ledger together with the slots' sample
 * fingerprints. Value and salt stay here, in the edge's SQLite file next to the samples, and are
 * what the proof of the deviation is made from — and what the prosumer's private view shows.
 */

export type PublicEvent = RouteOutput<typeof flexRoutes.event>;

export interface StoredCommitment {
  event: string;
  interval: number;
  meterId: string;
  /** IMPORT_ENERGY or EXPORT_ENERGY: which register the value is. */
  payloadType: string;
  firstSlot: number;
  slotCount: number;
  /** Measured Wh (private). */
  valueWh: bigint;
  /** The commitment's salt (private): a uniformly random field element. */
  salt: bigint;
  /** Poseidon(value, salt), decimal. */
  commitment: string;
  fingerprints: SlotFingerprint[];
  createdAtMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS edge_flex_commitments (
  event TEXT NOT NULL,
  interval INTEGER NOT NULL,
  meter TEXT NOT NULL,
  payload_type TEXT NOT NULL,
  first_slot INTEGER NOT NULL,
  slot_count INTEGER NOT NULL,
  value_wh TEXT NOT NULL,
  salt TEXT NOT NULL,
  commitment TEXT NOT NULL,
  fingerprints TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (event, interval)
) WITHOUT ROWID;
`;

interface Row {
  event: string;
  interval: number;
  meter: string;
  payload_type: string;
  first_slot: number;
  slot_count: number;
  value_wh: string;
  salt: string;
  commitment: string;
  fingerprints: string;
  created_at_ms: number;
}

const fromRow = (r: Row): StoredCommitment => ({
  event: r.event,
  interval: r.interval,
  meterId: r.meter,
  payloadType: r.payload_type,
  firstSlot: r.first_slot,
  slotCount: r.slot_count,
  valueWh: BigInt(r.value_wh),
  salt: BigInt(r.salt),
  commitment: r.commitment,
  fingerprints: JSON.parse(r.fingerprints) as SlotFingerprint[],
  createdAtMs: r.created_at_ms,
});

/** Value, salt and commitment per (event, interval), in the edge's database (written once, never changed). */
export class FlexCommitments {
  private readonly stmts;

  constructor(readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.stmts = {
      get: db.prepare<[string, number], Row>('SELECT * FROM edge_flex_commitments WHERE event = ? AND interval = ?'),
      list: db.prepare<[string], Row>('SELECT * FROM edge_flex_commitments WHERE event = ? ORDER BY interval'),
      insert: db.prepare(
        'INSERT INTO edge_flex_commitments (event, interval, meter, payload_type, first_slot, slot_count, value_wh, salt, commitment, fingerprints, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  get(event: string, interval: number): StoredCommitment | undefined {
    const r = this.stmts.get.get(event, interval);
    return r ? fromRow(r) : undefined;
  }

  list(event: string): StoredCommitment[] {
    return this.stmts.list.all(event).map(fromRow);
  }

  /** Stores a new commitment; an interval keeps its first one (a second salt would be a second commitment). */
  put(c: StoredCommitment): StoredCommitment {
    const existing = this.get(c.event, c.interval);
    if (existing) return existing;
    this.stmts.insert.run(c.event, c.interval, c.meterId, c.payloadType, c.firstSlot, c.slotCount, c.valueWh.toString(), c.salt.toString(), c.commitment, JSON.stringify(c.fingerprints), c.createdAtMs);
    return c;
  }
}

type EventShape = { id: string; intervalPeriod: { start: number; duration: string }; payloadDescriptors: Array<{ payloadType: string }> };

function eventTiming(e: EventShape): { start: number; intervalMinutes: 15 | 60 } {
  return { start: e.intervalPeriod.start, intervalMinutes: e.intervalPeriod.duration === 'PT1H' ? 60 : 15 };
}

/**
 * The measured value of interval `index` from the stored samples: the sum of its slots' import (or
 * export) Wh, with the fingerprint of each slot that holds samples. Slots without samples count 0
 * (their energy lands in the next slot with samples, as for readings, docs/edge.md).
 */
export function measureInterval(store: SampleStore, meterId: string, event: EventShape, index: number, nowMs: number, maxGapMs?: number): { valueWh: bigint; firstSlot: number; slotCount: number; fingerprints: SlotFingerprint[] } {
  const { first, count } = slotsOf(eventTiming(event), index);
  const exportEnergy = event.payloadDescriptors[0]?.payloadType === 'EXPORT_ENERGY';
  let valueWh = 0n;
  const fingerprints: SlotFingerprint[] = [];
  for (let slot = first; slot < first + count; slot++) {
    const interval = deriveInterval(store, meterId, slot, { nowMs, ...(maxGapMs !== undefined ? { maxGapMs } : {}) });
    if (!interval) continue;
    valueWh += BigInt(exportEnergy ? interval.exportWh : interval.importWh);
    fingerprints.push({ slot, fingerprint: interval.fingerprint, sampleCount: interval.sampleCount });
  }
  return { valueWh, firstSlot: first, slotCount: count, fingerprints };
}

/**
 * The commitment of an ended interval: taken from the edge's table when it exists (the same salt
 * every time), else measured, salted and stored. Returns it with its `flex/commit` message.
 */
export function commitInterval(store: SampleStore, commitments: FlexCommitments, meterId: string, event: EventShape, index: number, nowMs: number, salt: bigint = randomFieldElement()): { stored: StoredCommitment; msg: { type: typeof FLEX_MSG.commit; value: CommitMsg } } {
  const end = eventTiming(event).start + (index + 1) * (eventTiming(event).intervalMinutes * 60_000);
  if (end > nowMs) throw E.INTERVAL_NOT_ENDED(`interval ${index} of ${event.id} ends at ${end}, after now (${nowMs})`);
  let stored = commitments.get(event.id, index);
  if (!stored) {
    const measured = measureInterval(store, meterId, event, index, nowMs);
    stored = commitments.put({
      event: event.id,
      interval: index,
      meterId,
      payloadType: event.payloadDescriptors[0]?.payloadType ?? 'IMPORT_ENERGY',
      ...measured,
      salt,
      commitment: deviationCommitment(measured.valueWh, salt).toString(),
      createdAtMs: nowMs,
    });
  }
  return { stored, msg: { type: FLEX_MSG.commit, value: { event: stored.event, interval: stored.interval, commitment: stored.commitment, fingerprints: stored.fingerprints } } };
}

/** The deviation and its proof for interval `index`, from the stored value and salt. */
export async function proveInterval(commitments: FlexCommitments, chainId: string, event: PublicEvent, index: number): Promise<{ deviation: number; proof: Groth16Proof }> {
  const stored = commitments.get(event.event.id, index);
  if (!stored) throw E.EDGE_BAD_OPTION(`the edge store has no commitment for interval ${index} of ${event.event.id} (run gridledger flex commit first)`);
  const interval = event.intervals.find((i) => i.id === index);
  if (!interval) throw E.EDGE_BAD_OPTION(`event ${event.event.id} has no interval ${index}`);
  if (interval.commitment !== undefined && interval.commitment !== stored.commitment) {
    throw E.EDGE_BAD_OPTION(`the ledger holds commitment ${interval.commitment} for interval ${index}, not the edge's ${stored.commitment}`);
  }
  const requested = BigInt(interval.payloads[0]!.values[0]!);
  const bundle = await proveDeviation({ value: stored.valueWh, salt: stored.salt, requested, eventId: eventField(chainId, event.event.id), intervalIndex: BigInt(index) });
  return { deviation: Number(absoluteDeviation(requested, stored.valueWh)), proof: bundle.proof };
}

export interface PrivateIntervalView {
  interval: number;
  start: number;
  requestedWh: number;
  /** From the edge's table (what was committed); null when the edge has no commitment for it. */
  measuredWh: number | null;
  /** Measured again from the samples now. */
  remeasuredWh: number | null;
  deviationWh: number | null;
  /** Public state on the ledger. */
  status: string;
  publicDeviationWh: number | null;
  penalty: string | null;
  /** Poseidon(value, salt) equals the commitment on the ledger. */
  commitmentMatches: boolean | null;
  /** Every slot's samples still give the fingerprint on the ledger. */
  samplesIntact: boolean | null;
  /** Off-chain data no longer matches what the ledger holds (samples, or value and salt). */
  flagged: boolean;
  problems: string[];
}

/**
 * The prosumer's private view of an event: requested vs measured per interval, from its own edge
 * store and the public event. It runs where the store is and never sends the values anywhere;
 * an interval whose stored samples, value or salt no longer match the fingerprints and commitment
 * on the ledger is flagged.
 */
export function privateView(store: SampleStore, commitments: FlexCommitments, event: PublicEvent, nowMs: number): { event: string; meterId: string | null; intervals: PrivateIntervalView[]; flagged: number } {
  const meterId = event.event.meterId ?? null;
  const intervals = event.intervals.map((pub): PrivateIntervalView => {
    const stored = commitments.get(event.event.id, pub.id);
    const requestedWh = pub.payloads[0]!.values[0]!;
    const problems: string[] = [];
    let remeasured: bigint | null = null;
    let samplesIntact: boolean | null = null;
    let commitmentMatches: boolean | null = null;
    if (stored && meterId !== null) {
      commitmentMatches = pub.commitment === undefined ? null : deviationCommitment(stored.valueWh, stored.salt).toString() === pub.commitment;
      if (commitmentMatches === false) problems.push('value and salt in the edge store do not give the commitment on the ledger');
      if (pub.intervalPeriod.start + (pub.intervalPeriod.duration === 'PT1H' ? 3_600_000 : 900_000) <= nowMs) {
        remeasured = measureInterval(store, meterId, event.event, pub.id, nowMs).valueWh;
        if (remeasured !== stored.valueWh) problems.push(`the samples now give ${remeasured} Wh, the committed value was ${stored.valueWh} Wh`);
      }
      if (pub.fingerprints !== undefined) {
        const onChain = new Map(pub.fingerprints.map((f) => [f.slot, { fingerprint: f.fingerprint, sampleCount: f.sampleCount }]));
        const slots = slotsOf(eventTiming(event.event), pub.id);
        const checked = verifySamples(store, meterId, slots.first, slots.first + slots.count - 1, (s) => onChain.get(s));
        const broken = checked.filter((c) => c.status !== 'intact' && !(c.status === 'missing-on-chain' && c.storedCount === 0));
        samplesIntact = broken.length === 0;
        for (const b of broken) problems.push(`slot ${b.slot}: ${b.status}${b.firstDifferingSeq !== undefined ? ` (first differing sample seq ${b.firstDifferingSeq})` : ''}`);
      }
    }
    const measuredWh = stored ? Number(stored.valueWh) : null;
    return {
      interval: pub.id,
      start: pub.intervalPeriod.start,
      requestedWh,
      measuredWh,
      remeasuredWh: remeasured === null ? null : Number(remeasured),
      deviationWh: measuredWh === null ? null : Math.abs(requestedWh - measuredWh),
      status: pub.status,
      publicDeviationWh: pub.deviationWh ?? null,
      penalty: pub.toAggregator ?? null,
      commitmentMatches,
      samplesIntact,
      flagged: problems.length > 0,
      problems,
    };
  });
  return { event: event.event.id, meterId, intervals, flagged: intervals.filter((i) => i.flagged).length };
}
