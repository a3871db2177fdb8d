import { largestRemainder } from '../../src/modules/settlement/billing.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { Battery } from './battery.js';
import { firstSlotOfDay, localSlot } from './calendar.js';
import { SIM_ERRORS as E } from './errors.js';
import { ElectricVehicle } from './ev.js';
import type { MemberSlotFlow } from './kpi.js';
import { HouseholdLoad } from './load.js';
import { slotEnergyWh, slotSky, type PvArray, type SkySample } from './pv.js';
import type { HouseholdSpec, PlantSpec, Scenario } from './scenario.js';
import { CLEAR_SKY, MarkovClouds, type CloudModel } from './weather.js';

/**
 * Runs a scenario slot by slot and gives, per member and slot, what its meter sees and how the
 * community shares energy internally — all in whole Wh, the same for the same scenario and seed.
 *
 * Per household: production = PV, consumption = load + car charging; the battery (if any) takes the
 * surplus and covers the deficit; the meter reads import = max(0, n), export = max(0, −n) with
 * n = consumption − production + battery charge − battery discharge. A shared plant's meter exports
 * its whole production.
 *
 * Internal energy each slot, in two steps (ids in ascending order break every tie):
 * 1. Shared plants, in scenario order: production P split by the key in ppm with the shares
 *    module's largest-remainder rule; participant i is covered min(remaining import_i, allocated_i)
 *    (a trade plant → i); the rest of P is the plant's surplus.
 * 2. Pool (`internalTrading: 'pro-rata'`): offers = households' exports + plants' surpluses,
 *    demands = households' remaining imports; T = min(Σ offers, Σ demands) Wh change hands, each
 *    seller giving and each buyer receiving its pro-rata part (largest remainder); sellers and buyers
 *    are paired in id order (north-west corner), so the pool is a short list of trades.
 * What remains is grid import and grid export (the KPI input, MemberSlotFlow).
 *
 * Batteries make a slot depend on the slots before it: they start at the scenario's `start` day
 * (initial state of charge), and a run that begins later first steps the battery households from
 * there. Everything else (weather, load noise, car sessions) is drawn from streams keyed by member
 * and day, so any slot is the same whatever range it is simulated in.
 */

export interface MeterView {
  member: string;
  kind: 'household' | 'plant';
  productionWh: number;
  consumptionWh: number;
  importWh: number;
  exportWh: number;
  /** Battery state of charge after the slot (households with a battery). */
  batterySocWh?: number;
  /** Of consumptionWh, the car's charging. */
  evChargeWh?: number;
}

export interface InternalTrade {
  from: string;
  to: string;
  wh: number;
  via: 'plant' | 'pool';
}

export interface SlotResult {
  slot: number;
  meters: MeterView[];
  trades: InternalTrade[];
  flows: MemberSlotFlow[];
}

interface HouseholdState {
  spec: HouseholdSpec;
  load: HouseholdLoad;
  pv?: PvArray;
  battery?: Battery;
  ev?: ElectricVehicle;
}

