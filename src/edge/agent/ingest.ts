import type { Logger } from 'pino';
import { slotOfTimestamp } from '../fingerprint.js';
import type { MeterSample } from '../sample.js';
import type { SampleStore } from '../store.js';
import { RegisterGuard } from './guard.js';
import type { ReasonLog } from './reasons.js';
import type { AgentState } from './state.js';

/**
 * From decoded samples to the store. Every source (P1 stream, MQTT, HTTP) hands its samples to
 * `offer`; they are checked one by one, in arrival order, and written in batches (one SQLite
 * transaction, one fsync, per `flush`). Refused samples are counted by reason and logged, never stored:
 *
 *   SAMPLE_UNKNOWN_METER        the agent does not serve that meter
 *   SAMPLE_LATE                 its slot's reading has already been derived (the ledger's fingerprint must stay right)
 *   SAMPLE_DUPLICATE / _CLOCK_BACKWARDS / _CLOCK_JUMP / _IN_FUTURE   the store's own rules (store.ts)
 *   SAMPLE_REGISTER_GLITCH / _UNCONFIRMED                            the register guard (guard.ts)
 *
 * The store would refuse the same samples; checking here, against the last *accepted* sample (which
 * may still be in the batch), keeps the guard's view and the store in step.
 */

export interface Incoming {
  sample: MeterSample;
  /** The agent's clock when the sample arrived. */
  receivedAtMs: number;
  /** Which source delivered it (for the log and the status page). */
  source: string;
  /** The raw P1 telegram text, kept in memory for the status page. */
  raw?: string;
}

export type OfferOutcome = { status: 'queued' } | { status: 'held' } | { status: 'refused'; code: string; message: string };

export interface LatestSample {
  sample: MeterSample;
  receivedAtMs: number;
  source: string;
  raw?: string;
}

export interface IngestCounters {
  received: number;
  stored: number;
  refused: number;
  held: number;
  registerResets: number;
}

interface Batched {
  sample: MeterSample;
  startsEpoch: boolean;
}

export interface IngestorOptions {
  store: SampleStore;
  state: AgentState;
  reasons: ReasonLog;
  logger: Logger;
  /** Meters served, with the rating from the configuration (if any). */
  meters: ReadonlyMap<string, { maxPowerW?: number }>;
  /** Told which meters got new stored samples after each flush. */
  onStored?(meters: ReadonlySet<string>): void;
}

export class Ingestor {
  private batch: Batched[] = [];
  /** Last accepted sample per meter (stored, or waiting in the batch). */
  private readonly tails = new Map<string, MeterSample>();
  private readonly guards = new Map<string, RegisterGuard>();
  /** Latest sample received per meter, whatever became of it. */
  readonly latest = new Map<string, LatestSample>();
  /** Agent clock of the latest sample received per meter (a meter that went silent lets its slot close). */
  readonly lastReceivedMs = new Map<string, number>();
  private readonly stats: IngestCounters = { received: 0, stored: 0, refused: 0, held: 0, registerResets: 0 };

  constructor(private readonly o: IngestorOptions) {}

  counters(): IngestCounters {
    return { ...this.stats };
  }

  get queued(): number {
    return this.batch.length;
  }

