import { describe, expect, it } from 'vitest';
import { fuzzKind, KINDS, provenFixture, verifyProven } from './proof-fuzz.js';

/** ≥ 10⁴ single-byte mutations per kind here; `node bin/run-ts.mjs scripts/fuzz-proofs.ts --runs 1000000` for the long run. */
const RUNS = 10_000;

describe('proof verifier fuzzing: every single-byte mutation is refused', () => {
  const fixture = provenFixture();

  it('the unmutated answer verifies', async () => {
    await expect(verifyProven('test-chain', fixture.value, fixture.proof, fixture.replay)).resolves.toBeUndefined();
  });

  for (const kind of KINDS) {
    it(`${RUNS} mutations of the ${kind}`, async () => {
      const { accepted, notJson } = await fuzzKind(fixture, 'test-chain', kind, RUNS, 0x5eed + kind.length);
      expect(accepted).toEqual([]);
      // most mutations stay valid JSON, so the verifier itself (not the parser) refuses them
      expect(notJson).toBeLessThan(RUNS / 2);
    }, 120_000);
  }
});
