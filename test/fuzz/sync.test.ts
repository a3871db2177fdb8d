import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { blockSyncTarget } from './targets/blocksync.js';

describe('fuzz: block sync', () => {
  it('applies only requested, valid blocks in order, within its buffer budget, and never penalises an honest peer', async () => {
    const report = await fuzzInTest(blockSyncTarget, 4000);
    expect((report.outcomes.get('applied') ?? 0) + (report.outcomes.get('applied+penalised') ?? 0)).toBeGreaterThan(50);
    expect(report.outcomes.get('penalised') ?? 0).toBeGreaterThan(50);
  });
});
