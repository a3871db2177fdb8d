import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey } from './address.js';
import { generateKeyPair, keyPairFromSeed, Signer } from './ed25519.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { defineErrors, LedgerError } from '../util/errors.js';

export const KEYRING_ERRORS = defineErrors('keyring', {
  KEY_NAME_INVALID: { meaning: 'a key name may use letters, digits, dot, dash and underscore' },
  KEYRING_BAD_PASSPHRASE: { meaning: 'the key cannot be decrypted: wrong passphrase or damaged key file' },
  KEY_EXISTS: { meaning: 'a key with that name already exists' },
  KEY_NOT_FOUND: { status: 404, meaning: 'no key with that name in the keyring' },
  KEY_DAMAGED: { meaning: 'a key file is damaged or does not match its public key' },
  SECRET_INVALID: { meaning: 'a keyring secret must be 16..64 bytes' },
  KEYRING_KDF_PARAMS_INVALID: { meaning: 'a key file names scrypt parameters outside the accepted bounds (N a power of two from 2^14 to 2^20, r 1–16, p 1–4, at most 1 GiB of memory)' },
  KEYRING_PASSPHRASE_EMPTY: { meaning: 'the encrypted (file) keyring refuses an empty passphrase; backend test stores keys unencrypted for demos' },
});

/**
 * A keyring per node home: one JSON file per named key. Backend "file" (the default) encrypts the
 * 32-byte seed with AES-256-GCM under a key derived by scrypt from a passphrase; backend "test"
 * stores it in clear and exists only for demos and tests, and says so in every file it writes.
 *
 * Besides signing keys the keyring holds *secrets*: raw bytes that are not an Ed25519 seed (e.g. the
 * anchor service's BIP32 wallet seed), in `<name>.secret.json`, encrypted the same way. They are
 * not keys: `list`, `show` and `signer` do not see them.
 */

export type KeyringBackend = 'file' | 'test';

export interface KeyInfo {
  name: string;
  address: string;
  publicKey: string;
}

interface EncryptedSeed {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  ciphertext: string;
}

