import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { z } from 'zod';
import { defineRoute } from '../../src/api/route.js';
import { buildServer, type BoundRoute, type ServerOptions } from '../../src/api/server.js';

/** Test routes for the server's limits: a one-transaction-sized route, a batch route, a route answering the wrong shape. */
export const testRoutes = {
  single: defineRoute({ name: 'single', method: 'POST', path: '/t/single', summary: 'one item', tags: ['t'], body: z.unknown(), response: z.object({ ok: z.literal(true) }) }),
  batch: defineRoute({
    name: 'batch',
    method: 'POST',
    path: '/t/batch',
    summary: 'many items',
    tags: ['t'],
    body: z.object({ items: z.array(z.unknown()).min(1).max(1000) }),
    response: z.object({ n: z.number().int() }),
    bodyLimitBytes: 8 * 1024 * 1024,
    rateCost: (body) => body.items.length,
  }),
  wrong: defineRoute({ name: 'wrong', method: 'GET', path: '/t/wrong', summary: 'answers the wrong shape', tags: ['t'], response: z.object({ ok: z.boolean() }) }),
  right: defineRoute({ name: 'right', method: 'GET', path: '/t/right', summary: 'answers the right shape', tags: ['t'], response: z.object({ ok: z.boolean() }) }),
};

export interface LimitServer {
  port: number;
  calls: Record<string, number>;
  close(): Promise<void>;
}

export async function startLimitServer(options: Partial<ServerOptions> = {}): Promise<LimitServer> {
  const calls: Record<string, number> = { single: 0, batch: 0, wrong: 0, right: 0 };
  const bound: BoundRoute[] = [
    { route: testRoutes.single, handler: () => (calls.single!++, { ok: true }) },
    { route: testRoutes.batch, handler: ({ body }) => (calls.batch!++, { n: (body as { items: unknown[] }).items.length }) },
    { route: testRoutes.wrong, handler: () => (calls.wrong!++, { ok: 'yes' }) },
    { route: testRoutes.right, handler: () => (calls.right!++, { ok: true }) },
  ];
  const app = buildServer(bound, { logger: pino({ level: 'silent' }), bodyLimitBytes: 8 * 1024 * 1024, rateLimitPerSecond: 10_000, version: 'test', ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, calls, close: () => app.close() };
}

export interface RawClient {
  socket: Socket;
  /** Everything the server sent until it closed, and when it closed (ms after connect). */
  closed: Promise<{ text: string; afterMs: number }>;
}

/** A raw TCP client on loopback, optionally from another loopback address (127.0.0.x). */
export async function rawClient(port: number, localAddress = '127.0.0.1'): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  const started = Date.now();
  const chunks: Buffer[] = [];
  socket.on('data', (d) => chunks.push(d));
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) => {
    socket.on('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), afterMs: Date.now() - started }));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** Status code and JSON error code of a raw HTTP response. */
export function parseResponse(text: string): { status: number; code?: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  try {
    return { status, code: (JSON.parse(body) as { error?: { code?: string } }).error?.code };
  } catch {
    return { status };
  }
}

export function postHead(path: string, contentLength: number, keepAlive = false): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `bytes` one small chunk at a time until the socket closes. */
export function trickle(socket: Socket, everyMs: number, chunk = ' '): () => void {
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(chunk);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return () => clearInterval(timer);
}
