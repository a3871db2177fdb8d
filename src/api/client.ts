import { buildPath, type RouteDef, type RouteInput, type RouteOutput } from './route.js';
import { remoteError } from '../util/errors.js';
import { API_ERRORS } from './errors.js';

/** What callRoute reads of an HTTP answer. */
interface RawAnswer {
  status: number;
  statusText: string;
  text: string;
}

interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A request through node:http waits at most this long for the next byte (getTx long-polls ≤ 60 s). */
const NODE_HTTP_IDLE_TIMEOUT_MS = 120_000;

/**
 * node:http or node:https when running on Node, else undefined (the dashboard in a browser).
 * process.getBuiltinModule (Node ≥ 20.16) needs no import, so the dashboard's build never sees node:http.
 */
function nodeHttpFor(url: URL): typeof import('node:http') | undefined {
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof getBuiltin !== 'function') return undefined;
  return getBuiltin(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof import('node:http');
}

/**
 * One request through node:http(s). On Node, fetch (undici) compiles its HTTP parser to WebAssembly
 * in every new process, and the process waits for that compilation before it exits: ~250 ms that
 * every CLI call paid, about a third of its time.
 *
 * Node's global agent keeps connections alive, and the node's API closes a connection idle for
 * `keepAliveTimeoutMs` (5 s, Node's own client idle time too): a request sent on a kept connection
 * just as the server closes it fails with ECONNRESET or EPIPE before any answer (a server closes
 * only idle connections, so the request was not handled). It is sent once more, on a connection of
 * its own — the retry Node's documentation gives for `request.reusedSocket`. A fresh connection cut
 * before the answer is reported as before.
 */
async function requestWithNodeHttp(http: typeof import('node:http'), url: URL, req: RawRequest): Promise<RawAnswer> {
  try {
    return await sendWithNodeHttp(http, url, req);
  } catch (err) {
    if (err instanceof StaleConnection) return sendWithNodeHttp(http, url, req, { fresh: true });
    throw err;
  }
}

/** A kept-alive connection the server had closed when this request went out on it. */
class StaleConnection extends Error {}

function sendWithNodeHttp(http: typeof import('node:http'), url: URL, req: RawRequest, options: { fresh?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) };
    let answered = false;
    // fresh: not from the pool, whose other idle connections may be closing too
    const request = http.request(url, { method: req.method, headers, ...(options.fresh ? { agent: false } : {}) }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    request.setTimeout(NODE_HTTP_IDLE_TIMEOUT_MS, () => request.destroy(new Error(`no answer for ${NODE_HTTP_IDLE_TIMEOUT_MS / 1000} s`)));
    request.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNRESET reading, EPIPE writing the body: either way the closing connection took nothing
      const stale = request.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      reject(stale ? new StaleConnection(err.message) : err);
    });
    request.end(req.body);
  });
}

async function requestWithFetch(url: URL, req: RawRequest): Promise<RawAnswer> {
  const res = await fetch(url, { method: req.method, headers: req.headers, body: req.body });
  return { status: res.status, statusText: res.statusText, text: await res.text() };
}

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
  let res: RawAnswer;
  try {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const http = nodeHttpFor(url);
    res = http ? await requestWithNodeHttp(http, url, { method: route.method, headers, body }) : await requestWithFetch(url, { method: route.method, headers, body });
  } catch (err) {
    throw API_ERRORS.NODE_UNREACHABLE(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = res.text.length > 0 ? JSON.parse(res.text) : undefined;
  } catch {
    throw API_ERRORS.BAD_RESPONSE(`node answered ${res.status} with a body that is not JSON`);
  }
  if (res.status < 200 || res.status > 299) {
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
