/**
 * Issue 18 / ADR 0015, found by the half-load latency: a height that a peer's message started while an
 * early-start check was armed left the check marked armed, so at the next height admissions could no
 * longer start it early and the proposer waited the whole block time (~1 s gaps in a stream of
 * 100–300 ms blocks). The production driver on a virtual clock and a real ledger node.
 */
import { afterAll, expect, it } from 'vitest';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';
import { driverOn as virtualDriver } from '../helpers/virtual-driver.js';

const nodes = new LedgerNodes('armed');
afterAll(() => nodes.close());

const driverOn = (options: Parameters<typeof virtualDriver>[2]) => virtualDriver(nodes, 'armed', options);

it('admissions start the next height early even after a peer message started the previous one', () => {
  const { node, clock, driver, admit } = driverOn({ timing: { blockTimeMs: 1000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 3, minBlockIntervalMs: 50 } });
  driver.start();
  try {
    clock.advance(200); // an idle chain since genesis makes its heartbeat block first
    const h = node.height;
    expect(h).toBe(1);
    clock.advance(1500);
    expect(node.height).toBe(h); // nothing pending: no block before the heartbeat interval

    admit(3); // enough to start early: a check is armed for the minimum interval
    // …but a peer's vote for the next height arrives first and starts it
    const stranger = account('stranger');
    driver.onPeerMessage({ type: 'vote', now: clock.now(), vote: { chainId: 'armed', type: 'prevote', height: h + 1, round: 0, blockHash: null, timestamp: clock.now(), validator: stranger.address, signature: '00'.repeat(64) } }, 'peer');
    clock.advance(10);
    expect(node.height).toBe(h + 1);
    expect(node.pendingTxCount()).toBe(0);

    // the next height: nothing waits when it is scheduled, then enough arrive
    clock.advance(100);
    admit(3);
    clock.advance(100);
    expect(node.height).toBe(h + 2); // early, not after the 1-s block time
  } finally {
    driver.stop();
  }
});

it('counts only the consensus timeouts the engine acts on, not the stale timers of decided heights', () => {
  const timeouts: string[] = [];
  const { node, clock, driver } = driverOn({
    timing: { blockTimeMs: 200, emptyBlockIntervalMs: 200, proposeAtTxs: 1_000, minBlockIntervalMs: 50 },
    observer: { timeout: (step) => void timeouts.push(step) },
  });
  driver.start();
  try {
    // a lone validator decides every height in round 0, long before its propose timeout (1 s) fires
    for (let i = 0; i < 20; i++) clock.advance(250);
    expect(node.height).toBeGreaterThanOrEqual(10);
    expect(timeouts).toEqual([]);
  } finally {
    driver.stop();
  }
});
