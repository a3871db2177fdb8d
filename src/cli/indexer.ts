import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { paths, resolveHome } from '../home/home.js';
import { openDatabase, resetDatabase, runIndexer } from '../indexer/indexer.js';
import { CLI_ERRORS, globals, nodeUrl, print } from './kit.js';
import { readTrusted } from './verify.js';

/**
 * `gridledger indexer --node URL --postgres URL`: follows the node into PostgreSQL (src/indexer,
 * docs/indexer.md) until stopped (SIGINT/SIGTERM end it between blocks) or --until-height.
 */
export function registerIndexerCli(program: Command): void {
  program
    .command('indexer')
    .description('follow a node into PostgreSQL: verified blocks, transactions, results, events and module tables, with reporting views (docs/indexer.md)')
    .requiredOption('--postgres <url>', 'PostgreSQL connection URL, e.g. postgres://user@127.0.0.1:5432/gridledger')
    .option('--trusted <file>', 'trusted genesis.json or saved trusted state (default: the genesis of --home)')
    .option('--until-height <n>', 'stop after indexing this height')
    .option('--reindex', 'empty the tables first and index from the trusted state again')
    .action(async (opts: { postgres: string; trusted?: string; untilHeight?: string; reindex?: boolean }, cmd: Command) => {
      const trustedFile = opts.trusted ?? paths(resolveHome(globals(cmd).home)).genesis;
      if (!existsSync(trustedFile)) throw CLI_ERRORS.CLI_INVALID_OPTION(`--trusted: ${trustedFile} does not exist (give a genesis.json or a saved trusted state)`);
      const untilHeight = opts.untilHeight === undefined ? undefined : Number(opts.untilHeight);
      if (untilHeight !== undefined && (!Number.isSafeInteger(untilHeight) || untilHeight < 1)) throw CLI_ERRORS.CLI_INVALID_OPTION('--until-height takes a height ≥ 1');
      if (opts.reindex) {
        const db = await openDatabase(opts.postgres);
        await resetDatabase(db);
        await db.end();
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const started = Date.now();
      const run = await runIndexer({
        nodeUrl: nodeUrl(cmd),
        postgresUrl: opts.postgres,
        trusted: readTrusted(trustedFile),
        signal: stop.signal,
        ...(untilHeight !== undefined ? { untilHeight } : {}),
        onBlock: (h) => {
          if (process.stderr.isTTY && h % 100 === 0) process.stderr.write(`indexed height ${h}\n`);
        },
      });
      const seconds = (Date.now() - started) / 1000;
      print(cmd, { ...run, seconds, rowsPerSecond: seconds > 0 ? Math.round(run.rows / seconds) : 0 }, (v) => `indexed up to height ${v.height}: ${v.blocks} blocks, ${v.rows} rows in ${v.seconds.toFixed(1)} s`);
    });
}
