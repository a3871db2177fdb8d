import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { API_ERRORS } from './errors.js';
import { openApiDocument, type OpenApiExtras } from './openapi.js';
import { DEFAULT_BODY_LIMIT_BYTES, type RouteDef } from './route.js';
import { asLedgerError, CORE_ERRORS, LedgerError } from '../util/errors.js';

/**
 * The HTTP server, built from route definitions: each route's params, query and body are parsed with
 * its zod schemas before the handler runs, and every error leaves as `{"error":{"code","message"}}`.
 *
 * Limits against slow and greedy clients (issue 9 #3): each route accepts a body of at most its own
 * limit (one transaction by default; the batch route more); a request must arrive whole within
 * `requestTimeoutMs` (headers within `headersTimeoutMs`); a kept-alive connection may idle
 * `keepAliveTimeoutMs` between requests and any connection `connectionTimeoutMs` without traffic;
 * a client address holds at most `maxConnectionsPerClient` connections and the server at most
 * `maxConnections`; bodies being received at once reserve at most `maxInFlightBodyBytes`. So the
 * memory a client can make the server hold is bounded and released within the timeouts.
 */

export type RouteHandler = (input: { params: any; query: any; body: any }, request: FastifyRequest) => unknown | Promise<unknown>;

export interface BoundRoute {
  route: RouteDef;
  handler: RouteHandler;
}

/** Connection and request limits (config `api.*` of the node home). */
export interface ServerLimits {
  /** Upper bound of any route's body limit (the batch route asks for 8 MiB; single-transaction routes use 256 KiB). */
  bodyLimitBytes: number;
  /** Requests (or, for a batch, transactions) per second per client address. */
  rateLimitPerSecond: number;
  /** A request, headers and body, must arrive within this time, else 408 REQUEST_TIMEOUT and the connection closes. */
  requestTimeoutMs: number;
  /** The request headers must arrive within this time (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** Idle time allowed on a kept-alive connection between two requests. */
  keepAliveTimeoutMs: number;
  /** A connection without any traffic for this long is closed; above the longest wait a route allows (60 s). */
  connectionTimeoutMs: number;
  /** Open connections in total; further ones are answered 503 CONNECTIONS_EXHAUSTED and closed. */
  maxConnections: number;
  /** Open connections per client address; further ones are answered 429 CONNECTIONS_PER_CLIENT_EXCEEDED and closed. */
  maxConnectionsPerClient: number;
  /** Bytes reserved by request bodies being received at once (declared length, or the route's limit). */
  maxInFlightBodyBytes: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  bodyLimitBytes: 8 * 1024 * 1024,
  rateLimitPerSecond: 2000,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 75_000,
  maxConnections: 1024,
  maxConnectionsPerClient: 64,
  maxInFlightBodyBytes: 64 * 1024 * 1024,
};

export interface ServerOptions extends Partial<ServerLimits> {
  logger: Logger;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  version: string;
  /** Extra raw routes (SSE, metrics) registered on the fastify instance. */
  extend?(app: FastifyInstance): void;
  onRequestDone?(route: string, status: number): void;
  /**
   * Description and shared schemas of the OpenAPI document (transactions and their messages), made
   * when the document is first asked for.
   */
  openApi?: () => OpenApiExtras;
  /** OpenAPI entries for the raw routes added by `extend` (streams, metrics). */
  rawPaths?: Record<string, Record<string, unknown>>;
  /**
   * Parse every handler's answer with its route's response schema; a mismatch answers 500
   * RESPONSE_SCHEMA_MISMATCH instead of the answer (for test nodes: a wrong answer is a bug).
   */
  validateResponses?: boolean;
  /**
   * Read policy: runs after the input is parsed and before the handler; throws (401/403) to refuse.
   * The node checks the bearer token and the route's entry in its read-policy table here.
   */
  authorize?(route: RouteDef, input: { params: any; query: any; body: any }, request: FastifyRequest): void | Promise<void>;
}

function parsePart(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value === undefined && where !== 'body' ? {} : value);
  if (parsed.success) return parsed.data;
  throw API_ERRORS.REQUEST_INVALID(describeIssue(parsed.error, where));
}

