import { LedgerError, asLedgerError } from '../../util/errors.js';
import { EDGE_ERRORS as E } from '../errors.js';
import { MAX_TELEGRAM_BYTES, parseTelegram, type P1Telegram, type P1Warning } from './parser.js';

/**
 * Turns a P1 byte stream (chunks as they arrive from a serial port, a TCP socket or a file) into
 * parsed telegrams. A telegram starts at "/" and ends at the line after a "!" that begins a line.
 *
 * - Bytes outside a telegram (a reader started mid-telegram, line noise) are dropped and counted.
 * - Any "/" inside a telegram starts a new one: the interrupted one is refused as P1_TRUNCATED. Values
 *   never contain "/" in DSMR 4+ (texts are hex); a DSMR 2.2 text message containing "/" would cost
 *   that telegram, which is the price of resynchronising at once after a glitch.
 * - Memory is bounded: at most `maxTelegramBytes` (end line included) are buffered; a longer telegram is
 *   refused as P1_OVERSIZED and the stream resynchronises at the next "/".
 * Every framed telegram, good or bad, is returned from push() in stream order, with counters the agent exports.
 */

export type FramedTelegram =
  | { ok: true; raw: Uint8Array; telegram: P1Telegram; warnings: P1Warning[] }
  | { ok: false; raw: Uint8Array; error: LedgerError };

export interface FramerCounters {
  bytesIn: number;
  /** Bytes discarded outside any telegram (before the first "/", between telegrams, after an oversized one). */
  bytesDropped: number;
  telegramsOk: number;
  telegramsRejected: number;
  crcFailures: number;
  /** Rejections by reason code (P1_BAD_CRC, P1_TRUNCATED, …). */
  rejectedByReason: Record<string, number>;
}

export interface FramerOptions {
  maxTelegramBytes?: number;
}

const SLASH = 0x2f;
const BANG = 0x21;
const LF = 0x0a;
/** After "!" at most 4 hex digits + CR LF: an end line longer than this is broken. */
const END_LINE_MAX = 6;

type State = 'hunt' | 'body' | 'end';

export class P1Framer {
  private readonly max: number;
  private readonly buf: Uint8Array;
  private len = 0;
  private state: State = 'hunt';
  private endLineBytes = 0;
  private readonly stats: FramerCounters = { bytesIn: 0, bytesDropped: 0, telegramsOk: 0, telegramsRejected: 0, crcFailures: 0, rejectedByReason: {} };

  constructor(options: FramerOptions = {}) {
    this.max = options.maxTelegramBytes ?? MAX_TELEGRAM_BYTES;
    if (!Number.isSafeInteger(this.max) || this.max < 16 || this.max > 1 << 20) throw E.EDGE_BAD_OPTION('maxTelegramBytes must be an integer in 16..1 MiB');
    this.buf = new Uint8Array(this.max);
  }

  /** Feeds a chunk; returns the telegrams it completed (possibly none). */
  push(chunk: Uint8Array): FramedTelegram[] {
    const out: FramedTelegram[] = [];
    this.stats.bytesIn += chunk.length;
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i]!, out);
    return out;
  }

  /** End of stream: a telegram in progress is refused as truncated. */
  end(): FramedTelegram[] {
    const out: FramedTelegram[] = [];
    if (this.state !== 'hunt') this.reject(out, E.P1_TRUNCATED('the stream ended inside a telegram'));
    return out;
  }

  counters(): FramerCounters {
    return { ...this.stats, rejectedByReason: { ...this.stats.rejectedByReason } };
  }

  private step(b: number, out: FramedTelegram[]): void {
    if (this.state === 'hunt') {
      if (b === SLASH) this.begin();
      else this.stats.bytesDropped++;
      return;
    }
    if (b === SLASH) {
      this.reject(out, E.P1_TRUNCATED('the telegram was interrupted by the start of the next one'));
      this.begin();
      return;
    }
    if (this.len >= this.max) {
      this.reject(out, E.P1_OVERSIZED(`telegram exceeds ${this.max} bytes`));
      this.stats.bytesDropped++;
      return;
    }
    if (this.state === 'body') {
      if (b === BANG && this.buf[this.len - 1] === LF) {
        this.state = 'end';
        this.endLineBytes = 0;
      }
      this.buf[this.len++] = b;
      return;
    }
    // state 'end': the end line runs to LF; a broken one is handed to the parser at its maximum length.
    this.buf[this.len++] = b;
    this.endLineBytes++;
    if (b === LF || this.endLineBytes >= END_LINE_MAX) this.emit(out);
  }

  private begin(): void {
    this.state = 'body';
    this.len = 0;
    this.buf[this.len++] = SLASH;
  }

  private emit(out: FramedTelegram[]): void {
    const raw = this.buf.slice(0, this.len);
    this.state = 'hunt';
    this.len = 0;
    try {
      const { telegram, warnings } = parseTelegram(raw, { maxBytes: this.max });
      this.stats.telegramsOk++;
      out.push({ ok: true, raw, telegram, warnings });
    } catch (err) {
      this.count(asLedgerError(err));
      out.push({ ok: false, raw, error: asLedgerError(err) });
    }
  }

  private reject(out: FramedTelegram[], error: LedgerError): void {
    const raw = this.buf.slice(0, this.len);
    this.state = 'hunt';
    this.len = 0;
    this.count(error);
    out.push({ ok: false, raw, error });
  }

  private count(error: LedgerError): void {
    this.stats.telegramsRejected++;
    this.stats.rejectedByReason[error.code] = (this.stats.rejectedByReason[error.code] ?? 0) + 1;
    if (error.code === 'P1_BAD_CRC') this.stats.crcFailures++;
  }
}
