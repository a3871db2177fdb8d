import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { openApiDocument } from './openapi.js';
import type { RouteDef } from './route.js';
import { asLedgerError, LedgerError } from '../util/errors.js';
import { API_ERRORS } from './errors.js';

/**
 * The HTTP server, built from route definitions: each route's params, query and body are parsed with
 * its zod schemas before the handler runs, and every error leaves as `{"error":{"code","message"}}`.
 */

export type RouteHandler = (input: { params: any; query: any; body: any }, request: FastifyRequest) => unknown | Promise<unknown>;

export interface BoundRoute {
  route: RouteDef;
  handler: RouteHandler;
}

export interface ServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  rateLimitPerSecond: number;
  version: string;
  /** Extra raw routes (SSE, metrics) registered on the fastify instance. */
  extend?(app: FastifyInstance): void;
  onRequestDone?(route: string, status: number): void;
  /** OpenAPI entries for the raw routes added by `extend` (streams, metrics). */
  rawPaths?: Record<string, Record<string, unknown>>;
}

function parsePart(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value === undefined && where !== 'body' ? {} : value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where;
  throw API_ERRORS.REQUEST_INVALID(`${path}: ${issue?.message ?? 'invalid'}`);
}

/** Fastify's own errors mapped to stable codes (bad JSON, too large, wrong content type). */
function mapFrameworkError(err: { code?: string; statusCode?: number; message: string }): LedgerError {
  const status = err.statusCode ?? 500;
  if (status === 413) return API_ERRORS.BODY_TOO_LARGE('request body exceeds the size limit');
  if (status === 415) return API_ERRORS.UNSUPPORTED_MEDIA_TYPE('send the body as application/json');
  if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    return API_ERRORS.BODY_MALFORMED_JSON('request body is not valid JSON');
  }
  if (status >= 400 && status < 500) return API_ERRORS.REQUEST_INVALID(err.message);
  return asLedgerError(err);
}

/** Per-client token bucket: `rate` requests per second with a burst of the same size. */
function rateLimiter(rate: number): (key: string, now: number) => boolean {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key, now) => {
    const b = buckets.get(key) ?? { tokens: rate, at: now };
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (buckets.size > 10_000) buckets.clear();
    buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}

export function buildServer(routes: BoundRoute[], options: ServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes, forceCloseConnections: true });
  const allow = rateLimiter(options.rateLimitPerSecond);

  app.addHook('onRequest', async (request, reply) => {
    if (!allow(request.ip, Date.now())) {
      const e = API_ERRORS.RATE_LIMITED(`more than ${options.rateLimitPerSecond} requests per second`);
      await reply.code(e.status).send({ error: { code: e.code, message: e.message } });
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    options.onRequestDone?.(request.routeOptions.url ?? 'unknown', reply.statusCode);
  });

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, _request, reply) => {
    const e = err instanceof LedgerError ? err : mapFrameworkError(err);
    if (e.status >= 500) options.logger.error({ err: err.message }, 'request failed');
    void reply.code(e.status).send({ error: { code: e.code, message: e.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    const e = API_ERRORS.NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`);
    void reply.code(e.status).send({ error: { code: e.code, message: e.message } });
  });

  for (const { route, handler } of routes) {
    app.route({
      method: route.method,
      url: route.path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          const input = {
            params: parsePart(route.params, request.params, 'params'),
            query: parsePart(route.query, request.query, 'query'),
            body: route.body ? parsePart(route.body, request.body, 'body') : undefined,
          };
          return await handler(input, request);
        } catch (err) {
          const e = err instanceof LedgerError ? err : asLedgerError(err);
          if (!(err instanceof LedgerError)) options.logger.error({ err: (err as Error).message, route: route.name }, 'handler failed');
          return reply.code(e.status).send({ error: { code: e.code, message: e.message } });
        }
      },
    });
  }

  const doc = openApiDocument(
    routes.map((r) => r.route),
    options.version,
    options.rawPaths,
  );
  app.get('/v1/openapi.json', async () => doc);
  options.extend?.(app);
  return app;
}
