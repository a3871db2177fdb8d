/**
 * Randomized sweep: many seeds, each with a random size, network quality, a crash/restart, a partition
 * and its healing, and sometimes an equivocating twin or an invalid-block proposer. Every run must keep
 * agreement, validity and single signing, and must reach the target height after the faults end.
 */
import { describe, it, expect } from 'vitest';
import { Simulator } from '../../sim/simulator.js';
import { Prng } from '../../sim/prng.js';
import { expectSafe } from './helpers.js';

const SEEDS = 40;

function runSeed(seed: number): { failures: string[]; n: number } {
  const r = new Prng(seed * 7919);
  const n = r.pick([1, 4, 4, 7]);
  const f = Math.floor((n - 1) / 3);
  const twin = n > 1 && r.chance(0.2) ? r.int(0, n - 1) : undefined;
  const invalid = n > 1 && twin === undefined && r.chance(0.2) ? [r.int(0, n - 1)] : [];
  const sim = new Simulator({
    validators: n,
    seed,
    network: { minDelayMs: r.int(1, 10), maxDelayMs: r.int(20, 120), dropRate: r.pick([0, 0.05, 0.15]), duplicateRate: r.pick([0, 0.1, 0.3]) },
    twinOf: twin,
    invalidProposers: invalid,
    commitDelayMs: r.int(20, 60),
  });
  sim.start();
  // A crash and restart of up to f honest validators (the twin's key already uses the fault budget).
  const crashable = sim.honestNodes().slice(0, twin === undefined ? f : 0);
  for (const node of crashable) {
    const at = r.int(0, 2000);
    sim.at(at, () => sim.crash(node));
    sim.at(at + r.int(100, 2500), () => sim.restart(node));
  }
  // A partition: either isolating up to f nodes, or an even split that halts the chain.
  const split = r.chance(0.5) ? Math.floor(n / 2) : f;
  const pStart = r.int(300, 2500);
  const pEnd = pStart + r.int(300, 3000);
  if (split > 0) {
    sim.at(pStart, () => sim.partition([Array.from({ length: split }, (_, i) => i), Array.from({ length: sim.nodes.length - split }, (_, i) => i + split)]));
    sim.at(pEnd, () => sim.heal());
  }
  const faultsOver = Math.max(pEnd, 4000);
  sim.runUntil(() => sim.now >= faultsOver, faultsOver);
  const target = Math.max(...sim.honestNodes().map((x) => x.height)) + 3;
  const live = sim.runUntil(() => sim.minHonestHeight() >= target, sim.now + 120_000);
  const failures = expectSafe(sim);
  if (!live) failures.push(`liveness: heights ${sim.nodes.map((x) => x.height).join(',')} did not reach ${target}`);
  return { failures: failures.map((x) => `seed ${seed} (n=${n}): ${x}`), n };
}

describe('randomized sweep', () => {
  it(`keeps safety and liveness over ${SEEDS} seeds`, () => {
    const failures: string[] = [];
    const sizes = new Set<number>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runSeed(seed);
      sizes.add(result.n);
      failures.push(...result.failures);
    }
    expect(failures).toEqual([]);
    expect([...sizes].sort()).toEqual([1, 4, 7]);
  });

  it('is deterministic: the same seed gives the same chains', () => {
    const run = () => {
      const sim = new Simulator({ validators: 4, seed: 99, network: { dropRate: 0.1, duplicateRate: 0.2 } });
      sim.start();
      sim.runUntil(() => sim.minHonestHeight() >= 4, 60_000);
      return { now: sim.now, chains: sim.nodes.map((x) => x.chain.map((b) => b.blockHash).join()) };
    };
    expect(run()).toEqual(run());
  });
});
