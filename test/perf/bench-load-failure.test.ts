import { describe, expect, it } from 'vitest';
import { CommitWatcher, measureLatency } from '../../bench/foundation.js';
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
