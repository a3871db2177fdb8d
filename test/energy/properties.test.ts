import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { stateRootOf, type TestAccount, type TestChain } from '../helpers/chain.js';
import { alice, bob, carol, cmeter, energyChain, m, ok, owner, pmeter, S, setupCommunity, xmeter } from './helpers.js';

/**
 * Random sequences of valid and invalid operations on one community, checked against an independent
 * model after every step:
 *  - balances equal the model (which applies only accepted operations);
 *  - a rejected operation changes nothing but the sender's nonce;
 *  - transfers and reductions never leave the debited balance negative (only consumption and mutate can);
 *  - adjustments (mutate) never add labelled energy and never leave a labelled balance negative;
 *  - the community total equals production − consumption + mutations (transfers and reductions conserve energy);
 *  - every label set a trader holds is a subset of a label set it received (labels are never added).
 */

const TRADERS = [alice, bob, carol];
const SLOTS = [S - 2, S - 1, S];
const LABEL_SETS: string[][] = [[], ['solar'], ['local'], ['local', 'solar']];
const METERS = [
  { id: 'P', key: pmeter, trader: alice, labels: ['solar'] },
  { id: 'C', key: cmeter, trader: bob, labels: [] as string[] },
  { id: 'X', key: xmeter, trader: carol, labels: ['local', 'solar'] },
];

type Op =
  | { kind: 'reading'; meter: number; slot: number; imp: number; exp: number }
  | { kind: 'transfer'; from: number; to: number; slot: number; labels: number; wh: number }
  | { kind: 'reduce'; who: number; slot: number; labels: number; remove: number; wh: number }
  | { kind: 'mutate'; who: number; slot: number; labels: number; wh: number };

const slotIdx = fc.integer({ min: 0, max: SLOTS.length - 1 });
const labelIdx = fc.integer({ min: 0, max: LABEL_SETS.length - 1 });
const traderIdx = fc.integer({ min: 0, max: TRADERS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('reading' as const), meter: fc.integer({ min: 0, max: 2 }), slot: slotIdx, imp: fc.integer({ min: 0, max: 3_000 }), exp: fc.integer({ min: 0, max: 3_000 }) }),
  fc.record({ kind: fc.constant('transfer' as const), from: traderIdx, to: traderIdx, slot: slotIdx, labels: labelIdx, wh: fc.integer({ min: -10, max: 4_000 }) }),
  fc.record({ kind: fc.constant('reduce' as const), who: traderIdx, slot: slotIdx, labels: labelIdx, remove: labelIdx, wh: fc.integer({ min: -10, max: 4_000 }) }),
  fc.record({ kind: fc.constant('mutate' as const), who: traderIdx, slot: slotIdx, labels: labelIdx, wh: fc.integer({ min: -2_000, max: 2_000 }) }),
);

const key = (t: TestAccount, slot: number, labels: readonly string[]) => `${t.address}|${slot}|${[...labels].sort().join(',')}`;

function chainBalances(chain: TestChain): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, wh] of chain.store.scan<number>('energy/bal/nb/')) {
    const [addr, slot, lk] = k.slice('energy/bal/nb/'.length).split('/');
    out.set(`${addr}|${Number(slot)}|${lk === '-' ? '' : lk}`, wh);
  }
  return out;
}

function fullState(chain: TestChain): Map<string, string> {
  return new Map(chain.storage.allState());
}

