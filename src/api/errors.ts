import { defineErrors } from '../util/errors.js';

/** Errors of the HTTP layer itself (malformed requests, limits). */
export const API_ERRORS = defineErrors('api', {
  REQUEST_INVALID: { meaning: 'a path parameter, query parameter or body does not match the route schema' },
  BODY_TOO_LARGE: { status: 413, meaning: 'the request body exceeds the size limit of the route (one transaction: 256 KiB; a batch: config api.bodyLimitBytes)' },
  BODY_MALFORMED_JSON: { meaning: 'the request body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the body must be sent as application/json' },
  NOT_FOUND: { status: 404, meaning: 'no route with that method and path' },
  RATE_LIMITED: { status: 429, meaning: 'the client sent more requests (or transactions) per second than allowed' },
  NODE_UNREACHABLE: { status: 503, meaning: 'the node API could not be reached (client side)' },
  BAD_RESPONSE: { status: 502, meaning: 'the node answered with something that is not the expected JSON (client side)' },
  REQUEST_TIMEOUT: { status: 408, meaning: 'the request (headers and body) did not arrive within the time limit (config api.requestTimeoutMs, api.headersTimeoutMs); the connection is closed' },
  REQUEST_HEADERS_TOO_LARGE: { status: 431, meaning: 'the request headers exceed the size limit; the connection is closed' },
  REQUEST_MALFORMED: { meaning: 'the bytes received are not a valid HTTP request; the connection is closed' },
  CONNECTIONS_PER_CLIENT_EXCEEDED: { status: 429, meaning: 'this client address already holds the most connections allowed (config api.maxConnectionsPerClient); the new one is closed' },
  CONNECTIONS_EXHAUSTED: { status: 503, meaning: 'the server holds the most connections allowed in total (config api.maxConnections); the new one is closed' },
  BODY_BUDGET_EXHAUSTED: { status: 503, meaning: 'request bodies being received at once would exceed the memory set aside for them (config api.maxInFlightBodyBytes); retry later' },
  RESPONSE_SCHEMA_MISMATCH: { status: 500, meaning: 'a handler answered with a value its route schema does not allow (a bug; only checked in tests)' },
});
