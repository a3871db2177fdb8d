import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { authRoutes } from '../api/auth.js';
import { callRoute } from '../api/client.js';
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
  writeFileSync(`${file}.tmp`, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** A cached token of this address at this node that is still valid for a minute. */
export function cachedToken(home: string, url: string, address: string, now = Date.now()): CachedToken | undefined {
  const t = readTokens(home)[url]?.[address];
  return t && t.expiresAt > now + 60_000 ? t : undefined;
}

/** Challenge, sign (domain GRIDLEDGER/AUTH/V1), exchange; caches and answers the token. */
export async function login(home: string, url: string, keyring: Keyring, keyName: string): Promise<CachedToken> {
  const { address } = keyring.show(keyName);
  const challenge = await callRoute(url, authRoutes.authChallenge, { body: { address } });
  const signer = keyring.signer(keyName);
  const signature = signer.sign(authSignBytes({ chainId: challenge.chainId, address, nonce: challenge.nonce }));
  const issued = await callRoute(url, authRoutes.authToken, { body: { address, nonce: challenge.nonce, pubKey: toHex(signer.publicKey), signature: toHex(signature) } });
  const cached: CachedToken = { token: issued.token, address, roles: issued.roles, expiresAt: issued.expiresAt };
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
