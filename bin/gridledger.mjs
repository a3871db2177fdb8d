#!/usr/bin/env node
// The gridledger command. Runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci`
// runs through `prepare`) when dist/ was built from exactly the current src/; otherwise the
// TypeScript sources through tsx: always current, but about 2 s slower to start (on a terminal it
// says so once per call). Stale compiled code never runs. GRIDLEDGER_FROM_SOURCES=1 forces the
// sources.
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { distStatus } from './dist.mjs';

// Node ≥ 22.1 caches compiled code between runs (faster start); Node 20 has no such cache.
module.enableCompileCache?.();

const src = fileURLToPath(new URL('../src', import.meta.url));
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const forced = process.env.GRIDLEDGER_FROM_SOURCES === '1';
const status = forced ? { fresh: false, reason: 'GRIDLEDGER_FROM_SOURCES=1' } : distStatus(src, dist);

let main;
if (status.fresh) {
  ({ main } = await import('../dist/bundle/cli.js'));
} else {
  if (!forced && process.stderr.isTTY) process.stderr.write(`gridledger: ${status.reason}; running the TypeScript sources (slow start). \`npm run build\` makes it fast again.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
