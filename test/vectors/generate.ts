/**
 * Writes the golden vector files of test/vectors/*.json from the current code.
 *
 *   node bin/run-ts.mjs test/vectors/generate.ts            # refuses to overwrite existing files
 *   node bin/run-ts.mjs test/vectors/generate.ts --force    # after an intended encoding change
 *
 * Review every changed value before committing: the vectors are the contract that other
 * implementations (and later versions of this one) must reproduce byte for byte.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VECTOR_FILES } from './compute.js';

const here = dirname(fileURLToPath(import.meta.url));
const force = process.argv.includes('--force');

for (const [file, compute] of Object.entries(VECTOR_FILES)) {
  const path = join(here, file);
  if (existsSync(path) && !force) {
    process.stderr.write(`${file} exists; skipping (use --force to regenerate)\n`);
    continue;
  }
  writeFileSync(path, JSON.stringify(compute(), null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
}
