import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Committed tx/s before and after the state tree (issue 17, ADR 0012): the foundation benchmark
 * (`bench/main.ts --only foundation`: registry admissions over HTTP, saturation throughput) run on
 * the commit before the merge of the state tree (LtHash root) and on this checkout, alternately,
 * on 1 and on n validators. Each run reports its throughput as a ratio to the Ed25519 verify rate
 * of this machine measured in the same run, so the comparison survives a machine whose load
 * changes between runs; the loss is 1 − median(after ratios) / median(before ratios).
 *
 * The "before" tree is a temporary detached git worktree at `before` (default: the first parent of
 * the commit whose subject starts with "Merge verifiable"), sharing this checkout's node_modules.
 * `patches` are commits applied to it first (without committing) — fixes of the measurement itself
 * that the old tree lacks, e.g. an event stream that dropped the benchmark's reader; the report
 * names them.
 */

export interface TxsRun {
  tree: 'before' | 'after';
  validators: number;
  committedTxPerSec: number;
  ratioToBound: number;
  verifyPerSecAllCores: number;
}

export interface TxsComparison {
  beforeCommit: string;
  afterCommit: string;
  beforePatches: string[];
  rounds: number;
  txs: number;
  perValidators: Array<{
    validators: number;
    beforeRatio: number;
    afterRatio: number;
    beforeTxPerSec: number;
    afterTxPerSec: number;
    lossPercent: number;
  }>;
  runs: TxsRun[];
}

function git(args: string[], cwd: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** The first parent of the "Merge verifiable…" commit: the tree with the LtHash state root. */
export function beforeCommit(repo: string): string {
  const merges = git(['log', '--format=%H %s'], repo)
    .split('\n')
    .filter((l) => / Merge verifiable/.test(l));
  const merge = merges[merges.length - 1];
  if (!merge) throw new Error('no "Merge verifiable" commit in the history');
  return git(['rev-parse', `${merge.split(' ')[0]}^1`], repo);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function runFoundation(tree: string, validators: number, txs: number): Promise<{ committedTxPerSec: number; ratioToBound: number; verifyPerSecAllCores: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['bin/run-ts.mjs', 'bench/main.ts', '--only', 'foundation', '--validators', String(validators), '--txs', String(txs), '--half-load-seconds', '2'], {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`foundation bench in ${tree} exited with ${code}`));
      const report = JSON.parse(out) as { calibration: { verifyPerSecAllCores: number }; foundation: { committedTxPerSec: number; ratioToBound: number } };
      resolvePromise({ committedTxPerSec: report.foundation.committedTxPerSec, ratioToBound: report.foundation.ratioToBound, verifyPerSecAllCores: report.calibration.verifyPerSecAllCores });
    });
  });
}

/** A temporary detached worktree at `commit` with `patches` applied, sharing `repo`'s node_modules. */
function temporaryTree(repo: string, commit: string, patches: string[]): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-before-'));
  const path = join(dir, 'tree');
  git(['worktree', 'add', '--detach', path, commit], repo);
  const remove = () => {
    git(['worktree', 'remove', '--force', path], repo);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const patch of patches) git(['cherry-pick', '--no-commit', patch], path);
    if (!existsSync(join(path, 'node_modules'))) symlinkSync(join(repo, 'node_modules'), join(path, 'node_modules'), 'dir');
  } catch (err) {
    remove();
    throw err;
  }
  return { path, remove };
}

/**
 * `after` (default: this checkout as it is) may name a commit too, measured in its own temporary
 * tree with the same patches — e.g. a change in the middle of the history against its parent.
 */
export async function compareCommittedTxs(options: { repo?: string; before?: string; after?: string; patches?: string[]; validators?: number[]; rounds?: number; txs?: number; log?: (s: string) => void }): Promise<TxsComparison> {
  const repo = resolve(options.repo ?? '.');
  const commit = options.before ?? beforeCommit(repo);
  const validatorCounts = options.validators ?? [1, 4];
  const rounds = options.rounds ?? 3;
  const txs = options.txs ?? 20_000;
  const log = options.log ?? ((s: string) => process.stderr.write(s + '\n'));
  const patches = options.patches ?? [];
  const before = temporaryTree(repo, commit, patches);
  const after = options.after ? temporaryTree(repo, options.after, patches) : { path: repo, remove: () => undefined };
  const tree = before.path;
  const afterName = options.after ? options.after.slice(0, 7) : 'this checkout';
  try {
    const runs: TxsRun[] = [];
    for (const validators of validatorCounts) {
      for (let r = 0; r < rounds; r++) {
        // Alternate the order per round so a drift in machine load does not favour one tree.
        const order: Array<['before' | 'after', string]> = r % 2 === 0 ? [['before', tree], ['after', after.path]] : [['after', after.path], ['before', tree]];
        for (const [name, path] of order) {
          log(`${name} (${name === 'before' ? commit.slice(0, 7) : afterName}), ${validators} validator(s), round ${r + 1}/${rounds}…`);
          const res = await runFoundation(path, validators, txs);
          log(`  ${res.committedTxPerSec} tx/s, ratio to bound ${res.ratioToBound}`);
          runs.push({ tree: name, validators, ...res });
        }
      }
    }
    const perValidators = validatorCounts.map((validators) => {
      const of = (t: 'before' | 'after') => runs.filter((x) => x.tree === t && x.validators === validators);
      const beforeRatio = median(of('before').map((x) => x.ratioToBound));
      const afterRatio = median(of('after').map((x) => x.ratioToBound));
      return {
        validators,
        beforeRatio: Number(beforeRatio.toFixed(3)),
        afterRatio: Number(afterRatio.toFixed(3)),
        beforeTxPerSec: Math.round(median(of('before').map((x) => x.committedTxPerSec))),
        afterTxPerSec: Math.round(median(of('after').map((x) => x.committedTxPerSec))),
        lossPercent: Number(((1 - afterRatio / beforeRatio) * 100).toFixed(1)),
      };
    });
    return { beforeCommit: commit, afterCommit: options.after ?? 'this checkout', beforePatches: patches, rounds, txs, perValidators, runs };
  } finally {
    before.remove();
    after.remove();
  }
}
