import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { hostTarget } from './targets/host.js';

describe("fuzz: every module's messages through the host", () => {
  it('random message values are OK or a declared code, never an internal error; a rejection writes only the nonce', async () => {
    const report = await fuzzInTest(hostTarget, 2500);
    const kinds = [...report.outcomes.keys()];
    expect(kinds.some((k) => k.includes('OK:'))).toBe(true);
    // the inputs reach the rules of several modules, not only the schemas
    for (const prefix of ['ENERGY_', 'METER_', 'SHARES_', 'SETTLEMENT_', 'REGISTRY_']) expect(kinds.some((k) => k.includes(prefix)), prefix).toBe(true);
  });
});
