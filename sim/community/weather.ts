import { STREAM, streamPrng, uniform } from './random.js';

/**
 * Seeded cloud cover as a clear-sky index kc (GHI / clear-sky GHI) shared by the whole community.
 *
 * A Markov chain of sky states — clear, partly cloudy, overcast — steps once an hour; each state
 * draws kc uniformly from its range. kc at an instant is linearly interpolated between the values
 * at the surrounding full hours, so it changes smoothly within the hour. The chain restarts every
 * UTC day from the stationary distribution (the first value of day D+1 closes the last hour of day
 * D, so kc stays continuous), which makes any instant computable without simulating from an origin:
 * the same seed gives the same sky whatever range is simulated.
 */

export type SkyState = 0 | 1 | 2;
export const SKY_STATES = ['clear', 'partly', 'overcast'] as const;

export interface MarkovWeatherOptions {
  /** Hourly transition probabilities, rows = from (clear, partly, overcast), each row sums to 1. */
  transitions: readonly (readonly number[])[];
  /** kc range [lo, hi] per state. */
  clearSkyIndex: readonly (readonly [number, number])[];
}

/** Central-European-ish defaults: clear and overcast spells of several hours, partly cloudy between. */
export const DEFAULT_WEATHER: MarkovWeatherOptions = {
  transitions: [
    [0.85, 0.12, 0.03],
    [0.15, 0.7, 0.15],
    [0.05, 0.15, 0.8],
  ],
  clearSkyIndex: [
    [0.95, 1.0],
    [0.45, 0.85],
    [0.15, 0.35],
  ],
};

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;

export interface CloudModel {
  /** Clear-sky index in [0, 1] at a UTC instant. */
  clearSkyIndexAt(unixMs: number): number;
}

export const CLEAR_SKY: CloudModel = { clearSkyIndexAt: () => 1 };

/** Stationary distribution of a 3-state chain (power iteration; the chain is small and ergodic). */
export function stationaryDistribution(transitions: readonly (readonly number[])[]): number[] {
  let p = [1 / 3, 1 / 3, 1 / 3];
  for (let k = 0; k < 500; k++) {
    const next = [0, 0, 0];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) next[j]! += p[i]! * transitions[i]![j]!;
    p = next;
  }
  return p;
}

function draw(probabilities: readonly number[], u: number): SkyState {
  let acc = 0;
  for (let i = 0; i < 2; i++) {
    acc += probabilities[i]!;
    if (u < acc) return i as SkyState;
  }
  return 2;
}

export class MarkovClouds implements CloudModel {
  readonly #seed: number;
  readonly #options: MarkovWeatherOptions;
  readonly #stationary: number[];
  /** kc at hours 0..23 of recently used UTC days (small cache: simulations move forward in time). */
  readonly #days = new Map<number, { states: SkyState[]; kc: number[] }>();

  constructor(seed: number, options: MarkovWeatherOptions = DEFAULT_WEATHER) {
    this.#seed = seed;
    this.#options = options;
    this.#stationary = stationaryDistribution(options.transitions);
  }

  /** Sky states and kc at each full hour of a UTC day (epoch day number). */
  day(epochDay: number): { states: SkyState[]; kc: number[] } {
    let d = this.#days.get(epochDay);
    if (d) return d;
    const prng = streamPrng(this.#seed, STREAM.weather, epochDay);
    const states: SkyState[] = [];
    const kc: number[] = [];
    let state = draw(this.#stationary, prng.next());
    for (let h = 0; h < 24; h++) {
      if (h > 0) state = draw(this.#options.transitions[state]!, prng.next());
      const [lo, hi] = this.#options.clearSkyIndex[state]!;
      states.push(state);
      kc.push(uniform(prng, lo, hi));
    }
    d = { states, kc };
    if (this.#days.size >= 8) this.#days.delete(this.#days.keys().next().value!);
    this.#days.set(epochDay, d);
    return d;
  }

  clearSkyIndexAt(unixMs: number): number {
    const epochDay = Math.floor(unixMs / MS_PER_DAY);
    const hourFloat = (unixMs - epochDay * MS_PER_DAY) / MS_PER_HOUR;
    const hour = Math.floor(hourFloat);
    const frac = hourFloat - hour;
    const today = this.day(epochDay).kc;
    const a = today[hour]!;
    const b = hour < 23 ? today[hour + 1]! : this.day(epochDay + 1).kc[0]!;
    return a + (b - a) * frac;
  }
}
