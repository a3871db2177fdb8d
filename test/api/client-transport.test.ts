/**
 * On Node the typed client talks through node:http, not fetch: undici's WebAssembly parser cost every
 * CLI call ~250 ms (compiled in each new process, waited for at exit). The answers and failures
 * callRoute reports are the same as before: JSON out, the server's error code, NODE_UNREACHABLE,
 * BAD_RESPONSE; bodies with multi-byte characters arrive whole.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { defineRoute } from '../../src/api/route.js';
import { LedgerError } from '../../src/util/errors.js';

const echo = defineRoute({ name: 'echoTest', method: 'POST', path: '/v1/echo/:id', summary: 'test echo', tags: ['test'], params: z.object({ id: z.string() }), query: z.object({ n: z.number().optional() }), body: z.object({ text: z.string() }), response: z.unknown() });
const plain = defineRoute({ name: 'plainTest', method: 'GET', path: '/v1/plain', summary: 'test plain', tags: ['test'], response: z.unknown() });

let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => vi.unstubAllGlobals());

const reply = (res: ServerResponse, status: number, text: string): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
};

describe('the typed client on Node', () => {
  it('sends method, path, query, JSON body and token through node:http, never fetch', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new Error('fetch must not be used on Node')));
    let seen: Record<string, unknown> = {};
    handler = (req, res, body) => {
      seen = { method: req.method, url: req.url, type: req.headers['content-type'], length: req.headers['content-length'], auth: req.headers.authorization, body };
      reply(res, 200, JSON.stringify({ got: JSON.parse(body) }));
    };
    const text = 'ø€ – 15 kWh ☀';
    const out = await callRoute(base, echo, { params: { id: 'a/b' }, query: { n: 3 }, body: { text } }, { token: 't0k' });
    expect(out).toEqual({ got: { text } });
    expect(seen).toEqual({ method: 'POST', url: '/v1/echo/a%2Fb?n=3', type: 'application/json', length: String(Buffer.byteLength(JSON.stringify({ text }))), auth: 'Bearer t0k', body: JSON.stringify({ text }) });
  });

  it("surfaces the server's error code and status as a LedgerError", async () => {
    handler = (_req, res) => reply(res, 409, JSON.stringify({ error: { code: 'SOME_CONFLICT', message: 'no' } }));
    const err = await callRoute(base, plain, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect({ code: (err as LedgerError).code, status: (err as LedgerError).status, message: (err as LedgerError).message }).toEqual({ code: 'SOME_CONFLICT', status: 409, message: 'no' });
  });

  it('an answer that is not JSON is BAD_RESPONSE; an error without a body is HTTP_<status>', async () => {
    handler = (_req, res) => reply(res, 200, '<html>');
    expect(((await callRoute(base, plain, {}).catch((e: unknown) => e)) as LedgerError).code).toBe('BAD_RESPONSE');
    handler = (_req, res) => reply(res, 502, '');
    expect(((await callRoute(base, plain, {}).catch((e: unknown) => e)) as LedgerError).code).toBe('HTTP_502');
  });

  it('a request that meets a kept-alive connection the server is closing is sent again on a new one, once', async () => {
    // A raw server: the first request on a connection is answered with keep-alive; a second request
    // on that connection is cut unanswered, as the API's idle timeout does when it races the request.
    const requests: string[] = [];
    const sockets: Socket[] = [];
    const raw = createTcpServer((socket) => {
      sockets.push(socket);
      const connection = sockets.length;
      let served = 0;
      socket.on('data', (chunk) => {
        const line = chunk.toString('latin1').split('\r\n')[0]!;
        requests.push(`${connection}: ${line}`);
        if (served++ > 0) return void socket.destroy();
        const body = JSON.stringify({ connection });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\nkeep-alive: timeout=60\r\n\r\n${body}`);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const rawBase = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
    try {
      expect(await callRoute(rawBase, plain, {})).toEqual({ connection: 1 });
      // the same connection is reused and cut: the call is answered on a second connection
      expect(await callRoute(rawBase, echo, { params: { id: 'x' }, query: {}, body: { text: 'once' } })).toEqual({ connection: 2 });
      expect(requests).toEqual(['1: GET /v1/plain HTTP/1.1', '1: POST /v1/echo/x HTTP/1.1', '2: POST /v1/echo/x HTTP/1.1']);
      // a fresh connection cut before the answer is not sent again
      const before = requests.length;
      const cut = createTcpServer((socket) => socket.once('data', () => (requests.push('cut'), socket.destroy())));
      await new Promise<void>((r) => cut.listen(0, '127.0.0.1', r));
      const err = (await callRoute(`http://127.0.0.1:${(cut.address() as AddressInfo).port}`, plain, {}).catch((e: unknown) => e)) as LedgerError;
      expect(err.code).toBe('NODE_UNREACHABLE');
      expect(requests.slice(before)).toEqual(['cut']);
      await new Promise<void>((r) => cut.close(() => r()));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('a refused connection and a connection cut before the answer are NODE_UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = (await callRoute(`http://127.0.0.1:${port}`, plain, {}).catch((e: unknown) => e)) as LedgerError;
    expect(refused.code).toBe('NODE_UNREACHABLE');
    expect(refused.message).toContain(`cannot reach http://127.0.0.1:${port}`);
    handler = (req) => req.socket.destroy();
    expect(((await callRoute(base, plain, {}).catch((e: unknown) => e)) as LedgerError).code).toBe('NODE_UNREACHABLE');
  });
});
