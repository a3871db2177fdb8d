#!/usr/bin/env node
// The gridledger command. Runs the compiled CLI in dist/ (built by `npm run build`, which `npm ci`
// runs through `prepare`) when dist/ was built from exactly the current src/; otherwise the
// TypeScript sources through tsx: always current, but about 2 s slower to start (on a terminal it
// says so once per call). Stale compiled code never runs. GRIDLEDGER_FROM_SOURCES=1 forces the
// sources.
import module from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, loadCompiledCli } from './compiled-cli.mjs';
import { distStatus } from './dist.mjs';

// Node ≥ 22.1 caches compiled code between runs (faster start) for what it loads itself (the
// launcher, packages imported from node_modules); the bundle has a cache of its own (compiled-cli.mjs).
module.enableCompileCache?.();

const src = fileURLToPath(new URL('../src', import.meta.url));
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const forced = process.env.GRIDLEDGER_FROM_SOURCES === '1';
const status = forced ? { fresh: false, reason: 'GRIDLEDGER_FROM_SOURCES=1' } : distStatus(src, dist);

let main;
let saveCodeCache = () => {};
if (status.fresh) {
  ({ main, saveCodeCache } = loadCompiledCli(join(dist, 'bundle', BUNDLE)));
} else {
  if (!forced && process.stderr.isTTY) process.stderr.write(`gridledger: ${status.reason}; running the TypeScript sources (slow start). \`npm run build\` makes it fast again.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
saveCodeCache();
