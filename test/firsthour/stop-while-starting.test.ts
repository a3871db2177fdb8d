/**
 * A process manager may stop a node at any moment, also while it is still starting (opening its
 * database, replaying its WAL, building its API). SIGTERM then must stop it cleanly — exit code 0,
 * its pid file released — not kill it half-started; and the node starts again afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BIN, cleanEnv, cliNoTty, freePort, Proc, REPO } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'gridledger-stop-starting-'));
const started: Proc[] = [];

afterAll(() => {
  for (const p of started) if (!p.done) p.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function startNode(home: string, port: number): Proc {
  const p = new Proc(spawn(process.execPath, [BIN, 'start', '--home', home, '--api', `127.0.0.1:${port}`], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  started.push(p);
  return p;
}

it('SIGTERM while the node is still starting stops it cleanly, and it starts again', async () => {
  const home = join(root, 'home');
  const init = await cliNoTty(['init', '--home', home, '-o', 'json', '--keyring-backend', 'test']);
  expect(init.code, init.stderr).toBe(0);
  const pidFile = join(home, 'data', 'node.pid');
  const port = await freePort();

  const node = startNode(home, port);
  // The pid file is claimed at the very start of the node's start-up, long before its API listens.
  const deadline = Date.now() + 60_000;
  while (!existsSync(pidFile) && !node.done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(existsSync(pidFile), node.output).toBe(true);
  node.child.kill('SIGTERM');
  expect(await node.exited, node.output).toEqual({ code: 0, signal: null });
  expect(existsSync(pidFile)).toBe(false);

  const again = startNode(home, port);
  await again.waitFor(/GridLedger node serving/, 'the second start');
  again.child.kill('SIGTERM');
  expect(await again.exited, again.output).toEqual({ code: 0, signal: null });
}, 120_000);
