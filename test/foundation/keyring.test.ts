import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, verifySignature } from '../../src/crypto/ed25519.js';
import { checkKdfParams, decryptSeed, encryptSeed, Keyring, validateKeyName } from '../../src/crypto/keyring.js';
import { LedgerError } from '../../src/util/errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gridledger-keyring-'));
  dirs.push(d);
  return join(d, 'keyring');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SEED = new Uint8Array(Buffer.from('8f'.repeat(8) + '01'.repeat(8) + 'c3'.repeat(8) + '5a'.repeat(8), 'hex'));
const seedHex = Buffer.from(SEED).toString('hex');

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof LedgerError ? err.code : `not a LedgerError: ${(err as Error).message}`;
  }
  return undefined;
}

describe('file backend (encrypted at rest)', () => {
  const dir = tempDir();
  const ring = new Keyring(dir, 'file', () => 'correct horse battery staple');

  it('writes no seed bytes to disk, only scrypt + AES-256-GCM ciphertext', () => {
    const info = ring.add('alice', SEED);
    expect(info.address).toBe(addressFromPublicKey(keyPairFromSeed(SEED).publicKey));
    const raw = readFileSync(join(dir, 'alice.json'));
    const text = raw.toString('utf8');
    // neither hex nor base64 nor the raw bytes of the seed appear anywhere in the file
    expect(text.toLowerCase()).not.toContain(seedHex);
    expect(text).not.toContain(Buffer.from(SEED).toString('base64'));
    expect(raw.includes(Buffer.from(SEED))).toBe(false);
    for (let i = 0; i + 8 <= 32; i += 4) expect(text.toLowerCase()).not.toContain(seedHex.slice(i * 2, i * 2 + 16));
    const file = JSON.parse(text);
    expect(file.backend).toBe('file');
    expect(file.insecureSeed).toBeUndefined();
    expect(file.encrypted).toMatchObject({ kdf: 'scrypt', cipher: 'aes-256-gcm' });
    expect(file.encrypted.N).toBeGreaterThanOrEqual(1 << 17);
    expect(file.encrypted.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(file.encrypted.iv).toMatch(/^[0-9a-f]{24}$/);
    expect(file.encrypted.tag).toMatch(/^[0-9a-f]{32}$/);
    expect(file.encrypted.ciphertext).toMatch(/^[0-9a-f]{64}$/);
  });

  it('unlocks with the right passphrase and signs with the stored key', () => {
    const signer = new Keyring(dir, 'file', () => 'correct horse battery staple').signer('alice');
    const msg = new TextEncoder().encode('hello');
    expect(Buffer.from(signer.publicKey).toString('hex')).toBe(ring.show('alice').publicKey);
    expect(verifySignature(signer.publicKey, msg, signer.sign(msg))).toBe(true);
  });

  it('refuses a wrong passphrase with KEYRING_BAD_PASSPHRASE', () => {
    const wrong = new Keyring(dir, 'file', () => 'Correct horse battery staple');
    expect(codeOf(() => wrong.signer('alice'))).toBe('KEYRING_BAD_PASSPHRASE');
  });

  it('refuses a tampered ciphertext or tag (authenticated encryption)', () => {
    const enc = encryptSeed(SEED, 'pw');
    expect(Buffer.from(decryptSeed(enc, 'pw')).toString('hex')).toBe(seedHex);
    const flip = (h: string) => (h[0] === '0' ? '1' : '0') + h.slice(1);
    expect(codeOf(() => decryptSeed({ ...enc, ciphertext: flip(enc.ciphertext) }, 'pw'))).toBe('KEYRING_BAD_PASSPHRASE');
    expect(codeOf(() => decryptSeed({ ...enc, tag: flip(enc.tag) }, 'pw'))).toBe('KEYRING_BAD_PASSPHRASE');
    expect(codeOf(() => decryptSeed({ ...enc, salt: flip(enc.salt) }, 'pw'))).toBe('KEYRING_BAD_PASSPHRASE');
  });

  it('uses a fresh salt and IV per key (same seed and passphrase → different ciphertext)', () => {
    const a = encryptSeed(SEED, 'pw');
    const b = encryptSeed(SEED, 'pw');
    expect(a.salt).not.toBe(b.salt);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('writes key files with mode 0600', () => {
    ring.add('bob');
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0); // the directory is private too
  });
});

/** A key file as keys were written before scrypt's N was raised (N = 2^15), made with node:crypto directly. */
function legacyKeyFile(seed: Uint8Array, passphrase: string, params = { N: 1 << 15, r: 8, p: 1 }) {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(passphrase.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
  const publicKey = Buffer.from(keyPairFromSeed(seed).publicKey).toString('hex');
  return {
    version: 1,
    name: 'old',
    address: addressFromPublicKey(keyPairFromSeed(seed).publicKey),
    publicKey,
    backend: 'file',
    encrypted: { kdf: 'scrypt', ...params, salt: salt.toString('hex'), cipher: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex'), ciphertext: ciphertext.toString('hex') },
  };
}

describe('file backend hardening (issue 9): scrypt cost, bounded parameters, one passphrase, no empty passphrase', () => {
  it('new keys use scrypt N = 2^17; a key written with N = 2^15 still opens with the parameters of its file', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'old.json'), JSON.stringify(legacyKeyFile(SEED, 'pw')));
    const ring = new Keyring(dir, 'file', () => 'pw');
    expect(Buffer.from(ring.signer('old').publicKey).toString('hex')).toBe(ring.show('old').publicKey);
    ring.add('new');
    expect(JSON.parse(readFileSync(join(dir, 'new.json'), 'utf8')).encrypted).toMatchObject({ N: 1 << 17, r: 8, p: 1 });
    expect(new Keyring(dir, 'file', () => 'pw').signer('new').publicKey).toBeInstanceOf(Uint8Array);
  });

  it('refuses absurd scrypt parameters from a key file before deriving anything (KEYRING_KDF_PARAMS_INVALID)', () => {
    const enc = encryptSeed(SEED, 'pw');
    const absurd = [
      { N: 2 ** 30 },
      { N: 2 ** 21 },
      { N: 1 << 10 },
      { N: (1 << 17) + 1 },
      { N: 0 },
      { N: -(1 << 17) },
      { N: 1.5 },
      { N: '131072' },
      { r: 1_000_000 },
      { r: 0 },
      { r: 17 },
      { p: 1000 },
      { p: 0 },
      { N: 1 << 20, r: 16 }, // 2 GiB
    ];
    const started = Date.now();
    for (const bad of absurd) {
      expect(codeOf(() => decryptSeed({ ...enc, ...bad } as typeof enc, 'pw')), JSON.stringify(bad)).toBe('KEYRING_KDF_PARAMS_INVALID');
    }
    expect(Date.now() - started).toBeLessThan(5_000); // refused up front, no scrypt of 2^30 ran
    expect(checkKdfParams({ N: 1 << 15, r: 8, p: 1 })).toEqual({ N: 1 << 15, r: 8, p: 1 });
    expect(checkKdfParams({ N: 1 << 20, r: 8, p: 4 })).toEqual({ N: 1 << 20, r: 8, p: 4 });
    // Malformed hex fields are a damaged file, not a wrong passphrase.
    expect(codeOf(() => decryptSeed({ ...enc, iv: 'zz' }, 'pw'))).toBe('KEY_DAMAGED');
    expect(codeOf(() => decryptSeed({ ...enc, ciphertext: enc.ciphertext + '00' }, 'pw'))).toBe('KEY_DAMAGED');
  });

  it('refuses an empty passphrase outside the test backend, for new and existing keys (KEYRING_PASSPHRASE_EMPTY)', () => {
    const dir = tempDir();
    expect(codeOf(() => new Keyring(dir, 'file', () => '').add('empty'))).toBe('KEYRING_PASSPHRASE_EMPTY');
    expect(existsSync(join(dir, 'empty.json'))).toBe(false);
    expect(codeOf(() => encryptSeed(SEED, ''))).toBe('KEYRING_PASSPHRASE_EMPTY');
    new Keyring(dir, 'file', () => 'pw').add('real');
    expect(codeOf(() => new Keyring(dir, 'file', () => '').signer('real'))).toBe('KEYRING_PASSPHRASE_EMPTY');
    // the test backend never needs one
    expect(new Keyring(tempDir(), 'test', () => '').add('demo').address).toMatch(/^grid1/);
  });

  it('a mistyped passphrase cannot add a key to a keyring whose keys use another one (nothing is written)', () => {
    const dir = tempDir();
    const first = new Keyring(dir, 'file', () => 'right passphrase');
    first.add('admin');
    const before = readdirSync(dir).sort();
    const typo = new Keyring(dir, 'file', () => 'rigth passphrase');
    const err = (() => {
      try {
        typo.add('bob');
      } catch (e) {
        return e as LedgerError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('KEYRING_BAD_PASSPHRASE');
    expect(err?.message).toMatch(/does not open the existing key admin/);
    expect(readdirSync(dir).sort()).toEqual(before);
    // the right one works, and every key opens with it
    new Keyring(dir, 'file', () => 'right passphrase').add('bob');
    const again = new Keyring(dir, 'file', () => 'right passphrase');
    for (const k of again.list()) expect(again.signer(k.name).publicKey).toBeInstanceOf(Uint8Array);
  });

  it('asks for a new keyring\'s passphrase as "new", and for an existing one\'s as "unlock"', () => {
    const dir = tempDir();
    const asked: string[] = [];
    new Keyring(dir, 'file', (purpose) => (asked.push(purpose), 'pw')).add('a');
    new Keyring(dir, 'file', (purpose) => (asked.push(purpose), 'pw')).add('b');
    expect(asked[0]).toBe('new');
    expect(asked.slice(1).every((p) => p === 'unlock')).toBe(true);
  });
});

describe('test backend (unencrypted, for demos and tests)', () => {
  const dir = tempDir();
  const ring = new Keyring(dir, 'test', () => {
    throw new Error('the test backend must never ask for a passphrase');
  });

  it('marks every file as unencrypted and never asks for a passphrase', () => {
    ring.add('demo', SEED);
    const file = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'));
    expect(file.backend).toBe('test');
    expect(file.warning).toMatch(/UNENCRYPTED/);
    expect(file.insecureSeed).toBe(seedHex);
    expect(file.encrypted).toBeUndefined();
    expect(Buffer.from(ring.signer('demo').publicKey).toString('hex')).toBe(file.publicKey);
    expect(statSync(join(dir, 'demo.json')).mode & 0o777).toBe(0o600);
  });

  it('detects a key file whose seed does not match its public key (KEY_DAMAGED)', () => {
    ring.add('damaged', SEED);
    const path = join(dir, 'damaged.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.insecureSeed = 'ab'.repeat(32);
    writeFileSync(path, JSON.stringify(file));
    expect(codeOf(() => new Keyring(dir, 'test', () => '').signer('damaged'))).toBe('KEY_DAMAGED');
    file.insecureSeed = 'not hex';
    writeFileSync(path, JSON.stringify(file));
    expect(codeOf(() => new Keyring(dir, 'test', () => '').signer('damaged'))).toBe('KEY_DAMAGED');
  });
});

describe('names, listing and overwrite protection', () => {
  const dir = tempDir();
  const ring = new Keyring(dir, 'test', () => '');

  it('validates names (no path traversal, no uppercase, bounded length)', () => {
    for (const bad of ['', '../evil', 'a/b', 'UPPER', '-leading', '_leading', 'x'.repeat(33), 'dot.name', 'space name', 'nul\u0000', 'ключ']) {
      expect(codeOf(() => validateKeyName(bad)), JSON.stringify(bad)).toBe('KEY_NAME_INVALID');
      expect(codeOf(() => ring.add(bad)), JSON.stringify(bad)).toBe('KEY_NAME_INVALID');
      expect(codeOf(() => ring.show(bad)), JSON.stringify(bad)).toBe('KEY_NAME_INVALID');
    }
    for (const good of ['a', 'admin', 'node-1', 'meter_42', '0', 'x'.repeat(32)]) expect(codeOf(() => validateKeyName(good)), good).toBeUndefined();
    expect(existsSync(join(dir, '..', 'evil.json'))).toBe(false);
  });

  it('never overwrites an existing key (KEY_EXISTS) and keeps the original', () => {
    const first = ring.add('op', SEED);
    const before = readFileSync(join(dir, 'op.json'), 'utf8');
    expect(codeOf(() => ring.add('op'))).toBe('KEY_EXISTS');
    expect(codeOf(() => ring.add('op', SEED))).toBe('KEY_EXISTS');
    expect(readFileSync(join(dir, 'op.json'), 'utf8')).toBe(before);
    expect(ring.show('op')).toEqual(first);
  });

  it('lists keys sorted by name, shows one, and reports a missing one as KEY_NOT_FOUND', () => {
    ring.add('zed');
    ring.add('alpha');
    expect(ring.list().map((k) => k.name)).toEqual(['alpha', 'op', 'zed']);
    expect(ring.show('alpha').address).toMatch(/^grid1/);
    expect(codeOf(() => ring.show('missing'))).toBe('KEY_NOT_FOUND');
    expect(codeOf(() => ring.signer('missing'))).toBe('KEY_NOT_FOUND');
    expect(ring.has('alpha')).toBe(true);
    expect(ring.has('missing')).toBe(false);
  });

  it('fresh keys are distinct', () => {
    const a = ring.add('fresh-a');
    const b = ring.add('fresh-b');
    expect(a.publicKey).not.toBe(b.publicKey);
  });
});
