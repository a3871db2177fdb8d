import { bigFloorDiv } from '../../src/util/int.js';
import { SIM_ERRORS as E } from './errors.js';

/**
 * Community KPIs as gsy-e reports them (gsy-framework sim_results/kpi.py), in integers only: Wh,
 * ppm and µ€, summed as bigint, every division a floor. This is pure arithmetic on a generic input —
 * per slot and member: produced, consumed, bought internally, sold internally, grid import, grid
 * export — so it serves the simulation and the ledger-side report alike.
 *
 * Energy (sums over the period):
 * - selfConsumed (member) = Σ_slots clamp(consumed − gridImport − bought, 0, consumed): consumption
 *   the member covered itself (own PV directly or through its battery).
 * - localSupply (member) = Σ_slots clamp(consumed − gridImport, 0, consumed): consumption not from the
 *   grid, i.e. produced in the community (own or bought internally). The community's selfConsumed is
 *   the sum of its members' localSupply.
 * - self-sufficiency = selfConsumed / consumed; self-consumption = selfConsumed / produced; as ppm:
 *   min(1,000,000, floor(num · 1,000,000 / den)), null when den = 0 (gsy-e: None). The cap matters
 *   only when a battery delivers energy produced before the period.
 * - peaks: largest grid import (export) in one slot and the earliest slot where it occurs.
 *
 * Money (µ€; tariffs in µ€/kWh; a line = floor(Wh · tariff / 1000) on period totals, as the
 * settlement module bills):
 * - bill: grid import at the import tariff, internal purchases at the community price, minus grid
 *   export at the export tariff, minus internal sales at the community price.
 * - baseline (gsy-e's base case: no community): the same energy, every purchase (grid or internal)
 *   at the import tariff and every sale at the export tariff.
 * - savings = baseline − bill; savingsPpm = floor(savings · 10⁶ / baseline) when baseline > 0, else
 *   null. With export ≤ community ≤ import tariff, every line of the bill is at most its baseline
 *   line, so savings ≥ 0 for every member and the community.
 * Community money is the sum of its members' bills.
 */

export interface MemberSlotFlow {
  member: string;
  slot: number;
  producedWh: number;
  consumedWh: number;
  boughtInternallyWh: number;
  soldInternallyWh: number;
  gridImportWh: number;
  gridExportWh: number;
}

export interface Tariffs {
  importMicroEurPerKwh: number;
  exportMicroEurPerKwh: number;
  communityMicroEurPerKwh: number;
}

export interface SlotFlows {
  slot: number;
  flows: readonly MemberSlotFlow[];
}

export interface KpiInput {
  community: string;
  /** Period [fromSlot, toSlot). */
  fromSlot: number;
  toSlot: number;
  /** Members reported (in this order); a member without a flow in a slot counts 0 Wh there. */
  members: readonly string[];
  tariffs: Tariffs;
  /** Slots in ascending order, each member at most once per slot. */
  slots: Iterable<SlotFlows>;
}

export interface EnergyTotals {
  producedWh: number;
  consumedWh: number;
  boughtInternallyWh: number;
  soldInternallyWh: number;
  gridImportWh: number;
  gridExportWh: number;
  selfConsumedWh: number;
  localSupplyWh: number;
}

export interface Peaks {
  importWh: number;
  importSlot: number | null;
  exportWh: number;
  exportSlot: number | null;
}

export type BillItem = 'grid-import' | 'community-purchase' | 'grid-export' | 'community-sale';

export interface BillLine {
  item: BillItem;
  wh: number;
  microEurPerKwh: number;
  /** Positive = charge, negative = credit. */
  amountMicroEur: number;
}

export interface Bill {
  lines: BillLine[];
  totalMicroEur: number;
  baselineLines: BillLine[];
  baselineMicroEur: number;
  savingsMicroEur: number;
  savingsPpm: number | null;
}

