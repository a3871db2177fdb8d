/**
 * Issue 18 / ADR 0022: fewer than `proposeAtTxs` waiting transactions (light load, a lull, the end of a
 * burst) start the next height once the first of them has waited `maxTxWaitMs`, instead of waiting out
 * the block time. The production driver on a virtual clock and a real ledger node; the block time is
 * 2 s, so a block before it can only come from the wait rule.
 */
import { afterAll, expect, it } from 'vitest';
import { LedgerNodes } from '../helpers/ledger-node.js';
import { driverOn } from '../helpers/virtual-driver.js';

const nodes = new LedgerNodes('txwait');
afterAll(() => nodes.close());

const TIMING = { blockTimeMs: 2000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 64, minBlockIntervalMs: 100, maxTxWaitMs: 300 };

/** A driver just past its genesis heartbeat: the next height's block time has barely begun. */
function quietChain(timing: typeof TIMING | Omit<typeof TIMING, 'maxTxWaitMs'> = TIMING) {
  const d = driverOn(nodes, 'txwait', { timing });
  d.driver.start();
  d.clock.advance(200);
  expect(d.node.height).toBe(1);
  return d;
}

it('a lone transaction starts the next height once it has waited maxTxWaitMs, not the block time', () => {
  const { node, clock, driver, admit } = quietChain();
  try {
    admit(1);
    clock.advance(250);
    expect(node.height).toBe(1); // still inside its wait
    clock.advance(60);
    expect(node.height).toBe(2);
    expect(node.pendingTxCount()).toBe(0);
  } finally {
    driver.stop();
  }
});

it('the wait counts from the first waiting transaction: later ones ride along in the same block', () => {
  const { node, clock, driver, admit } = quietChain();
  try {
    admit(1);
    clock.advance(200);
    admit(2);
    clock.advance(110); // 310 ms after the first, 110 after the others
    expect(node.height).toBe(2);
    expect(node.pendingTxCount()).toBe(0);
    // the next transaction waits its own maxTxWaitMs from its arrival
    clock.advance(500);
    admit(1);
    clock.advance(250);
    expect(node.height).toBe(2);
    clock.advance(60);
    expect(node.height).toBe(3);
  } finally {
    driver.stop();
  }
});

it('without maxTxWaitMs a lone transaction keeps the block-time cadence (as before)', () => {
  const { node, clock, driver, admit } = quietChain({ blockTimeMs: 2000, emptyBlockIntervalMs: 60_000, proposeAtTxs: 64, minBlockIntervalMs: 100 });
  try {
    admit(1);
    clock.advance(310);
    expect(node.height).toBe(1);
    clock.advance(2000);
    expect(node.height).toBe(2);
  } finally {
    driver.stop();
  }
});

it('a transaction that cannot go in yet (a nonce gap) neither starts a height nor makes the driver spin', () => {
  const { node, clock, driver, admit } = quietChain();
  try {
    admit(1, 5);
    expect(node.pendingTxCount()).toBe(1);
    const fired = clock.fired;
    clock.advance(10_000);
    expect(node.height).toBe(1);
    // the checks run at the block-time cadence once its wait is over: a handful in 10 s, not one per
    // millisecond (before 2026-12-03 a pending transaction that could not go in made the driver look
    // again every millisecond once the block time had passed — a busy loop any client could cause)
    expect(clock.fired - fired).toBeLessThan(20);
    // the transaction that fills the gap starts a height at once (the block time is long over), with both
    admit(5, -6);
    clock.advance(5);
    expect(node.height).toBe(2);
    expect(node.pendingTxCount()).toBe(0);
  } finally {
    driver.stop();
  }
});
