import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { consensusMessagesTarget, engineTarget } from './targets/consensus.js';

describe('fuzz: consensus', () => {
  it('messages: shape checks never throw; only genuine signed fields verify', async () => {
    const report = await fuzzInTest(consensusMessagesTarget, 3000);
    for (const k of ['vote:valid', 'vote:bad-signature', 'commit:valid', 'evidence:valid', 'proposal:malformed']) expect(report.outcomes.get(k) ?? 0, k).toBeGreaterThan(0);
  });

  it('engine: wrong events are rejected with known reasons; it never double-signs (also across restarts) nor decides without a valid commit', async () => {
    const report = await fuzzInTest(engineTarget, 800);
    expect(report.outcomes.get('decided') ?? 0).toBeGreaterThan(0);
    expect(report.outcomes.size).toBeGreaterThan(4);
  });
});
