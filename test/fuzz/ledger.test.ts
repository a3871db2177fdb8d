import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { blockTarget, reactorsTarget, txTarget } from './targets/ledger.js';

describe('fuzz: the ledger node\'s decoders', () => {
  it('transactions: decodeTx and submitTx refuse with declared codes and admit only genuine signed transactions', async () => {
    const report = await fuzzInTest(txTarget, 3000);
    expect(report.outcomes.get('TX_MALFORMED') ?? 0).toBeGreaterThan(100);
    expect(report.outcomes.size).toBeGreaterThan(3);
  });

  it('blocks: block sync and proposal validation refuse mutated blocks and store only the genuine block', async () => {
    const report = await fuzzInTest(blockTarget, 1500);
    expect(report.outcomes.get('schema') ?? 0).toBeGreaterThan(50);
    expect([...report.outcomes.keys()].some((k) => k.startsWith('BLOCK_SYNC_'))).toBe(true);
  });

  it('reactors: any JSON on any channel is forwarded or penalised, never thrown, and never moves the chain', async () => {
    const report = await fuzzInTest(reactorsTarget, 2000);
    expect([...report.outcomes.keys()].some((k) => k.endsWith(':penalised'))).toBe(true);
  });
});
