import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PRIVATE_PARK_REASON, Spool, type SpoolKey } from '../../src/edge/spool.js';
import { codeOf, tempDir } from './helpers.js';

const REPO = join(import.meta.dirname, '..', '..');
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function open(options = {}): { spool: Spool; path: string } {
  const t = tempDir('edge-spool');
  const path = join(t.dir, 'edge.db');
  const spool = new Spool(path, options);
  cleanups.push(() => {
    spool.close();
    t.cleanup();
  });
  return { spool, path };
}
const key = (slot: number, seq = slot): SpoolKey => ({ meterId: 'M1', slot, seq });
const payload = (n: number) => ({ tx: `signed-${n}`, n });

describe('spool', () => {
  it('queues idempotently and refuses a different reading under the same slot or seq', () => {
    const { spool } = open();
    expect(spool.enqueue(key(10), payload(10), 1000)).toBe('queued');
    expect(spool.enqueue(key(10), { n: 10, tx: 'signed-10' }, 2000)).toBe('already-queued'); // same JSON, other key order
    expect(codeOf(() => spool.enqueue(key(10), payload(11), 2000))).toBe('SPOOL_CONFLICT');
    expect(codeOf(() => spool.enqueue(key(10, 11), payload(10), 2000))).toBe('SPOOL_CONFLICT');
    expect(codeOf(() => spool.enqueue(key(11, 10), payload(10), 2000))).toBe('SPOOL_CONFLICT');
    expect(spool.enqueue({ meterId: 'M2', slot: 10, seq: 10 }, payload(10), 1000)).toBe('queued');
    expect(spool.depth()).toEqual({ pending: 2, parked: 0 });
    expect(spool.entries()[0]).toEqual({ meterId: 'M1', slot: 10, seq: 10, payload: payload(10), state: 'pending', attempts: 0, nextAttemptMs: 1000, enqueuedAtMs: 1000 });
  });

  it('hands out due readings in order and backs off exponentially on failures (time is the caller\'s)', () => {
    const { spool } = open({ backoffBaseMs: 1000, backoffMaxMs: 5000 });
    for (const s of [3, 1, 2]) spool.enqueue(key(s), payload(s), 100);
    expect(spool.due(100).map((e) => e.slot)).toEqual([1, 2, 3]);
    expect(spool.due(100, 2).map((e) => e.slot)).toEqual([1, 2]);
    expect(spool.due(99)).toEqual([]);
    const delays: number[] = [];
    let now = 100;
    for (let i = 0; i < 6; i++) {
      const e = spool.recordFailure(key(1), now, `timeout ${i}`);
      delays.push(e.nextAttemptMs - now);
      expect(e).toMatchObject({ attempts: i + 1, lastError: `timeout ${i}` });
      now = e.nextAttemptMs;
    }
    expect(delays).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect(spool.due(now - 1).map((e) => e.slot)).toEqual([2, 3]);
    expect(spool.due(now).map((e) => e.slot)).toEqual([2, 3, 1]);
    expect(spool.nextAttemptMs()).toBe(100);
  });

  it('removes a reading only on confirmation, and never queues a delivered one again', () => {
    const { spool } = open();
    spool.enqueue(key(1), payload(1), 0);
    spool.enqueue(key(2), payload(2), 0);
    spool.confirm(key(1), 'committed', 5);
    spool.confirm(key(2), 'duplicate', 6);
    expect(spool.depth()).toEqual({ pending: 0, parked: 0 });
    expect(spool.nextAttemptMs()).toBeUndefined();
    expect(spool.enqueue(key(1), payload(1), 10)).toBe('already-delivered');
    expect(spool.enqueue(key(2), payload(2), 10)).toBe('already-delivered');
    expect(codeOf(() => spool.enqueue(key(1), payload(99), 10))).toBe('SPOOL_CONFLICT');
    expect(codeOf(() => spool.enqueue(key(5, 1), payload(1), 10))).toBe('SPOOL_CONFLICT');
    expect(codeOf(() => spool.confirm(key(1), 'committed', 11))).toBe('SPOOL_NOT_FOUND');
    spool.enqueue(key(3), payload(3), 0);
    expect(codeOf(() => spool.confirm(key(3, 4), 'committed', 11))).toBe('SPOOL_NOT_FOUND');
    expect(spool.pruneDelivered('M1', 2)).toBe(1);
    expect(spool.enqueue(key(1), payload(1), 20)).toBe('queued');
  });

  it('parks a reading the node refused for good, until an operator puts it back', () => {
    const { spool } = open();
    spool.enqueue(key(1), payload(1), 0);
    spool.park(key(1), 10, 'METER_REGISTER_INCONSISTENT');
    expect(spool.due(1_000_000)).toEqual([]);
    expect(spool.depth()).toEqual({ pending: 0, parked: 1 });
    expect(spool.entries()[0]).toMatchObject({ state: 'parked', lastError: 'METER_REGISTER_INCONSISTENT' });
    spool.unpark(key(1), 20);
    expect(spool.due(20).map((e) => e.slot)).toEqual([1]);
    expect(codeOf(() => spool.park(key(9), 0, 'x'))).toBe('SPOOL_NOT_FOUND');
    expect(codeOf(() => spool.enqueue(key(-1), payload(1), 0))).toBe('EDGE_BAD_OPTION');
    expect(codeOf(() => spool.due(1.5))).toBe('EDGE_BAD_OPTION');
  });

  it('tells readings kept private for a flex event from readings the ledger refused', () => {
    const { spool } = open();
    for (const s of [1, 2, 3, 4]) spool.enqueue(key(s), payload(s), 0);
    spool.park(key(1), 10, `${PRIVATE_PARK_REASON} ev1/0`);
    spool.park(key(2), 10, `${PRIVATE_PARK_REASON} ev1/1`);
    spool.park(key(3), 10, 'METER_REGISTER_INCONSISTENT');
    expect(spool.depth()).toEqual({ pending: 1, parked: 3 });
    expect(spool.keptPrivateCount()).toBe(2);
    spool.unpark(key(1), 20);
    expect(spool.keptPrivateCount()).toBe(1);
  });

  it('keeps everything across a reopen', () => {
    const { spool, path } = open();
    spool.enqueue(key(1), payload(1), 0);
    spool.recordFailure(key(1), 0, 'down');
    spool.enqueue(key(2), payload(2), 0);
    spool.confirm(key(2), 'committed', 1);
    spool.close();
    const again = new Spool(path);
    cleanups.push(() => again.close());
    expect(again.entries()).toEqual([{ ...key(1), payload: payload(1), state: 'pending', attempts: 1, nextAttemptMs: 1000, enqueuedAtMs: 0, lastError: 'down' }]);
    expect(again.enqueue(key(2), payload(2), 5)).toBe('already-delivered');
  });

  it('a process killed at random points loses and duplicates nothing', async () => {
    for (let run = 0; run < 3; run++) {
      const t = tempDir('edge-spool-crash');
      cleanups.push(t.cleanup);
      const path = join(t.dir, 'edge.db');
      const lines = await runAndKill(path, 40 + run * 37);
      const spool = new Spool(path, { backoffBaseMs: 1000, backoffMaxMs: 8000 });
      cleanups.push(() => spool.close());
      const queued = new Map(spool.entries().map((e) => [e.seq, e]));
      const said = (op: string, i: number) => lines.includes(`${op} ${i}`);
      const last = Math.max(...lines.map((l) => Number(l.split(' ')[1])));
      for (let i = 1; i <= last + 1; i++) {
        const wasQueued = queued.has(i);
        const outcome = spool.enqueue(key(1000 + i, i), { reading: i, sig: `s${i}` }, 0);
        // The child may have completed one call more than it printed: the one in flight when it was killed.
        const inFlight = i >= last;
        expect(wasQueued && outcome === 'already-delivered').toBe(false); // never both queued and delivered
        if (said('c', i)) expect(outcome).toBe('already-delivered');
        else if (said('q', i) && !inFlight) expect(outcome).toBe('already-queued');
        else if (said('q', i)) expect(outcome === 'already-queued' || (i % 2 === 1 && outcome === 'already-delivered')).toBe(true);
        else expect(['queued', 'already-queued']).toContain(outcome);
        if (wasQueued) expect(queued.get(i)!.attempts).toBe(said('f', i) || !inFlight ? 1 : queued.get(i)!.attempts);
        if (wasQueued) expect(queued.get(i)!.attempts).toBeLessThanOrEqual(1);
      }
    }
  });
});

/** Runs the child until it has printed `lines` lines, then SIGKILLs it; returns what it printed. */
function runAndKill(path: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin', 'run-ts.mjs'), join(REPO, 'test', 'edge', 'spool-crash-child.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > lines) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended without being killed (${signal})`));
      else resolve(out.split('\n').filter((l) => /^[qfc] \d+$/.test(l)));
    });
  });
}
