import { defineConfig } from 'vitest/config';

/**
 * Two groups, one after the other (`sequence.groupOrder`). First the in-process tests, two files at a
 * time (they are CPU-bound and share nothing but the machine). Then the tests that start processes,
 * servers, devnets, browsers, brokers or databases, or that measure time or memory: one file at a
 * time, as the whole suite ran before, so their waits and measurements do not compete with each other.
 * A new test that starts a node belongs in PROCESS_TESTS (by its name or folder).
 */
const PROCESS_TESTS = [
  'test/**/*.e2e.test.ts',
  'test/**/*devnet*.test.ts',
  'test/**/*.browser.test.ts',
  'test/docs/**/*.test.ts',
  'test/firsthour/**/*.test.ts',
  'test/runtime/**/*.test.ts',
  'test/hardening/**/*.test.ts',
  'test/simulate/**/*.test.ts',
  'test/memory/**/*.test.ts',
  'test/p2p/**/*.test.ts',
  'test/api/**/*.test.ts',
  'test/wire/**/*.test.ts',
  'test/web/**/*.test.ts',
  'test/perf/**/*.test.ts',
  'test/anchor/**/*.test.ts',
  'test/edge/agent*.test.ts',
  'test/edge/p1-replay.test.ts',
  'test/edge/sources.test.ts',
  'test/foundation/cli.test.ts',
  'test/foundation/crash.test.ts',
  'test/foundation/keyring.test.ts',
  'test/foundation/api-bad-input.test.ts',
  'test/settlement/cli.test.ts',
  'test/verifiable/indexer.test.ts',
  'test/verifiable/light-node.test.ts',
  'test/verifiable/statement.test.ts',
  'test/messaging/relay.test.ts',
  'test/messaging/flood.test.ts',
  'test/messaging/cli*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'in-process', include: ['test/**/*.test.ts'], exclude: PROCESS_TESTS, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