interface KeyFile extends KeyInfo {
  version: 1;
  backend: KeyringBackend;
  encrypted?: EncryptedSeed;
  /** test backend only */
  insecureSeed?: string;
  warning?: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * scrypt cost of new keys: N = 2^17, r = 8 (128 MiB, a few hundred ms per unlock), above the 2^15 of
 * keys written before, which still open because a key is decrypted with the parameters stored in
 * its file. Those are bounded, so a crafted key file cannot make the CLI allocate gigabytes or
 * compute for hours before the passphrase is even checked.
 */
export const SCRYPT = { N: 1 << 17, r: 8, p: 1 };
export const SCRYPT_BOUNDS = { minLog2N: 14, maxLog2N: 20, maxR: 16, maxP: 4, maxMemoryBytes: 1 << 30 };

export function validateKeyName(name: string): void {
  if (!NAME_RE.test(name)) throw KEYRING_ERRORS.KEY_NAME_INVALID(`key name ${JSON.stringify(name)} must match ${NAME_RE.source}`);
}

/** Refuses scrypt parameters outside SCRYPT_BOUNDS (checked before any memory is allocated). */
export function checkKdfParams(params: { N: unknown; r: unknown; p: unknown }): { N: number; r: number; p: number } {
  const { N, r, p } = params;
  const b = SCRYPT_BOUNDS;
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  const powerOfTwo = int(N) && N >= 2 ** b.minLog2N && N <= 2 ** b.maxLog2N && (N & (N - 1)) === 0;
  if (!powerOfTwo || !int(r) || r < 1 || r > b.maxR || !int(p) || p < 1 || p > b.maxP || 128 * N * r > b.maxMemoryBytes) {
    throw KEYRING_ERRORS.KEYRING_KDF_PARAMS_INVALID(
      `scrypt parameters N=${String(N)} r=${String(r)} p=${String(p)} are outside the accepted bounds (N a power of two from 2^${b.minLog2N} to 2^${b.maxLog2N}, r 1–${b.maxR}, p 1–${b.maxP}, 128·N·r ≤ 1 GiB)`,
    );
  }
  return { N, r, p };
}

function requirePassphrase(passphrase: string): string {
  if (passphrase.length === 0) throw KEYRING_ERRORS.KEYRING_PASSPHRASE_EMPTY('the encrypted keyring needs a non-empty passphrase (use --keyring-backend test for unencrypted demo keys)');
  return passphrase;
}

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  // scrypt needs 128·N·r bytes (plus a little); the bound above keeps this at most 1 GiB + slack.
  return scryptSync(requirePassphrase(passphrase).normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
}

function hexField(value: unknown, bytes: number | { min: number; max: number }, what: string): Buffer {
  const hex = typeof value === 'string' ? value : '';
  const n = hex.length / 2;
  const ok = /^(?:[0-9a-f]{2})+$/.test(hex) && (typeof bytes === 'number' ? n === bytes : n >= bytes.min && n <= bytes.max);
  if (!ok) throw KEYRING_ERRORS.KEY_DAMAGED(`the key file's ${what} is not valid hex of the expected length`);
  return Buffer.from(hex, 'hex');
}

export function encryptSeed(seed: Uint8Array, passphrase: string): EncryptedSeed {
  requirePassphrase(passphrase);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = deriveKey(passphrase, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return { kdf: 'scrypt', ...SCRYPT, salt: salt.toString('hex'), cipher: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex'), ciphertext: ciphertext.toString('hex') };
}

/** Decrypts a seed (32 bytes) or a secret of `length` bytes. */
export function decryptSeed(enc: EncryptedSeed, passphrase: string, length = 32): Uint8Array {
  requirePassphrase(passphrase);
  if (enc.kdf !== 'scrypt' || enc.cipher !== 'aes-256-gcm') throw KEYRING_ERRORS.KEY_DAMAGED(`unknown key encryption ${String(enc.kdf)}/${String(enc.cipher)}`);
  const params = checkKdfParams(enc);
  const salt = hexField(enc.salt, { min: 16, max: 64 }, 'salt');
  const iv = hexField(enc.iv, 12, 'iv');
  const tag = hexField(enc.tag, 16, 'tag');
  const ciphertext = hexField(enc.ciphertext, length, 'ciphertext');
  try {
    const key = deriveKey(passphrase, salt, params);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw KEYRING_ERRORS.KEYRING_BAD_PASSPHRASE('cannot decrypt the key: wrong passphrase or damaged key file');
  }
}

interface SecretFile {
  version: 1;
  kind: 'secret';
  name: string;
  backend: KeyringBackend;
  /** Length of the secret in bytes (16..64). */
  length: number;
  encrypted?: EncryptedSeed;
  /** test backend only */
  insecureSecret?: string;
  warning?: string;
}

const SECRET_SUFFIX = '.secret.json';

/** Why a passphrase is asked for: to open existing keys, or to protect the first key of a new keyring. */
export type PassphrasePurpose = 'unlock' | 'new';

/** Writes a file so it survives a crash: temporary file, fsync, rename, fsync of the directory. */
function writeFileDurably(dir: string, path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export class Keyring {
  private readonly signers = new Map<string, Signer>();
  /** Set once the passphrase is known to open this keyring's keys (or wrote its first key). */
  private passphraseChecked = false;

  constructor(
    readonly dir: string,
    readonly backend: KeyringBackend,
    /** Supplies the passphrase when a file-backend key is created or unlocked. */
    private readonly passphrase: (purpose: PassphrasePurpose) => string,
  ) {}

  private path(name: string): string {
    validateKeyName(name);
    return join(this.dir, `${name}.json`);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  private secretPath(name: string): string {
    validateKeyName(name);
    return join(this.dir, `${name}${SECRET_SUFFIX}`);
  }

  hasSecret(name: string): boolean {
    return existsSync(this.secretPath(name));
  }

  /** Names of the stored secrets (without decrypting anything), sorted. */
  secretNames(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(SECRET_SUFFIX))
      .map((f) => f.slice(0, -SECRET_SUFFIX.length))
      .filter((n) => NAME_RE.test(n))
      .sort();
  }

  /** Stores a secret of 16..64 bytes (encrypted like keys, under the keyring's one passphrase). Refuses to overwrite an existing one. */
  addSecret(name: string, secret: Uint8Array): void {
    const path = this.secretPath(name);
    if (!(secret instanceof Uint8Array) || secret.length < 16 || secret.length > 64) throw KEYRING_ERRORS.SECRET_INVALID('a keyring secret must be 16..64 bytes');
    if (existsSync(path)) throw KEYRING_ERRORS.KEY_EXISTS(`a secret named ${name} already exists`);
    const base = { version: 1 as const, kind: 'secret' as const, name, length: secret.length };
    const file: SecretFile =
      this.backend === 'test'
        ? { ...base, backend: 'test', warning: 'UNENCRYPTED test keyring: never use for real funds', insecureSecret: toHex(secret) }
        : { ...base, backend: 'file', encrypted: encryptSeed(secret, this.checkedPassphrase()) };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileDurably(this.dir, path, JSON.stringify(file, null, 2) + '\n');
  }

  /** Decrypts a secret (a fresh copy each call: callers may wipe it). */
  secret(name: string): Uint8Array {
    const path = this.secretPath(name);
    if (!existsSync(path)) throw KEYRING_ERRORS.KEY_NOT_FOUND(`no secret named ${name} in ${this.dir}`);
    const file = JSON.parse(readFileSync(path, 'utf8')) as SecretFile;
    if (!Number.isInteger(file.length) || file.length < 16 || file.length > 64) throw KEYRING_ERRORS.KEY_DAMAGED(`secret file ${name} is damaged`);
    let secret: Uint8Array | undefined;
    if (file.backend === 'test') secret = fromHexStrict(file.insecureSecret ?? '', file.length);
    else if (file.encrypted) secret = decryptSeed(file.encrypted, this.passphrase('unlock'), file.length);
    if (!secret || secret.length !== file.length || secret.length < 16 || secret.length > 64) throw KEYRING_ERRORS.KEY_DAMAGED(`secret file ${name} is damaged`);
    return secret;
  }

  /**
   * Creates a key (fresh, or from a given seed). Refuses to overwrite an existing one. In an
   * encrypted keyring the passphrase must first open an existing key: one mistyped passphrase
   * would otherwise leave keys under two passphrases.
   */
  add(name: string, seed?: Uint8Array): KeyInfo {
    const path = this.path(name);
    if (existsSync(path)) throw KEYRING_ERRORS.KEY_EXISTS(`a key named ${name} already exists`);
    const pair = seed ? keyPairFromSeed(seed) : generateKeyPair();
    const info: KeyInfo = { name, address: addressFromPublicKey(pair.publicKey), publicKey: toHex(pair.publicKey) };
    const file: KeyFile =
      this.backend === 'test'
        ? { version: 1, ...info, backend: 'test', warning: 'UNENCRYPTED test keyring: never use for real funds or meters', insecureSeed: toHex(pair.secretKey) }
        : { version: 1, ...info, backend: 'file', encrypted: encryptSeed(pair.secretKey, this.checkedPassphrase()) };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileDurably(this.dir, path, JSON.stringify(file, null, 2) + '\n');
    this.passphraseChecked = this.backend === 'file';
    return info;
  }

  /** The passphrase, checked against an existing encrypted key when there is one. */
  private checkedPassphrase(): string {
    if (this.passphraseChecked) return this.passphrase('unlock');
    const existing = this.firstEncryptedKey();
    if (!existing) return this.passphrase('new');
    const passphrase = this.passphrase('unlock');
    try {
      this.unlock(existing);
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'KEYRING_BAD_PASSPHRASE') {
        throw KEYRING_ERRORS.KEYRING_BAD_PASSPHRASE(`the passphrase does not open the existing key ${existing} (every key of a keyring uses one passphrase); nothing was written`);
      }
      throw err;
    }
    this.passphraseChecked = true;
    return passphrase;
  }

  private firstEncryptedKey(): string | undefined {
    return this.names().find((n) => {
      try {
        return this.read(n).encrypted !== undefined;
      } catch {
        return false;
      }
    });
  }

  private names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.endsWith(SECRET_SUFFIX))
      .map((f) => f.slice(0, -'.json'.length))
      .filter((n) => NAME_RE.test(n))
      .sort();
  }

  private read(name: string): KeyFile {
    const path = this.path(name);
    if (!existsSync(path)) throw KEYRING_ERRORS.KEY_NOT_FOUND(`no key named ${name} in ${this.dir}`);
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    } catch {
      throw KEYRING_ERRORS.KEY_DAMAGED(`key file for ${name} is not valid JSON`);
    }
  }

  show(name: string): KeyInfo {
    const { address, publicKey } = this.read(name);
    return { name, address, publicKey };
  }

  list(): KeyInfo[] {
    return this.names().map((n) => this.show(n));
  }

  /** Unlocks a key once per process and keeps its signer. */
  signer(name: string): Signer {
    return this.signers.get(name) ?? this.unlock(name);
  }

  private unlock(name: string): Signer {
    const file = this.read(name);
    let seed: Uint8Array | undefined;
    if (file.backend === 'test') seed = fromHexStrict(file.insecureSeed ?? '', 32);
    else if (file.encrypted) seed = decryptSeed(file.encrypted, this.passphrase('unlock'));
    if (!seed) throw KEYRING_ERRORS.KEY_DAMAGED(`key file for ${name} is damaged`);
    const signer = new Signer(seed);
    if (toHex(signer.publicKey) !== file.publicKey) throw KEYRING_ERRORS.KEY_DAMAGED(`key file for ${name} does not match its public key`);
    if (file.encrypted) this.passphraseChecked = true;
    this.signers.set(name, signer);
    return signer;
  }
}
