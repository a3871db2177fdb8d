import { Prng } from '../prng.js';

/**
 * Independent random streams for the simulation. Each stream is a `Prng` (sim/prng.ts) seeded from
 * the scenario seed and a key (what, whose, which day), so a household's noise on a day does not
 * depend on which other households exist or on which slot range is simulated.
 */

/** Stream kinds, part of the key so that two streams of one member never coincide. */
export const STREAM = { weather: 1, load: 2, ev: 3 } as const;

/** FNV-1a (32 bit) of a string: turns member ids into stream keys. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes 32-bit parts into one seed (murmur3 finaliser after each part). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = (h ^ (part >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

export function streamPrng(...parts: number[]): Prng {
  return new Prng(mixSeed(...parts));
}

/** Standard normal draw (Box–Muller); uses two uniforms. */
export function normal(prng: Prng): number {
  const u = 1 - prng.next(); // (0, 1]: log(0) is avoided
  const v = prng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Uniform in [lo, hi). */
export function uniform(prng: Prng, lo: number, hi: number): number {
  return lo + (hi - lo) * prng.next();
}
