import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Msg } from '../../src/codec/tx.js';
import type { TestAccount, TestChain } from '../helpers/chain.js';
import { alice, bal, bob, carol, cmeter, energyChain, m, ok, owner, pmeter, reading, rejects, S, utility2, xmeter } from './helpers.js';

/**
 * Issue 9 #6: labelled energy is created by production only. A member community's owner cannot turn
 * its own adjustments into labelled energy, neither in its community nor, through settle-to-parent,
 * in the parent where it could pass it on as `solar`.
 *
 * Fixture: parent "city" (owner utility2, traders owner and bob); member "kid" (owner `owner`,
 * traders alice, bob, carol) with producer meters P (alice, solar) and X (carol, local+solar) and
 * consumer meter C (bob).
 */

function stacked(): TestChain {
  const chain = energyChain();
  ok(chain, utility2, [m.create({ id: 'city' }), m.addTrader('city', owner), m.addTrader('city', bob)]);
  ok(chain, owner, [m.create({ id: 'kid', parent: 'city' }), m.addTrader('kid', alice), m.addTrader('kid', bob), m.addTrader('kid', carol)]);
  ok(chain, owner, [
    m.addMeter({ community: 'kid', meterId: 'P', address: pmeter.address, maxPowerW: 100_000, kind: 'producer', trader: alice.address, labels: ['solar'] }),
    m.addMeter({ community: 'kid', meterId: 'X', address: xmeter.address, maxPowerW: 100_000, kind: 'producer', trader: carol.address, labels: ['solar', 'local'] }),
    m.addMeter({ community: 'kid', meterId: 'C', address: cmeter.address, maxPowerW: 100_000, kind: 'consumer', trader: bob.address }),
  ]);
  return chain;
}

describe('labels come from production only', () => {
  it("a member community's owner cannot mint solar in the parent through its own adjustment", () => {
    const chain = stacked();
    rejects(chain, owner, m.mutate('kid', owner, S, 1_000_000, 'free solar', ['solar']), 'ENERGY_MUTATE_LABELLED_CREDIT');
    rejects(chain, owner, m.settle('kid', S), 'ENERGY_NOTHING_TO_SETTLE');
    rejects(chain, owner, m.transfer('city', bob, S, ['solar'], 1_000_000), 'ENERGY_INSUFFICIENT_BALANCE');
    expect(bal(chain, 'city', bob, S, ['solar'])).toBe(0);
  });

  it('nor through a labelled debit that settlement would turn into its own credit', () => {
    const chain = stacked();
    rejects(chain, owner, m.mutate('kid', alice, S, -1_000, 'made-up debt', ['solar']), 'ENERGY_MUTATE_EXCEEDS_LABELLED');
    expect(bal(chain, 'kid', alice, S, ['solar'])).toBe(0);
  });

  it('produced solar still settles labelled; adjustments settle unlabelled', () => {
    const chain = stacked();
    ok(chain, pmeter, reading('P', S, 0, 800, 1));
    ok(chain, owner, m.mutate('kid', bob, S, 300, 'supplied by external party'));
    ok(chain, owner, m.settle('kid', S));
    expect(bal(chain, 'city', owner, S, ['solar'])).toBe(800);
    expect(bal(chain, 'city', owner, S)).toBe(300);
    ok(chain, owner, m.transfer('city', bob, S, ['solar'], 800));
    expect(bal(chain, 'city', bob, S, ['solar'])).toBe(800);
  });
});

type Op =
  | { kind: 'reading'; meter: number; slot: number; imp: number; exp: number }
  | { kind: 'transfer'; community: number; from: number; to: number; slot: number; labels: number; wh: number }
  | { kind: 'reduce'; community: number; who: number; slot: number; labels: number; remove: number; wh: number }
  | { kind: 'mutate'; who: number; slot: number; labels: number; wh: number }
  | { kind: 'settle'; slot: number };

const SLOTS = [S - 1, S];
const LABEL_SETS: string[][] = [[], ['solar'], ['local'], ['local', 'solar']];
const LABELS = ['solar', 'local'];
const COMMUNITIES = ['kid', 'city'];
/** Traders by community: kid → alice, bob, carol, owner; city → owner, bob. */
const TRADERS: TestAccount[][] = [
  [alice, bob, carol, owner],
  [owner, bob],
];
const METERS = [
  { id: 'P', key: pmeter, labels: ['solar'] },
  { id: 'X', key: xmeter, labels: ['local', 'solar'] },
  { id: 'C', key: cmeter, labels: [] as string[] },
];

