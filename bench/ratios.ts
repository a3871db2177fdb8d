/**
 * Adds, next to every rate of a benchmark result (a number under a key ending in `PerSec`), its
 * ratio to the one-core Ed25519 verify rate measured in the same run, so figures from different
 * runs and machines compare (BENCHMARKS.md: "ratios to a calibration measured in the same run").
 */
export function withVerifyRatios<T extends Record<string, unknown>>(result: T, verifyPerSecOneCore: number): T & Record<string, unknown> {
  const out: Record<string, unknown> = { ...result };
  for (const [key, value] of Object.entries(result)) {
    if (key.endsWith('PerSec') && typeof value === 'number' && Number.isFinite(value)) {
      out[`${key.slice(0, -'PerSec'.length)}RatioToVerify1Core`] = Number((value / verifyPerSecOneCore).toFixed(4));
    }
  }
  return out as T & Record<string, unknown>;
}
