import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorPaths, claimAnchorService, startAnchorService } from '../../src/runtime/anchor-service.js';
import { startNode } from '../../src/runtime/service.js';
import { prepareAnchorHome } from './helpers.js';

/**
 * One anchor service per home (docs/anchor.md §9): HOME/data/anchor-service.pid names the process
 * that runs it; another process is refused with ANCHOR_SERVICE_RUNNING, a file left by a dead process
 * is taken over, and a node whose home is served by `gridledger anchor run` starts without its own
 * service. A live process other than this one stands in for `anchor run` (a `sleep`).
 */

const logger = pino({ level: 'silent' });
const homes: string[] = [];
const others: ChildProcess[] = [];

function anchorHome(): string {
  const { home } = prepareAnchorHome(5, { network: 'regtest', backend: { kind: 'offline', dir: 'anchors' }, pollIntervalMs: 100 });
  homes.push(home);
  return home;
}

/** Another live process holding the home's claim. */
function heldByOther(home: string): ChildProcess {
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  others.push(other);
  const lock = anchorPaths(home).lock;
  mkdirSync(dirname(lock), { recursive: true });
  writeFileSync(lock, `${other.pid}\n`);
  return other;
}

afterEach(() => {
  for (const o of others.splice(0)) o.kill('SIGKILL');
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('one anchor service per home', () => {
  it('refuses a home whose service runs in another process, and takes over once that process is gone', async () => {
    const home = anchorHome();
    const other = heldByOther(home);
    expect(() => claimAnchorService(home)).toThrow(expect.objectContaining({ code: 'ANCHOR_SERVICE_RUNNING' }));
    await expect(startAnchorService({ home, apiUrl: 'http://127.0.0.1:1', logger, manual: true })).rejects.toMatchObject({ code: 'ANCHOR_SERVICE_RUNNING' });
    expect(readFileSync(anchorPaths(home).lock, 'utf8').trim()).toBe(String(other.pid));
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    const release = claimAnchorService(home);
    expect(readFileSync(anchorPaths(home).lock, 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(anchorPaths(home).lock)).toBe(false);
  });

  it('services of one process share the claim; the file goes with the last one', async () => {
    const home = anchorHome();
    const first = (await startAnchorService({ home, apiUrl: 'http://127.0.0.1:1', logger, manual: true }))!;
    const second = (await startAnchorService({ home, apiUrl: 'http://127.0.0.1:1', logger, manual: true }))!;
    await first.stop();
    expect(readFileSync(anchorPaths(home).lock, 'utf8').trim()).toBe(String(process.pid));
    await second.stop();
    await second.stop(); // stopping twice releases once
    expect(existsSync(anchorPaths(home).lock)).toBe(false);
  });

  it('a node whose home is served by another process starts without its own service and says why', async () => {
    const home = anchorHome();
    heldByOther(home);
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const node = await startNode(home, { apiPort: 0, logger: pino({ level: 'info' }, sink) });
    try {
      expect(lines.join('')).toContain('anchor service not started: it already runs for this home');
      expect(lines.join('')).not.toContain('anchor service started');
    } finally {
      await node.stop();
    }
  }, 60_000);
});
