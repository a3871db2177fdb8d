import { LedgerError } from '../util/errors.js';

/** Every frame on the wire: u32 big-endian body length, then the body. */
export const LENGTH_PREFIX_BYTES = 4;

export type FrameErrorCode = 'oversize-frame' | 'malformed-frame' | 'buffer-overflow';

export class FrameError extends LedgerError {
  readonly reason: FrameErrorCode;
  constructor(reason: FrameErrorCode, message: string) {
    super(`P2P_${reason.toUpperCase().replace(/-/g, '_')}`, message);
    this.reason = reason;
  }
}

export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, LENGTH_PREFIX_BYTES);
  return out;
}

/**
 * Incremental decoder of length-prefixed frames. The length is checked as soon as the 4-byte prefix
 * has arrived, so an oversize frame is rejected before any of its body is buffered.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #minBody: number;
  #maxBody: number;

  constructor(minBody: number, maxBody: number) {
    this.#minBody = minBody;
    this.#maxBody = maxBody;
  }

  /** Bytes received but not yet returned as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  setLimits(minBody: number, maxBody: number): void {
    this.#minBody = minBody;
    this.#maxBody = maxBody;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#buffered += chunk.length;
  }

  /** The next complete frame body, or undefined if more bytes are needed. Throws FrameError. */
  next(): Uint8Array | undefined {
    if (this.#buffered < LENGTH_PREFIX_BYTES) return undefined;
    const length = this.#peekLength();
    if (length > this.#maxBody) throw new FrameError('oversize-frame', `frame of ${length} bytes exceeds ${this.#maxBody}`);
    if (length < this.#minBody) throw new FrameError('malformed-frame', `frame of ${length} bytes is below ${this.#minBody}`);
    if (this.#buffered < LENGTH_PREFIX_BYTES + length) return undefined;
    const all = this.#take(LENGTH_PREFIX_BYTES + length);
    return new Uint8Array(all.buffer, all.byteOffset + LENGTH_PREFIX_BYTES, length);
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= LENGTH_PREFIX_BYTES) return first.readUInt32BE(0);
    return Buffer.concat(this.#chunks).readUInt32BE(0);
  }

  /** Removes and returns exactly n bytes from the front (a copy, so callers may keep it). */
  #take(n: number): Buffer {
    const joined = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = Buffer.from(joined.subarray(0, n));
    const rest = joined.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}