export interface MemberKpis {
  member: string;
  energy: EnergyTotals;
  selfSufficiencyPpm: number | null;
  selfConsumptionPpm: number | null;
  /** Share of consumption produced in the community (own or bought internally). */
  localSupplyPpm: number | null;
  peaks: Peaks;
  bill: Bill;
}

export interface CommunityKpis {
  community: string;
  fromSlot: number;
  toSlot: number;
  slotsWithData: number;
  tariffs: Tariffs;
  energy: EnergyTotals;
  /** Σ bought − Σ sold: 0 when every internal trade has both sides in the input. */
  internalImbalanceWh: number;
  selfSufficiencyPpm: number | null;
  selfConsumptionPpm: number | null;
  peaks: Peaks;
  costMicroEur: number;
  baselineMicroEur: number;
  savingsMicroEur: number;
  savingsPpm: number | null;
  members: MemberKpis[];
}

const PPM = 1_000_000n;
const FIELDS = ['producedWh', 'consumedWh', 'boughtInternallyWh', 'soldInternallyWh', 'gridImportWh', 'gridExportWh'] as const;

/**
 * An exact sum of non-negative safe integers: adds in a number while that stays exact and spills into
 * a bigint before it would not (bigint on every addition is ten times slower).
 */
class ExactSum {
  #small = 0;
  #big = 0n;
  add(v: number): void {
    if (v > Number.MAX_SAFE_INTEGER - this.#small) {
      this.#big += BigInt(this.#small);
      this.#small = 0;
    }
    this.#small += v;
  }
  get value(): bigint {
    return this.#big + BigInt(this.#small);
  }
}

interface Acc {
  produced: ExactSum;
  consumed: ExactSum;
  bought: ExactSum;
  sold: ExactSum;
  gridImport: ExactSum;
  gridExport: ExactSum;
  selfConsumed: ExactSum;
  localSupply: ExactSum;
  peaks: Peaks;
}

function newAcc(): Acc {
  const z = () => new ExactSum();
  return { produced: z(), consumed: z(), bought: z(), sold: z(), gridImport: z(), gridExport: z(), selfConsumed: z(), localSupply: z(), peaks: { importWh: 0, importSlot: null, exportWh: 0, exportSlot: null } };
}

function addFlow(acc: Acc, f: MemberSlotFlow): void {
  acc.produced.add(f.producedWh);
  acc.consumed.add(f.consumedWh);
  acc.bought.add(f.boughtInternallyWh);
  acc.sold.add(f.soldInternallyWh);
  acc.gridImport.add(f.gridImportWh);
  acc.gridExport.add(f.gridExportWh);
}

function safe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw E.KPI_OVERFLOW(`${what} (${value}) exceeds the safe-integer range`);
  return Number(value);
}

function clamp(x: number, hi: number): number {
  return x < 0 ? 0 : x > hi ? hi : x;
}

/** min(10⁶, floor(num · 10⁶ / den)); null when den = 0. */
export function ratioPpm(num: bigint, den: bigint): number | null {
  if (den === 0n) return null;
  const r = bigFloorDiv(num * PPM, den);
  return Number(r > PPM ? PPM : r);
}

/** floor(wh · µ€/kWh / 1000): the µ€ of one bill line. */
export function lineMicroEur(wh: bigint, microEurPerKwh: number): bigint {
  return bigFloorDiv(wh * BigInt(microEurPerKwh), 1000n);
}

function updatePeaks(peaks: Peaks, slot: number, importWh: number, exportWh: number): void {
  if (importWh > peaks.importWh) {
    peaks.importWh = importWh;
    peaks.importSlot = slot;
  }
  if (exportWh > peaks.exportWh) {
    peaks.exportWh = exportWh;
    peaks.exportSlot = slot;
  }
}

