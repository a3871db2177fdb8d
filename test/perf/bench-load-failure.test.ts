import { describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { CommitWatcher, freeDevnetBasePort, measureLatency } from '../../bench/foundation.js';
import { devnetPorts } from '../../src/runtime/devnet.js';
import type { SignedTx } from '../../src/codec/tx.js';

/**
 * The benchmark's paced load (bench/foundation.ts): a refused batch ends the run with its reason, so the
 * caller's `finally` stops the nodes. Unhandled, the rejection ended the process and left a validator
 * running (seen when a node fell behind at half load and the client reached its connections per client).
 */
describe('the paced load of the benchmark', () => {
  it('fails with the reason of a refused batch instead of an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const txs = Array.from({ length: 200 }, (_, i) => ({ body: { nonce: i } }) as unknown as SignedTx);
      // Nothing listens on port 9 of loopback (discard): every batch is refused at once.
      await expect(measureLatency('http://127.0.0.1:9', txs, 1000, new CommitWatcher())).rejects.toThrow(/load at 1000 tx\/s: a batch was refused .*the node fell behind its client/);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/**
 * The devnet's ports: the base once came from the process id alone, up to 39,990 — inside Linux's
 * ephemeral range — and a run failed with EADDRINUSE when an outgoing connection held one of them,
 * leaving the nodes that had started running.
 */
describe('the benchmark devnet base port', () => {
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });

  it('skips a base whose ports are taken and stays below the ephemeral range', async () => {
    const first = await freeDevnetBasePort(4);
    const held = await listen(devnetPorts(first, 3).p2p);
    try {
      const next = await freeDevnetBasePort(4);
      expect(next).not.toBe(first);
      for (const base of [first, next]) expect(devnetPorts(base, 3).p2p).toBeLessThan(32768);
      const ports = Array.from({ length: 4 }, (_, i) => devnetPorts(next, i)).flatMap((p) => [p.api, p.p2p]);
      expect(ports).not.toContain(devnetPorts(first, 3).p2p);
    } finally {
      await new Promise((r) => held.close(r));
    }
  });
});