function describeIssue(error: z.ZodError, where: string): string {
  const issue = error.issues[0];
  const path = issue && issue.path.length > 0 ? `${where}.${issue.path.map(String).join('.')}` : where;
  return `${path}: ${issue?.message ?? 'invalid'}`;
}

/** Fastify's own errors mapped to stable codes (bad JSON, too large, wrong content type). */
function mapFrameworkError(err: { code?: string; statusCode?: number; message: string }): LedgerError {
  const status = err.statusCode ?? 500;
  if (status === 413) return API_ERRORS.BODY_TOO_LARGE('request body exceeds the size limit of this route');
  if (status === 415) return API_ERRORS.UNSUPPORTED_MEDIA_TYPE('send the body as application/json');
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    return API_ERRORS.BODY_MALFORMED_JSON('request body is not valid JSON');
  }
  if (status >= 400 && status < 500) return API_ERRORS.REQUEST_INVALID(err.message);
  return CORE_ERRORS.INTERNAL_ERROR('internal error');
}

function errorBody(e: LedgerError): { error: { code: string; message: string } } {
  return { error: { code: e.code, message: e.message } };
}

/** A whole HTTP response written straight to a socket the HTTP parser never saw (or has given up on). */
function rawResponse(e: LedgerError): string {
  const body = JSON.stringify(errorBody(e));
  return `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function closeWith(socket: Socket, e: LedgerError): void {
  socket.on('error', () => {});
  if (socket.writable) socket.end(rawResponse(e));
  // A client that never reads or closes does not keep the socket.
  socket.setTimeout(1000, () => socket.destroy());
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** Per-client token bucket: `rate` units per second with a burst of the same size. */
export function rateLimiter(rate: number): (key: string, cost: number, now: number) => boolean {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key, cost, now) => {
    const b = buckets.get(key) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (buckets.size > 10_000) buckets.clear();
    buckets.set(key, b);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  };
}

/** IPv4 clients may show up as IPv6-mapped addresses; one client, one key. */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Admits a new TCP connection only under the total and per-client caps. The HTTP server's own
 * connection listener runs only for admitted sockets, so a refused socket is never parsed and can
 * reach no handler; it gets a JSON error response and is closed.
 */
function capConnections(server: Server, limits: ServerLimits): void {
  const inner = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const perClient = new Map<string, number>();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    const client = clientKey(socket.remoteAddress);
    const held = perClient.get(client) ?? 0;
    if (open >= limits.maxConnections) {
      closeWith(socket, API_ERRORS.CONNECTIONS_EXHAUSTED(`the server holds ${open} connections, the most allowed`));
      return;
    }
    if (held >= limits.maxConnectionsPerClient) {
      closeWith(socket, API_ERRORS.CONNECTIONS_PER_CLIENT_EXCEEDED(`${client} holds ${held} connections, the most allowed per client`));
      return;
    }
    open++;
    perClient.set(client, held + 1);
    socket.once('close', () => {
      open--;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    for (const listener of inner) listener.call(server, socket);
  });
}

/** Node's parser errors (timeouts, oversized or broken requests) answered in the API's error format. */
function clientError(err: { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? API_ERRORS.REQUEST_TIMEOUT('the request did not arrive within the time limit')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? API_ERRORS.REQUEST_HEADERS_TOO_LARGE('the request headers are too large')
        : API_ERRORS.REQUEST_MALFORMED('the bytes received are not a valid HTTP request');
  if (socket.writable) socket.write(rawResponse(e));
  socket.destroy();
}

/** Requests declaring a body (a length, or chunked) reserve memory until their response is done. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

export function buildServer(routes: BoundRoute[], options: ServerOptions): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...definedOnly(options) };
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const app = Fastify({
    logger: false,
    bodyLimit: Math.min(DEFAULT_BODY_LIMIT_BYTES, limits.bodyLimitBytes),
    forceCloseConnections: true,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Node checks the request and header deadlines on this interval (its default, 30 s, would let them slip).
    http: { headersTimeout, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))) },
    clientErrorHandler: clientError,
  });
  capConnections(app.server as Server, limits);
  const allow = rateLimiter(limits.rateLimitPerSecond);
  let inFlightBodyBytes = 0;

  app.addHook('onRequest', async (request, reply) => {
    if (!allow(clientKey(request.ip), 1, Date.now())) {
      await reply.code(429).send(errorBody(API_ERRORS.RATE_LIMITED(`more than ${limits.rateLimitPerSecond} requests per second`)));
      return;
    }
    if (!hasBody(request)) return;
    const routeLimit = request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES;
    const declared = Number(request.headers['content-length']);
    const reserve = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, routeLimit + 1) : routeLimit;
    if (inFlightBodyBytes + reserve > limits.maxInFlightBodyBytes) {
      await reply
        .code(503)
        .header('connection', 'close')
        .send(errorBody(API_ERRORS.BODY_BUDGET_EXHAUSTED(`request bodies being received already reserve ${inFlightBodyBytes} bytes; retry later`)));
      return;
    }
    inFlightBodyBytes += reserve;
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      inFlightBodyBytes -= reserve;
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    options.onRequestDone?.(request.routeOptions.url ?? 'unknown', reply.statusCode);
  });

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, _request, reply) => {
    const e = err instanceof LedgerError ? err : mapFrameworkError(err);
    if (e.status >= 500) options.logger.error({ err: err.message }, 'request failed');
    void reply.code(e.status).send(errorBody(e));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(API_ERRORS.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`)));
  });

  for (const { route, handler } of routes) {
    app.route({
      method: route.method,
      url: route.path,
      bodyLimit: Math.min(route.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, limits.bodyLimitBytes),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          const input = {
            params: parsePart(route.params, request.params, 'params'),
            query: parsePart(route.query, request.query, 'query'),
            body: route.body ? parsePart(route.body, request.body, 'body') : undefined,
          };
          chargeRateCost(route, input.body, clientKey(request.ip));
          await options.authorize?.(route, input, request);
          const answer = await handler(input, request);
          if (options.validateResponses) checkResponse(route, answer);
          return answer;
        } catch (err) {
          const e = err instanceof LedgerError ? err : asLedgerError(err);
          if (!(err instanceof LedgerError)) options.logger.error({ err: (err as Error).message, route: route.name }, 'handler failed');
          if (e.code === 'RESPONSE_SCHEMA_MISMATCH') options.logger.error({ route: route.name, err: e.message }, 'response does not match the route schema');
          return reply.code(e.status).send(errorBody(e));
        }
      },
    });
  }

  /** A route that costs more than one unit (a batch) spends the rest of its cost once its body is parsed. */
  function chargeRateCost(route: RouteDef, body: unknown, client: string): void {
    const cost = route.rateCost ? route.rateCost(body as never) : 1;
    if (cost > 1 && !allow(client, cost - 1, Date.now())) {
      throw API_ERRORS.RATE_LIMITED(`more than ${limits.rateLimitPerSecond} transactions per second (this request carries ${cost})`);
    }
  }

  // Made on the first request and kept: generating the JSON schemas of every route and message costs
  // ~0.7 s of CPU and a few MiB of heap that most nodes (validators) never use.
  let doc: Record<string, unknown> | undefined;
  app.get('/v1/openapi.json', async () => (doc ??= openApiDocument(routes.map((r) => r.route), options.version, options.rawPaths, options.openApi?.())));
  options.extend?.(app);
  return app;
}

function checkResponse(route: RouteDef, answer: unknown): void {
  const parsed = route.response.safeParse(answer);
  if (!parsed.success) throw API_ERRORS.RESPONSE_SCHEMA_MISMATCH(`${route.name}: ${describeIssue(parsed.error, 'response')}`);
}

function definedOnly(options: Partial<ServerLimits>): Partial<ServerLimits> {
  const out: Partial<ServerLimits> = {};
  for (const key of Object.keys(DEFAULT_SERVER_LIMITS) as Array<keyof ServerLimits>) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
