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
 * has arrived, so an oversize frame is rejected before any of its body is buffered. Frames that lie
 * within one received chunk are returned as views (no copy); only frames spanning chunks are joined.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  /** Read position inside #chunks[0]. */
  #offset = 0;
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
    this.#skip(LENGTH_PREFIX_BYTES);
    return this.#take(length);
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length - this.#offset < LENGTH_PREFIX_BYTES) this.#coalesce(); // rare: prefix split across chunks
    return this.#chunks[0]!.readUInt32BE(this.#offset);
  }

  /** Joins all buffered chunks into one (keeps later reads O(1) amortised). */
  #coalesce(): void {
    const first = this.#chunks[0]!;
    this.#chunks = [Buffer.concat([first.subarray(this.#offset), ...this.#chunks.slice(1)])];
    this.#offset = 0;
  }

  #skip(n: number): void {
    this.#take(n);
  }

  /** Removes n bytes from the front: a view when they lie in one chunk, otherwise a joined copy. */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first && first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      if (this.#offset === first.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const available = chunk.length - this.#offset;
      const count = Math.min(available, n - filled);
      chunk.copy(out, filled, this.#offset, this.#offset + count);
      filled += count;
      this.#offset += count;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}
