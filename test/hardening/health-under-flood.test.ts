import { request, Agent } from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring } from '../../src/home/home.js';
import { account } from '../helpers/chain.js';
import { makeHome } from '../helpers/node.js';
import { freePort, startNodeProcess, stopNodeProcess, type NodeProcess } from '../foundation/cli-helpers.js';

/**
 * Issue 9, abuse: one client floods POST /v1/txs/batch with invalid transactions (bad signatures of
 * an admitted sender — the costly kind, which passes the cheap checks — senders that are not
 * admitted, and malformed ones) from 8 connections for 10 s, against a node in its own process with
 * its default limits. Meanwhile another client (another loopback address) asks GET /v1/health every
 * 100 ms: every answer is 200 and arrives within 1 s. The latencies are printed.
 */

const FLOOD_MS = 10_000;
const HEALTH_EVERY_MS = 100;

function post(port: number, localAddress: string, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, localAddress, agent, method: 'POST', path: '/v1/txs/batch', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function health(port: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, localAddress: '127.0.0.3', method: 'GET', path: '/v1/health', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('abuse: /v1/health stays responsive while one client floods /v1/txs/batch', () => {
  const { home } = makeHome({}, 200);
  let node: NodeProcess | undefined;
  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('answers every health check with 200 within 1 s during a 10 s flood of invalid batches', { timeout: 90_000 }, async () => {
    const port = await freePort();
    node = await startNodeProcess(home, port);
    const keyring = openKeyring(home, 'test');
    const admin = keyring.show('admin').address;
    const body = (nonce: number) => ({ chainId: 'test-chain', sender: admin, nonce, expiresAtHeight: 1_000_000, msgs: [{ type: 'registry/admit', value: { address: account(`flood-${nonce}`).address, roles: ['meter'] } }], memo: 'flood' });
    // Signed correctly, then the signature is swapped for another transaction's: valid shape, admitted sender, wrong signature.
    const signer = keyring.signer('admin');
    const genuine = Array.from({ length: 1000 }, (_, i) => signTx(body(i), signer));
    const badSignatures: SignedTx[] = genuine.map((tx, i) => ({ ...tx, signature: genuine[(i + 1) % genuine.length]!.signature }));
    const stranger = account('not-admitted');
    const notAdmitted = Array.from({ length: 200 }, (_, i) => signTx({ ...body(i), sender: stranger.address }, stranger.signer));
    const malformed = Array.from({ length: 200 }, (_, i) => ({ body: { ...body(i), nonce: -1 }, pubKey: 'zz', signature: i }));
    const batches = [
      JSON.stringify({ txs: badSignatures }),
      JSON.stringify({ txs: [...notAdmitted, ...malformed, ...badSignatures.slice(0, 600)] }),
    ];

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const statuses = new Map<number, number>();
    let flooding = true;
    const flooders = Array.from({ length: 8 }, async (_, w) => {
      let sent = 0;
      while (flooding) {
        const code = await post(port, '127.0.0.2', agent, batches[(w + sent++) % batches.length]!);
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
      }
    });
    const checks: Array<{ status: number; ms: number }> = [];
    const start = Date.now();
    while (Date.now() - start < FLOOD_MS) {
      const tick = Date.now();
      checks.push(await health(port));
      await new Promise((r) => setTimeout(r, Math.max(0, HEALTH_EVERY_MS - (Date.now() - tick))));
    }
    flooding = false;
    await Promise.all(flooders);
    agent.destroy();

    const ms = checks.map((c) => c.ms).sort((a, b) => a - b);
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `health during the flood: ${checks.length} checks, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${ms[ms.length - 1]!.toFixed(1)} ms; ` +
        `flood: ${requests} batch requests (${JSON.stringify(Object.fromEntries(statuses))})`,
    );
    expect(requests).toBeGreaterThan(20); // the flood really ran
    expect(checks.length).toBeGreaterThan(FLOOD_MS / HEALTH_EVERY_MS / 3);
    expect(checks.filter((c) => c.status !== 200)).toEqual([]);
    expect(ms[ms.length - 1]!).toBeLessThan(1000);
  });
});
