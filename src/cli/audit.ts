import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { auditChain, type AuditReport } from '../ledger/audit.js';
import { paths, resolveHome } from '../home/home.js';
import { MODULE_CORES } from '../modules/index.js';
import { defineErrors } from '../util/errors.js';
import { CLI_ERRORS, globals, print } from './kit.js';

export const AUDIT_ERRORS = defineErrors('audit', {
  AUDIT_DIVERGED: { meaning: "the node's stored chain differs from a replay from genesis; the report names the first table, row and field" },
});

function text(r: AuditReport): string {
  const head = `${r.ok ? 'AUDIT PASSED' : 'AUDIT FAILED'}  chain ${r.chainId}: heights ${r.fromHeight}…${r.verifiedHeight} of ${r.storedHeight} verified (${r.blocks} blocks, ${r.txs} transactions, ${r.commitSignatures} commit signatures)`;
  const state = r.stateCompared ? `state and state tree: ${r.stateRows} rows identical to the replay` : r.ok ? 'state not compared (the node committed more blocks meanwhile: run again to continue)' : '';
  const div = r.divergence ? `first divergence at height ${r.divergence.height}: ${r.divergence.message}${r.divergence.stored !== undefined ? `\n  stored   ${r.divergence.stored}` : ''}${r.divergence.replayed !== undefined ? `\n  replayed ${r.divergence.replayed}` : ''}` : '';
  return [head, state, div].filter(Boolean).join('\n');
}

/** `gridledger audit --home DIR`: replays the node's chain from genesis and reports the first divergence (src/ledger/audit.ts). */
export function registerAuditCli(program: Command): void {
  program
    .command('audit')
    .description("replay the chain stored in --home from genesis: every signature, commit, result root and state root, then the state tables; reports the first divergence; resumable")
    .option('--work <dir>', 'where the replica is kept between runs (default HOME/data/audit)')
    .option('--restart', 'start from genesis again instead of resuming')
    .option('--to-height <n>', 'stop after this height')
    .action(async (opts: { work?: string; restart?: boolean; toHeight?: string }, cmd: Command) => {
      const home = resolveHome(globals(cmd).home);
      if (!existsSync(paths(home).db)) throw CLI_ERRORS.CLI_INVALID_OPTION(`no ledger database at ${paths(home).db}`);
      const toHeight = opts.toHeight === undefined ? undefined : Number(opts.toHeight);
      if (toHeight !== undefined && (!Number.isSafeInteger(toHeight) || toHeight < 1)) throw CLI_ERRORS.CLI_INVALID_OPTION('--to-height takes a height ≥ 1');
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'audit [{bar}] {value}/{total} blocks  {eta_formatted} left', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      const report = await auditChain({
        home,
        modules: MODULE_CORES,
        ...(opts.work ? { work: opts.work } : {}),
        ...(opts.restart ? { restart: true } : {}),
        ...(toHeight !== undefined ? { toHeight } : {}),
        onProgress: (h, target) => {
          if (!bar) return;
          if (!started) bar.start(target, h - 1);
          started = true;
          bar.update(h);
        },
      });
      bar?.stop();
      print(cmd, report, text);
      if (!report.ok) throw AUDIT_ERRORS.AUDIT_DIVERGED(report.divergence!.message);
    });
}
