import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { authRoutes } from '../api/auth.js';
import { callRoute, createClient, type Client } from '../api/client.js';
import type { RouteDef } from '../api/route.js';
import { addressFromPublicKey } from '../crypto/address.js';
import { LedgerError } from '../util/errors.js';
import { authSignBytes } from '../crypto/hash.js';
import type { Keyring } from '../crypto/keyring.js';
import { toHex } from '../util/bytes.js';

/**
 * Login sessions of the CLI: bearer tokens for private reads, cached in the home
 * (HOME/auth/tokens.json, mode 0600) per node URL and address, so one login serves every command
 * until the token expires. Tokens are worth an hour of reads and nothing else (never a signature).
 */

export interface CachedToken {
  token: string;
  address: string;
  roles: string[];
  expiresAt: number;
}

type TokenFile = Record<string, Record<string, CachedToken>>;

/** Where the tokens are kept. */
export function tokenFile(home: string): string {
  return join(home, 'auth', 'tokens.json');
}

function readTokens(home: string): TokenFile {
  const file = tokenFile(home);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TokenFile;
  } catch {
    return {}; // a damaged cache only costs a new login
  }
}

function writeTokens(home: string, tokens: TokenFile): void {
  const file = tokenFile(home);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // A temporary file of this process's own: CLI commands of one home run at the same time (scripts,
  // tests), and a shared "tokens.json.tmp" let one rename the other's file away (ENOENT).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** A cached token of this address at this node that is still valid for a minute. */
export function cachedToken(home: string, url: string, address: string, now = Date.now()): CachedToken | undefined {
  const t = readTokens(home)[url]?.[address];
  return t && t.expiresAt > now + 60_000 ? t : undefined;
}

/** Anything that signs with an account key (a keyring signer, a meter's key). */
export interface AuthSigner {
  publicKey: Uint8Array;
  sign(bytes: Uint8Array): Uint8Array;
}

/** Challenge, sign (domain GRIDLEDGER/AUTH/V1), exchange: a fresh token for the signer's account (not cached). */
export async function loginWith(url: string, signer: AuthSigner): Promise<CachedToken> {
  const address = addressFromPublicKey(signer.publicKey);
  const challenge = await callRoute(url, authRoutes.authChallenge, { body: { address } });
  const signature = signer.sign(authSignBytes({ chainId: challenge.chainId, address, nonce: challenge.nonce }));
  const issued = await callRoute(url, authRoutes.authToken, { body: { address, nonce: challenge.nonce, pubKey: toHex(signer.publicKey), signature: toHex(signature) } });
  return { token: issued.token, address, roles: issued.roles, expiresAt: issued.expiresAt };
}

/** Refusals that a fresh login can cure. */
export const LOGIN_CURES: ReadonlySet<string> = new Set(['AUTH_REQUIRED', 'AUTH_TOKEN_EXPIRED', 'AUTH_TOKEN_INVALID']);

/**
 * A typed client that reads as the signer's account: it logs in on the first refusal a login can
 * cure (and again when the token expires) and retries once. For long-running programs holding an
 * account key, such as a meter's edge agent reading its own meter's readings.
 */
export function createAuthedClient<T extends Record<string, RouteDef>>(baseUrl: string, routes: T, signer: AuthSigner): Client<T> {
  let token: string | undefined;
  const plain = createClient(baseUrl, routes, { token: () => token });
  const client = {} as Record<string, unknown>;
  for (const key of Object.keys(routes)) {
    const call = (plain as Record<string, (input: unknown) => Promise<unknown>>)[key]!;
    client[key] = async (input: unknown) => {
      try {
        return await call(input);
      } catch (err) {
        if (!(err instanceof LedgerError) || !LOGIN_CURES.has(err.code)) throw err;
        token = (await loginWith(baseUrl, signer)).token;
        return call(input);
      }
    };
  }
  return client as Client<T>;
}

/** Logs in with a key of the home's keyring; caches and answers the token. */
export async function login(home: string, url: string, keyring: Keyring, keyName: string): Promise<CachedToken> {
  const cached = await loginWith(url, keyring.signer(keyName));
  const address = cached.address;
  const tokens = readTokens(home);
  tokens[url] = { ...(tokens[url] ?? {}), [address]: cached };
  writeTokens(home, tokens);
  return cached;
}

/** Forgets the tokens for a node (every address, or one). */
export function logout(home: string, url: string, address?: string): number {
  const tokens = readTokens(home);
  const atNode = tokens[url] ?? {};
  const gone = address === undefined ? Object.keys(atNode).length : atNode[address] ? 1 : 0;
  if (address === undefined) delete tokens[url];
  else delete atNode[address];
  writeTokens(home, tokens);
  return gone;
}