function cloudsOf(scenario: Scenario): CloudModel {
  const w = scenario.weather;
  if (w.model === 'clear') return CLEAR_SKY;
  return new MarkovClouds(scenario.seed, {
    transitions: w.transitions,
    clearSkyIndex: [w.clearSkyIndex.clear, w.clearSkyIndex.partly, w.clearSkyIndex.overcast],
  });
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class CommunitySimulation {
  readonly scenario: Scenario;
  /** First slot of the scenario's start day, if it has one. */
  readonly originSlot: number | undefined;
  readonly #clouds: CloudModel;
  readonly #households: HouseholdState[];
  readonly #plants: Array<{ spec: PlantSpec; pv: PvArray; participants: Array<{ index: number; ppm: number }> }>;
  readonly #hasPv: boolean;
  readonly #index = new Map<string, number>();
  /** Next slot the batteries are to be stepped for (they are at their initial state until then). */
  #batterySlot: number | undefined;

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    const tz = scenario.community.timezone;
    const holidays = new Set(scenario.holidays);
    this.#clouds = cloudsOf(scenario);
    this.#households = scenario.households.map((spec, i) => {
      this.#index.set(spec.id, i);
      return {
        spec,
        load: new HouseholdLoad({ seed: scenario.seed, memberId: spec.id, annualKwh: spec.annualKwh, noise: spec.noise ?? scenario.loadNoise, holidays }),
        pv: spec.pv,
        battery: spec.battery && new Battery({ ...spec.battery, initialSocWh: spec.battery.initialSocWh ?? spec.battery.minSocWh }),
        ev: spec.ev && new ElectricVehicle(spec.ev, { seed: scenario.seed, memberId: spec.id, timezone: tz }),
      };
    });
    this.#plants = scenario.sharedPlants.map((spec) => ({
      spec,
      pv: spec.pv,
      participants: [...spec.participants].sort((a, b) => byId(a.member, b.member)).map((p) => ({ index: this.#index.get(p.member)!, ppm: p.ppm })),
    }));
    this.#hasPv = this.#plants.length > 0 || this.#households.some((h) => h.pv);
    if (scenario.start) {
      const [y, m, d] = scenario.start.split('-').map(Number);
      this.originSlot = firstSlotOfDay(tz, y!, m!, d!);
    }
  }

  /** Results for slots [fromSlot, toSlot), in order. */
  *run(fromSlot: number, toSlot: number): Generator<SlotResult> {
    if (!Number.isSafeInteger(fromSlot) || !Number.isSafeInteger(toSlot) || fromSlot < 0 || toSlot <= fromSlot) {
      throw E.SIM_RANGE_INVALID(`slot range [${fromSlot}, ${toSlot}) is empty or not made of whole slot numbers`);
    }
    if (this.originSlot !== undefined && fromSlot < this.originSlot) {
      throw E.SIM_RANGE_INVALID(`slot ${fromSlot} is before the scenario start ${this.scenario.start} (slot ${this.originSlot})`);
    }
    this.#catchUpBatteries(fromSlot);
    for (let slot = fromSlot; slot < toSlot; slot++) yield this.#slot(slot, false)!;
  }

  /** Steps the battery households from the origin (or their last slot) up to `slot`. */
  #catchUpBatteries(slot: number): void {
    if (!this.#households.some((h) => h.battery)) return;
    if (this.#batterySlot === undefined) this.#batterySlot = this.originSlot ?? slot;
    if (slot < this.#batterySlot) {
      throw E.SIM_RANGE_INVALID(`batteries have been simulated up to slot ${this.#batterySlot}; start a new simulation to go back to slot ${slot}`);
    }
    while (this.#batterySlot < slot) this.#slot(this.#batterySlot, true);
  }

  #slot(slot: number, batteriesOnly: boolean): SlotResult | undefined {
    const local = localSlot(this.scenario.community.timezone, slot);
    const sky: SkySample[] = this.#hasPv ? slotSky(this.scenario.community.location, slot, this.#clouds) : [];
    const startMs = slot * SLOT_MS;
    const meters: MeterView[] = [];
    for (const h of this.#households) {
      if (batteriesOnly && !h.battery) continue;
      const productionWh = h.pv ? slotEnergyWh(h.pv, sky) : 0;
      const evChargeWh = h.ev ? h.ev.slotWh(local.epochDay, startMs, startMs + SLOT_MS) : 0;
      const consumptionWh = h.load.slotWh(local) + evChargeWh;
      const step = h.battery?.step(productionWh - consumptionWh);
      const net = consumptionWh - productionWh + (step ? step.chargeWh - step.dischargeWh : 0);
      const meter: MeterView = { member: h.spec.id, kind: 'household', productionWh, consumptionWh, importWh: Math.max(0, net), exportWh: Math.max(0, -net) };
      if (step) meter.batterySocWh = step.socWh;
      if (h.ev) meter.evChargeWh = evChargeWh;
      meters.push(meter);
    }
    if (this.#batterySlot !== undefined && slot === this.#batterySlot) this.#batterySlot = slot + 1;
    if (batteriesOnly) return undefined;
    for (const p of this.#plants) {
      const productionWh = slotEnergyWh(p.pv, sky);
      meters.push({ member: p.spec.id, kind: 'plant', productionWh, consumptionWh: 0, importWh: 0, exportWh: productionWh });
    }
    const trades = this.#share(meters);
    return { slot, meters, trades, flows: flowsOf(slot, meters, trades) };
  }

  /** Internal trades of a slot: shared-plant allocation, then the pro-rata pool. */
  #share(meters: MeterView[]): InternalTrade[] {
    const households = this.#households.length;
    const need = meters.slice(0, households).map((m) => m.importWh);
    const trades: InternalTrade[] = [];
    const surplus: number[] = [];
    this.#plants.forEach((plant, k) => {
      const production = meters[households + k]!.productionWh;
      const n = plant.participants.length;
      const allocated = new Array<number>(n).fill(0);
      if (production > 0) largestRemainder(production, plant.participants.map((p) => p.ppm), 1_000_000, allocated, new Array<number>(n).fill(0));
      let given = 0;
      plant.participants.forEach((p, j) => {
        const covered = Math.min(need[p.index]!, allocated[j]!);
        if (covered > 0) {
          trades.push({ from: plant.spec.id, to: this.#households[p.index]!.spec.id, wh: covered, via: 'plant' });
          need[p.index]! -= covered;
          given += covered;
        }
      });
      surplus.push(production - given);
    });
    if (this.scenario.internalTrading === 'pro-rata') trades.push(...this.#pool(meters, need, surplus));
    return trades;
  }

  #pool(meters: MeterView[], need: number[], plantSurplus: number[]): InternalTrade[] {
    const households = this.#households.length;
    const offers = meters.map((m, i) => ({ id: m.member, wh: i < households ? m.exportWh : plantSurplus[i - households]! })).filter((o) => o.wh > 0);
    const demands = need.map((wh, i) => ({ id: meters[i]!.member, wh })).filter((d) => d.wh > 0);
    const offered = offers.reduce((a, o) => a + o.wh, 0);
    const demanded = demands.reduce((a, d) => a + d.wh, 0);
    const traded = Math.min(offered, demanded);
    if (traded === 0) return [];
    offers.sort((a, b) => byId(a.id, b.id));
    demands.sort((a, b) => byId(a.id, b.id));
    const sell = proRata(traded, offers.map((o) => o.wh), offered);
    const buy = proRata(traded, demands.map((d) => d.wh), demanded);
    const trades: InternalTrade[] = [];
    let j = 0;
    for (let i = 0; i < offers.length; i++) {
      while (sell[i]! > 0) {
        while (buy[j] === 0) j++;
        const wh = Math.min(sell[i]!, buy[j]!);
        trades.push({ from: offers[i]!.id, to: demands[j]!.id, wh, via: 'pool' });
        sell[i]! -= wh;
        buy[j]! -= wh;
      }
    }
    return trades;
  }
}

