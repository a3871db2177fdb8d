/**
 * Issue 19 point 9: a mistyped passphrase in `keys add` must not leave a keyring with two
 * passphrases, and a failed `init` must leave no partial home.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliNoTty, oneJson } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'gridledger-firsthour-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(r: { code: number; stdout: string; stderr: string }): { code: string; message: string } {
  expect(r.code, r.stderr).not.toBe(0);
  return JSON.parse(r.stderr.trim().split('\n').at(-1)!).error;
}

describe('init is all or nothing', () => {
  it('an encrypted init without a passphrase (no terminal) fails and leaves no home, not even its parent folders', async () => {
    const home = join(dir, 'new-parent', 'home');
    const r = await cliNoTty(['init', '--home', home, '-o', 'json', '--keyring-backend', 'file', '--api', '127.0.0.1:0']);
    expect(errorOf(r).code).toBe('KEYRING_PASSPHRASE_REQUIRED');
    expect(existsSync(home)).toBe(false);
    expect(existsSync(join(dir, 'new-parent'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failed init into an existing empty folder leaves it empty; the retry succeeds there', async () => {
    const home = join(dir, 'empty');
    mkdirSync(home);
    const failed = await cliNoTty(['init', '--home', home, '-o', 'json', '--keyring-backend', 'file']);
    expect(errorOf(failed).code).toBe('KEYRING_PASSPHRASE_REQUIRED');
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.includes('.init-'))).toEqual([]);
    const ok = await cliNoTty(['init', '--home', home, '-o', 'json', '--keyring-backend', 'file'], { GRIDLEDGER_PASSPHRASE: 'first passphrase' });
    expect(ok.code, ok.stderr).toBe(0);
    expect(oneJson(ok)).toMatchObject({ home, admin: expect.stringMatching(/^grid1/) });
    expect(readdirSync(join(home, 'keyring')).sort()).toEqual(['admin.json', 'node.json', 'validator.json']);
  });

  it('an empty passphrase is refused for an encrypted keyring (and nothing is created)', async () => {
    const home = join(dir, 'empty-pass');
    const r = await cliNoTty(['init', '--home', home, '-o', 'json', '--keyring-backend', 'file'], { GRIDLEDGER_PASSPHRASE: '' });
    // An empty variable counts as unset: without a terminal it is refused before anything is written.
    expect(errorOf(r).code).toBe('KEYRING_PASSPHRASE_REQUIRED');
    expect(existsSync(home)).toBe(false);
  });
});

describe('keys add checks the passphrase against an existing key', () => {
  const home = () => join(dir, 'empty');

  it('a mistyped passphrase is refused (KEYRING_BAD_PASSPHRASE, exit 1) and writes nothing', async () => {
    const before = readdirSync(join(home(), 'keyring')).sort();
    const r = await cliNoTty(['keys', 'add', 'bob', '--home', home(), '-o', 'json'], { GRIDLEDGER_PASSPHRASE: 'frist passphrase' });
    expect(r.code).toBe(1);
    const err = errorOf(r);
    expect(err.code).toBe('KEYRING_BAD_PASSPHRASE');
    expect(err.message).toMatch(/does not open the existing key admin/);
    expect(readdirSync(join(home(), 'keyring')).sort()).toEqual(before);
  });

  it('the right passphrase adds the key, and every key of the keyring opens with it', async () => {
    const r = await cliNoTty(['keys', 'add', 'bob', '--home', home(), '-o', 'json'], { GRIDLEDGER_PASSPHRASE: 'first passphrase' });
    expect(r.code, r.stderr).toBe(0);
    expect(oneJson(r)).toMatchObject({ name: 'bob' });
    const { Keyring } = await import('../../src/crypto/keyring.js');
    const ring = new Keyring(join(home(), 'keyring'), 'file', () => 'first passphrase');
    expect(ring.list().map((k) => k.name)).toEqual(['admin', 'bob', 'node', 'validator']);
    for (const k of ring.list()) expect(ring.signer(k.name).publicKey).toBeInstanceOf(Uint8Array);
  });
});
