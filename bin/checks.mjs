#!/usr/bin/env node
// `npm run checks` (the first half of `npm test`): the linter and the two type checks, side by side.
// Each is single-threaded, so on two cores running them together saves the shorter one's time
// (about half a minute). Each one's output is printed whole when it ends, under its name; the exit
// code is non-zero when any failed.
import { spawn } from 'node:child_process';

// The two halves of `npm run typecheck` (sources and tests; the dashboard) run as two checks here.
const CHECKS = ['lint', 'typecheck:src', 'typecheck:web'].map((script) => [script, 'npm', ['run', '-s', script]]);

function run([name, command, args]) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ name, ok: false, output: `${output}${err.message}\n`, seconds: 0 }));
    child.on('close', (code) => resolve({ name, ok: code === 0, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const results = await Promise.all(CHECKS.map(run));
for (const r of results) {
  if (r.output.length > 0) process.stdout.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
  process.stdout.write(`${r.ok ? 'passed' : 'FAILED'}: ${r.name} (${r.seconds.toFixed(1)} s)\n`);
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
