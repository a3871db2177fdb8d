import fc from 'fast-check';
import { LedgerError } from '../../../src/util/errors.js';

/**
 * The fuzzing harness shared by `npm test` (short runs, test/fuzz/*.test.ts) and `npm run fuzz`
 * (long runs, scripts/fuzz.ts). A target couples a fast-check arbitrary (generated or mutated
 * inputs) with a check that throws when the code under test misbehaves on one input; the check
 * returns an outcome label (e.g. the rejection code) so a run reports how deep its inputs got.
 *
 * fast-check drives generation, replay and shrinking: every run has a seed, and a failure is
 * reported with the seed and path that reproduce it (`npm run fuzz -- --only NAME --seed S --path P`).
 */

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Throws on misbehaviour; returns a short label of what happened (`ok`, an error code, …). */
  check(input: T): string | Promise<string>;
  /** Releases what the target holds (databases, sockets). */
  close?(): void | Promise<void>;
}

/** Builds a target; setup may be asynchronous (catalogues, keys, a chain with state). */
export type TargetFactory = () => FuzzTarget<any> | Promise<FuzzTarget<any>>;

export interface RunOptions {
  runs: number;
  seed: number;
  /** Replays one counterexample: fast-check's path printed with a failure. */
  path?: string;
  /** Inputs per fast-check run; progress is reported between chunks (each chunk has its own seed). */
  chunk?: number;
  onProgress?(done: number, total: number): void;
}

export interface RunReport {
  target: string;
  runs: number;
  seed: number;
  outcomes: Map<string, number>;
  failure?: { seed: number; path: string; counterexample: string; error: string };
  ms: number;
}

/** Runs `target` for `options.runs` inputs (in chunks of seeds seed, seed+1, …) and reports. */
export async function runTarget<T>(target: FuzzTarget<T>, options: RunOptions): Promise<RunReport> {
  const outcomes = new Map<string, number>();
  const started = Date.now();
  const chunk = options.path ? options.runs : Math.max(1, Math.min(options.chunk ?? options.runs, options.runs));
  let done = 0;
  for (let index = 0; done < options.runs; index++) {
    const seed = (options.seed + index) | 0;
    const numRuns = Math.min(chunk, options.runs - done);
    const record = (label: string) => outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
    const property = fc.asyncProperty(target.arbitrary, async (input) => {
      record(await target.check(input));
    });
    const details = await fc.check(property, { numRuns, seed, path: options.path, endOnFailure: false, verbose: 0 });
    done += numRuns;
    if (details.failed) {
      const error = details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance);
      return {
        target: target.name,
        runs: done,
        seed: options.seed,
        outcomes,
        failure: { seed, path: details.counterexamplePath ?? '', counterexample: fc.stringify(details.counterexample), error },
        ms: Date.now() - started,
      };
    }
    options.onProgress?.(done, options.runs);
  }
  return { target: target.name, runs: done, seed: options.seed, outcomes, ms: Date.now() - started };
}

/** The vitest form of a short run: throws with the reproduction recipe on failure. */
export async function fuzzInTest(factory: TargetFactory, runs: number): Promise<RunReport> {
  const target = await factory();
  try {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now()) | 0;
    const report = await runTarget(target, { runs, seed });
    if (report.failure) throw new Error(describeFailure(report));
    return report;
  } finally {
    await target.close?.();
  }
}

export function describeFailure(report: RunReport): string {
  const f = report.failure!;
  return [
    `fuzz target ${report.target} failed after ${report.runs} inputs`,
    `counterexample: ${f.counterexample.slice(0, 2000)}`,
    `reproduce: npm run fuzz -- --only ${report.target} --seed ${f.seed} --path ${f.path} --runs ${report.runs}`,
    f.error,
  ].join('\n');
}

// ───────────────────────────── assertions shared by targets ─────────────────────────────

/** Thrown by a check when the code under test misbehaved (kept distinct from the errors it raises). */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

export function fail(message: string): never {
  throw new FuzzFailure(message);
}

export function expectThat(condition: boolean, message: string): void {
  if (!condition) fail(message);
}

/**
 * `err` must be a coded rejection: a LedgerError whose code is declared (in `codes`, when given)
 * and is not INTERNAL_ERROR (a caught bug). Returns the code.
 */
export function codeOf(err: unknown, codes?: ReadonlySet<string>): string {
  if (err instanceof FuzzFailure) throw err;
  if (!(err instanceof LedgerError)) fail(`uncoded rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (err.code === 'INTERNAL_ERROR') fail(`INTERNAL_ERROR (a caught bug): ${err.message}`);
  if (codes && !codes.has(err.code)) fail(`undeclared error code ${err.code}: ${err.message}`);
  return err.code;
}

/** Runs `fn`; returns 'ok' or the code of the coded rejection it threw. */
export function codedOutcome(fn: () => unknown, codes?: ReadonlySet<string>): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return codeOf(err, codes);
  }
}