describe('energy invariants (fast-check)', () => {
  it('hold for random sequences of valid and invalid operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 30 }), (ops) => {
        const chain = energyChain();
        setupCommunity(chain);
        ok(chain, owner, [m.addTrader('nb', carol), m.addMeter({ community: 'nb', meterId: 'X', address: xmeter.address, maxPowerW: 100_000, kind: 'producer', trader: carol.address, labels: ['solar', 'local'] })]);
        const model = new Map<string, number>();
        const received = new Map<string, string[][]>(TRADERS.map((t) => [t.address, []]));
        const regs = new Map<string, { imp: number; exp: number; seq: number; slots: Set<number> }>(METERS.map((x) => [x.id, { imp: 0, exp: 0, seq: 0, slots: new Set() }]));
        let external = 0;
        const add = (k: string, d: number) => {
          const v = (model.get(k) ?? 0) + d;
          if (v === 0) model.delete(k);
          else model.set(k, v);
        };

        for (const op of ops) {
          let from: TestAccount;
          let msg: Msg;
          let expectOk: boolean | undefined;
          let apply: () => void = () => {};
          let debited: string | undefined;
          if (op.kind === 'reading') {
            const meter = METERS[op.meter]!;
            const r = regs.get(meter.id)!;
            const slot = SLOTS[op.slot]!;
            from = meter.key;
            // registers continue from the latest accepted reading; out-of-order slots are rejected by the chain
            msg = m.reading({ meterId: meter.id, slot, importWh: op.imp, exportWh: op.exp, importRegisterWh: r.imp + op.imp, exportRegisterWh: r.exp + op.exp, seq: r.seq + 1 });
            const latest = Math.max(-1, ...r.slots);
            expectOk = slot > latest;
            apply = () => {
              r.imp += op.imp;
              r.exp += op.exp;
              r.seq += 1;
              r.slots.add(slot);
              if (op.exp > 0) {
                add(key(meter.trader, slot, meter.labels), op.exp);
                received.get(meter.trader.address)!.push(meter.labels);
              }
              if (op.imp > 0) add(key(meter.trader, slot, []), -op.imp);
              external += op.exp - op.imp;
            };
          } else if (op.kind === 'transfer') {
            const a = TRADERS[op.from]!;
            const b = TRADERS[op.to]!;
            const slot = SLOTS[op.slot]!;
            const labels = LABEL_SETS[op.labels]!;
            from = a;
            msg = m.transfer('nb', b, slot, labels, op.wh);
            debited = key(a, slot, labels);
            expectOk = a !== b && op.wh > 0 && (model.get(debited) ?? 0) >= op.wh;
            apply = () => {
              add(key(a, slot, labels), -op.wh);
              add(key(b, slot, labels), op.wh);
              received.get(b.address)!.push(labels);
            };
          } else if (op.kind === 'reduce') {
            const t = TRADERS[op.who]!;
            const slot = SLOTS[op.slot]!;
            const labels = LABEL_SETS[op.labels]!;
            const remove = LABEL_SETS[op.remove]!;
            from = t;
            msg = m.reduce('nb', slot, labels, remove, op.wh);
            debited = key(t, slot, labels);
            expectOk = op.wh > 0 && remove.length > 0 && remove.every((l) => labels.includes(l)) && (model.get(debited) ?? 0) >= op.wh;
            apply = () => {
              add(key(t, slot, labels), -op.wh);
              add(key(t, slot, labels.filter((l) => !remove.includes(l))), op.wh);
            };
          } else {
            const t = TRADERS[op.who]!;
            const slot = SLOTS[op.slot]!;
            const labels = LABEL_SETS[op.labels]!;
            from = owner;
            msg = m.mutate('nb', t, slot, op.wh, 'external supplier', labels);
            // adjustments add unlabelled energy only, and remove at most the labelled energy held
            expectOk = op.wh !== 0 && (labels.length === 0 || (op.wh < 0 && (model.get(key(t, slot, labels)) ?? 0) >= -op.wh));
            apply = () => {
              add(key(t, slot, labels), op.wh);
              if (op.wh > 0) received.get(t.address)!.push(labels);
              external += op.wh;
            };
          }

          const before = fullState(chain);
          const nonceKey = NONCE_PREFIX + from.address;
          const oldNonce = chain.storage.getRaw(nonceKey);
          const res = chain.send(from, msg);
          expect(res.code === 'OK', `${op.kind}: ${res.code} ${res.message}`).toBe(expectOk);
          if (res.code === 'OK') {
            apply();
            if (debited !== undefined) expect(chainBalances(chain).get(debited) ?? 0).toBeGreaterThanOrEqual(0);
          } else {
            expect(chain.storage.getRaw(nonceKey)).toBe(String(oldNonce === undefined ? 1 : Number(oldNonce) + 1));
            before.set(nonceKey, chain.storage.getRaw(nonceKey)!);
            expect(Object.fromEntries(fullState(chain))).toEqual(Object.fromEntries(before));
            expect(chain.stateRoot).toBe(stateRootOf(before));
          }

          const actual = chainBalances(chain);
          expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...model].sort()));
          expect([...actual.values()].reduce((s, v) => s + v, 0)).toBe(external);
          for (const [k, wh] of actual) {
            const [addr, , lk] = k.split('|');
            const held = lk ? lk.split(',') : [];
            if (held.length > 0) expect(wh, `${k}: a labelled balance went negative`).toBeGreaterThanOrEqual(0);
            if (held.length === 0 || wh <= 0) continue;
            expect(received.get(addr!)!.some((r) => held.every((l) => r.includes(l))), `${k} holds labels never received`).toBe(true);
          }
        }
        // every negative balance is explained by consumption or a mutation in the history
        for (const [k, wh] of chainBalances(chain)) {
          if (wh >= 0) continue;
          const [addr, slot, lk] = k.split('|');
          const hist = chain.store.scan<any>(`energy/hist/nb/${addr}/`).map(([, e]) => e);
          expect(hist.some((e) => e.slot === Number(slot) && e.labels.join(',') === lk && (e.kind === 'consumption' || (e.kind === 'mutate' && e.deltaWh < 0)))).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  });
});
