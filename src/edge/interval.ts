import { SLOT_MS } from '../util/slots.js';
import { EDGE_ERRORS as E } from './errors.js';
import { importTotalWh, exportTotalWh, type SampleStore, type StoredSample } from './store.js';

/**
 * The interval reading of an ended slot, derived from the stored samples.
 *
 * Which samples define a slot's energy: the increase between two consecutive samples of a meter belongs
 * to the slot of the *later* sample. So slot s gets R(last sample of s) − R(last sample of s − 1); the
 * first slot of a meter starts from its own first sample. Summed over consecutive slots this telescopes
 * to the register difference between the ends, exactly, with no sample counted twice or skipped. The
 * increase across a slot boundary (at most one sample interval, ≤ 10 s with DSMR 4/5) lands in the later
 * slot, as the ledger's adjacency rule demands (a reading starts where the previous slot's ended).
 *
 * When the sample before slot s lies further back than slot s − 1, at least one whole slot passed without
 * a sample: the increase over that span cannot be placed in any slot, so it is *not attributed* (reported
 * as `unattributedImportWh/ExportWh` and a gap); slot s starts at its own first sample, like a meter's
 * first slot. On the ledger this is a register jump between two non-adjacent readings, which the ledger
 * allows, and the official metering channel settles the difference. Putting hours of missed energy into
 * one slot would paper over the gap (and break the meter's power limit).
 *
 * Across a register epoch change (meter swap) the increase is unknown and counted as 0 Wh, never
 * negative; the reading reports it in `registerResets`. The registers it reports are continuous
 * (raw + epoch offset), so they never go backwards on the ledger either.
 */

export interface Gap {
  /** Start of the unobserved span: the previous sample (possibly in an earlier slot) or the slot start. */
  fromMs: number;
  /** End of the span: the next sample, or the slot end. */
  toMs: number;
}

export interface IntervalReading {
  meterId: string;
  slot: number;
  sampleCount: number;
  firstSeq: number;
  lastSeq: number;
  /** F(slot), 64 hex digits: the last sample's link. */
  fingerprint: string;
  importWh: number;
  exportWh: number;
  importT1Wh: number;
  importT2Wh: number;
  exportT1Wh: number;
  exportT2Wh: number;
  /** Continuous registers (T1 + T2 + epoch offset) at the slot's last sample. */
  importRegisterWh: number;
  exportRegisterWh: number;
  /** Epoch changes attributed to this slot (their increase is unknown and counted as 0). */
  registerResets: number;
  /**
   * Increase between the meter's sample before an unobserved whole slot and this slot's first sample:
   * not in this reading (nor any other), reported so it can be reconciled.
   */
  unattributedImportWh: number;
  unattributedExportWh: number;
  /** Spans longer than the tolerance without a sample; reported, never filled in. */
  gaps: Gap[];
  /** No gaps, no register resets, nothing unattributed. */
  complete: boolean;
}

export interface DeriveOptions {
  /** The caller's clock: the slot must have ended. */
  nowMs: number;
  /** Longest span between samples (or slot edges) that is not a gap; default 30 s. */
  maxGapMs?: number;
}