function isWh(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

function requireFlow(f: MemberSlotFlow, slot: number): void {
  if (!(isWh(f.producedWh) && isWh(f.consumedWh) && isWh(f.boughtInternallyWh) && isWh(f.soldInternallyWh) && isWh(f.gridImportWh) && isWh(f.gridExportWh))) {
    const k = FIELDS.find((key) => !isWh(f[key]))!;
    throw E.KPI_INPUT_INVALID(`member ${f.member}, slot ${slot}: ${k} = ${f[k]} is not a whole number of Wh ≥ 0`);
  }
  if (f.slot !== slot) throw E.KPI_INPUT_INVALID(`member ${f.member}: flow of slot ${f.slot} listed under slot ${slot}`);
}

function totals(a: Acc, what: string): EnergyTotals {
  return {
    producedWh: safe(a.produced.value, `${what} produced Wh`),
    consumedWh: safe(a.consumed.value, `${what} consumed Wh`),
    boughtInternallyWh: safe(a.bought.value, `${what} bought Wh`),
    soldInternallyWh: safe(a.sold.value, `${what} sold Wh`),
    gridImportWh: safe(a.gridImport.value, `${what} grid import Wh`),
    gridExportWh: safe(a.gridExport.value, `${what} grid export Wh`),
    selfConsumedWh: safe(a.selfConsumed.value, `${what} self-consumed Wh`),
    localSupplyWh: safe(a.localSupply.value, `${what} local supply Wh`),
  };
}

function line(item: BillItem, wh: bigint, microEurPerKwh: number, sign: 1n | -1n, what: string): BillLine & { exact: bigint } {
  const amount = sign * lineMicroEur(wh, microEurPerKwh);
  return { item, wh: safe(wh, `${what} ${item} Wh`), microEurPerKwh, amountMicroEur: safe(amount, `${what} ${item} µ€`), exact: amount };
}

function billOf(a: Acc, t: Tariffs, what: string): Bill & { total: bigint; baseline: bigint } {
  const lines = [
    line('grid-import', a.gridImport.value, t.importMicroEurPerKwh, 1n, what),
    line('community-purchase', a.bought.value, t.communityMicroEurPerKwh, 1n, what),
    line('grid-export', a.gridExport.value, t.exportMicroEurPerKwh, -1n, what),
    line('community-sale', a.sold.value, t.communityMicroEurPerKwh, -1n, what),
  ];
  const baselineLines = [
    line('grid-import', a.gridImport.value, t.importMicroEurPerKwh, 1n, what),
    line('community-purchase', a.bought.value, t.importMicroEurPerKwh, 1n, what),
    line('grid-export', a.gridExport.value, t.exportMicroEurPerKwh, -1n, what),
    line('community-sale', a.sold.value, t.exportMicroEurPerKwh, -1n, what),
  ];
  const total = lines.reduce((s, l) => s + l.exact, 0n);
  const baseline = baselineLines.reduce((s, l) => s + l.exact, 0n);
  const strip = (l: BillLine & { exact: bigint }): BillLine => ({ item: l.item, wh: l.wh, microEurPerKwh: l.microEurPerKwh, amountMicroEur: l.amountMicroEur });
  return {
    lines: lines.map(strip),
    totalMicroEur: safe(total, `${what} bill`),
    baselineLines: baselineLines.map(strip),
    baselineMicroEur: safe(baseline, `${what} baseline`),
    savingsMicroEur: safe(baseline - total, `${what} savings`),
    savingsPpm: baseline > 0n ? safe(bigFloorDiv((baseline - total) * PPM, baseline), `${what} savings ppm`) : null,
    total,
    baseline,
  };
}

function requireTariffs(t: Tariffs): void {
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isSafeInteger(v) || v < 0) throw E.KPI_INPUT_INVALID(`tariff ${k} = ${v} is not a whole number of µ€/kWh ≥ 0`);
  }
}

