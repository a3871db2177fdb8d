import { describe, expect, it } from 'vitest';
import { alice, m, NOW, ok, setup } from './helpers.js';

/** The market's end of block visits every community's delivery cursor in every block (issue 18: a block's writes are what it costs). */
describe('market end of block', () => {
  it("writes a community's delivery cursor only when it moves, not in every block", () => {
    const chain = setup('continuous');
    const written = () => [...chain.lastExecuted!.writes.keys()].filter((k) => k.startsWith('market/cursor/'));
    ok(chain, alice, m.offer(NOW + 8, 10, 100_000));
    ok(chain, alice, m.offer(NOW + 9, 10, 100_000));
    // the cursor exists and nothing is due: the next blocks leave it as it is
    expect(chain.store.scan('market/cursor/').length).toBe(1);
    expect(written()).toEqual([]);
    // once slots end, the cursor moves on and is written in that block
    ok(chain, alice, m.offer(NOW + 10, 10, 100_000), chain.time + 3 * 900_000);
    expect(written().length).toBe(1);
  });
});
