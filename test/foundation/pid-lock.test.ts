import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPidLock, readPidFile, releasePidLock, removeStaleLock } from '../../src/util/pid-lock.js';

/**
 * One process per resource (src/util/pid-lock.ts: a node's home, a devnet's folder, a home's anchor
 * service). Processes that claim one lock at the same moment: exactly one wins, whether the lock is
 * free or left by a dead process; a stale lock replaced by another process before its removal is put
 * back; a release removes only this process's own lock. Contenders are processes of
 * test/foundation/pid-lock-child.ts.
 */

const dirs: string[] = [];
const children: ChildProcess[] = [];

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-pid-lock-'));
  dirs.push(dir);
  return dir;
}

/** A process that exists (a `sleep`), to hold a lock. */
function liveProcess(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

/** Processes of test/foundation/pid-lock-child.ts, each claiming and releasing LOCK ROUNDS times. */
function contenders(lock: string, go: string, journal: string, count: number, rounds: number): { child: ChildProcess; lines: string[] }[] {
  return Array.from({ length: count }, () => {
    const child = spawn(process.execPath, [join('bin', 'run-ts.mjs'), join('test', 'foundation', 'pid-lock-child.ts'), lock, go, journal, String(rounds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const lines: string[] = [];
    child.stdout!.setEncoding('utf8').on('data', (text: string) => lines.push(...text.split('\n').filter(Boolean)));
    return { child, lines };
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !condition(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('pid locks', () => {
  it('processes claiming and releasing one lock as fast as they can never hold it at the same time', async () => {
    const dir = folder();
    const lock = join(dir, 'x.pid');
    const journal = join(dir, 'journal');
    const go = join(dir, 'go');
    const racers = contenders(lock, go, journal, 4, 400);
    await until(() => racers.every((r) => r.lines.includes('ready')), 'every contender is ready');
    writeFileSync(go, '');
    await Promise.all(racers.map((r) => (r.child.exitCode === null ? once(r.child, 'exit') : undefined)));
    const won = racers.map((r) => Number(/^won (\d+)$/.exec(r.lines[1] ?? '')?.[1]));
    const entries = readFileSync(journal, 'utf8').trim().split('\n');
    // Every hold is an entry followed by its own exit: no other process entered in between.
    for (let n = 0; n < entries.length; n += 2) expect([entries[n], entries[n + 1]], `entries ${n}, ${n + 1}`).toEqual([entries[n], `-${entries[n]!.slice(1)}`]);
    expect(entries.length / 2).toBe(won.reduce((a, b) => a + b, 0));
    expect(won.filter((w) => w > 0).length, `claims won per process: ${won.join(', ')}`).toBeGreaterThan(1);
    // Every holder removed its lock; nothing staged or set aside is left.
    expect(readdirSync(dir).sort()).toEqual(['go', 'journal']);
  }, 90_000);

  it('refuses a lock held by a live process, naming it; takes over one left by a dead process; a release removes only its own', async () => {
    const dir = folder();
    const lock = join(dir, 'x.pid');
    const live = liveProcess();
    writeFileSync(lock, `${live.pid}\n`);
    expect(() => claimPidLock(lock, { refused: (pid) => new Error(`refused ${pid}`) })).toThrow(`refused ${live.pid}`);
    // `holds` decides what counts as holding (the devnet asks that the process runs gridledger).
    const release = claimPidLock(lock, { holds: () => false, refused: () => new Error('refused') });
    expect(readPidFile(lock)).toBe(process.pid);
    writeFileSync(lock, `${live.pid}\n`); // taken over by another process meanwhile
    release();
    expect(readPidFile(lock)).toBe(live.pid);
    releasePidLock(lock);
    expect(readPidFile(lock)).toBe(live.pid);
    writeFileSync(lock, `${await deadPid()}\n`);
    claimPidLock(lock, { refused: () => new Error('refused') })();
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removing a stale lock leaves a lock that replaced it meanwhile (seen stale, then claimed by a live process)', async () => {
    const dir = folder();
    const lock = join(dir, 'x.pid');
    const live = liveProcess();
    writeFileSync(lock, `${live.pid}\n`);
    // This process read a dead process's id; before it removes that lock, the live one replaces it.
    removeStaleLock(lock, `${await deadPid()}\n`);
    expect(readFileSync(lock, 'utf8')).toBe(`${live.pid}\n`);
    // The lock it saw is removed.
    removeStaleLock(lock, `${live.pid}\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock file without a valid process id (left empty, or damaged) is taken over', () => {
    const dir = folder();
    for (const text of ['', 'garbage\n', '-4\n', '0\n']) {
      const lock = join(dir, 'x.pid');
      writeFileSync(lock, text);
      expect(readPidFile(lock)).toBeNull();
      const release = claimPidLock(lock, { refused: () => new Error('refused') });
      expect(readPidFile(lock)).toBe(process.pid);
      release();
      expect(existsSync(lock)).toBe(false);
    }
  });
});
