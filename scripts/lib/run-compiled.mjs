// `node scripts/lib/run-compiled.mjs ENTRY ARGS…`: runs the compiled CLI at ENTRY (dist/bundle/cli.cjs,
// loaded as bin/gridledger.mjs loads it, with its code cache) with ARGS, without bin/gridledger.mjs's
// per-start choice between dist/ and the sources. The batteries start every node through this, so a
// node restarted in the middle of a run runs the code its peers run (scripts/lib/cluster.ts,
// `pinCompiledCode`).
import { loadCompiledCli } from '../../bin/compiled-cli.mjs';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-compiled.mjs ENTRY [ARGS…]\n');
  process.exit(2);
}
const { main, saveCodeCache } = loadCompiledCli(entry);
process.exitCode = await main(args);
saveCodeCache();
