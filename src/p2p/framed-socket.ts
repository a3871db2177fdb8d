import type { Socket } from 'node:net';
import { encodeFrame, FrameError, FrameReader } from './frames.js';

/** While a handshake reads frames one by one, never hold more than this many unread bytes. */
const PULL_MODE_BUFFER_LIMIT = 1 << 20;

export type FrameHandler = (body: Uint8Array) => void;
export type CloseHandler = (error: Error | undefined) => void;

/**
 * A TCP socket seen as a sequence of length-prefixed frames. Starts in pull mode (`readFrame()`,
 * used by the handshake), then switches once to push mode (`startPush()`, used by the session).
 * Frame-level errors (oversize, malformed) are reported through the error handler and leave the
 * socket to the owner to destroy.
 */
export class FramedSocket {
  readonly socket: Socket;
  readonly #reader: FrameReader;
  #waiter: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  #push: { onFrame: FrameHandler; onError: (e: Error) => void } | undefined;
  #closed = false;
  #closeError: Error | undefined;
  #closeHandlers: CloseHandler[] = [];
  bytesIn = 0;
  bytesOut = 0;

  constructor(socket: Socket, minBody: number, maxBody: number) {
    this.socket = socket;
    this.#reader = new FrameReader(minBody, maxBody);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#closeError ??= err;
    });
    socket.on('close', () => this.#onClose());
  }

  get closed(): boolean {
    return this.#closed;
  }

  setLimits(minBody: number, maxBody: number): void {
    this.#reader.setLimits(minBody, maxBody);
  }

  onClose(handler: CloseHandler): void {
    if (this.#closed) queueMicrotask(() => handler(this.#closeError));
    else this.#closeHandlers.push(handler);
  }

  /** Pull mode: resolves with the next frame body; rejects on close or a frame error. */
  readFrame(): Promise<Uint8Array> {
    if (this.#push) return Promise.reject(new Error('framed socket is in push mode'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#drainPull();
    });
  }

  /** Push mode: every buffered and future frame goes to onFrame, in order. */
  startPush(onFrame: FrameHandler, onError: (e: Error) => void): void {
    this.#push = { onFrame, onError };
    this.#drainPush();
  }

  writeFrame(body: Uint8Array): boolean {
    if (this.#closed || this.socket.destroyed) return false;
    const frame = encodeFrame(body);
    this.bytesOut += frame.length;
    return this.socket.write(frame);
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.#reader.push(chunk);
    if (this.#push) this.#drainPush();
    else this.#drainPull();
  }

  #drainPull(): void {
    const waiter = this.#waiter;
    if (!waiter) {
      if (this.#reader.buffered > PULL_MODE_BUFFER_LIMIT) this.#failPull(new FrameError('buffer-overflow', 'too many unread bytes during handshake'));
      return;
    }
    let frame: Uint8Array | undefined;
    try {
      frame = this.#reader.next();
    } catch (err) {
      this.#failPull(err as Error);
      return;
    }
    if (frame) {
      this.#waiter = undefined;
      waiter.resolve(frame);
    } else if (this.#closed) {
      this.#waiter = undefined;
      waiter.reject(this.#closeError ?? new Error('connection closed'));
    }
  }

  #failPull(err: Error): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.socket.destroy();
    waiter?.reject(err);
  }

  #drainPush(): void {
    const push = this.#push!;
    // Stop as soon as a handler destroyed the socket (e.g. after a bad frame).
    while (!this.socket.destroyed) {
      let frame: Uint8Array | undefined;
      try {
        frame = this.#reader.next();
      } catch (err) {
        push.onError(err as Error);
        return;
      }
      if (!frame) return;
      push.onFrame(frame);
    }
  }

  #onClose(): void {
    this.#closed = true;
    if (this.#waiter) this.#drainPull();
    const handlers = this.#closeHandlers;
    this.#closeHandlers = [];
    for (const h of handlers) h(this.#closeError);
  }
}

