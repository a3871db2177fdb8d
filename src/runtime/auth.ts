import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH_CHALLENGE_TTL_MS, AUTH_ERRORS, AUTH_TOKEN_TTL_MS, authRoutes } from '../api/auth.js';
import type { BoundRoute } from '../api/server.js';
import type { RouteDef } from '../api/route.js';
import type { FastifyRequest } from 'fastify';
import { checkRead, claimsOf, lookupOver } from './read-policy.js';
import { addressFromPublicKey } from '../crypto/address.js';
import { verifySignature } from '../crypto/ed25519.js';
import { authSignBytes } from '../crypto/hash.js';
import { paths } from '../home/home.js';
import { registryRoutes } from '../modules/registry/routes.js';
import { fromHexStrict } from '../util/bytes.js';

/**
 * The node's side of login (issue 10 #2): one-use challenges and bearer tokens.
 *
 * A token is `gl1.<payload>.<mac>`: payload = base64url(JSON {sub: address, iat, exp}), mac =
 * base64url(HMAC-SHA256(node secret, "gl1." + payload)). The secret is 32 random bytes kept in the
 * node home (data/auth-secret, mode 0600), so tokens survive a restart and another node's tokens
 * are worthless here. No token state is stored: the MAC and the expiry decide, and the account's
 * registry status is checked on every private read, so a revoked account loses access at once.
 */

const TOKEN_PREFIX = 'gl1';
/** Outstanding challenges at most; the oldest are dropped first (each is valid 5 minutes anyway). */
const MAX_CHALLENGES = 10_000;

export interface TokenClaims {
  address: string;
  issuedAt: number;
  expiresAt: number;
}