/** Derives slot `slot` of a meter; undefined when it holds no sample (its energy lands in the next slot with a gap). */
export function deriveInterval(store: SampleStore, meterId: string, slot: number, options: DeriveOptions): IntervalReading | undefined {
  const maxGapMs = options.maxGapMs ?? 30_000;
  if (!Number.isSafeInteger(maxGapMs) || maxGapMs < 0) throw E.EDGE_BAD_OPTION('maxGapMs must be a non-negative safe integer');
  const slotEndMs = (slot + 1) * SLOT_MS;
  if (slotEndMs > options.nowMs) throw E.INTERVAL_NOT_ENDED(`slot ${slot} ends at ${slotEndMs}, after now (${options.nowMs})`);
  const samples = store.samplesInSlot(meterId, slot);
  if (samples.length === 0) return undefined;
  const previous = store.lastSampleBefore(meterId, slot);
  // Only a sample of the slot right before is this slot's baseline (see the comment at the top).
  const baseline = previous !== undefined && previous.slot === slot - 1 ? previous : undefined;
  const unattributed = previous !== undefined && baseline === undefined ? increaseBetween(previous, samples[0]!) : { importWh: 0, exportWh: 0, registerResets: 0 };
  const energy = sumIncrements(baseline, samples);
  energy.registerResets += unattributed.registerResets;
  const last = samples[samples.length - 1]!;
  const offsets = store.epochOffsets(meterId, last.epoch);
  const gaps = findGaps(previous, samples, slot * SLOT_MS, slotEndMs, maxGapMs);
  return {
    meterId,
    slot,
    sampleCount: samples.length,
    firstSeq: samples[0]!.seq,
    lastSeq: last.seq,
    fingerprint: last.link,
    importWh: energy.importT1Wh + energy.importT2Wh,
    exportWh: energy.exportT1Wh + energy.exportT2Wh,
    importT1Wh: energy.importT1Wh,
    importT2Wh: energy.importT2Wh,
    exportT1Wh: energy.exportT1Wh,
    exportT2Wh: energy.exportT2Wh,
    importRegisterWh: importTotalWh(last) + offsets.importOffsetWh,
    exportRegisterWh: exportTotalWh(last) + offsets.exportOffsetWh,
    registerResets: energy.registerResets,
    unattributedImportWh: unattributed.importWh,
    unattributedExportWh: unattributed.exportWh,
    gaps,
    complete: gaps.length === 0 && energy.registerResets === 0 && unattributed.importWh === 0 && unattributed.exportWh === 0,
  };
}

/** Register increase from `a` to the later sample `b`; unknown (0, one reset) across an epoch change. */
function increaseBetween(a: StoredSample, b: StoredSample): { importWh: number; exportWh: number; registerResets: number } {
  if (a.epoch !== b.epoch) return { importWh: 0, exportWh: 0, registerResets: 1 };
  return { importWh: importTotalWh(b) - importTotalWh(a), exportWh: exportTotalWh(b) - exportTotalWh(a), registerResets: 0 };
}

const REGISTERS = ['importT1Wh', 'importT2Wh', 'exportT1Wh', 'exportT2Wh'] as const;

/** Sum of the register increases between consecutive samples of one epoch, ending in this slot. */
function sumIncrements(baseline: StoredSample | undefined, samples: StoredSample[]) {
  const total = { importT1Wh: 0, importT2Wh: 0, exportT1Wh: 0, exportT2Wh: 0, registerResets: 0 };
  let prev = baseline;
  for (const s of samples) {
    if (prev !== undefined) {
      if (prev.epoch !== s.epoch) total.registerResets++;
      else for (const r of REGISTERS) {
        const d = s[r] - prev[r];
        // The store starts a new epoch whenever a register decreases; a decrease here means a corrupt store.
        if (d < 0) throw new RangeError(`register ${r} of meter ${s.meterId} decreases within epoch ${s.epoch} at seq ${s.seq}`);
        total[r] += d;
      }
    }
    prev = s;
  }
  return total;
}

function findGaps(baseline: StoredSample | undefined, samples: StoredSample[], slotStartMs: number, slotEndMs: number, maxGapMs: number): Gap[] {
  const gaps: Gap[] = [];
  const first = samples[0]!;
  // Before the first sample: the span since the previous sample (its energy is in this slot) or, for a
  // meter's first slot, since the slot start (its energy is unknown).
  const from = baseline?.timestampMs ?? slotStartMs;
  if (first.timestampMs - from > maxGapMs) gaps.push({ fromMs: from, toMs: first.timestampMs });
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!.timestampMs;
    const b = samples[i]!.timestampMs;
    if (b - a > maxGapMs) gaps.push({ fromMs: a, toMs: b });
  }
  const lastMs = samples[samples.length - 1]!.timestampMs;
  if (slotEndMs - lastMs > maxGapMs) gaps.push({ fromMs: lastMs, toMs: slotEndMs });
  return gaps;
}