/** KPIs of a community and each of its members over [fromSlot, toSlot). */
export function communityKpis(input: KpiInput): CommunityKpis {
  const { fromSlot, toSlot, tariffs } = input;
  requireTariffs(tariffs);
  if (!Number.isSafeInteger(fromSlot) || !Number.isSafeInteger(toSlot) || toSlot < fromSlot) throw E.KPI_INPUT_INVALID(`period [${fromSlot}, ${toSlot}) is not a slot range`);
  const index = new Map<string, number>();
  input.members.forEach((m, i) => {
    if (index.has(m)) throw E.KPI_INPUT_INVALID(`member ${m} is listed twice`);
    index.set(m, i);
  });
  const accs = input.members.map(newAcc);
  const community = newAcc();
  const seenAt = new Int32Array(input.members.length).fill(-1);
  let previous = -Infinity;
  let slotsWithData = 0;
  let round = 0;
  for (const { slot, flows } of input.slots) {
    if (!Number.isSafeInteger(slot) || slot < fromSlot || slot >= toSlot) throw E.KPI_INPUT_INVALID(`slot ${slot} is outside [${fromSlot}, ${toSlot})`);
    if (slot <= previous) throw E.KPI_INPUT_INVALID(`slot ${slot} comes after slot ${previous}: slots must ascend`);
    previous = slot;
    slotsWithData++;
    round++;
    let slotImport = 0;
    let slotExport = 0;
    for (const f of flows) {
      const i = index.get(f.member);
      if (i === undefined) throw E.KPI_INPUT_INVALID(`slot ${slot}: unknown member ${f.member}`);
      if (seenAt[i] === round) throw E.KPI_INPUT_INVALID(`slot ${slot}: member ${f.member} appears twice`);
      seenAt[i] = round;
      requireFlow(f, slot);
      const a = accs[i]!;
      const selfConsumed = clamp(f.consumedWh - f.gridImportWh - f.boughtInternallyWh, f.consumedWh);
      const localSupply = clamp(f.consumedWh - f.gridImportWh, f.consumedWh);
      addFlow(a, f);
      addFlow(community, f);
      a.selfConsumed.add(selfConsumed);
      a.localSupply.add(localSupply);
      community.selfConsumed.add(localSupply);
      community.localSupply.add(localSupply);
      updatePeaks(a.peaks, slot, f.gridImportWh, f.gridExportWh);
      slotImport += f.gridImportWh;
      slotExport += f.gridExportWh;
    }
    updatePeaks(community.peaks, slot, slotImport, slotExport);
  }
  const bills = accs.map((a, i) => billOf(a, tariffs, `member ${input.members[i]}`));
  const members = input.members.map((member, i): MemberKpis => {
    const a = accs[i]!;
    const bill = bills[i]!;
    return {
      member,
      energy: totals(a, `member ${member}`),
      selfSufficiencyPpm: ratioPpm(a.selfConsumed.value, a.consumed.value),
      selfConsumptionPpm: ratioPpm(a.selfConsumed.value, a.produced.value),
      localSupplyPpm: ratioPpm(a.localSupply.value, a.consumed.value),
      peaks: a.peaks,
      bill: {
        lines: bill.lines,
        totalMicroEur: bill.totalMicroEur,
        baselineLines: bill.baselineLines,
        baselineMicroEur: bill.baselineMicroEur,
        savingsMicroEur: bill.savingsMicroEur,
        savingsPpm: bill.savingsPpm,
      },
    };
  });
  const cost = bills.reduce((s, b) => s + b.total, 0n);
  const baseline = bills.reduce((s, b) => s + b.baseline, 0n);
  return {
    community: input.community,
    fromSlot,
    toSlot,
    slotsWithData,
    tariffs: { ...tariffs },
    energy: totals(community, 'community'),
    internalImbalanceWh: safe(community.bought.value - community.sold.value, 'internal imbalance'),
    selfSufficiencyPpm: ratioPpm(community.selfConsumed.value, community.consumed.value),
    selfConsumptionPpm: ratioPpm(community.selfConsumed.value, community.produced.value),
    peaks: community.peaks,
    costMicroEur: safe(cost, 'community bill'),
    baselineMicroEur: safe(baseline, 'community baseline'),
    savingsMicroEur: safe(baseline - cost, 'community savings'),
    savingsPpm: baseline > 0n ? safe(bigFloorDiv((baseline - cost) * PPM, baseline), 'community savings ppm') : null,
    members,
  };
}
