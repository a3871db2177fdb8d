import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, verifySignature } from '../../src/crypto/ed25519.js';
import { decryptSeed, encryptSeed, Keyring, validateKeyName } from '../../src/crypto/keyring.js';
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
    expect(file.encrypted.N).toBeGreaterThanOrEqual(1 << 14);
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
    expect(codeOf(() => new Keyring(dir, 'file', () => '').signer('alice'))).toBe('KEYRING_BAD_PASSPHRASE');
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
