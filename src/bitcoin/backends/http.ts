import { ANCHOR_ERRORS as E } from '../errors.js';

/**
 * The few HTTP calls the backends make (global fetch, Node ≥ 18), with a timeout and typed errors:
 * unreachable or timed out → ANCHOR_BACKEND_UNREACHABLE; the caller decides what a status means.
 */

export interface HttpAnswer {
  status: number;
  text: string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/** Anything longer is not an answer these protocols give for the calls made here (a block's txid list is ~0.3 MB). */
const MAX_ANSWER_CHARS = 32 * 1024 * 1024;

export async function httpRequest(url: string, init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await fetch(url, { method: init.method, body: init.body, headers: init.headers, signal: AbortSignal.timeout(init.timeoutMs ?? DEFAULT_TIMEOUT_MS), redirect: 'error' });
  } catch (err) {
    throw E.ANCHOR_BACKEND_UNREACHABLE(`${init.method} ${redacted(url)} failed: ${(err as Error).message}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw E.ANCHOR_BACKEND_UNREACHABLE(`${init.method} ${redacted(url)}: reading the answer failed: ${(err as Error).message}`);
  }
  if (text.length > MAX_ANSWER_CHARS) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${redacted(url)} answered with more than ${MAX_ANSWER_CHARS} characters`);
  return { status: response.status, text };
}

/** A URL without user:password, for messages and logs. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what}: answer is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Lowercase 64-hex string or a BAD_RESPONSE error: nothing unchecked from the network flows on. */
export function expectHash(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not a 32-byte hash in hex: ${JSON.stringify(value)?.slice(0, 100)}`);
  return value;
}

export function expectHex(value: unknown, what: string, bytes?: number): string {
  if (typeof value !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(value) || (bytes !== undefined && value.length !== 2 * bytes)) {
    throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not ${bytes ?? 'some'} bytes of lowercase hex`);
  }
  return value;
}

export function expectUint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not a non-negative integer: ${JSON.stringify(value)}`);
  return value;
}

export function expectObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

export function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not a JSON array`);
  return value;
}
