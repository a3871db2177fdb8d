import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey } from './address.js';
import { generateKeyPair, keyPairFromSeed, Signer } from './ed25519.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { defineErrors } from '../util/errors.js';

export const KEYRING_ERRORS = defineErrors('keyring', {
  KEY_NAME_INVALID: { meaning: 'a key name may use letters, digits, dot, dash and underscore' },
  KEYRING_BAD_PASSPHRASE: { meaning: 'the key cannot be decrypted: wrong passphrase or damaged key file' },
  KEY_EXISTS: { meaning: 'a key with that name already exists' },
  KEY_NOT_FOUND: { status: 404, meaning: 'no key with that name in the keyring' },
  KEY_DAMAGED: { meaning: 'a key file is damaged or does not match its public key' },
  SECRET_INVALID: { meaning: 'a keyring secret must be 16..64 bytes' },
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
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

export function validateKeyName(name: string): void {
  if (!NAME_RE.test(name)) throw KEYRING_ERRORS.KEY_NAME_INVALID(`key name ${JSON.stringify(name)} must match ${NAME_RE.source}`);
}

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
}

export function encryptSeed(seed: Uint8Array, passphrase: string): EncryptedSeed {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = deriveKey(passphrase, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  return { kdf: 'scrypt', ...SCRYPT, salt: salt.toString('hex'), cipher: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex'), ciphertext: ciphertext.toString('hex') };
}

export function decryptSeed(enc: EncryptedSeed, passphrase: string): Uint8Array {
  try {
    const key = deriveKey(passphrase, Buffer.from(enc.salt, 'hex'), enc);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(enc.iv, 'hex'));
    decipher.setAuthTag(Buffer.from(enc.tag, 'hex'));
    return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(enc.ciphertext, 'hex')), decipher.final()]));
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

export class Keyring {
  private readonly signers = new Map<string, Signer>();

  constructor(
    readonly dir: string,
    readonly backend: KeyringBackend,
    /** Supplies the passphrase when a file-backend key is created or unlocked. */
    private readonly passphrase: () => string,
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

  /** Stores a secret of 16..64 bytes (encrypted like keys). Refuses to overwrite an existing one. */
  addSecret(name: string, secret: Uint8Array): void {
    const path = this.secretPath(name);
    if (!(secret instanceof Uint8Array) || secret.length < 16 || secret.length > 64) throw KEYRING_ERRORS.SECRET_INVALID('a keyring secret must be 16..64 bytes');
    if (existsSync(path)) throw KEYRING_ERRORS.KEY_EXISTS(`a secret named ${name} already exists`);
    const base = { version: 1 as const, kind: 'secret' as const, name, length: secret.length };
    const file: SecretFile =
      this.backend === 'test'
        ? { ...base, backend: 'test', warning: 'UNENCRYPTED test keyring: never use for real funds', insecureSecret: toHex(secret) }
        : { ...base, backend: 'file', encrypted: encryptSeed(secret, this.passphrase()) };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, path);
  }

  /** Decrypts a secret (a fresh copy each call: callers may wipe it). */
  secret(name: string): Uint8Array {
    const path = this.secretPath(name);
    if (!existsSync(path)) throw KEYRING_ERRORS.KEY_NOT_FOUND(`no secret named ${name} in ${this.dir}`);
    const file = JSON.parse(readFileSync(path, 'utf8')) as SecretFile;
    let secret: Uint8Array | undefined;
    if (file.backend === 'test') secret = fromHexStrict(file.insecureSecret ?? '', file.length);
    else if (file.encrypted) secret = decryptSeed(file.encrypted, this.passphrase());
    if (!secret || secret.length !== file.length || secret.length < 16 || secret.length > 64) throw KEYRING_ERRORS.KEY_DAMAGED(`secret file ${name} is damaged`);
    return secret;
  }

  /** Creates a key (fresh, or from a given seed). Refuses to overwrite an existing one. */
  add(name: string, seed?: Uint8Array): KeyInfo {
    const path = this.path(name);
    if (existsSync(path)) throw KEYRING_ERRORS.KEY_EXISTS(`a key named ${name} already exists`);
    const pair = seed ? keyPairFromSeed(seed) : generateKeyPair();
    const info: KeyInfo = { name, address: addressFromPublicKey(pair.publicKey), publicKey: toHex(pair.publicKey) };
    const file: KeyFile =
      this.backend === 'test'
        ? { version: 1, ...info, backend: 'test', warning: 'UNENCRYPTED test keyring: never use for real funds or meters', insecureSeed: toHex(pair.secretKey) }
        : { version: 1, ...info, backend: 'file', encrypted: encryptSeed(pair.secretKey, this.passphrase()) };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, path);
    return info;
  }

  private read(name: string): KeyFile {
    const path = this.path(name);
    if (!existsSync(path)) throw KEYRING_ERRORS.KEY_NOT_FOUND(`no key named ${name} in ${this.dir}`);
    return JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  }

  show(name: string): KeyInfo {
    const { address, publicKey } = this.read(name);
    return { name, address, publicKey };
  }

  list(): KeyInfo[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && !f.endsWith(SECRET_SUFFIX))
      .map((f) => f.slice(0, -'.json'.length))
      .filter((n) => NAME_RE.test(n))
      .sort()
      .map((n) => this.show(n));
  }

  /** Unlocks a key once per process and keeps its signer. */
  signer(name: string): Signer {
    const cached = this.signers.get(name);
    if (cached) return cached;
    const file = this.read(name);
    let seed: Uint8Array | undefined;
    if (file.backend === 'test') seed = fromHexStrict(file.insecureSeed ?? '', 32);
    else if (file.encrypted) seed = decryptSeed(file.encrypted, this.passphrase());
    if (!seed) throw KEYRING_ERRORS.KEY_DAMAGED(`key file for ${name} is damaged`);
    const signer = new Signer(seed);
    if (toHex(signer.publicKey) !== file.publicKey) throw KEYRING_ERRORS.KEY_DAMAGED(`key file for ${name} does not match its public key`);
    this.signers.set(name, signer);
    return signer;
  }
}
