import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { marketEndBlock } from '../../src/modules/market/endblock.js';
import { DEFAULT_PARAMS, type MarketContext } from '../../src/modules/market/rules.js';
import type { TestChain } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { at, checkDues, m, NOW, ok, owner, setup, slotEnd } from './helpers.js';

/**
 * The market's end of block (issue 18, ADR 0029): state version 1 visits every market community in
 * every block — its configuration and its delivery cursor, two reads each, however idle; version 2
 * keeps each community under the end of the slot its cursor stands at and visits only those whose
 * time has come. A running chain moves from 1 to 2 by a governed migration at a height.
 */

const EXTRA = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);

/** Community "hood" of `setup` and 40 more with a market each (all owned by `owner`). */
function manyMarkets(stateVersions?: Record<string, number>): TestChain {
  const chain = setup('continuous', {}, undefined, stateVersions);
  for (let i = 0; i < EXTRA.length; i += 20) {
    const ids = EXTRA.slice(i, i + 20);
    ok(chain, owner, [...ids.map((id) => m.create(id)), ...ids.map((id) => m.open('continuous', {}, id))]);
  }
  return chain;
}

/** Rows the market's end of block reads at `time` on the committed state, by area. */
function endBlockReads(chain: TestChain, time: number, stateVersion: number) {
  const reads = countingStore(new Overlay(chain.storage));
  const ctx = { store: reads.store, params: DEFAULT_PARAMS, time, height: chain.app.height + 1, stateVersion, sender: '', txHash: '', msgIndex: 0, emit: () => {} } as unknown as MarketContext;
  marketEndBlock(ctx);
  return reads;
}

describe('the market end of block visits only the communities whose delivery is due (state version 2)', () => {
  it('reads no community in a block inside a slot; version 1 reads every one of them', () => {
    const v2 = manyMarkets();
    const v1 = manyMarkets({});
    const midSlot = slotEnd(NOW) - 60_000;
    expect(v2.time).toBeLessThan(midSlot);
    const r2 = endBlockReads(v2, midSlot, 2);
    expect(r2.rows('market/config')).toBe(0);
    expect(r2.rows('market/cursor')).toBe(0);
    expect(r2.rows()).toBe(0); // the gate, lapse, due and deposit scans find nothing
    const r1 = endBlockReads(v1, midSlot, 1);
    expect(r1.rows('market/config')).toBe(EXTRA.length + 1);
    expect(r1.rows('market/cursor')).toBe(EXTRA.length + 1);
    // once the slot has ended, every community is due and visited (each moves its cursor on)
    const after = endBlockReads(v2, slotEnd(NOW) + 1, 2);
    expect(after.rows('market/config')).toBe(EXTRA.length + 1);
  });

  it('moves every cursor and due entry on as slots end, as version 1 moves the cursors', () => {
    const v2 = manyMarkets();
    const v1 = manyMarkets({});
    for (const time of [slotEnd(NOW) + 1, slotEnd(NOW + 1) + 5_000, slotEnd(NOW + 4) + 1]) {
      at(v2, time);
      at(v1, time);
      expect(v2.store.scan('market/cursor/')).toEqual(v1.store.scan('market/cursor/'));
      const due = checkDues(v2);
      expect(due).toHaveLength(EXTRA.length + 1);
    }
  });

  it('reaches a running chain by a governed migration at the height the proposal names', () => {
    const chain = manyMarkets({});
    const twin = manyMarkets({});
    at(chain, slotEnd(NOW) + 1);
    at(twin, slotEnd(NOW) + 1);
    expect(chain.store.scan('market/due/')).toEqual([]);
    const height = chain.app.height + 3;
    const propose = (id: string, stateVersion: number) => chain.send(chain.operator, { type: 'registry/propose', value: { id, action: { kind: 'migrate-module', module: 'market', stateVersion, height } } }, chain.time + 1);
    expect(propose('v1', 1).code).toBe('STATE_VERSION_NOT_NEWER');
    expect(propose('v2', 2).code).toBe('OK');
    twin.block([], twin.time + 1);
    twin.block([], twin.time + 1);
    while (chain.app.height + 1 < height) chain.block([], chain.time + 1);
    expect(chain.store.get('kernel/state-version/market')).toEqual({ version: 2 });
    expect(checkDues(chain)).toHaveLength(EXTRA.length + 1);
    // from here on the chain settles as its twin on version 1 does
    for (const time of [slotEnd(NOW + 1) + 1, slotEnd(NOW + 3) + 1]) {
      at(chain, time);
      at(twin, time);
      expect(chain.store.scan('market/cursor/')).toEqual(twin.store.scan('market/cursor/'));
      checkDues(chain);
    }
    expect(chain.internalErrors).toEqual([]);
  });
});
