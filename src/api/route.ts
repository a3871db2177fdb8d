import { z } from 'zod';

/**
 * One route definition per endpoint: method, path and schemas. The server, the typed client, the
 * OpenAPI document and the CLI's calls are all derived from these objects; nobody writes a fetch
 * call or a path string twice.
 */
export interface RouteDef<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  name: string;
  method: 'GET' | 'POST';
  /** Fastify-style path: `/v1/txs/:hash`. */
  path: string;
  summary: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /**
   * Largest request body the route accepts, in bytes (default DEFAULT_BODY_LIMIT_BYTES, enough for
   * one transaction). Only routes that need more say so, so a slow client can make the server
   * buffer at most this much per request.
   */
  bodyLimitBytes?: number;
  /**
   * How much of the client's per-second rate budget a request spends (default 1). A batch spends
   * one unit per item, so batching does not multiply what a client may submit.
   */
  rateCost?(body: z.output<B>): number;
  /**
   * The body as documented in OpenAPI (JSON Schema), when the server leaves decoding to the ledger
   * (a transaction is decoded by the ledger so that its errors carry TX_ codes).
   */
  bodyDoc?: Record<string, unknown>;
  /** Error answers worth naming beyond the generic 4XX: status → which codes and when. */
  errorDocs?: Record<string, string>;
}

/** Default body limit: one transaction is at most 64 KiB encoded; the JSON around it stays far below this. */
export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;

export function defineRoute<P extends z.ZodType = z.ZodNever, Q extends z.ZodType = z.ZodNever, B extends z.ZodType = z.ZodNever, R extends z.ZodType = z.ZodType>(
  def: RouteDef<P, Q, B, R>,
): RouteDef<P, Q, B, R> {
  return def;
}

type Part<S, K extends string> = S extends z.ZodNever ? { [_ in K]?: never } : { [_ in K]: z.input<S & z.ZodType> };

export type RouteInput<R> = R extends RouteDef<infer P, infer Q, infer B, z.ZodType> ? Part<P, 'params'> & Part<Q, 'query'> & Part<B, 'body'> : never;
export type RouteOutput<R> = R extends RouteDef<z.ZodType, z.ZodType, z.ZodType, infer Res> ? z.output<Res> : never;
/** Every item of a paged list: one request per page from `after` (the first page when undefined), following `next` to the end. */
export async function everyPage<T>(page: (after: string | undefined) => Promise<{ items: T[]; next?: string }>, after?: string): Promise<T[]> {
  const items: T[] = [];
  let cursor = after;
  do {
    const answer = await page(cursor);
    items.push(...answer.items);
    cursor = answer.next;
  } while (cursor !== undefined);
  return items;
}

/** One call of a route, however the caller reaches the node (the typed client, the CLI's, the node's own handlers). */
export type RouteReader = <R extends RouteDef>(route: R, input: RouteInput<R>) => Promise<RouteOutput<R>>;
export type HandlerInput<R> = R extends RouteDef<infer P, infer Q, infer B, z.ZodType>
  ? { params: z.output<P>; query: z.output<Q>; body: z.output<B> }
  : never;

/** A list route's page size: 1 … `max`, `fallback` when the client names none (a list answer is always bounded). */
export function pageLimit(max = 500, fallback = 100) {
  return z.coerce.number().int().min(1).max(max).default(fallback);
}

/** The JSON error body of every failed request. */
export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** Fills `:name` path segments. */
export function buildPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}
