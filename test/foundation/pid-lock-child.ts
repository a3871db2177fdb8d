/**
 * One contender of test/foundation/pid-lock.test.ts: prints `ready`, waits for GO (a file) so that all
 * contenders start at the same moment, then ROUNDS times tries to claim LOCK; while it holds the lock
 * it appends `+PID` and then `-PID` to JOURNAL (O_APPEND: one write each), then releases it. Prints
 * how many claims it won.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { claimPidLock } from '../../src/util/pid-lock.js';

const [lock, go, journal, rounds] = process.argv.slice(2) as [string, string, string, string];
process.stdout.write('ready\n');
const pause = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(go)) Atomics.wait(pause, 0, 0, 1);
let won = 0;
for (let round = 0; round < Number(rounds); round++) {
  let release: () => void;
  try {
    release = claimPidLock(lock, { refused: (pid) => new Error(`refused ${pid}`) });
  } catch {
    continue;
  }
  won++;
  appendFileSync(journal, `+${process.pid}\n`);
  appendFileSync(journal, `-${process.pid}\n`);
  release();
}
process.stdout.write(`won ${won}\n`);
