import { E } from './errors.js';
import { bigFloorDiv } from '../../util/int.js';
import { localDay, type LocalDay } from '../../util/localtime.js';
import { expandSegments, keysOverlapping, registrationSlot, type Participant, type Plant, type Segment } from '../shares/keeper.js';

/**
 * PV allocation of shared plants — pure integer computation, the same for the node (ledger data)
 * and the CLI (CSV dry runs).
 *
 * Per slot and participant i holding h_i ppm of a plant producing P Wh:
 *   allocated_i = floor(P · h_i / 1,000,000) + bonus_i      (largest-remainder method)
 * The L = P − Σ floor(…) Wh left over (0 ≤ L < number of participants with h_i > 0) go one each to
 * the L participants with the largest remainders (P · h_i mod 1,000,000); equal remainders are broken
 * by address in ascending order. So Σ allocated_i = P exactly in every slot.
 *   covered_i  = min(consumption_i, allocated_i)
 *   imported_i = consumption_i − covered_i
 *   fedIn_i    = allocated_i − covered_i
 * Dynamic key (option, off by default): the surplus S = Σ fedIn_i is first offered to participants
 * with remaining need n_i = imported_i: R = min(S, Σ n_i) Wh move; participant i receives
 * R · n_i / Σ n and surplus holder j gives R · s_j / S, both by the same largest-remainder rule. Then
 * covered, imported and fed-in are recomputed; allocated_i becomes covered_i + fedIn_i, and
 * Σ allocated_i = P still holds exactly.
 */

export const PPM_SCALE = 1_000_000;
/** Largest production per slot (Wh) for which P · 1,000,000 stays a safe integer. */
export const MAX_SLOT_WH = 9_007_199_254;

export interface Series {
  /** Wh per slot, index = slot − from; missing slots hold 0. */
  wh: Float64Array;
  /** Slots of the range without a reading. */
  missing: number;
}

/** Where billing takes meter data from: the ledger (metering module) or CSV files. */
export interface ReadingSource {
  readonly name: 'ledger' | 'csv';
  /** Production of the plant over [from, to). */
  production(plant: Plant, from: number, to: number): Series;
  /** Consumption (grid import) of a participant over [from, to). */
  consumption(plant: Plant, participant: Participant, from: number, to: number): Series;
}

export interface BillingPeriod {
  fromDay: string;
  toDay: string;
  fromSlot: number;
  toSlot: number;
  days: LocalDay[];
}

export interface EnergyTotals {
  consumedWh: number;
  allocatedWh: number;
  coveredWh: number;
  importedWh: number;
  fedInWh: number;
}

export interface BillingLine extends EnergyTotals {
  address: string;
  utility: string;
  meter: string | null;
  slots: number;
  missingConsumptionSlots: number;
  /** Per local day of the period (same order as period.days). */
  days: EnergyTotals[];
}

