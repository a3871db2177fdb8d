import { afterEach, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../src/api/route.js';
import { parseResponse, postHead, rawClient, sleep, startLimitServer, trickle, type LimitServer } from './limits-helpers.js';

/**
 * Issue 9 #3 and #8: slow and greedy clients against the real server on loopback, with raw TCP
 * sockets that trickle bytes. Each refusal has its own code, and a refused request never reaches
 * its handler.
 */

let server: LimitServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(port: number, path: string, body: string, localAddress?: string): Promise<{ status: number; code?: string }> {
  const c = await rawClient(port, localAddress);
  c.socket.end(postHead(path, Buffer.byteLength(body)) + body);
  return parseResponse((await c.closed).text);
}

describe('request timeouts', () => {
  it('a body that trickles in is answered 408 REQUEST_TIMEOUT and closed after requestTimeoutMs; the handler never runs', async () => {
    server = await startLimitServer({ requestTimeoutMs: 600, headersTimeoutMs: 300 });
    const c = await rawClient(server.port);
    c.socket.write(postHead('/t/batch', 100_000) + '{"items":[');
    trickle(c.socket, 50);
    const { text, afterMs } = await c.closed;
    expect(parseResponse(text)).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(afterMs).toBeGreaterThanOrEqual(550);
    expect(afterMs).toBeLessThan(2000);
    expect(server.calls.batch).toBe(0);
  }, 10_000);

  it('headers that trickle in are answered 408 REQUEST_TIMEOUT after headersTimeoutMs', async () => {
    server = await startLimitServer({ requestTimeoutMs: 2000, headersTimeoutMs: 300 });
    const c = await rawClient(server.port);
    c.socket.write('POST /t/single HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    trickle(c.socket, 40, 'X');
    const { text, afterMs } = await c.closed;
    expect(parseResponse(text)).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(afterMs).toBeLessThan(1500);
    expect(server.calls.single).toBe(0);
  }, 10_000);

  it('a connection that sends nothing is closed after connectionTimeoutMs', async () => {
    server = await startLimitServer({ connectionTimeoutMs: 400 });
    const c = await rawClient(server.port);
    const { afterMs } = await c.closed;
    expect(afterMs).toBeGreaterThanOrEqual(350);
    expect(afterMs).toBeLessThan(2000);
  }, 10_000);

  it('a kept-alive connection is closed keepAliveTimeoutMs after its last response', async () => {
    server = await startLimitServer({ keepAliveTimeoutMs: 300 });
    const c = await rawClient(server.port);
    c.socket.write(postHead('/t/single', 2, true) + '{}');
    const { text, afterMs } = await c.closed;
    expect(parseResponse(text).status).toBe(200);
    expect(afterMs).toBeGreaterThanOrEqual(250);
    expect(afterMs).toBeLessThan(2000);
    expect(server.calls.single).toBe(1);
  }, 10_000);
});

describe('connection caps', () => {
  it('refuses the N+1th connection of one client with 429 CONNECTIONS_PER_CLIENT_EXCEEDED; its request never runs', async () => {
    server = await startLimitServer({ maxConnectionsPerClient: 3, maxConnections: 100 });
    const held = await Promise.all([1, 2, 3].map(() => rawClient(server!.port)));
    const extra = await rawClient(server.port);
    extra.socket.write(postHead('/t/single', 2) + '{}');
    expect(parseResponse((await extra.closed).text)).toEqual({ status: 429, code: 'CONNECTIONS_PER_CLIENT_EXCEEDED' });
    expect(server.calls.single).toBe(0);
    // another client address is still served, and a freed slot is usable again
    expect(await post(server.port, '/t/single', '{}', '127.0.0.2')).toEqual({ status: 200 });
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await sleep(20);
    expect(await post(server.port, '/t/single', '{}')).toEqual({ status: 200 });
    expect(server.calls.single).toBe(2);
    for (const h of held) h.socket.destroy();
  }, 10_000);

  it('refuses connections beyond the total cap with 503 CONNECTIONS_EXHAUSTED', async () => {
    server = await startLimitServer({ maxConnectionsPerClient: 3, maxConnections: 4 });
    const held = [...(await Promise.all([1, 2, 3].map(() => rawClient(server!.port)))), await rawClient(server.port, '127.0.0.2')];
    expect(await post(server.port, '/t/single', '{}', '127.0.0.3')).toEqual({ status: 503, code: 'CONNECTIONS_EXHAUSTED' });
    expect(server.calls.single).toBe(0);
    for (const h of held) h.socket.destroy();
  }, 10_000);
});

describe('body limits', () => {
  it('are a property of the route: small by default, large for the batch route', async () => {
    expect(coreRoutes.submitTx.bodyLimitBytes).toBeUndefined();
    expect(coreRoutes.submitTxBatch.bodyLimitBytes).toBe(8 * 1024 * 1024);
    server = await startLimitServer();
    const big = JSON.stringify({ items: ['x'.repeat(DEFAULT_BODY_LIMIT_BYTES)] });
    expect(await post(server.port, '/t/single', big)).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(await post(server.port, '/t/batch', big)).toEqual({ status: 200 });
    const huge = JSON.stringify({ items: ['x'.repeat(8 * 1024 * 1024)] });
    expect(await post(server.port, '/t/batch', huge)).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(server.calls).toMatchObject({ single: 0, batch: 1 });
  }, 10_000);

  it('the route limit is capped by the configured bodyLimitBytes', async () => {
    server = await startLimitServer({ bodyLimitBytes: 64 * 1024 });
    const body = JSON.stringify({ items: ['x'.repeat(100 * 1024)] });
    expect(await post(server.port, '/t/batch', body)).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(server.calls.batch).toBe(0);
  }, 10_000);

  it('bodies received at once stay within maxInFlightBodyBytes: 503 BODY_BUDGET_EXHAUSTED beyond, served again once released', async () => {
    server = await startLimitServer({ maxInFlightBodyBytes: 2 * 1024 * 1024, requestTimeoutMs: 800, headersTimeoutMs: 400 });
    const mib = 1024 * 1024;
    const slow = await Promise.all([1, 2].map(() => rawClient(server!.port)));
    for (const s of slow) s.socket.write(postHead('/t/batch', mib) + '{"items":[');
    await sleep(100);
    expect(await post(server.port, '/t/batch', JSON.stringify({ items: ['x'.repeat(mib - 20)] }))).toEqual({ status: 503, code: 'BODY_BUDGET_EXHAUSTED' });
    for (const s of slow) expect(parseResponse((await s.closed).text).code).toBe('REQUEST_TIMEOUT');
    await sleep(20);
    // completed requests give their reservation back: many in a row, more than the budget in all
    for (let i = 0; i < 5; i++) expect(await post(server.port, '/t/batch', JSON.stringify({ items: ['x'.repeat(mib - 20)] }))).toEqual({ status: 200 });
    expect(server.calls.batch).toBe(5);
  }, 10_000);
});

describe('rate limit by transaction count (issue 9 #8)', () => {
  it('a batch spends one unit of the client budget per item', async () => {
    server = await startLimitServer({ rateLimitPerSecond: 10 });
    const batch = (n: number) => JSON.stringify({ items: Array.from({ length: n }, (_, i) => i) });
    expect(await post(server.port, '/t/batch', batch(8))).toEqual({ status: 200 });
    expect(await post(server.port, '/t/batch', batch(8))).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(await post(server.port, '/t/batch', batch(11), '127.0.0.2')).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(server.calls.batch).toBe(1);
    // the other client address still has its own budget
    expect(await post(server.port, '/t/batch', batch(5), '127.0.0.3')).toEqual({ status: 200 });
  }, 10_000);
});

describe('response validation', () => {
  it('with validateResponses, a handler answering the wrong shape gives 500 RESPONSE_SCHEMA_MISMATCH', async () => {
    server = await startLimitServer({ validateResponses: true });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server!.port}${path}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const wrong = await get('/t/wrong');
    expect(wrong.status).toBe(500);
    expect((wrong.body as { error: { code: string; message: string } }).error.code).toBe('RESPONSE_SCHEMA_MISMATCH');
    expect((wrong.body as { error: { message: string } }).error.message).toContain('wrong: response.ok');
    expect(await get('/t/right')).toEqual({ status: 200, body: { ok: true } });
    await server.close();
    server = await startLimitServer();
    expect(await get('/t/wrong')).toEqual({ status: 200, body: { ok: 'yes' } });
  }, 10_000);
});

describe('configuration', () => {
  it('the node config defaults are the server defaults', async () => {
    const { configSchema } = await import('../../src/home/home.js');
    const { DEFAULT_SERVER_LIMITS } = await import('../../src/api/server.js');
    const { DEFAULT_EVENT_LIMITS } = await import('../../src/runtime/events.js');
    const config = configSchema.parse({ chainId: 'c', moniker: 'm', keyringBackend: 'test', api: {} });
    const { host: _host, port: _port, maxEventStreams, maxEventStreamsPerClient, maxEventBufferedBytes, eventReplayHeights, ...limits } = config.api;
    expect(limits).toEqual(DEFAULT_SERVER_LIMITS);
    const { heartbeatMs: _heartbeat, ...eventDefaults } = DEFAULT_EVENT_LIMITS;
    expect({ maxEventStreams, maxEventStreamsPerClient, maxEventBufferedBytes, eventReplayHeights }).toEqual(eventDefaults);
  });
});

describe('broken requests', () => {
  it('bytes that are not HTTP are answered 400 REQUEST_MALFORMED; oversized headers 431 REQUEST_HEADERS_TOO_LARGE', async () => {
    server = await startLimitServer();
    const junk = await rawClient(server.port);
    junk.socket.write('HELLO THERE\r\n\r\n');
    expect(parseResponse((await junk.closed).text)).toEqual({ status: 400, code: 'REQUEST_MALFORMED' });
    const fat = await rawClient(server.port);
    fat.socket.write(`POST /t/single HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fat: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`);
    expect(parseResponse((await fat.closed).text)).toEqual({ status: 431, code: 'REQUEST_HEADERS_TOO_LARGE' });
    expect(server.calls.single).toBe(0);
  }, 10_000);
});
