import { z } from 'zod';
import { addressSchema, hexSchema } from '../codec/tx.js';
import { defineErrors } from '../util/errors.js';
import { defineRoute } from './route.js';

/**
 * Private reads (issue 10 #2): an account logs in by challenge-response and receives a short-lived
 * bearer token; routes holding one party's data answer only the parties the read policy names.
 *
 *   1. POST /v1/auth/challenge {address}            → a one-use nonce (valid 5 minutes)
 *   2. the account signs authSignBytes({chainId, address, nonce}) (src/crypto/hash.ts, domain
 *      GRIDLEDGER/AUTH/V1) with its Ed25519 key
 *   3. POST /v1/auth/token {address, nonce, pubKey, signature} → `Authorization: Bearer <token>`
 *
 * This file is what clients need (route definitions, the header, error codes); the node's side
 * (nonces, HMAC tokens, the read policy table) lives in src/runtime/auth.ts and read-policy.ts.
 */

export const AUTH_ERRORS = defineErrors('auth', {
  AUTH_REQUIRED: { status: 401, meaning: 'the route serves private data: log in (gridledger login, or the dashboard) and send the token as Authorization: Bearer' },
  AUTH_TOKEN_INVALID: { status: 401, meaning: 'the bearer token is malformed, was issued by another node, or was altered' },
  AUTH_TOKEN_EXPIRED: { status: 401, meaning: 'the bearer token has expired; log in again' },
  AUTH_CHALLENGE_UNKNOWN: { status: 401, meaning: 'the login nonce was not issued to this address by this node, was already used, or has expired' },
  AUTH_SIGNATURE_INVALID: { status: 401, meaning: "the login signature does not verify, or the public key is not the address's key" },
  AUTH_ACCOUNT_NOT_ADMITTED: { status: 403, meaning: 'only admitted accounts that are not revoked can log in or read private data' },
  READ_FORBIDDEN: { status: 403, meaning: 'the caller is not among the parties the read policy allows for this data (its owner, the community owner / utility / grid operator concerned, auditors)' },
});

/** Lifetime of a login challenge. */
export const AUTH_CHALLENGE_TTL_MS = 5 * 60_000;
/** Lifetime of a bearer token: short, so a leaked token or a revoked account's token soon stops working. */
export const AUTH_TOKEN_TTL_MS = 60 * 60_000;

const nonceSchema = hexSchema(32);

export const authRoutes = {
  authChallenge: defineRoute({
    name: 'authChallenge',
    method: 'POST',
    path: '/v1/auth/challenge',
    summary: 'Start a login: a one-use nonce for the address to sign (domain GRIDLEDGER/AUTH/V1)',
    tags: ['auth'],
    body: z.object({ address: addressSchema }).strict(),
    response: z.object({ chainId: z.string(), address: z.string(), nonce: nonceSchema, expiresAt: z.number() }),
  }),
  authToken: defineRoute({
    name: 'authToken',
    method: 'POST',
    path: '/v1/auth/token',
    summary: 'Finish a login: the signed challenge buys a short-lived bearer token bound to the address',
    tags: ['auth'],
    body: z.object({ address: addressSchema, nonce: nonceSchema, pubKey: hexSchema(32), signature: hexSchema(64) }).strict(),
    response: z.object({ token: z.string(), address: z.string(), roles: z.array(z.string()), expiresAt: z.number() }),
  }),
  whoami: defineRoute({
    name: 'whoami',
    method: 'GET',
    path: '/v1/auth/whoami',
    summary: 'The account the bearer token belongs to (address null without a token) and its roles',
    tags: ['auth'],
    response: z.object({ address: z.string().nullable(), roles: z.array(z.string()), expiresAt: z.number().nullable() }),
  }),
};

/** The token in an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
