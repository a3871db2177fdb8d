import type { Logger } from 'pino';
import { MSG, type ReadingMsg } from '../../modules/metering/messages.js';
import { SLOT_MS } from '../../util/slots.js';
import { deriveInterval, type IntervalReading } from '../interval.js';
import type { Spool } from '../spool.js';
import type { SampleStore } from '../store.js';
import type { AgentState, MeterState } from './state.js';

/**
 * Sealing slots and turning them into signed-reading payloads.
 *
 * A slot of a meter is *closed* when it has ended by the agent's clock and either a sample of a later
 * slot is stored (the normal case: the next telegram arrives), or the meter has been silent for
 * `closeAfterMs` (it stopped sending), or its replay source has ended. Closed slots are sealed in
 * order: the interval is derived from the stored samples, its reading queued in the spool and the
 * meter's `sealedThrough` advanced, all in one SQLite transaction. Samples for a sealed slot are refused
 * from then on (SAMPLE_LATE), so the fingerprint on the ledger always covers exactly the stored samples.
 * A crash before the transaction commits leaves nothing sealed: the same samples give the same readings.
 *
 * Registers and the sequence number on the ledger (the bootstrap, docs/edge.md):
 *  - seq = seqBase + the store's sequence number of the slot's last sample: rises with the slot, and the
 *    same slot always gets the same seq — the idempotency key. seqBase = the ledger's last seq for the
 *    meter when the agent first met it (0 for a new meter).
 *  - register = the store's continuous register + offset. The offset is 0 unless the ledger already
 *    holds readings the agent's registers do not continue: then the first reading's start register is
 *    set to the ledger's last register (like a meter swap, the energy between is unknown and counted 0).
 *    Readings are derived only for slots after the ledger's last reading at bootstrap.
 */

export const METERING_READING = MSG.reading;

export interface ReadingPayload {
  type: typeof MSG.reading;
  value: ReadingMsg;
}

type Offsets = { importWh: number; exportWh: number };

/**
 * Offsets that make the agent's first reading continue the ledger's last one: 0 when the registers
 * already continue (equal across adjacent slots, not lower across a gap), else ledger − agent.
 */
export function bootstrapOffsets(chainLast: MeterState['chainLast'], first: IntervalReading): Offsets {
  if (chainLast === undefined) return { importWh: 0, exportWh: 0 };
  const adjacent = first.slot === chainLast.slot + 1;
  const offset = (start: number, ledger: number) => (start === ledger || (!adjacent && start > ledger) ? 0 : ledger - start);
  return {
    importWh: offset(first.importRegisterWh - first.importWh, chainLast.importRegisterWh),
    exportWh: offset(first.exportRegisterWh - first.exportWh, chainLast.exportRegisterWh),
  };
}

/** The `metering/reading` message of a derived interval. */
export function readingMessage(interval: IntervalReading, meter: Pick<MeterState, 'seqBase'> & { offsets: Offsets }, community?: string): ReadingMsg {
  return {
    meterId: interval.meterId,
    ...(community !== undefined ? { community } : {}),
    slot: interval.slot,
    importWh: interval.importWh,
    exportWh: interval.exportWh,
    importRegisterWh: interval.importRegisterWh + meter.offsets.importWh,
    exportRegisterWh: interval.exportRegisterWh + meter.offsets.exportWh,
    seq: meter.seqBase + interval.lastSeq,
    fingerprint: interval.fingerprint,
    sampleCount: interval.sampleCount,
  };
}

export interface SealerOptions {
  store: SampleStore;
  spool: Spool;
  state: AgentState;
  logger: Logger;
  maxGapMs: number;
  closeAfterMs: number;
  communities: ReadonlyMap<string, string | undefined>;
}

export interface SealResult {
  /** Readings queued. */
  queued: number;
  /** Slots sealed without a reading: covered by the ledger before the agent's bootstrap. */
  skipped: number;
}

export interface SealStats {
  readingsQueued: number;
  incompleteSlots: number;
  gaps: number;
  unattributedImportWh: number;
  unattributedExportWh: number;
  skippedSlots: number;
}

