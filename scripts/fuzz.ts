/**
 * `npm run fuzz [-- --runs N --only a,b --seed S --path P --chunk C]`: runs every fuzz target of
 * test/fuzz/targets for N inputs each (default 1,000,000). Progress and heap figures go to stderr;
 * a summary (outcomes per target, inputs/s, heap before and after) ends the run; the exit code is
 * non-zero when any target failed. A failure prints the seed and path that replay it.
 */
import { parseArgs } from 'node:util';
import { describeFailure, runTarget, type RunReport } from '../test/fuzz/lib/engine.js';
import { TARGETS } from '../test/fuzz/targets/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    only: { type: 'string', default: Object.keys(TARGETS).join(',') },
    seed: { type: 'string' },
    path: { type: 'string' },
    chunk: { type: 'string', default: '10000' },
  },
});

const names = values.only.split(',').filter(Boolean);
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length > 0) {
  process.stderr.write(`unknown target(s) ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}\n`);
  process.exit(2);
}
const runs = Number(values.runs);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() | 0;
const chunk = Number(values.chunk);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed) || !Number.isSafeInteger(chunk) || chunk < 1) {
  process.stderr.write('--runs, --seed and --chunk must be integers (runs, chunk ≥ 1)\n');
  process.exit(2);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
/** Heap in use after a full collection when the script runs with --expose-gc (npm run fuzz does). */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

interface Summary {
  report: RunReport;
  heapBefore: number;
  heapAfter: number;
}

const summaries: Summary[] = [];
process.stderr.write(`fuzz: ${names.length} target(s) × ${runs} inputs, seed ${seed}${values.path ? `, path ${values.path}` : ''}\n`);
for (const name of names) {
  const target = await TARGETS[name]!();
  const heapBefore = heapUsed();
  const started = Date.now();
  let lastPrint = 0;
  const report = await runTarget(target, {
    runs,
    seed,
    path: values.path,
    chunk,
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - lastPrint < 2000 && done < total) return;
      lastPrint = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      process.stderr.write(`  ${name}: ${done}/${total} (${Math.round(rate)}/s, heap ${mib(process.memoryUsage().heapUsed)} MiB)\n`);
    },
  });
  await target.close?.();
  const heapAfter = heapUsed();
  summaries.push({ report, heapBefore, heapAfter });
  if (report.failure) process.stderr.write(`${describeFailure(report)}\n`);
  // Each target's line as soon as it is done (a long run stopped early still reports what finished).
  process.stderr.write(`  done: ${summaryLine({ report, heapBefore, heapAfter })}`);
}

function summaryLine({ report, heapBefore, heapAfter }: Summary): string {
  const rate = Math.round(report.runs / Math.max(0.001, report.ms / 1000));
  const top = [...report.outcomes.entries()].sort((a, b) => b[1] - a[1]);
  const outcomes = top.slice(0, 12).map(([k, n]) => `${k} ${n}`).join(', ') + (top.length > 12 ? `, … (${top.length} kinds)` : '');
  return `${report.failure ? 'FAIL' : 'ok  '} ${report.target.padEnd(16)} ${String(report.runs).padStart(9)} inputs ${String(rate).padStart(7)}/s  heap ${mib(heapBefore)} → ${mib(heapAfter)} MiB  seed ${report.seed}\n      ${outcomes}\n`;
}

process.stdout.write('\nfuzz summary\n');
for (const summary of summaries) process.stdout.write(summaryLine(summary));
const failed = summaries.filter((s) => s.report.failure).length;
process.stdout.write(`${summaries.length - failed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
