import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { canonicalTarget } from './targets/canonical.js';

describe('fuzz: canonical JSON', () => {
  it('encodes or refuses with an ENCODING_* code; the output is JSON and re-encodes to itself', async () => {
    const report = await fuzzInTest(canonicalTarget, 4000);
    expect(report.outcomes.get('ok') ?? 0).toBeGreaterThan(500);
  });
});
