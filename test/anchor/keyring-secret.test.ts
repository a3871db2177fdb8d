import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/crypto/keyring.js';
import { LedgerError } from '../../src/util/errors.js';

/** The keyring's secrets: the anchor wallet's BIP32 seed lives there, encrypted like keys. */

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gridledger-secret-'));
  dirs.push(d);
  return join(d, 'keyring');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof LedgerError ? err.code : `not a LedgerError: ${(err as Error).message}`;
  }
  return undefined;
}

const SEED64 = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);

describe('keyring secrets', () => {
  it('file backend: a 64-byte seed is stored encrypted and comes back with the passphrase only', () => {
    const dir = tempDir();
    const ring = new Keyring(dir, 'file', () => 'correct horse');
    ring.addSecret('anchor-seed', SEED64);
    const text = readFileSync(join(dir, 'anchor-seed.secret.json'), 'utf8');
    expect(text).not.toContain(Buffer.from(SEED64).toString('hex'));
    expect(JSON.parse(text)).toMatchObject({ kind: 'secret', backend: 'file', length: 64 });
    expect(new Keyring(dir, 'file', () => 'correct horse').secret('anchor-seed')).toEqual(SEED64);
    expect(codeOf(() => new Keyring(dir, 'file', () => 'wrong').secret('anchor-seed'))).toBe('KEYRING_BAD_PASSPHRASE');
  });

  it('test backend: 32 bytes in clear, with the warning; a copy each call', () => {
    const dir = tempDir();
    const ring = new Keyring(dir, 'test', () => '');
    const seed = SEED64.slice(0, 32);
    ring.addSecret('s', seed);
    expect(JSON.parse(readFileSync(join(dir, 's.secret.json'), 'utf8')).warning).toMatch(/UNENCRYPTED/);
    const a = ring.secret('s');
    a.fill(0);
    expect(ring.secret('s')).toEqual(seed);
  });

  it('refuses wrong lengths, overwriting and unknown names; keys and secrets do not see each other', () => {
    const dir = tempDir();
    const ring = new Keyring(dir, 'test', () => '');
    expect(codeOf(() => ring.addSecret('short', new Uint8Array(15)))).toBe('SECRET_INVALID');
    expect(codeOf(() => ring.addSecret('long', new Uint8Array(65)))).toBe('SECRET_INVALID');
    ring.addSecret('anchor', SEED64.slice(0, 16));
    expect(codeOf(() => ring.addSecret('anchor', SEED64.slice(0, 16)))).toBe('KEY_EXISTS');
    expect(codeOf(() => ring.secret('nope'))).toBe('KEY_NOT_FOUND');
    expect(ring.hasSecret('anchor')).toBe(true);
    expect(ring.has('anchor')).toBe(false);
    ring.add('anchor');
    expect(ring.list().map((k) => k.name)).toEqual(['anchor']);
    expect(readdirSync(dir).sort()).toEqual(['anchor.json', 'anchor.secret.json']);
  });

  it('a damaged secret file is KEY_DAMAGED', () => {
    const dir = tempDir();
    const ring = new Keyring(dir, 'test', () => '');
    ring.addSecret('s', SEED64.slice(0, 32));
    const path = join(dir, 's.secret.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...file, insecureSecret: 'zz' }));
    expect(codeOf(() => ring.secret('s'))).toBe('KEY_DAMAGED');
  });
});
