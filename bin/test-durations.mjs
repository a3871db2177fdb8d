#!/usr/bin/env node
// Writes test/durations.json — each test file's duration in the last full run, from vitest's own cache
// (node_modules/.vite/vitest/*/results.json) — for test/sequencer.ts, which runs the longest files of
// each group first also on a fresh clone, where that cache does not exist. Run it after `npm test`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join('node_modules', '.vite', 'vitest');
const caches = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, e.name, 'results.json'));
if (caches.length === 0) throw new Error(`no vitest results under ${root}: run npm test first`);
const durations = {};
for (const file of caches) {
  for (const [key, result] of JSON.parse(readFileSync(file, 'utf8')).results) durations[key] = Math.round(result.duration);
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(join('test', 'durations.json'), `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
