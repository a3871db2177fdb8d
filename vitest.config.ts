import { defineConfig } from 'vitest/config';

/**
 * Four groups, one after the other (`sequence.groupOrder`), so `npm test` stays well under 15 minutes
 * on two cores:
 * 1. in-process tests, two files at a time (CPU-bound, they share nothing but the machine). A worker
 *    runs its files in one module graph (`isolate: false`): importing the sources once per worker
 *    instead of once per file took the group from 224 to 138 s. A file that replaces a module
 *    (`vi.mock`) needs a graph of its own and goes in MODULE_MOCK_TESTS (test/architecture checks);
 * 2. tests that start nodes, CLI processes, browsers, brokers or databases and wait for conditions with
 *    generous deadlines, two files at a time;
 * 3. multi-validator devnets, two files at a time and nothing else: they wait for the chain (blocks,
 *    anchors, catch-up after a kill) with generous deadlines and leave about half the machine idle
 *    while they wait (the serial group used 1.1 of 2 cores), so two of them together take the time
 *    of the longer one; no other group's load competes with their rounds;
 * 4. tests that measure time or memory, signal processes at chosen moments, or run the ten-validator
 *    devnet: one file at a time, so nothing else competes with their clocks and measurements.
 * A new test that starts a process belongs in PROCESS_TESTS; one whose assertions depend on timing,
 * signals or memory in TIMED_TESTS (a file in both runs with the timed ones); a devnet of four
 * validators in DEVNET_TESTS.
 */
const TIMED_TESTS = [
  'test/firsthour/**/*.test.ts',
  'test/runtime/**/*.test.ts',
  'test/hardening/**/*.test.ts',
  'test/memory/**/*.test.ts',
  'test/p2p/**/*.test.ts',
  'test/api/server-limits.test.ts',
  'test/hardening/devnet-10.test.ts',
  'test/edge/agent-crash.test.ts',
  'test/foundation/keyring.test.ts',
  'test/foundation/crash.test.ts',
  'test/perf/**/*.test.ts',
  'test/messaging/flood.test.ts',
];

/** Devnets of four validators (each file its own): two files at a time, after every other group but the timed one. */
const DEVNET_TESTS = ['test/devnet/**/*.test.ts', 'test/**/*devnet*.test.ts'];

/** In-process files that replace modules with `vi.mock`: run in a fresh module graph each. */
export const MODULE_MOCK_TESTS = ['test/foundation/keyring-durable.test.ts'];

const PROCESS_TESTS = [
  // The documented walk-throughs: one single-validator devnet on a fake clock that moves only when a
  // script sleeps, nothing measured; alone in the timed group they were its longest file (85–98 s of ~465 s).
  'test/docs/**/*.test.ts',
  'test/**/*.e2e.test.ts',
  'test/**/*devnet*.test.ts',
  'test/**/*.browser.test.ts',
  'test/simulate/**/*.test.ts',
  'test/api/**/*.test.ts',
  'test/wire/**/*.test.ts',
  'test/web/**/*.test.ts',
  'test/anchor/**/*.test.ts',
  'test/edge/agent*.test.ts',
  'test/edge/p1-replay.test.ts',
  'test/edge/sources.test.ts',
  'test/foundation/cli.test.ts',
  'test/foundation/api-bad-input.test.ts',
  'test/foundation/token-cache-concurrency.test.ts',
  'test/settlement/cli.test.ts',
  'test/verifiable/indexer.test.ts',
  'test/verifiable/light-node.test.ts',
  'test/verifiable/statement.test.ts',
  'test/messaging/relay.test.ts',
  'test/messaging/cli*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'in-process', include: ['test/**/*.test.ts'], exclude: [...PROCESS_TESTS, ...DEVNET_TESTS, ...TIMED_TESTS, ...MODULE_MOCK_TESTS], maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'module-mocks', include: MODULE_MOCK_TESTS, exclude: [...PROCESS_TESTS, ...DEVNET_TESTS, ...TIMED_TESTS], maxWorkers: 1, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, exclude: [...DEVNET_TESTS, ...TIMED_TESTS], maxWorkers: 2, isolate: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'devnets', include: DEVNET_TESTS, exclude: TIMED_TESTS, maxWorkers: 2, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'timed', include: TIMED_TESTS, maxWorkers: 1, sequence: { groupOrder: 3 } } },
    ],
  },
});
