import type { MeterSample } from '../sample.js';
import { exportTotalWh, importTotalWh } from '../store.js';

/**
 * The register guard: one sample whose registers go down, or up faster than the meter's rating
 * allows, is either a meter swap (the registers really start again elsewhere) or a glitch (one bad
 * sample, e.g. a meter that briefly reports zeros). A glitch stored as a swap would start a register
 * epoch and count the way back up as energy — a wrong reading. So such a sample is *held* until the
 * next sample decides:
 *
 *   next continues from before the held one  → glitch: the held sample is refused (SAMPLE_REGISTER_GLITCH)
 *   next continues from the held one          → swap confirmed: both are stored, the held one starts an epoch
 *   next fits neither                         → the held one is refused, the next one is held in turn
 *
 * "Continues" = no register lower, and each direction's increase at most what the rating delivers in
 * the time between the two samples (+2 Wh for the meters' rounding to whole Wh). Without a known rating
 * only decreases are suspicious. The decision costs one sample of delay for suspicious samples only.
 */

/** Slack for registers shown floored to whole Wh (two registers per direction). */
const ROUNDING_SLACK_WH = 2n;
const MS_PER_HOUR = 3_600_000n;

export type GuardDecision =
  | { kind: 'accept'; sample: MeterSample; startsEpoch: boolean }
  | { kind: 'refuse'; sample: MeterSample; code: 'SAMPLE_REGISTER_GLITCH'; message: string }
  | { kind: 'hold'; sample: MeterSample };

function decreased(a: MeterSample, b: MeterSample): boolean {
  return b.importT1Wh < a.importT1Wh || b.importT2Wh < a.importT2Wh || b.exportT1Wh < a.exportT1Wh || b.exportT2Wh < a.exportT2Wh;
}

/** Most energy (Wh) a rating delivers between two meter times; bigint, as rating × hours can pass 2^53. */
function maxEnergyWh(maxPowerW: number, fromMs: number, toMs: number): bigint {
  const dt = BigInt(Math.max(0, toMs - fromMs));
  return (BigInt(maxPowerW) * dt) / MS_PER_HOUR + ROUNDING_SLACK_WH;
}

/** Whether `b` can follow `a` on the same meter: nothing down, nothing faster than the rating. */
export function continues(a: MeterSample, b: MeterSample, maxPowerW: number | undefined): boolean {
  if (decreased(a, b)) return false;
  if (maxPowerW === undefined) return true;
  const limit = maxEnergyWh(maxPowerW, a.timestampMs, b.timestampMs);
  return BigInt(importTotalWh(b) - importTotalWh(a)) <= limit && BigInt(exportTotalWh(b) - exportTotalWh(a)) <= limit;
}

export class RegisterGuard {
  private held: MeterSample | undefined;

  /** The sample waiting for confirmation, if any. */
  get pending(): MeterSample | undefined {
    return this.held;
  }

  /**
   * Decides about `next`, given the meter's last accepted sample (undefined for a new meter). Returns
   * the decisions in the order they take effect (a held sample's fate first).
   */
  offer(last: MeterSample | undefined, next: MeterSample, maxPowerW: number | undefined): GuardDecision[] {
    const held = this.held;
    this.held = undefined;
    if (last === undefined) return [{ kind: 'accept', sample: next, startsEpoch: false }];
    if (held === undefined) {
      if (continues(last, next, maxPowerW)) return [{ kind: 'accept', sample: next, startsEpoch: false }];
      this.held = next;
      return [{ kind: 'hold', sample: next }];
    }
    if (continues(last, next, maxPowerW)) return [glitch(held, 'the next sample continued from before it'), { kind: 'accept', sample: next, startsEpoch: false }];
    if (continues(held, next, maxPowerW)) return [{ kind: 'accept', sample: held, startsEpoch: true }, { kind: 'accept', sample: next, startsEpoch: false }];
    this.held = next;
    return [glitch(held, 'the next sample continued from neither it nor the sample before it'), { kind: 'hold', sample: next }];
  }

  /** Gives up on the held sample (its slot is being sealed, or the agent stops). */
  drop(): MeterSample | undefined {
    const held = this.held;
    this.held = undefined;
    return held;
  }
}

function glitch(sample: MeterSample, why: string): GuardDecision {
  return { kind: 'refuse', sample, code: 'SAMPLE_REGISTER_GLITCH', message: `registers of meter ${sample.meterId} at ${new Date(sample.timestampMs).toISOString()} went down or jumped up; ${why}` };
}
