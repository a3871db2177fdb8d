import { describe, expect, it } from 'vitest';
import { account } from '../helpers/chain.js';
import { alice, bal, bob, energyChain, m, ok, reading, rejects, S, setupCommunity } from './helpers.js';

/** Issue 9 (low): a revoked account cannot receive energy, although it stays a trader of the community on record. */
describe('energy transfers to a revoked account', () => {
  it('are refused with ENERGY_RECIPIENT_REVOKED and change nothing', () => {
    const chain = energyChain();
    setupCommunity(chain);
    ok(chain, account('pmeter'), reading('P', S, 0, 1_000, 1));
    ok(chain, chain.operator, { type: 'registry/revoke', value: { address: bob.address, reason: 'left the community' } });
    rejects(chain, alice, m.transfer('nb', bob, S, ['solar'], 100), 'ENERGY_RECIPIENT_REVOKED');
    expect(bal(chain, 'nb', alice, S, ['solar'])).toBe(1_000);
    expect(bal(chain, 'nb', bob, S, ['solar'])).toBe(0);
  });
});
