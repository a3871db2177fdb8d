import { describe, expect, it } from 'vitest';
import { continues, RegisterGuard } from '../../src/edge/agent/guard.js';
import { sample } from './fixtures.js';

const T = Date.UTC(2026, 5, 1, 10, 0, 0);
const at = (s: number, regs: [number, number, number, number]) => sample('E1', T + s * 10_000, regs);
const kinds = (ds: ReturnType<RegisterGuard['offer']>) => ds.map((d) => (d.kind === 'accept' ? `accept${d.startsEpoch ? '+epoch' : ''} ${d.sample.importT2Wh}` : `${d.kind} ${d.sample.importT2Wh}`));

describe('register guard', () => {
  it('passes samples that continue: nothing down, nothing faster than the rating', () => {
    const a = at(0, [0, 1000, 0, 0]);
    expect(continues(a, at(1, [0, 1010, 0, 0]), 10_000)).toBe(true);
    // 10 kW for 10 s is 27.8 Wh (+2 Wh rounding slack): 29 passes, 30 does not.
    expect(continues(a, at(1, [0, 1029, 0, 0]), 10_000)).toBe(true);
    expect(continues(a, at(1, [0, 1030, 0, 0]), 10_000)).toBe(false);
    expect(continues(a, at(1, [0, 999, 0, 0]), 10_000)).toBe(false);
    expect(continues(a, at(1, [0, 1_000_000, 0, 0]), undefined)).toBe(true);
    // Each direction on its own: export may rise as much as import.
    expect(continues(a, at(1, [0, 1029, 29, 0]), 10_000)).toBe(true);
    // Rating × time beyond 2^53 Wh·ms is computed exactly.
    expect(continues(a, sample('E1', T + 400 * 86_400_000, [0, 1000 + 9_600_000_000_000, 0, 0]), 1_000_000_000)).toBe(true);
  });

  it('a single sample whose registers drop is a glitch when the next one continues from before it', () => {
    const g = new RegisterGuard();
    const last = at(0, [0, 1000, 0, 0]);
    expect(kinds(g.offer(last, at(1, [0, 0, 0, 0]), 10_000))).toEqual(['hold 0']);
    expect(kinds(g.offer(last, at(2, [0, 1020, 0, 0]), 10_000))).toEqual(['refuse 0', 'accept 1020']);
    expect(g.pending).toBeUndefined();
  });

  it('an impossible jump up is a glitch too', () => {
    const g = new RegisterGuard();
    const last = at(0, [0, 1000, 0, 0]);
    expect(kinds(g.offer(last, at(1, [0, 99_000, 0, 0]), 10_000))).toEqual(['hold 99000']);
    expect(kinds(g.offer(last, at(2, [0, 1010, 0, 0]), 10_000))).toEqual(['refuse 99000', 'accept 1010']);
  });

  it('a swap is confirmed by the next sample continuing from the new registers: the held sample starts an epoch', () => {
    const g = new RegisterGuard();
    const last = at(0, [0, 1000, 0, 0]);
    expect(kinds(g.offer(last, at(1, [0, 5, 0, 0]), 10_000))).toEqual(['hold 5']);
    expect(kinds(g.offer(last, at(2, [0, 12, 0, 0]), 10_000))).toEqual(['accept+epoch 5', 'accept 12']);
    // A swap to a meter with higher registers as well.
    const up = new RegisterGuard();
    expect(kinds(up.offer(last, at(1, [0, 500_000, 0, 0]), 10_000))).toEqual(['hold 500000']);
    expect(kinds(up.offer(last, at(2, [0, 500_010, 0, 0]), 10_000))).toEqual(['accept+epoch 500000', 'accept 500010']);
  });

  it('a next sample that fits neither refuses the held one and is held in its place; drop gives the held one up', () => {
    const g = new RegisterGuard();
    const last = at(0, [0, 1000, 0, 0]);
    g.offer(last, at(1, [0, 5, 0, 0]), 10_000);
    expect(kinds(g.offer(last, at(2, [0, 3, 0, 0]), 10_000))).toEqual(['refuse 5', 'hold 3']);
    expect(g.drop()?.importT2Wh).toBe(3);
    expect(g.pending).toBeUndefined();
    // A meter's first sample has nothing to continue from.
    expect(kinds(new RegisterGuard().offer(undefined, at(0, [0, 7, 0, 0]), 10_000))).toEqual(['accept 7']);
  });
});
