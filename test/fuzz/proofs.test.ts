import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { proofsTarget } from './targets/proofs.js';

describe('fuzz: proven answers (the npm run fuzz target; 10⁴ per part run in test/verifiable/proof-fuzz.test.ts)', () => {
  it('refuses every single-byte mutation of each part it reaches', async () => {
    const report = await fuzzInTest(proofsTarget, 400);
    for (const kind of ['value', 'proof', 'header', 'commit']) expect(report.outcomes.get(`${kind}:refused`) ?? 0).toBeGreaterThan(20);
  });
});
