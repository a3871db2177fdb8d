import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { simulateRange } from '../../sim/community/community.js';
import { loadScenarioFile } from '../../sim/community/scenario.js';
import { localDay } from '../../src/util/localtime.js';

/** SHA-256 of the demo scenario's results for one local day: the same in any process for a seed. */
export function demoDayDigest(day: string): string {
  const scenario = loadScenarioFile(join(import.meta.dirname, '../../sim/community/scenarios/demo.json'));
  const d = localDay(scenario.community.timezone, day);
  return createHash('sha256').update(JSON.stringify(simulateRange(scenario, d.firstSlot, d.firstSlot + d.slots))).digest('hex');
}

// `node bin/run-ts.mjs test/sim-community/digest-day.ts DAY` prints the digest (used by community.test.ts).
if (process.argv[1]?.endsWith('digest-day.ts') && process.argv[2]) process.stdout.write(demoDayDigest(process.argv[2]) + '\n');
