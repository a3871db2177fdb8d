/**
 * A home battery run for self-consumption, in whole Wh (integer arithmetic, so the meter view it
 * feeds is exact): each slot it charges from the household's PV surplus and discharges into its
 * deficit, limited by its power and its state of charge; it never charges from or exports to the
 * grid. Losses: each direction has efficiency η = √(round-trip efficiency), held in ppm.
 *
 *   charge:    in = min(surplus, P·¼h, floor((capacity − soc)·10⁶ / η)), soc += floor(in·η / 10⁶)
 *   discharge: out = min(deficit, P·¼h, floor((soc − minSoc)·η / 10⁶)), soc −= ceil(out·10⁶ / η)
 * so soc stays within [minSoc, capacity] and no energy is created.
 */

export interface BatterySpec {
  capacityWh: number;
  /** Charge and discharge power limit (W). */
  maxPowerW: number;
  /** Round-trip efficiency, 0 < e ≤ 1. */
  roundTripEfficiency: number;
  /** Lowest state of charge it discharges to (Wh). */
  minSocWh: number;
  /** State of charge at the simulation origin (Wh). */
  initialSocWh: number;
}

export interface BatteryStep {
  /** Wh taken in from the surplus. */
  chargeWh: number;
  /** Wh delivered to the deficit. */
  dischargeWh: number;
  socWh: number;
}

const PPM = 1_000_000;

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

export class Battery {
  readonly spec: BatterySpec;
  readonly #effPpm: number;
  readonly #slotLimitWh: number;
  #soc: number;

  constructor(spec: BatterySpec) {
    this.spec = spec;
    this.#effPpm = Math.round(Math.sqrt(spec.roundTripEfficiency) * PPM);
    this.#slotLimitWh = Math.floor(spec.maxPowerW / 4);
    this.#soc = spec.initialSocWh;
  }

  get socWh(): number {
    return this.#soc;
  }

  /** One slot: `netWh` = production − consumption of the household (positive = surplus). */
  step(netWh: number): BatteryStep {
    let chargeWh = 0;
    let dischargeWh = 0;
    if (netWh > 0) {
      const room = this.spec.capacityWh - this.#soc;
      chargeWh = Math.min(netWh, this.#slotLimitWh, Math.floor((room * PPM) / this.#effPpm));
      this.#soc += Math.floor((chargeWh * this.#effPpm) / PPM);
    } else if (netWh < 0) {
      const available = this.#soc - this.spec.minSocWh;
      dischargeWh = Math.max(0, Math.min(-netWh, this.#slotLimitWh, Math.floor((available * this.#effPpm) / PPM)));
      this.#soc -= ceilDiv(dischargeWh * PPM, this.#effPpm);
    }
    return { chargeWh, dischargeWh, socWh: this.#soc };
  }
}
