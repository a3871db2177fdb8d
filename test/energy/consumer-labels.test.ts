import { describe, expect, it } from 'vitest';
import { account } from '../helpers/chain.js';
import { alice, bal, bob, energyChain, m, ok, owner, pmeter, reading, rejects, S } from './helpers.js';

/** Issue 19 #14 (HanzeNet, SEEDS §4): consumer meters may carry labels; transfers take an optional description. */

const hmeter = account('cmeter');

function community() {
  const chain = energyChain();
  ok(chain, owner, m.create({ id: 'hz', name: 'HanzeNet' }));
  ok(chain, owner, [m.addTrader('hz', alice), m.addTrader('hz', bob)]);
  ok(chain, owner, [
    m.addMeter({ community: 'hz', meterId: 'P', address: pmeter.address, maxPowerW: 100_000, kind: 'producer', trader: alice.address, labels: ['solar'] }),
    m.addMeter({ community: 'hz', meterId: 'H', address: hmeter.address, maxPowerW: 100_000, kind: 'consumer', trader: bob.address, labels: ['heatpump'] }),
  ]);
  return chain;
}

const history = (chain: ReturnType<typeof energyChain>) => chain.store.scan<{ trader: string; kind: string; labels: string[]; deltaWh: number; description?: string }>('energy/hist/').map(([, e]) => e);

describe('energy: labelled consumer meters', () => {
  it('debit consumption with the consumer meter labels; production and a producer import stay as before', () => {
    const chain = community();
    const link = chain.store.scan<{ kind: string; labels: string[] }>('energy/link/H/').map(([, l]) => l);
    expect(link.map((l) => [l.kind, l.labels])).toEqual([['consumer', ['heatpump']]]);
    ok(chain, hmeter, reading('H', S, 1_500, 200, 1));
    ok(chain, pmeter, reading('P', S, 300, 10_000, 1));
    // bob: the heat pump's import under its label, its export unlabelled
    expect(bal(chain, 'hz', bob, S, ['heatpump'])).toBe(-1_500);
    expect(bal(chain, 'hz', bob, S)).toBe(200);
    // alice: production with the producer's labels, its import unlabelled
    expect(bal(chain, 'hz', alice, S, ['solar'])).toBe(10_000);
    expect(bal(chain, 'hz', alice, S)).toBe(-300);
    expect(history(chain).find((e) => e.kind === 'consumption' && e.trader === bob.address)?.labels).toEqual(['heatpump']);
  });

  it('still refuses bad labels on any meter (bad-input rows)', () => {
    const chain = community();
    const base = { community: 'hz', meterId: 'X', kind: 'consumer', trader: bob.address, address: account('xmeter').address, maxPowerW: 1000 };
    for (const labels of [['Solar'], ['a', 'a'], ['x'.repeat(33)], Array.from({ length: 9 }, (_, i) => `l${i}`), [''], 'solar']) {
      rejects(chain, owner, m.addMeter({ ...base, labels }), 'MSG_INVALID');
    }
  });
});

describe('energy: transfer descriptions', () => {
  it('keeps an optional description in both traders’ history and the event', () => {
    const chain = community();
    ok(chain, pmeter, reading('P', S, 0, 10_000, 1));
    const res = ok(chain, alice, { type: 'energy/transfer', value: { community: 'hz', to: bob.address, slot: S, labels: ['solar'], wh: 4_000, description: '  for the sauna  ' } });
    expect(res.events.find((e) => e.type === 'energy.transfer')?.attributes.description).toBe('for the sauna');
    const moved = history(chain).filter((e) => e.kind === 'transfer-out' || e.kind === 'transfer-in');
    expect(moved.map((e) => [e.kind, e.deltaWh, e.description])).toEqual(
      expect.arrayContaining([
        ['transfer-out', -4_000, 'for the sauna'],
        ['transfer-in', 4_000, 'for the sauna'],
      ]),
    );
    // Without one, the history carries none.
    ok(chain, alice, m.transfer('hz', bob, S, ['solar'], 1_000));
    expect(history(chain).filter((e) => e.kind === 'transfer-out' && e.deltaWh === -1_000)[0]).not.toHaveProperty('description');
    expect(bal(chain, 'hz', bob, S, ['solar'])).toBe(5_000);
  });

  it('refuses a blank, too long or non-string description, changing nothing but the nonce', () => {
    const chain = community();
    ok(chain, pmeter, reading('P', S, 0, 10_000, 1));
    const t = (description: unknown) => ({ type: 'energy/transfer', value: { community: 'hz', to: bob.address, slot: S, labels: ['solar'], wh: 1, description } });
    rejects(chain, alice, t('   '), 'ENERGY_DESCRIPTION_EMPTY');
    rejects(chain, alice, t(''), 'ENERGY_DESCRIPTION_EMPTY');
    rejects(chain, alice, t('x'.repeat(257)), 'MSG_INVALID');
    rejects(chain, alice, t(42), 'MSG_INVALID');
    rejects(chain, alice, t(null), 'MSG_INVALID');
  });
});