export interface PlantBilling {
  plant: Plant;
  period: BillingPeriod;
  dynamic: boolean;
  productionWh: number;
  missingProductionSlots: number;
  /** One line per participant and billing utility, sorted by address then utility. */
  lines: BillingLine[];
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** The local days [fromDay, toDay] (inclusive) of the plant's time zone as slots. */
export function billingPeriod(timezone: string, fromDay: string, toDay: string): BillingPeriod {
  if (!DAY_RE.test(fromDay) || !DAY_RE.test(toDay)) throw E.SETTLEMENT_INVALID_PERIOD('a period is given by local days YYYY-MM-DD');
  if (toDay < fromDay) throw E.SETTLEMENT_INVALID_PERIOD(`period ${fromDay} … ${toDay} is reversed`);
  const days: LocalDay[] = [];
  let day = localDay(timezone, fromDay);
  days.push(day);
  while (day.day < toDay) {
    if (days.length > 366) throw E.SETTLEMENT_INVALID_PERIOD('a billing period is at most 366 days');
    day = localDay(timezone, nextDay(day.day));
    days.push(day);
  }
  const last = days[days.length - 1]!;
  return { fromDay, toDay, fromSlot: days[0]!.firstSlot, toSlot: last.firstSlot + last.slots, days };
}

/** The calendar day after YYYY-MM-DD (proleptic Gregorian, integer arithmetic only). */
export function nextDay(day: string): string {
  let y = Number(day.slice(0, 4));
  let m = Number(day.slice(5, 7));
  let d = Number(day.slice(8, 10)) + 1;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (d > lengths[m - 1]!) {
    d = 1;
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function zeroTotals(): EnergyTotals {
  return { consumedWh: 0, allocatedWh: 0, coveredWh: 0, importedWh: 0, fedInWh: 0 };
}

/** floor(a / b) for non-negative safe integers a and positive b (bigint; "/" on numbers is not used in ledger code). */
function quot(a: number, b: number): number {
  return Number(bigFloorDiv(BigInt(a), BigInt(b)));
}

/**
 * Splits `total` Wh in proportion to `weights` (non-negative; Σ weights = `sum` > 0) by the largest
 * remainder method; ties go to the lower index (participants are sorted by address). Writes into `out`.
 */
export function largestRemainder(total: number, weights: ArrayLike<number>, sum: number, out: Float64Array | number[], rem: Float64Array | number[]): void {
  const k = weights.length;
  let given = 0;
  for (let j = 0; j < k; j++) {
    const w = weights[j]!;
    if (w === 0 || total === 0) {
      out[j] = 0;
      rem[j] = -1;
      continue;
    }
    const x = total * w;
    if (Number.isSafeInteger(x)) {
      const r = x % sum;
      out[j] = quot(x - r, sum);
      rem[j] = r;
    } else {
      const bx = BigInt(total) * BigInt(w);
      const bs = BigInt(sum);
      out[j] = Number(bigFloorDiv(bx, bs));
      rem[j] = Number(bx % bs);
    }
    given += out[j]!;
  }
  let left = total - given;
  while (left > 0) {
    let best = -1;
    for (let j = 0; j < k; j++) if (rem[j]! > (best < 0 ? -1 : rem[best]!)) best = j;
    out[best] = out[best]! + 1;
    rem[best] = -1;
    left--;
  }
}

interface Piece {
  from: number;
  to: number;
  participants: Participant[];
  holdings: Int32Array[];
  consumption: Series[];
  lineIndex: number[];
}

function requireWh(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SLOT_WH) {
    throw E.SETTLEMENT_INVALID_READING(`${what}: ${value} Wh is not a whole number in 0 … ${MAX_SLOT_WH}`);
  }
}

/** A period that ends at or before the plant's registration slot has nothing to bill: refused. */
export function requireRegisteredBy(plant: Plant, toSlot: number): void {
  const start = registrationSlot(plant);
  if (toSlot <= start) throw E.SETTLEMENT_BEFORE_REGISTRATION(`plant ${plant.id} was registered in slot ${start}; a period ending at slot ${toSlot} lies before it`);
}

/** Allocation and energy totals of one plant over a period (the slots from its registration on). */
export function billPlant(input: { plant: Plant; period: BillingPeriod; holdings: Record<string, Segment[]>; source: ReadingSource; dynamic: boolean }): PlantBilling {
  const { plant, period, source, dynamic } = input;
  const { fromSlot, toSlot } = period;
  requireRegisteredBy(plant, toSlot);
  const n = toSlot - fromSlot;
  const dayIndex = new Uint16Array(n);
  period.days.forEach((d, i) => dayIndex.fill(i, d.firstSlot - fromSlot, d.firstSlot - fromSlot + d.slots));
  // Slots before the registration belong to no key; production there is neither billed nor missing.
  const billedFrom = Math.max(fromSlot, registrationSlot(plant));
  const production = source.production(plant, billedFrom, toSlot);
  const lines: BillingLine[] = [];
  const lineOf = new Map<string, number>();
  const pieces: Piece[] = [];
  for (const { key, from, to } of keysOverlapping(plant, fromSlot, toSlot)) {
    const piece: Piece = { from, to, participants: key.participants, holdings: [], consumption: [], lineIndex: [] };
    for (const p of key.participants) {
      const id = `${p.address}|${p.utility}`;
      let li = lineOf.get(id);
      if (li === undefined) {
        li = lines.length;
        lineOf.set(id, li);
        lines.push({ address: p.address, utility: p.utility, meter: p.meter ?? null, slots: 0, missingConsumptionSlots: 0, ...zeroTotals(), days: period.days.map(zeroTotals) });
      }
      const line = lines[li]!;
      if (p.meter !== undefined) line.meter = p.meter;
      const cons = source.consumption(plant, p, from, to);
      line.slots += to - from;
      line.missingConsumptionSlots += cons.missing;
      piece.lineIndex.push(li);
      piece.consumption.push(cons);
      piece.holdings.push(expandSegments(input.holdings[p.address] ?? [], from, to));
    }
    pieces.push(piece);
  }
  let productionWh = 0;
  for (const piece of pieces) {
    const k = piece.participants.length;
    const weights = new Float64Array(k);
    const alloc = new Float64Array(k);
    const rem = new Float64Array(k);
    const cons = new Float64Array(k);
    const covered = new Float64Array(k);
    const need = new Float64Array(k);
    const surplus = new Float64Array(k);
    const extra = new Float64Array(k);
    const give = new Float64Array(k);
    const remB = new Float64Array(k);
    for (let slot = piece.from; slot < piece.to; slot++) {
      const i = slot - fromSlot;
      const P = production.wh[slot - billedFrom]!;
      requireWh(P, `production of ${plant.id} at slot ${slot}`);
      productionWh += P;
      let sumPpm = 0;
      for (let j = 0; j < k; j++) {
        const h = piece.holdings[j]![slot - piece.from]!;
        weights[j] = h;
        sumPpm += h;
        const c = piece.consumption[j]!.wh[slot - piece.from]!;
        requireWh(c, `consumption of ${piece.participants[j]!.address} at slot ${slot}`);
        cons[j] = c;
      }
      if (sumPpm !== PPM_SCALE) throw E.SETTLEMENT_INVALID_HOLDINGS(`holdings of ${plant.id} at slot ${slot} sum to ${sumPpm} ppm`);
      largestRemainder(P, weights, PPM_SCALE, alloc, rem);
      let totalSurplus = 0;
      let totalNeed = 0;
      for (let j = 0; j < k; j++) {
        const cv = cons[j]! < alloc[j]! ? cons[j]! : alloc[j]!;
        covered[j] = cv;
        need[j] = cons[j]! - cv;
        surplus[j] = alloc[j]! - cv;
        totalSurplus += surplus[j]!;
        totalNeed += need[j]!;
      }
      if (dynamic && totalSurplus > 0 && totalNeed > 0) {
        const moved = totalSurplus < totalNeed ? totalSurplus : totalNeed;
        largestRemainder(moved, need, totalNeed, extra, remB);
        largestRemainder(moved, surplus, totalSurplus, give, remB);
        for (let j = 0; j < k; j++) {
          covered[j] = covered[j]! + extra[j]!;
          surplus[j] = surplus[j]! - give[j]!;
          alloc[j] = covered[j]! + surplus[j]!;
        }
      }
      const d = dayIndex[i]!;
      for (let j = 0; j < k; j++) {
        const line = lines[piece.lineIndex[j]!]!;
        const day = line.days[d]!;
        const c = cons[j]!;
        const a = alloc[j]!;
        const cv = covered[j]!;
        day.consumedWh += c;
        day.allocatedWh += a;
        day.coveredWh += cv;
        day.importedWh += c - cv;
        day.fedInWh += a - cv;
      }
    }
  }
  for (const line of lines) {
    for (const day of line.days) {
      line.consumedWh += day.consumedWh;
      line.allocatedWh += day.allocatedWh;
      line.coveredWh += day.coveredWh;
      line.importedWh += day.importedWh;
      line.fedInWh += day.fedInWh;
    }
    for (const v of [line.consumedWh, line.allocatedWh, line.fedInWh]) {
      if (!Number.isSafeInteger(v)) throw E.SETTLEMENT_OVERFLOW(`energy total of ${line.address} exceeds the safe integer range`);
    }
  }
  lines.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.utility < b.utility ? -1 : a.utility > b.utility ? 1 : 0));
  return { plant, period, dynamic, productionWh, missingProductionSlots: production.missing, lines };
}