function proRata(total: number, weights: number[], sum: number): number[] {
  const out = new Array<number>(weights.length).fill(0);
  largestRemainder(total, weights, sum, out, new Array<number>(weights.length).fill(0));
  return out;
}

/** The KPI view of a slot: what each member produced, consumed, traded internally and exchanged with the grid. */
export function flowsOf(slot: number, meters: readonly MeterView[], trades: readonly InternalTrade[]): MemberSlotFlow[] {
  const bought = new Map<string, number>();
  const sold = new Map<string, number>();
  for (const t of trades) {
    bought.set(t.to, (bought.get(t.to) ?? 0) + t.wh);
    sold.set(t.from, (sold.get(t.from) ?? 0) + t.wh);
  }
  return meters.map((m) => {
    const b = bought.get(m.member) ?? 0;
    const s = sold.get(m.member) ?? 0;
    return {
      member: m.member,
      slot,
      producedWh: m.productionWh,
      consumedWh: m.consumptionWh,
      boughtInternallyWh: b,
      soldInternallyWh: s,
      gridImportWh: m.importWh - b,
      gridExportWh: m.exportWh - s,
    };
  });
}

/** All results for [fromSlot, toSlot) of a fresh simulation. */
export function simulateRange(scenario: Scenario, fromSlot: number, toSlot: number): SlotResult[] {
  return [...new CommunitySimulation(scenario).run(fromSlot, toSlot)];
}