const idx = (n: number) => fc.integer({ min: 0, max: n - 1 });
const amount = fc.integer({ min: -500, max: 2_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('reading' as const), meter: idx(METERS.length), slot: idx(SLOTS.length), imp: fc.integer({ min: 0, max: 2_000 }), exp: fc.integer({ min: 0, max: 2_000 }) }),
  fc.record({ kind: fc.constant('transfer' as const), community: idx(2), from: idx(4), to: idx(4), slot: idx(SLOTS.length), labels: idx(LABEL_SETS.length), wh: amount }),
  fc.record({ kind: fc.constant('reduce' as const), community: idx(2), who: idx(4), slot: idx(SLOTS.length), labels: idx(LABEL_SETS.length), remove: idx(LABEL_SETS.length), wh: amount }),
  fc.record({ kind: fc.constant('mutate' as const), who: idx(4), slot: idx(SLOTS.length), labels: idx(LABEL_SETS.length), wh: amount }),
  fc.record({ kind: fc.constant('settle' as const), slot: idx(SLOTS.length) }),
);

/** Σ over traders of max(0, energy held in label sets containing `label`) in one community and slot. */
function positiveLabelled(chain: TestChain, community: string, slot: number, label: string): number {
  const perTrader = new Map<string, number>();
  for (const [k, wh] of chain.store.scan<number>(`energy/bal/${community}/`)) {
    const [trader, s, lk] = k.slice(`energy/bal/${community}/`.length).split('/');
    if (Number(s) !== slot || lk === '-' || !lk!.split(',').includes(label)) continue;
    perTrader.set(trader!, (perTrader.get(trader!) ?? 0) + wh);
  }
  return [...perTrader.values()].reduce((sum, wh) => sum + Math.max(0, wh), 0);
}

describe('labelled energy is bounded by production (fast-check)', () => {
  it('in the member community and in its parent, whatever the owner and traders do', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 25 }), (ops) => {
        const chain = stacked();
        const produced = new Map<string, number>(); // `${slot}|${label}` → Wh produced with that label
        const seq = new Map<string, { imp: number; exp: number; n: number; last: number }>();
        for (const op of ops) {
          let from: TestAccount;
          let msg: Msg;
          if (op.kind === 'reading') {
            const meter = METERS[op.meter]!;
            const r = seq.get(meter.id) ?? { imp: 0, exp: 0, n: 0, last: -1 };
            const slot = SLOTS[op.slot]!;
            from = meter.key;
            const imp = meter.labels.length === 0 ? op.imp : 0;
            const exp = meter.labels.length === 0 ? 0 : op.exp;
            msg = reading(meter.id, slot, imp, exp, r.n + 1, { imp: r.imp, exp: r.exp });
            const res = chain.send(from, msg);
            if (res.code === 'OK') {
              seq.set(meter.id, { imp: r.imp + imp, exp: r.exp + exp, n: r.n + 1, last: slot });
              for (const l of meter.labels) produced.set(`${slot}|${l}`, (produced.get(`${slot}|${l}`) ?? 0) + exp);
              accepted++;
            }
          } else {
            if (op.kind === 'transfer') {
              const traders = TRADERS[op.community]!;
              from = traders[op.from % traders.length]!;
              msg = m.transfer(COMMUNITIES[op.community]!, traders[op.to % traders.length]!, SLOTS[op.slot]!, LABEL_SETS[op.labels]!, op.wh);
            } else if (op.kind === 'reduce') {
              const traders = TRADERS[op.community]!;
              from = traders[op.who % traders.length]!;
              msg = m.reduce(COMMUNITIES[op.community]!, SLOTS[op.slot]!, LABEL_SETS[op.labels]!, LABEL_SETS[op.remove]!, op.wh);
            } else if (op.kind === 'mutate') {
              from = owner;
              msg = m.mutate('kid', TRADERS[0]![op.who]!, SLOTS[op.slot]!, op.wh, 'adjustment', LABEL_SETS[op.labels]!);
            } else {
              from = owner;
              msg = m.settle('kid', SLOTS[op.slot]!);
            }
            if (chain.send(from, msg).code === 'OK') accepted++;
          }
          for (const slot of SLOTS) {
            for (const label of LABELS) {
              const limit = produced.get(`${slot}|${label}`) ?? 0;
              for (const community of COMMUNITIES) {
                expect(positiveLabelled(chain, community, slot, label), `${community} slot ${slot} ${label} after ${op.kind}`).toBeLessThanOrEqual(limit);
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    );
    // Not vacuous: about 110–145 of the ~600 random operations are accepted (seen once: 95); a
    // generator or chain that refused nearly everything would stay far below this bound.
    expect(accepted).toBeGreaterThan(50);
  });
});
