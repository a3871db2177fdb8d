import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writevSync } from 'node:fs';
import { decodeWalRecord, encodeWalRecord, type WalRecord } from '../consensus/index.js';
import { sha256Hex } from '../crypto/hash.js';
import { defineErrors } from '../util/errors.js';
import type { WalPort } from './driver.js';

/**
 * The consensus WAL on disk: one line per record, `<16 hex digits of SHA-256> <json>\n`. A record
 * is durable once `sync` returned. A crash (or a full disk) during an append can leave a torn last
 * line: `read` reports it and cuts the file back to the last whole record, fsynced, before
 * anything is appended again, so a new record is never glued to a torn one.
 */

export const WAL_ERRORS = defineErrors('wal', {
  WAL_CORRUPT: { status: 500, meaning: 'the consensus WAL is damaged before its last record (fsynced data must never disappear silently)' },
});

const CHECK_HEX = 16;

/** The record's check: the first CHECK_HEX hex digits of its SHA-256. */
function checkOf(json: string | Uint8Array): string {
  return sha256Hex(json).slice(0, CHECK_HEX);
}

/**
 * A record's line as the parts one write takes: the record is encoded to UTF-8 once, and that one
 * buffer is hashed for the check and written (a proposal's record carries its whole block, ~0.5 MB at
 * a thousand transactions; hashing and writing the string converted it twice).
 */
function frameParts(json: string): Buffer[] {
  const body = Buffer.from(json, 'utf8');
  return [Buffer.from(`${checkOf(body)} `, 'latin1'), body, NEWLINE];
}

const NEWLINE = Buffer.from('\n', 'latin1');

function unframe(line: string): string | null {
  const json = line.slice(CHECK_HEX + 1);
  return line.length > CHECK_HEX + 1 && line[CHECK_HEX] === ' ' && checkOf(json) === line.slice(0, CHECK_HEX) ? json : null;
}

/**
 * The line `reset` writes: the records before it belong to heights already stored. (A JSON value no
 * record encodes to: every record is an object with a `type`.)
 */
const RESET_JSON = '{"reset":true}';

/**
 * Past this size `reset` empties the file (ftruncate and fsync) instead of appending a reset line.
 * Under load a height's records hold its whole block (~0.5 MB at a thousand transactions), so the
 * file is emptied every ~16 busy heights; a start reads at most this much.
 */
export const WAL_TRUNCATE_BYTES = 8 * 1024 * 1024;

/**
 * Parses the file's text: the records after the last reset line. Corruption anywhere but the last
 * record is an error (before a reset line too); a torn or corrupt last record is dropped and the
 * byte length of the good prefix returned.
 */
export function parseWal<B>(text: string, path: string): { records: WalRecord<B>[]; goodBytes: number; droppedTail: boolean } {
  let lines: string[] = [];
  let seen = 0;
  const decoded = () => lines.map((json) => decodeWalRecord<B>(json));
  let offset = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    const line = end < 0 ? text.slice(offset) : text.slice(offset, end);
    const json = end < 0 ? null : unframe(line);
    if (json === null) {
      const isLast = end < 0 || end === text.length - 1;
      if (!isLast) throw WAL_ERRORS.WAL_CORRUPT(`WAL ${path} is corrupt at record ${seen + 1}`);
      return { records: decoded(), goodBytes: Buffer.byteLength(text.slice(0, offset)), droppedTail: true };
    }
    seen++;
    if (json === RESET_JSON) lines = [];
    else lines.push(json);
    offset = end + 1;
  }
  return { records: decoded(), goodBytes: Buffer.byteLength(text), droppedTail: false };
}

export class FileWal<B> implements WalPort<B> {
  #fd: number | undefined;
  #dirty = false;

  /**
   * `blockJson`: the block's JSON encoding, spliced into proposal records (see encodeWalRecord).
   * `truncateBytes`: the size past which `reset` empties the file (tests set a small one).
   */
  constructor(
    readonly path: string,
    private readonly blockJson?: (block: B) => string,
    private readonly truncateBytes = WAL_TRUNCATE_BYTES,
  ) {}

  private fd(): number {
    this.#fd ??= openSync(this.path, 'a');
    return this.#fd;
  }

  read(): { records: WalRecord<B>[]; droppedTail: boolean } {
    if (!existsSync(this.path)) return { records: [], droppedTail: false };
    const { records, goodBytes, droppedTail } = parseWal<B>(readFileSync(this.path, 'utf8'), this.path);
    if (droppedTail) {
      ftruncateSync(this.fd(), goodBytes);
      fsyncSync(this.fd());
    }
    return { records, droppedTail };
  }

  append(record: WalRecord<B>): void {
    writeAll(this.fd(), frameParts(encodeWalRecord(record, this.blockJson)));
    this.#dirty = true;
  }

  /** fsync if anything was appended since the last sync; called before any own message is sent. */
  sync(): void {
    if (!this.#dirty) return;
    fsyncSync(this.fd());
    this.#dirty = false;
  }

  /**
   * Ends the log's records (after the decided block is stored and before the next height starts): a
   * reset line, not synced — it goes to disk with the next height's first sync. Lost in a crash, it
   * leaves the stored height's records, which a restart replays to that height and then starts the
   * next (the driver's recipe). Only a file past `truncateBytes` is emptied and synced: an ftruncate
   * and an fsync every height cost a validator more than the rest of the WAL (issue 18).
   */
  reset(): void {
    if (fstatSync(this.fd()).size < this.truncateBytes) {
      writeAll(this.fd(), frameParts(RESET_JSON));
      this.#dirty = true;
      return;
    }
    ftruncateSync(this.fd(), 0);
    fsyncSync(this.fd());
    this.#dirty = false;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Writes every byte of the parts (writev may write less than asked, e.g. on a full pipe or disk quota edge). */
function writeAll(fd: number, parts: Buffer[]): void {
  let rest = parts;
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    const left: Buffer[] = [];
    for (const part of rest) {
      if (written >= part.length) written -= part.length;
      else {
        left.push(part.subarray(written));
        written = 0;
      }
    }
    rest = left;
  }
}
