import { ed25519 } from '@noble/curves/ed25519.js';
import { addressFromPublicKey } from '../../../src/crypto/address.js';
import { txHash, type Msg, type TxBody } from '../../../src/codec/tx.js';
import { fromHexStrict, toHex } from '../../../src/util/bytes.js';
import { LedgerError } from '../../../src/util/errors.js';
import { api } from './api';
import { session } from './session';
import { signBody, signChallenge } from './sign';

/**
 * Keys and signing in the page. A key is a 32-byte Ed25519 seed, generated here or imported, kept in
 * localStorage only encrypted: AES-256-GCM under a key derived from the passphrase with PBKDF2-SHA256
 * (WebCrypto). Transactions are signed exactly as the CLI signs them — the same body, the same
 * canonical sign bytes (src/codec/tx.ts) — and Ed25519 signatures are deterministic, so the page
 * and the CLI produce the same signature for the same transaction.
 */

const STORAGE_KEY = 'gridledger.keys.v1';
const PBKDF2_ITERATIONS = 310_000;

export interface StoredKey extends EncryptedSecret {
  name: string;
  address: string;
  publicKey: string;
}

export function storedKeys(): StoredKey[] {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as StoredKey[];
  } catch {
    return [];
  }
}

function saveKeys(keys: StoredKey[]): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(keys));
}

async function aesKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** A secret encrypted at rest: the PBKDF2 parameters and the AES-GCM ciphertext. */
export interface EncryptedSecret {
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  cipher: { name: 'AES-GCM'; iv: string; data: string };
}

/** Encrypts a secret under a passphrase (account seeds here, messaging keys in lib/msgkeys.ts). */
export async function encryptSecret(secret: Uint8Array, passphrase: string): Promise<EncryptedSecret> {
  if (passphrase.length < 8) throw new Error('choose a passphrase of at least 8 characters');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await aesKey(passphrase, salt, PBKDF2_ITERATIONS);
  const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, secret as BufferSource));
  return { kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: PBKDF2_ITERATIONS, salt: toHex(salt) }, cipher: { name: 'AES-GCM', iv: toHex(iv), data: toHex(data) } };
}

/** Decrypts what encryptSecret stored. A wrong passphrase fails the GCM tag check. */
export async function decryptSecret(stored: EncryptedSecret, passphrase: string): Promise<Uint8Array> {
  const key = await aesKey(passphrase, fromHexStrict(stored.kdf.salt, 16)!, stored.kdf.iterations);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromHexStrict(stored.cipher.iv, 12)! as BufferSource }, key, fromHexStrict(stored.cipher.data)! as BufferSource));
  } catch {
    throw new Error('wrong passphrase');
  }
}

/** Encrypts and stores a seed under a name; answers its address. */
export async function storeKey(name: string, seed: Uint8Array, passphrase: string): Promise<StoredKey> {
  if (seed.length !== 32) throw new Error('an Ed25519 key is 32 bytes (64 hex digits)');
  const publicKey = ed25519.getPublicKey(seed);
  const stored: StoredKey = { name, address: addressFromPublicKey(publicKey), publicKey: toHex(publicKey), ...(await encryptSecret(seed, passphrase)) };
  saveKeys([...storedKeys().filter((k) => k.name !== name), stored]);
  return stored;
}

export function generateSeed(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

export function parseSeed(hex: string): Uint8Array {
  const seed = fromHexStrict(hex.trim().toLowerCase(), 32);
  if (!seed) throw new Error('paste the key as 64 hex digits (the 32-byte Ed25519 seed)');
  return seed;
}

export function forgetKey(name: string): void {
  saveKeys(storedKeys().filter((k) => k.name !== name));
}

/** Decrypts a stored key into the session (memory only). A wrong passphrase fails the GCM tag check. */
export async function unlock(name: string, passphrase: string): Promise<void> {
  const k = storedKeys().find((s) => s.name === name);
  if (!k) throw new Error(`no key named ${name} in this browser`);
  const seed = await decryptSecret(k, passphrase);
  session.set({ name, address: k.address, publicKey: fromHexStrict(k.publicKey, 32)!, secretKey: seed, token: null, roles: [], expiresAt: null });
  await login();
}

export function lock(): void {
  session.reset();
}

function requireKey(): { address: string; publicKey: Uint8Array; secretKey: Uint8Array } {
  const s = session.get();
  if (!s.address || !s.secretKey || !s.publicKey) throw new Error('unlock a key first (top right)');
  return { address: s.address, publicKey: s.publicKey, secretKey: s.secretKey };
}

/** Challenge-response login (GRIDLEDGER/AUTH/V1): a bearer token for private reads. */
export async function login(): Promise<void> {
  const { address, publicKey, secretKey } = requireKey();
  const challenge = await api.auth.authChallenge({ body: { address } });
  const signature = signChallenge({ chainId: challenge.chainId, address, nonce: challenge.nonce }, secretKey);
  try {
    const t = await api.auth.authToken({ body: { address, nonce: challenge.nonce, pubKey: toHex(publicKey), signature } });
    session.set({ token: t.token, roles: t.roles, expiresAt: t.expiresAt });
  } catch (err) {
    // An account not (yet) admitted can still sign; it just reads public data only.
    if (err instanceof LedgerError && err.code === 'AUTH_ACCOUNT_NOT_ADMITTED') session.set({ token: null, roles: [] });
    else throw err;
  }
}


export interface Committed {
  hash: string;
  height: number;
  code: string;
  message: string;
  events: Array<{ type: string; attributes: Record<string, string> }>;
}

/**
 * Builds, signs and submits a transaction as the CLI does (next nonce, expiry 100 blocks ahead) and
 * waits for its commit. A rejection at admission throws its LedgerError; a committed rejection
 * comes back with its code (describe both with errorMessage()).
 */
export async function submit(msgs: Msg[], memo = ''): Promise<Committed> {
  const { address, publicKey, secretKey } = requireKey();
  const [nonce, status] = await Promise.all([api.core.accountNonce({ params: { address } }), api.core.status({})]);
  const body: TxBody = { chainId: status.chainId, sender: address, nonce: nonce.next, expiresAtHeight: status.height + 100, msgs, memo };
  const tx = signBody(body, secretKey, publicKey);
  const admitted = await api.core.submitTx({ body: tx });
  const hash = admitted.hash;
  if (hash !== txHash(body)) throw new Error('the node answered a different transaction hash');
  const res = await api.core.getTx({ params: { hash }, query: { wait: 30 } });
  if (res.status !== 'committed' || !res.result) throw new LedgerError('TX_NOT_COMMITTED', `transaction ${hash} was not committed within 30 s`, 408);
  return { hash, height: res.height!, ...res.result };
}
