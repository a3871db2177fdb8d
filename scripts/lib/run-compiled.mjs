// `node scripts/lib/run-compiled.mjs ENTRY ARGS…`: runs the compiled CLI at ENTRY (dist/bundle/cli.js)
// with ARGS, without bin/gridledger.mjs's per-start choice between dist/ and the sources. The
// batteries start every node through this, so a node restarted in the middle of a run runs the
// code its peers run (scripts/lib/cluster.ts, `pinCompiledCode`).
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-compiled.mjs ENTRY [ARGS…]\n');
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(args);
