import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { calibrate } from './calibrate.js';
import { benchFoundation } from './foundation.js';

/**
 * `npm run bench [-- --txs N --half-load-seconds S]`: reports figures and their ratio to this
 * machine's Ed25519 verify rate, measured in the same run. Not a test: nothing here passes or fails.
 */
const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '20000' },
    validators: { type: 'string', default: '1' },
    'half-load-seconds': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stderr.write('calibrating Ed25519 verify rate…\n');
const cal = await calibrate();
process.stderr.write(`  ${cal.verifyPerSecOneCore}/s on one core, ${cal.verifyPerSecAllCores}/s on ${cal.cores} cores\n`);
const validators = Number(values.validators);
process.stderr.write(`foundation: registry admissions on ${validators} validator(s)…\n`);
const f = await benchFoundation({ validators, saturationTxs: Number(values.txs), halfLoadSeconds: Number(values['half-load-seconds']) });
// Every validator verifies every transaction on this one machine, so the bound is shared.
const bound = cal.verifyPerSecAllCores / validators;
const report = {
  machine,
  calibration: cal,
  foundation: {
    validators,
    ...f,
    boundTxPerSec: Math.round(bound),
    ratioToBound: Number((f.committedTxPerSec / bound).toFixed(3)),
    goal: validators === 1 ? 'committed tx/s >= 0.40 x all-cores verify rate; p99 <= 1500 ms at half load' : 'committed tx/s >= 0.40 x (all-cores verify rate / validators); p50 <= 1000 ms, p99 <= 2000 ms at half load',
  },
};
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
