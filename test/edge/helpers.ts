import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerError } from '../../src/util/errors.js';

const VECTORS = join(import.meta.dirname, '..', 'vectors', 'dsmr');

/** The real telegrams, byte for byte (CR LF line endings). */
export const ISKRA = new Uint8Array(readFileSync(join(VECTORS, 'dsmr5-iskra-am550.txt')));
export const KAIFA = new Uint8Array(readFileSync(join(VECTORS, 'dsmr42-kaifa.txt')));

export const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
export const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** The LedgerError code `fn` throws; fails the test when it throws anything else or nothing. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LedgerError) return err.code;
    throw err;
  }
  throw new Error('expected a LedgerError, nothing was thrown');
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `gridledger-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
