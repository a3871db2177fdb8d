/**
 * Long fuzzing run of the proof verifier (issue 17): `node bin/run-ts.mjs scripts/fuzz-proofs.ts --runs 1000000 [--seed N]`
 * applies that many single-byte mutations to each part of a proven answer (value, state proof,
 * header, commit) and exits non-zero if any is accepted. The test suite runs 10⁴ per part.
 */
import { parseArgs } from 'node:util';
import { fuzzKind, KINDS, provenFixture } from '../test/verifiable/proof-fuzz.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '20261201' } } });
const runs = Number(values.runs);
const fixture = provenFixture();
let failed = false;
for (const [i, kind] of KINDS.entries()) {
  const started = Date.now();
  const { accepted, notJson } = await fuzzKind(fixture, 'test-chain', kind, runs, Number(values.seed) + i);
  process.stdout.write(`${kind}: ${runs} mutations, ${notJson} not JSON, ${accepted.length} accepted (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  if (accepted.length > 0) {
    failed = true;
    process.stdout.write(`  accepted runs: ${accepted.slice(0, 10).map((a) => a.run).join(', ')}\n`);
  }
}
process.exit(failed ? 1 : 0);
