// Child process of agent-crash.test.ts: the real `edge` command (src/edge/cli.ts) under the CLI's
// global options, without loading every other command of the binary, so twenty restarts stay cheap.
import { Command, Option } from 'commander';
import { registerEdgeCli } from '../../src/edge/cli.js';

const program = new Command('gridledger')
  .option('--home <dir>')
  .option('--node <url>')
  .addOption(new Option('-o, --output <format>').choices(['text', 'json']).default('text'))
  .option('--from <name>');
registerEdgeCli(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
