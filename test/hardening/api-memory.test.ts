import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { parseResponse, postHead, rawClient, sleep, type RawClient } from '../api/limits-helpers.js';

/**
 * Issue 9 #3 as the audit reproduced it: 30 connections, each sending 7.5 MB of an 8 MB body and then
 * stalling, against a server in its own process. With default limits (except a short request
 * timeout so the test is quick) the server's RSS stays bounded by the in-flight body budget, the
 * single-transaction route refuses such bodies at once, and every stalled connection is closed.
 */

const REPO = join(import.meta.dirname, '..', '..');
const REQUEST_TIMEOUT_MS = 3000;
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

async function startChild(options: Record<string, unknown>): Promise<{ port: number; ask(): Promise<{ rss: number; calls: Record<string, number> }> }> {
  const proc = spawn(process.execPath, ['--expose-gc', join(REPO, 'bin', 'run-ts.mjs'), join(REPO, 'test', 'hardening', 'api-server-child.ts'), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  child = proc;
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  const { port } = (await next()) as { port: number };
  return {
    port,
    ask: async () => {
      proc.stdin.write('rss\n');
      return next();
    },
  };
}

describe('slow request bodies (issue 9 #3)', () => {
  it('30 clients holding 7.5 MB of an 8 MB body each: RSS stays bounded and the connections are closed', { timeout: 60_000 }, async () => {
    const server = await startChild({ requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: 1000 });
    const mb = 1_000_000;
    const part = Buffer.alloc(7.5 * mb, 0x20);
    const baseline = (await server.ask()).rss;
    const clients: RawClient[] = [];
    for (let i = 0; i < 30; i++) {
      const c = await rawClient(server.port, `127.0.0.${10 + i}`);
      c.socket.write(postHead('/t/batch', 8 * mb));
      c.socket.write(part);
      clients.push(c);
    }
    // and the same against the one-transaction route, which must refuse at once
    const single: RawClient[] = [];
    for (let i = 0; i < 30; i++) {
      const c = await rawClient(server.port, `127.0.1.${10 + i}`);
      c.socket.write(postHead('/t/single', 8 * mb));
      c.socket.write(part);
      single.push(c);
    }
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(200);
      peak = Math.max(peak, (await server.ask()).rss);
    }
    const growthMb = (peak - baseline) / 2 ** 20;
    const closedOrOpen = (c: RawClient) => Promise.race([c.closed, sleep(REQUEST_TIMEOUT_MS + 4000).then(() => ({ text: 'still open', afterMs: -1 }))]);
    const outcomes = await Promise.all(clients.map(closedOrOpen));
    const refusedSingle = await Promise.all(single.map(closedOrOpen));
    for (const c of [...clients, ...single]) c.socket.destroy();
    // A refusal answered while the client is still sending may be lost to the TCP reset that follows
    // the close ("closed"); what matters is that every connection was closed and none is still open.
    const codes = outcomes.map((o) => (o.text === 'still open' ? o.text : (parseResponse(o.text).code ?? 'closed')));
    const singleCodes = refusedSingle.map((o) => (o.text === 'still open' ? o.text : (parseResponse(o.text).code ?? 'closed')));
    console.log(`RSS growth ${growthMb.toFixed(1)} MiB; batch route: ${JSON.stringify(countBy(codes))}; single route: ${JSON.stringify(countBy(singleCodes))}`);
    expect(growthMb).toBeLessThan(120);
    expect(codes.every((c) => c === 'REQUEST_TIMEOUT' || c === 'BODY_BUDGET_EXHAUSTED' || c === 'closed')).toBe(true);
    expect(codes.filter((c) => c === 'REQUEST_TIMEOUT').length).toBeLessThanOrEqual(8); // 8 × 8 MB fit the 64 MiB budget
    expect(codes.filter((c) => c === 'BODY_BUDGET_EXHAUSTED').length).toBeGreaterThan(0);
    expect(singleCodes.every((c) => c === 'BODY_TOO_LARGE' || c === 'closed')).toBe(true);
    expect(singleCodes.filter((c) => c === 'BODY_TOO_LARGE').length).toBeGreaterThan(0);
    expect((await server.ask()).calls).toMatchObject({ batch: 0, single: 0 });
  });
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
