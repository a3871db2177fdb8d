// Child process of spool.test.ts: works the spool in a loop, printing each completed call, until killed.
import { Spool } from '../../src/edge/spool.js';

const spool = new Spool(process.argv[2]!, { backoffBaseMs: 1000, backoffMaxMs: 8000 });
const say = (line: string) => process.stdout.write(`${line}\n`);
for (let i = 1; ; i++) {
  const key = { meterId: 'M1', slot: 1000 + i, seq: i };
  spool.enqueue(key, { reading: i, sig: `s${i}` }, i * 10);
  say(`q ${i}`);
  spool.recordFailure(key, i * 10, 'node unreachable');
  say(`f ${i}`);
  if (i % 2 === 1) {
    spool.confirm(key, i % 4 === 1 ? 'committed' : 'duplicate', i * 10 + 1);
    say(`c ${i}`);
  }
}
