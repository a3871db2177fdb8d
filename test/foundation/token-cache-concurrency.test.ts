/**
 * CLI commands of one home run at the same time (scripts, the PriWatt devnet test): each may rewrite
 * the login-token cache. They used one shared temporary file name, so one process renamed another's
 * file away and a command failed with ENOENT (CLI_ERROR) — found by the PriWatt devnet test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from './cli-helpers.js';

const home = mkdtempSync(join(tmpdir(), 'gridledger-token-cache-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A process that rewrites the token cache `times` times (through `logout`, which always writes it). */
function writer(times: number): Promise<{ code: number | null; stderr: string }> {
  const script = `const m = await import(${JSON.stringify(join(REPO, 'src', 'cli', 'session.ts'))}); for (let i = 0; i < ${times}; i++) m.logout(${JSON.stringify(home)}, 'http://127.0.0.1:1');`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

it('six processes rewriting the token cache at once all succeed and leave no temporary file', async () => {
  const results = await Promise.all(Array.from({ length: 6 }, () => writer(300)));
  for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
  expect(readdirSync(join(home, 'auth')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}, 60_000);
