import { dayOfYear, epochDayOf, type LocalSlot } from './calendar.js';
import { H0_DECIWATT } from './h0.js';
import { STREAM, hashString, normal, streamPrng } from './random.js';

/**
 * Household consumption: the BDEW H0 standard load profile (h0.ts), dynamised with BDEW's
 * 4th-degree polynomial of the day of the year, scaled so that the local calendar year sums to the
 * household's annual consumption, times seeded multiplicative noise.
 *
 *   F(t) = −3.92e−10·t⁴ + 3.2e−7·t³ − 7.02e−5·t² + 2.1e−3·t + 1.24   (t = day of year, 1 … 366)
 *   P(q, day) = H0[season(day)][dayType(day)][q] · F(t)               (W for 1,000 kWh/a)
 *   E(slot) = P · 0.25 h · annualKwh · 1000 / Y(year)                  (Y = Σ of P · 0.25 h over the year)
 *   Wh(slot) = round(E · dayLevel · slotNoise)                        (nearest, halves up)
 *
 * Noise (per household, per local day, its own random stream): dayLevel = exp(σd·N − σd²/2) and an
 * AR(1) series x_k = ρ·x_{k−1} + √(1−ρ²)·N over the slots of the day, slotNoise = exp(σs·x_k − σs²/2);
 * both have mean 1, so the expected annual total stays the annual consumption. The profile is the
 * average of many households; the noise stands for one household's spikier use.
 */

export type Season = 'winter' | 'summer' | 'transition';
export type DayType = 'weekday' | 'saturday' | 'sunday';

export interface LoadNoise {
  /** σ of the log day level. */
  dailySigma: number;
  /** σ of the log slot factor. */
  slotSigma: number;
  /** Lag-1 correlation ρ of the slot factor, 0 ≤ ρ < 1. */
  slotCorrelation: number;
}

export const DEFAULT_LOAD_NOISE: LoadNoise = { dailySigma: 0.15, slotSigma: 0.35, slotCorrelation: 0.7 };
export const NO_NOISE: LoadNoise = { dailySigma: 0, slotSigma: 0, slotCorrelation: 0 };

export function seasonOf(month: number, day: number): Season {
  const md = month * 100 + day;
  if (md >= 1101 || md <= 320) return 'winter';
  if (md >= 515 && md <= 914) return 'summer';
  return 'transition';
}

/** Day type per BDEW: holidays (local "YYYY-MM-DD") count as Sundays, 24 and 31 Dec as Saturdays. */
export function dayTypeOf(date: { date: string; month: number; day: number; weekday: number }, holidays: ReadonlySet<string>): DayType {
  if (date.weekday === 0 || holidays.has(date.date)) return 'sunday';
  if (date.weekday === 6 || (date.month === 12 && (date.day === 24 || date.day === 31))) return 'saturday';
  return 'weekday';
}

/** BDEW dynamisation factor for a day of the year. */
export function dynamisationFactor(dayOfYear: number): number {
  const t = dayOfYear;
  return -3.92e-10 * t ** 4 + 3.2e-7 * t ** 3 - 7.02e-5 * t ** 2 + 2.1e-3 * t + 1.24;
}

/** Dynamised H0 power (W) for 1,000 kWh/a in a local quarter hour. */
export function h0PowerW(season: Season, dayType: DayType, quarter: number, dayOfYear: number): number {
  return (H0_DECIWATT[`${season}_${dayType}`][quarter]! / 10) * dynamisationFactor(dayOfYear);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

const yearSums = new Map<string, number>();

/** Y: energy (Wh) of the dynamised H0 profile over a calendar year (96 quarter hours a day). */
export function h0YearWh(year: number, holidays: ReadonlySet<string>): number {
  const key = `${year}|${[...holidays].filter((d) => d.startsWith(`${year}-`)).sort().join(',')}`;
  const cached = yearSums.get(key);
  if (cached !== undefined) return cached;
  let sum = 0;
  const first = epochDayOf(year, 1, 1);
  const last = epochDayOf(year, 12, 31);
  for (let e = first; e <= last; e++) {
    const d = new Date(e * 86_400_000);
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    const season = seasonOf(month, day);
    const type = dayTypeOf({ date: `${pad(year, 4)}-${pad(month)}-${pad(day)}`, month, day, weekday: d.getUTCDay() }, holidays);
    const doy = dayOfYear(year, month, day);
    const profile = H0_DECIWATT[`${season}_${type}`];
    let daySum = 0;
    for (let q = 0; q < 96; q++) daySum += profile[q]!;
    sum += (daySum / 10) * dynamisationFactor(doy) * 0.25;
  }
  yearSums.set(key, sum);
  return sum;
}

export interface HouseholdLoadOptions {
  seed: number;
  memberId: string;
  annualKwh: number;
  noise: LoadNoise;
  holidays: ReadonlySet<string>;
}

/** Slots of a local day at most (100 on the autumn DST change). */
const MAX_SLOTS_PER_DAY = 100;

export class HouseholdLoad {
  readonly #options: HouseholdLoadOptions;
  readonly #key: number;
  #noiseDay = Number.NaN;
  #dayLevel = 1;
  readonly #slotFactors = new Float64Array(MAX_SLOTS_PER_DAY);
  readonly #yearWh = new Map<number, number>();

  constructor(options: HouseholdLoadOptions) {
    this.#options = options;
    this.#key = hashString(options.memberId);
  }

  /** Expected energy (float Wh) of the slot before noise. */
  expectedWh(local: LocalSlot): number {
    const season = seasonOf(local.month, local.day);
    const type = dayTypeOf(local, this.#options.holidays);
    const quarter = Math.floor(local.minuteOfDay / 15);
    const powerW = h0PowerW(season, type, quarter, local.dayOfYear);
    let yearWh = this.#yearWh.get(local.year);
    if (yearWh === undefined) this.#yearWh.set(local.year, (yearWh = h0YearWh(local.year, this.#options.holidays)));
    return (powerW * 0.25 * this.#options.annualKwh * 1000) / yearWh;
  }

  /** Noise factor (mean 1) of the slot. */
  noiseFactor(local: LocalSlot): number {
    if (local.epochDay !== this.#noiseDay) this.#drawDay(local.epochDay);
    return this.#dayLevel * this.#slotFactors[local.indexInDay]!;
  }

  /** Whole Wh consumed in the slot. */
  slotWh(local: LocalSlot): number {
    return Math.round(this.expectedWh(local) * this.noiseFactor(local));
  }

  #drawDay(epochDay: number): void {
    const { dailySigma, slotSigma, slotCorrelation: rho } = this.#options.noise;
    const prng = streamPrng(this.#options.seed, STREAM.load, this.#key, epochDay);
    this.#dayLevel = Math.exp(dailySigma * normal(prng) - (dailySigma * dailySigma) / 2);
    const innovation = Math.sqrt(1 - rho * rho);
    let x = normal(prng);
    for (let k = 0; k < MAX_SLOTS_PER_DAY; k++) {
      if (k > 0) x = rho * x + innovation * normal(prng);
      this.#slotFactors[k] = Math.exp(slotSigma * x - (slotSigma * slotSigma) / 2);
    }
    this.#noiseDay = epochDay;
  }
}
