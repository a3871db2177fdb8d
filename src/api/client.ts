import { buildPath, type RouteDef, type RouteInput, type RouteOutput } from './route.js';
import { remoteError } from '../util/errors.js';
import { API_ERRORS } from './errors.js';

/** Calls one route; errors come back as LedgerError with the server's code and HTTP status. */
export async function callRoute<R extends RouteDef>(
  baseUrl: string,
  route: R,
  input: RouteInput<R>,
  /** A body already encoded as JSON (load generators encode ahead of time); a bearer token for private reads. */
  options: { encodedBody?: string; token?: string } = {},
): Promise<RouteOutput<R>> {
  const { params, query, body: bodyValue } = input as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
  const body = options.encodedBody ?? (bodyValue === undefined ? undefined : JSON.stringify(bodyValue));
  const url = new URL(buildPath(route.path, params), baseUrl);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  let res: Response;
  try {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    res = await fetch(url, { method: route.method, headers, body });
  } catch (err) {
    throw API_ERRORS.NODE_UNREACHABLE(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    throw API_ERRORS.BAD_RESPONSE(`node answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw remoteError(e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText, res.status);
  }
  return json as RouteOutput<R>;
}

export type Client<T extends Record<string, RouteDef>> = {
  [K in keyof T]: (input: RouteInput<T[K]>) => Promise<RouteOutput<T[K]>>;
};

/**
 * A typed client over a table of routes: `client.getTx({ params: { hash } })`. `token` is asked on
 * every call, so a client made once follows logins and logouts.
 */
export function createClient<T extends Record<string, RouteDef>>(baseUrl: string, routes: T, options: { token?: () => string | undefined } = {}): Client<T> {
  const client = {} as Record<string, unknown>;
  for (const [key, route] of Object.entries(routes)) {
    client[key] = (input: RouteInput<typeof route>) => callRoute(baseUrl, route, input, { token: options.token?.() });
  }
  return client as Client<T>;
}