export class Sealer {
  private readonly stats: SealStats = { readingsQueued: 0, incompleteSlots: 0, gaps: 0, unattributedImportWh: 0, unattributedExportWh: 0, skippedSlots: 0 };
  /** The last derived interval per meter (status page). */
  readonly lastInterval = new Map<string, IntervalReading>();

  constructor(private readonly o: SealerOptions) {}

  counters(): SealStats {
    return { ...this.stats };
  }

  /**
   * The highest slot of `meterId` that is closed at `nowMs` (see the class comment), or −1.
   * `feed`: `replaying` while a file source still feeds the meter (its pauses say nothing about the
   * meter, so only later samples close slots), `ended` once that replay is over (everything ended is
   * closed), else `live` with the agent clock of the last sample received (or of the agent's start).
   */
  closedThrough(meterId: string, nowMs: number, feed: { kind: 'replaying' } | { kind: 'ended' } | { kind: 'live'; lastReceivedMs: number }): number {
    const latest = this.o.store.latest(meterId);
    if (!latest) return -1;
    const endedThrough = Math.floor(nowMs / SLOT_MS) - 1;
    const silent = feed.kind === 'ended' || (feed.kind === 'live' && nowMs - feed.lastReceivedMs >= this.o.closeAfterMs);
    return Math.min(endedThrough, silent ? latest.slot : latest.slot - 1);
  }

  /** Seals the meter's closed slots up to `throughSlot`: readings queued, watermark advanced, one transaction. */
  seal(meterId: string, throughSlot: number, nowMs: number): SealResult {
    const meter = this.o.state.meter(meterId);
    if (!meter || throughSlot <= meter.sealedThrough) return { queued: 0, skipped: 0 };
    const slots = this.o.store.slotsWithSamples(meterId, meter.sealedThrough + 1, throughSlot);
    const intervals: IntervalReading[] = [];
    let skipped = 0;
    for (const slot of slots) {
      if (slot < meter.firstSlot) {
        skipped++;
        continue;
      }
      intervals.push(deriveInterval(this.o.store, meterId, slot, { nowMs, maxGapMs: this.o.maxGapMs })!);
    }
    const community = this.o.communities.get(meterId);
    this.o.state.transaction(() => {
      let offsets = meter.offsets;
      for (const interval of intervals) {
        if (offsets === undefined) {
          offsets = bootstrapOffsets(meter.chainLast, interval);
          this.o.state.fixOffsets(meterId, offsets);
        }
        const value = readingMessage(interval, { seqBase: meter.seqBase, offsets }, community);
        const payload: ReadingPayload = { type: MSG.reading, value };
        this.o.spool.enqueue({ meterId, slot: interval.slot, seq: value.seq }, payload, nowMs);
      }
      this.o.state.seal(meterId, throughSlot);
    });
    for (const interval of intervals) this.report(interval);
    this.stats.readingsQueued += intervals.length;
    this.stats.skippedSlots += skipped;
    if (skipped > 0) this.o.logger.info({ meter: meterId, skipped, firstSlot: meter.firstSlot }, 'slots before the ledger\'s last reading at bootstrap sealed without readings');
    return { queued: intervals.length, skipped };
  }

  private report(interval: IntervalReading): void {
    this.lastInterval.set(interval.meterId, interval);
    if (interval.complete) return;
    this.stats.incompleteSlots++;
    this.stats.gaps += interval.gaps.length;
    this.stats.unattributedImportWh += interval.unattributedImportWh;
    this.stats.unattributedExportWh += interval.unattributedExportWh;
    // Gaps are reported, never filled in: the reading carries only what the samples show.
    this.o.logger.warn(
      {
        meter: interval.meterId,
        slot: interval.slot,
        gaps: interval.gaps.map((g) => [new Date(g.fromMs).toISOString(), new Date(g.toMs).toISOString()]),
        registerResets: interval.registerResets,
        unattributedImportWh: interval.unattributedImportWh,
        unattributedExportWh: interval.unattributedExportWh,
      },
      'slot sealed with gaps: its reading covers only what the samples show',
    );
  }
}