/** The per-node token secret: created once in the home, read on every start. */
export function loadAuthSecret(home: string): Uint8Array {
  const file = join(paths(home).data, 'auth-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  const secret = fromHexStrict(readFileSync(file, 'utf8').trim(), 32);
  if (!secret) throw new Error(`${file} must hold 32 bytes as hex`);
  return secret;
}

export class TokenIssuer {
  readonly #secret: Uint8Array;
  readonly #now: () => number;
  readonly #challenges = new Map<string, { address: string; expiresAt: number }>();

  constructor(secret: Uint8Array, now: () => number = Date.now) {
    this.#secret = secret;
    this.#now = now;
  }

  /** A fresh one-use nonce for the address. */
  challenge(address: string): { nonce: string; expiresAt: number } {
    const now = this.#now();
    this.#dropExpired(now);
    if (this.#challenges.size >= MAX_CHALLENGES) this.#challenges.delete(this.#challenges.keys().next().value!);
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = now + AUTH_CHALLENGE_TTL_MS;
    this.#challenges.set(nonce, { address, expiresAt });
    return { nonce, expiresAt };
  }

  /**
   * Checks a signed challenge and consumes its nonce (also when the signature is wrong, so a
   * nonce can never be tried twice); answers a token bound to the address.
   */
  exchange(chainId: string, req: { address: string; nonce: string; pubKey: string; signature: string }): { token: string; expiresAt: number } {
    const now = this.#now();
    const pending = this.#challenges.get(req.nonce);
    this.#challenges.delete(req.nonce);
    if (!pending || pending.address !== req.address || pending.expiresAt <= now) {
      throw AUTH_ERRORS.AUTH_CHALLENGE_UNKNOWN('request a new challenge (POST /v1/auth/challenge) and sign it within 5 minutes');
    }
    const pubKey = fromHexStrict(req.pubKey, 32)!;
    if (addressFromPublicKey(pubKey) !== req.address) throw AUTH_ERRORS.AUTH_SIGNATURE_INVALID('the public key is not the key of this address');
    const bytes = authSignBytes({ chainId, address: req.address, nonce: req.nonce });
    if (!verifySignature(pubKey, bytes, fromHexStrict(req.signature, 64)!)) throw AUTH_ERRORS.AUTH_SIGNATURE_INVALID('the signature does not verify for this challenge');
    return this.issue(req.address, now);
  }

  /** Mints a token (also used by tests to make expired ones). */
  issue(address: string, issuedAt: number = this.#now(), ttlMs: number = AUTH_TOKEN_TTL_MS): { token: string; expiresAt: number } {
    const expiresAt = issuedAt + ttlMs;
    const payload = Buffer.from(JSON.stringify({ sub: address, iat: issuedAt, exp: expiresAt })).toString('base64url');
    return { token: `${TOKEN_PREFIX}.${payload}.${this.#mac(payload)}`, expiresAt };
  }

  /** The claims of a token this node issued and that has not expired; throws 401 otherwise. */
  verify(token: string): TokenClaims {
    const [prefix, payload, mac, ...rest] = token.split('.');
    if (prefix !== TOKEN_PREFIX || payload === undefined || mac === undefined || rest.length > 0) throw AUTH_ERRORS.AUTH_TOKEN_INVALID('not a GridLedger API token');
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw AUTH_ERRORS.AUTH_TOKEN_INVALID('the token was not issued by this node or was altered');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string; iat: number; exp: number };
    if (claims.exp <= this.#now()) throw AUTH_ERRORS.AUTH_TOKEN_EXPIRED(`the token expired at ${new Date(claims.exp).toISOString()}`);
    return { address: claims.sub, issuedAt: claims.iat, expiresAt: claims.exp };
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#secret).update(`${TOKEN_PREFIX}.${payload}`).digest('base64url');
  }

  #dropExpired(now: number): void {
    for (const [nonce, c] of this.#challenges) if (c.expiresAt <= now) this.#challenges.delete(nonce);
  }
}

/** What the auth handlers need from the node: its chain id and an account's standing. */
export interface AuthDeps {
  chainId: string;
  issuer: TokenIssuer;
  /** Roles of an admitted, not revoked account; null otherwise. */
  activeRoles(address: string): Promise<string[] | null>;
  /** The token's claims for this request (null without a token; throws on a bad one). */
  claimsOf(request: { headers: Record<string, string | string[] | undefined> }): TokenClaims | null;
}

export function authHandlers(deps: AuthDeps): BoundRoute[] {
  return [
    {
      route: authRoutes.authChallenge,
      handler: ({ body }) => ({ chainId: deps.chainId, address: body.address, ...deps.issuer.challenge(body.address) }),
    },
    {
      route: authRoutes.authToken,
      handler: async ({ body }) => {
        const issued = deps.issuer.exchange(deps.chainId, body);
        const roles = await deps.activeRoles(body.address);
        if (!roles) throw AUTH_ERRORS.AUTH_ACCOUNT_NOT_ADMITTED(`${body.address} is not an admitted account (or is revoked)`);
        return { token: issued.token, address: body.address, roles, expiresAt: issued.expiresAt };
      },
    },
    {
      route: authRoutes.whoami,
      handler: async (_input, request) => {
        const claims = deps.claimsOf(request);
        if (!claims) return { address: null, roles: [], expiresAt: null };
        return { address: claims.address, roles: (await deps.activeRoles(claims.address)) ?? [], expiresAt: claims.expiresAt };
      },
    },
  ];
}

/**
 * Login and the read policy for a node: the auth routes to serve next to `routes`, and the
 * server's `authorize` hook that applies READ_POLICY to every request.
 */
export function nodeAuth(home: string, chainId: string, routes: readonly BoundRoute[], now: () => number = Date.now) {
  const issuer = new TokenIssuer(loadAuthSecret(home), now);
  const lookup = lookupOver(routes);
  const activeRoles = async (address: string): Promise<string[] | null> => {
    const a = await lookup(registryRoutes.getAccount, { params: { address } });
    return a.admitted && !a.revoked ? a.roles : null;
  };
  const deps = { issuer, lookup, activeRoles };
  return {
    issuer,
    handlers: authHandlers({ chainId, issuer, activeRoles, claimsOf: (request) => claimsOf(issuer, request) }),
    authorize: (route: RouteDef, input: unknown, request: FastifyRequest) => checkRead(deps, route, input, request),
  };
}
