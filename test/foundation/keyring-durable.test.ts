import { mkdtempSync, rmSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

/** Key files are fsynced, and so is their directory after the rename (issue 9): a crash right after `keys add` keeps the key. */

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, fsyncSync: vi.fn(real.fsyncSync) };
});

const { Keyring } = await import('../../src/crypto/keyring.js');

const dir = mkdtempSync(join(tmpdir(), 'gridledger-keyring-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keyring writes are durable', () => {
  it('fsyncs the key file before the rename and the keyring directory after it', () => {
    const fsync = vi.mocked(fs.fsyncSync);
    const pathOfFd = new Map<number, string>();
    const synced: string[] = [];
    const realOpen = fs.openSync;
    const realFsync = fsync.getMockImplementation()!;
    const openSpy = vi.spyOn(fs, 'openSync').mockImplementation(((path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
      const fd = realOpen(path, flags ?? 'r', mode);
      pathOfFd.set(fd, String(path));
      return fd;
    }) as typeof fs.openSync);
    fsync.mockImplementation((fd: number) => {
      synced.push(pathOfFd.get(fd) ?? `fd ${fd}`);
      realFsync(fd);
    });
    new Keyring(join(dir, 'keyring'), 'test', () => '').add('durable');
    openSpy.mockRestore();
    fsync.mockImplementation(realFsync);
    expect(synced).toEqual([join(dir, 'keyring', 'durable.json.tmp'), join(dir, 'keyring')]);
  });
});
