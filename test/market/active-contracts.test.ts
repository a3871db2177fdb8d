import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { contractCovering } from '../../src/modules/market/orders.js';
import type { MarketContext } from '../../src/modules/market/rules.js';
import type { TestChain } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { alice, bob, C, checkActiveBy, m, NOW, ok, setup } from './helpers.js';

/**
 * Market state version 3 (ADR 0029): a consumer's active supply contracts are indexed. Every bid asks
 * whether an active contract covers its slot, and every proposal and acceptance whether one overlaps:
 * version 2 read every contract the consumer was ever a party to in the community — including
 * proposals that lapsed or were declined, which any counterparty can make one transaction at a time,
 * so a stranger could make every bid of a consumer read thousands of records on every validator.
 */

const PROPOSALS = 300;

/** `PROPOSALS` proposals from alice (prosumer) to bob that bob never accepts, and one accepted contract. */
function proposedTo(stateVersions?: Record<string, number>): TestChain {
  const chain = setup('continuous', {}, undefined, stateVersions);
  for (let i = 0; i < PROPOSALS; i += 60) {
    const msgs = Array.from({ length: 60 }, (_, j) => m.propose({ role: 'prosumer', counterparty: bob.address, startSlot: NOW + 200 + i + j, endSlot: NOW + 201 + i + j, price: 100_000, maxPowerW: 1_000 }));
    ok(chain, alice, msgs);
  }
  ok(chain, bob, m.propose({ role: 'consumer', counterparty: alice.address, startSlot: NOW + 10, endSlot: NOW + 14, price: 100_000, maxPowerW: 1_000 }));
  const id = `sc${PROPOSALS + 1}`;
  ok(chain, alice, m.accept(id));
  return chain;
}

function coveringReads(chain: TestChain, stateVersion: number, slot: number) {
  const reads = countingStore(new Overlay(chain.storage));
  const ctx = { store: reads.store, stateVersion } as unknown as MarketContext;
  return { found: contractCovering(ctx, C, bob.address, slot)?.id, rows: reads.rows('market/contract') };
}

describe("a consumer's active contracts (market state version 3)", () => {
  it('a bid reads the active contracts of its consumer only, however many proposals it was sent', () => {
    const v3 = proposedTo();
    expect(checkActiveBy(v3)).toHaveLength(1);
    const covered = coveringReads(v3, 3, NOW + 11);
    expect(covered).toEqual({ found: `sc${PROPOSALS + 1}`, rows: 1 });
    expect(coveringReads(v3, 3, NOW + 20)).toEqual({ found: undefined, rows: 1 });
    const v2 = proposedTo({ market: 2 });
    const old = coveringReads(v2, 2, NOW + 20);
    expect(old.found).toBeUndefined();
    expect(old.rows).toBeGreaterThan(PROPOSALS);
    // the rule itself is unchanged: a covered slot refuses bob's bid, another slot takes it
    expect(v3.send(bob, m.bid(NOW + 11, 100, 200_000)).code).toBe('MARKET_CONTRACT_EXCLUSIVE');
    ok(v3, bob, m.bid(NOW + 20, 100, 200_000));
  });

  it('reaches a running chain by a governed migration; the index leaves with the finished contract', () => {
    const chain = proposedTo({ market: 2 });
    expect(chain.store.scan('market/activeby/')).toEqual([]);
    const at = chain.app.height + 3;
    ok(chain, chain.operator, { type: 'registry/propose', value: { id: 'v3', action: { kind: 'migrate-module', module: 'market', stateVersion: 3, height: at } } });
    while (chain.app.height + 1 < at) chain.block([], chain.time + 1);
    expect(chain.store.get('kernel/state-version/market')).toEqual({ version: 3 });
    expect(checkActiveBy(chain)).toHaveLength(1);
    // past the contract's last slot and its settlement, it finishes and leaves the index
    chain.block([], (NOW + 20) * 900_000);
    chain.block([], (NOW + 24) * 900_000);
    expect(checkActiveBy(chain)).toEqual([]);
  });
});
