import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandSegments, participantSegments } from '../../src/modules/shares/holdings.js';
import { getPlant } from '../../src/modules/shares/state.js';
import { A, B, C, D, moduleState, newChain, registerMsg, slotAt, transferMsg, util } from './fixture.js';

const people = [A, B, C, D];
const WINDOW = 48;

describe('shares invariants (property tests)', () => {
  it('random transfers keep every slot at exactly 1,000,000 ppm, no holding negative, and match a per-slot model', () => {
    const op = fc.record({
      from: fc.integer({ min: 0, max: 3 }),
      to: fc.integer({ min: 0, max: 3 }),
      ppm: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(100_000, 200_000, 250_000, 400_000)),
      start: fc.integer({ min: 0, max: WINDOW - 1 }),
      len: fc.integer({ min: 1, max: 20 }),
      sameBlock: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const chain = newChain();
        chain.send(util, registerMsg('house-1', 'Europe/Vienna', [[A.address, 250_000], [B.address, 250_000], [C.address, 250_000], [D.address, 250_000]]));
        const base = slotAt(Date.UTC(2026, 2, 5));
        const model = people.map(() => new Array<number>(WINDOW + 20).fill(250_000));
        let pending: Array<{ idx: number; ok: boolean }> = [];
        const txs: Parameters<typeof chain.block>[0] = [];
        const flush = () => {
          if (txs.length === 0) return;
          const results = chain.block(txs.splice(0));
          results.forEach((r, i) => expect(r.code === 'OK').toBe(pending[i]!.ok));
          pending = [];
        };
        for (const o of ops) {
          const from = base + o.start;
          const to = from + o.len;
          let ok = o.from !== o.to;
          if (ok) for (let s = o.start; s < o.start + o.len; s++) if (model[o.from]![s]! < o.ppm) ok = false;
          if (ok) for (let s = o.start; s < o.start + o.len; s++) {
            model[o.from]![s]! -= o.ppm;
            model[o.to]![s]! += o.ppm;
          }
          txs.push(chain.tx(people[o.from]!, [transferMsg(people[o.to]!.address, o.ppm, from, to)]));
          pending.push({ idx: txs.length - 1, ok });
          if (!o.sameBlock) flush();
        }
        flush();
        const plant = getPlant(chain.store, 'house-1')!;
        const cols = people.map((p) => expandSegments(participantSegments(chain.store, plant, p.address, base - 5, base + WINDOW + 25), base - 5, base + WINDOW + 25));
        for (let i = 0; i < WINDOW + 30; i++) {
          let sum = 0;
          cols.forEach((c, j) => {
            expect(c[i]!).toBeGreaterThanOrEqual(0);
            const s = i - 5;
            expect(c[i]).toBe(s >= 0 && s < WINDOW + 20 ? model[j]![s] : 250_000);
            sum += c[i]!;
          });
          expect(sum).toBe(1_000_000);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a new key from a future day voids transfers from that day on and keeps the sums exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999 }), fc.integer({ min: 1, max: 200 }), (ppmA, len) => {
        const chain = newChain();
        chain.send(util, registerMsg());
        const dayStart = slotAt(Date.parse('2026-03-10T00:00:00+01:00'));
        const from = dayStart - 50;
        expect(chain.send(C, transferMsg(A.address, 300_000, from, from + len)).code).toBe('OK');
        const r = chain.send(util, { type: 'shares/set-key', value: { plant: 'house-1', fromDay: '2026-03-10', participants: [{ address: A.address, utility: util.address, ppm: ppmA }, { address: D.address, utility: util.address, ppm: 1_000_000 - ppmA }] } });
        expect(r.code).toBe('OK');
        const plant = getPlant(chain.store, 'house-1')!;
        const lo = from - 2;
        const hi = from + 260;
        const cols = [A, B, C, D].map((p) => expandSegments(participantSegments(chain.store, plant, p.address, lo, hi), lo, hi));
        for (let i = 0; i < hi - lo; i++) {
          const s = lo + i;
          const sum = cols.reduce((acc, c) => acc + c[i]!, 0);
          expect(sum).toBe(1_000_000);
          for (const c of cols) expect(c[i]!).toBeGreaterThanOrEqual(0);
          if (s >= dayStart) expect([cols[0]![i], cols[1]![i], cols[2]![i], cols[3]![i]]).toEqual([ppmA, 0, 0, 1_000_000 - ppmA]);
          else if (s >= from && s < from + len) expect(cols[0]![i]).toBe(500_000);
        }
        // B left the plant with the new key: it can no longer transfer portions there.
        const before = moduleState(chain);
        expect(chain.send(B, transferMsg(A.address, 1, dayStart, dayStart + 1)).code).toBe('SHARES_SENDER_NOT_PARTICIPANT');
        expect(moduleState(chain)).toEqual(before);
      }),
      { numRuns: 25 },
    );
  });
});
