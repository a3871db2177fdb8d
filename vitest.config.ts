import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/sequencer.js';

/**
 * Four groups, one after the other (`sequence.groupOrder`), so `npm test` stays well under 15 minutes
 * on two cores:
 * 1. in-process tests, two files at a time (CPU-bound, they share nothing but the machine). A worker
 *    runs its files in one module graph (`isolate: false`): importing the sources once per worker
 *    instead of once per file took the group from 224 to 138 s. A file that replaces a module
 *    (`vi.mock`) needs a graph of its own and goes in MODULE_MOCK_TESTS (test/architecture checks);
 * 2. tests that start nodes, CLI processes, browsers, brokers or databases and wait for conditions with
 *    generous deadlines, two files at a time;
 * 3. four-validator devnets and other long runs that wait on conditions (PAIRED_TESTS), two files at a
 *    time and nothing else: they wait for the chain (blocks, anchors, catch-up after a kill) with
 *    generous deadlines and left about half the machine idle when they ran one at a time (1.1 of 2
 *    cores), so two together take little more than the longer one; no other group competes with them;
 * 4. tests that measure time or memory, signal processes at chosen moments, or run the ten-validator
 *    devnet: one file at a time, so nothing else competes with their clocks and measurements.
 * A new test that starts a process belongs in PROCESS_TESTS; one whose assertions depend on timing,
 * signals or memory in TIMED_TESTS (a file in both runs with the timed ones); a devnet of four
 * validators in PAIRED_TESTS (a file named *devnet* is there, whatever its folder).
 */
const TIMED_TESTS = [
  // a node stopped by a signal at a chosen moment of its start
  'test/firsthour/stop-while-starting.test.ts',
  'test/runtime/**/*.test.ts',
  'test/hardening/**/*.test.ts',
  'test/memory/**/*.test.ts',
  'test/p2p/**/*.test.ts',
  'test/api/server-limits.test.ts',
  'test/foundation/crash.test.ts',
  'test/perf/**/*.test.ts',
  'test/messaging/flood.test.ts',
];

/**
 * Long runs that wait on conditions, two files at a time after every other group but the timed one:
 * the devnets of four validators (the ten-validator one, test/hardening/ten-validators, is timed:
 * alone) and the edge agent's SIGKILL-and-restart loop.
 */
const PAIRED_TESTS = ['test/devnet/**/*.test.ts', 'test/**/*devnet*.test.ts', 'test/edge/agent-crash.test.ts'];

/** In-process files that replace modules with `vi.mock`: run in a fresh module graph each. */
export const MODULE_MOCK_TESTS = ['test/foundation/keyring-durable.test.ts'];

const PROCESS_TESTS = [
  // The first hour of a user: CLI calls, text output, init, keys, the compiled command.
  'test/firsthour/**/*.test.ts',
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
  'test/foundation/pid-lock.test.ts',
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
    // Longest files first in each group, also on a fresh clone (test/sequencer.ts).
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      { extends: true, test: { name: 'in-process', include: ['test/**/*.test.ts'], exclude: [...PROCESS_TESTS, ...PAIRED_TESTS, ...TIMED_TESTS, ...MODULE_MOCK_TESTS], maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'module-mocks', include: MODULE_MOCK_TESTS, exclude: [...PROCESS_TESTS, ...PAIRED_TESTS, ...TIMED_TESTS], maxWorkers: 1, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, exclude: [...PAIRED_TESTS, ...TIMED_TESTS], maxWorkers: 2, isolate: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'paired', include: PAIRED_TESTS, maxWorkers: 2, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'timed', include: TIMED_TESTS, exclude: PAIRED_TESTS, maxWorkers: 1, sequence: { groupOrder: 3 } } },
    ],
  },
});