  /** Checks one sample and queues it for the next flush (or holds or refuses it). */
  offer(item: Incoming): OfferOutcome {
    const { sample, receivedAtMs } = item;
    this.stats.received++;
    const meter = this.o.meters.get(sample.meterId);
    if (meter === undefined) return this.refuse(item, 'SAMPLE_UNKNOWN_METER', `meter ${sample.meterId} is not served by this agent`);
    this.latest.set(sample.meterId, { sample, receivedAtMs, source: item.source, ...(item.raw !== undefined ? { raw: item.raw } : {}) });
    this.lastReceivedMs.set(sample.meterId, receivedAtMs);
    const sealed = this.o.state.meter(sample.meterId)?.sealedThrough ?? -1;
    const slot = slotOfTimestamp(sample.timestampMs);
    if (slot <= sealed) return this.refuse(item, 'SAMPLE_LATE', `slot ${slot} of meter ${sample.meterId} is sealed (readings derived through slot ${sealed})`);
    const guard = this.guardOf(sample.meterId);
    const tail = this.tail(sample.meterId);
    // Time rules against the newest sample seen: a held one is newer than the tail.
    const refusal = this.o.store.refusalAfter(sample, guard.pending ?? tail, { receivedAtMs });
    if (refusal) return this.refuse(item, refusal.code, refusal.message);
    let outcome: OfferOutcome = { status: 'queued' };
    for (const d of guard.offer(tail, sample, meter.maxPowerW ?? this.o.state.meter(sample.meterId)?.maxPowerW)) {
      if (d.kind === 'accept') {
        this.batch.push({ sample: d.sample, startsEpoch: d.startsEpoch });
        this.tails.set(d.sample.meterId, d.sample);
        if (d.startsEpoch) this.o.logger.warn({ meter: d.sample.meterId, timestampMs: d.sample.timestampMs }, 'registers restart elsewhere (meter swap confirmed by the next sample): new register epoch, 0 Wh across it');
      } else if (d.kind === 'hold') {
        this.stats.held++;
        outcome = { status: 'held' };
      } else {
        this.record(d.code, d.message, receivedAtMs, { meter: d.sample.meterId, timestampMs: d.sample.timestampMs });
        if (d.sample === sample) outcome = { status: 'refused', code: d.code, message: d.message };
      }
    }
    return outcome;
  }

  /** Writes the queued samples (one transaction). */
  flush(): number {
    if (this.batch.length === 0) return 0;
    const batch = this.batch;
    this.batch = [];
    const outcomes = this.o.store.appendBatch(
      batch.map((b) => b.sample),
      { startsEpoch: (i) => batch[i]!.startsEpoch },
    );
    const touched = new Set<string>();
    let stored = 0;
    outcomes.forEach((o, i) => {
      const meterId = batch[i]!.sample.meterId;
      if (o.accepted) {
        stored++;
        touched.add(meterId);
        if (o.epochStarted) this.stats.registerResets++;
      } else {
        // Cannot happen (checked in offer); if it does, resynchronise with the store rather than guess.
        this.o.logger.error({ meter: meterId, code: o.code }, `the store refused a checked sample: ${o.message}`);
        this.tails.delete(meterId);
      }
    });
    this.stats.stored += stored;
    if (touched.size > 0) this.o.onStored?.(touched);
    return stored;
  }

  /** Refuses a sample the guard still holds whose slot is about to be sealed (call before sealing). */
  dropHeldUpTo(meterId: string, slot: number, nowMs: number): void {
    const guard = this.guards.get(meterId);
    const held = guard?.pending;
    if (!guard || !held || slotOfTimestamp(held.timestampMs) > slot) return;
    guard.drop();
    this.record('SAMPLE_REGISTER_UNCONFIRMED', `the sample of meter ${meterId} at ${new Date(held.timestampMs).toISOString()} (registers down or jumped up) was never confirmed before its slot closed`, nowMs, { meter: meterId, timestampMs: held.timestampMs });
  }

  private tail(meterId: string): MeterSample | undefined {
    let t = this.tails.get(meterId);
    if (t === undefined) {
      t = this.o.store.latest(meterId);
      if (t !== undefined) this.tails.set(meterId, t);
    }
    return t;
  }

  private guardOf(meterId: string): RegisterGuard {
    let g = this.guards.get(meterId);
    if (!g) this.guards.set(meterId, (g = new RegisterGuard()));
    return g;
  }

  private refuse(item: Incoming, code: string, message: string): OfferOutcome {
    this.record(code, message, item.receivedAtMs, { meter: item.sample.meterId, source: item.source, timestampMs: item.sample.timestampMs });
    return { status: 'refused', code, message };
  }

  /** Counts and logs a refusal of input that never became a sample (bad telegram, bad payload). */
  record(code: string, message: string, nowMs: number, context: Record<string, unknown> = {}): void {
    this.stats.refused++;
    this.o.reasons.record(code, message, nowMs, context);
  }
}
