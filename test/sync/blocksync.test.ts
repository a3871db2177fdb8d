import { describe, expect, it } from 'vitest';
import type { Commit } from '../../src/codec/block.js';
import { BlockSync, type SyncTarget } from '../../src/sync/blocksync.js';

/** A toy chain of numbered blocks: block h carries `size` bytes of payload. */
interface B {
  height: number;
  pad: string;
}

function setup(options: { maxBufferedBytes?: number; requestTimeoutMs?: number } = {}) {
  let now = 0;
  const applied: number[] = [];
  const target: SyncTarget<B> = {
    get height() {
      return applied.length;
    },
    latestHash: () => String(applied.length),
    getBlock: () => undefined,
    applySyncedBlock: (block) => {
      if (block.height !== applied.length + 1) throw new Error('gap');
      applied.push(block.height);
    },
  };
  const penalties: Array<{ peer: string; reason: string }> = [];
  const requests: Array<{ peer: string; from: number; count: number }> = [];
  const sync = new BlockSync<B>(
    target,
    {
      sendStatus: () => undefined,
      sendRequest: (peer, r) => requests.push({ peer, ...r }),
      sendResponse: () => undefined,
      penalize: (peer, reason) => penalties.push({ peer, reason }),
      connectedPeers: () => ['a', 'b'],
    },
    {
      batchSize: 5,
      maxResponseBytes: 1 << 20,
      maxBufferedBytes: options.maxBufferedBytes ?? 1 << 20,
      requestTimeoutMs: options.requestTimeoutMs ?? 1000,
      clock: () => now,
      heightOf: (b) => b.height,
      sizeOf: (e) => e.block.pad.length,
      onApplied: () => undefined,
    },
  );
  const commit = (h: number): Commit => ({ height: h, round: 0, blockHash: 'aa'.repeat(32), signatures: [] });
  const blocks = (from: number, to: number, pad = 10) => Array.from({ length: to - from }, (_, i) => ({ block: { height: from + i, pad: 'x'.repeat(pad) }, commit: commit(from + i) }));
  return { sync, applied, penalties, requests, blocks, advance: (ms: number) => (now += ms) };
}

describe('block sync accepts only what it asked for', () => {
  it('an unsolicited response is penalised and nothing of it is buffered or applied', () => {
    const t = setup();
    t.sync.onResponse('a', t.blocks(1, 30, 100_000));
    expect(t.penalties).toEqual([{ peer: 'a', reason: expect.stringMatching(/unsolicited/) }]);
    expect(t.applied).toEqual([]);
    expect(t.sync.bufferedByteCount).toBe(0);
  });

  it('a response to a request from another peer is unsolicited too', () => {
    const t = setup();
    t.sync.onStatus('a', { height: 20, hash: '' });
    expect(t.requests.every((r) => r.peer === 'a' || r.peer === 'b')).toBe(true);
    const askedOfA = t.requests.filter((r) => r.peer === 'a');
    expect(askedOfA.length).toBeGreaterThan(0);
    t.sync.onResponse('b', t.blocks(askedOfA[0]!.from, askedOfA[0]!.from + askedOfA[0]!.count));
    expect(t.penalties.map((p) => p.peer)).toEqual(['b']);
    expect(t.applied).toEqual([]);
  });

  it('requested ranges are applied; a duplicate or late copy of the answer is ignored without penalty', () => {
    const t = setup();
    t.sync.onStatus('a', { height: 5, hash: '' });
    expect(t.requests).toEqual([{ peer: 'a', from: 1, count: 5 }]);
    const answer = t.blocks(1, 6);
    t.sync.onResponse('a', answer);
    expect(t.applied).toEqual([1, 2, 3, 4, 5]);
    t.advance(1500); // past the request timeout, within the grace window
    t.sync.onResponse('a', answer);
    expect(t.penalties).toEqual([]);
  });

  it('buffered blocks stay within the byte budget', () => {
    const t = setup({ maxBufferedBytes: 30 });
    t.sync.onStatus('a', { height: 20, hash: '' });
    const second = t.requests.find((r) => r.from === 6)!;
    // The later batch arrives first: only what fits the budget is kept while height 1 is missing.
    t.sync.onResponse(second.peer, t.blocks(6, 11, 10));
    expect(t.sync.bufferedByteCount).toBeLessThanOrEqual(30);
    expect(t.penalties).toEqual([]);
  });
});
