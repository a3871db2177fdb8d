import { concatBytes } from '../util/bytes.js';
import { CONTROL_CHANNEL, Control, isAppChannel } from './channels.js';
import { AEAD_TAG_BYTES, DecryptError, type DirectionalCipher } from './cipher.js';
import type { FramedSocket } from './framed-socket.js';
import { FrameError, LENGTH_PREFIX_BYTES } from './frames.js';
import { TokenBucket } from './rate-limit.js';

export type Direction = 'inbound' | 'outbound';

/** Smallest valid session frame: channel byte + AEAD tag. */
export const MIN_SESSION_FRAME_BYTES = 1 + AEAD_TAG_BYTES;

export interface RateLimitOptions {
  messagesPerSec: number;
  messagesBurst: number;
  bytesPerSec: number;
  bytesBurst: number;
}

export interface SessionOptions {
  peerId: string;
  direction: Direction;
  /** Node id of the side that dialled; used to break ties between duplicate connections. */
  initiatorId: string;
  send: DirectionalCipher;
  receive: DirectionalCipher;
  maxFrameBytes: number;
  rateLimit: RateLimitOptions;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  now: () => number;
}

export interface SessionEvents {
  onMessage(channel: number, payload: Uint8Array, wireBytes: number): void;
  /** Bad input from the peer. `attributable` = certainly the peer's fault (a ban is justified). */
  onViolation(reason: string, attributable: boolean): void;
  onClose(reason: string): void;
  onDrain(): void;
}

/** An authenticated, encrypted connection to one peer, after the handshake. */
export class Session {
  readonly peerId: string;
  readonly direction: Direction;
  readonly initiatorId: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly #link: FramedSocket;
  readonly #options: SessionOptions;
  readonly #events: SessionEvents;
  readonly #messageBucket: TokenBucket;
  readonly #byteBucket: TokenBucket;
  #finished = false;
  #lastReceivedAt = Date.now();
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingDrain = false;

  constructor(link: FramedSocket, options: SessionOptions, events: SessionEvents) {
    this.#link = link;
    this.#options = options;
    this.#events = events;
    this.peerId = options.peerId;
    this.direction = options.direction;
    this.initiatorId = options.initiatorId;
    this.remoteAddress = `${link.socket.remoteAddress ?? '?'}:${link.socket.remotePort ?? 0}`;
    this.localAddress = `${link.socket.localAddress ?? '?'}:${link.socket.localPort ?? 0}`;
    const { rateLimit, now } = options;
    this.#messageBucket = new TokenBucket(rateLimit.messagesPerSec, rateLimit.messagesBurst, now);
    this.#byteBucket = new TokenBucket(rateLimit.bytesPerSec, rateLimit.bytesBurst, now);
  }

  get closed(): boolean {
    return this.#finished || this.#link.closed;
  }

  get bytesIn(): number {
    return this.#link.bytesIn;
  }

  get bytesOut(): number {
    return this.#link.bytesOut;
  }

  get writableLength(): number {
    return this.#link.socket.writableLength;
  }

  start(): void {
    this.#link.setLimits(MIN_SESSION_FRAME_BYTES, this.#options.maxFrameBytes);
    this.#link.onClose(() => this.#finish('connection-closed'));
    this.#link.startPush(
      (frame) => this.#onFrame(frame),
      (err) => this.#events.onViolation(err instanceof FrameError ? err.reason : 'malformed-frame', true),
    );
    this.#pingTimer = setInterval(() => this.#keepalive(), this.#options.pingIntervalMs);
    this.#pingTimer.unref();
  }

  /** Encrypts and writes one message; returns the wire size. */
  write(channel: number, payload: Uint8Array): number {
    if (this.closed) return 0;
    const sealed = this.#options.send.seal(concatBytes(new Uint8Array([channel]), payload));
    this.#link.writeFrame(sealed);
    return sealed.length + LENGTH_PREFIX_BYTES;
  }

  /** Calls onDrain once the socket's buffer has been flushed. */
  waitForDrain(): void {
    if (this.#awaitingDrain || this.closed) return;
    this.#awaitingDrain = true;
    this.#link.socket.once('drain', () => {
      this.#awaitingDrain = false;
      if (!this.closed) this.#events.onDrain();
    });
  }

  /** Closes the connection; onClose runs synchronously, so the peer is gone when this returns. */
  close(reason: string): void {
    if (this.#finished) return;
    this.#link.destroy();
    this.#finish(reason);
  }

  #onFrame(frame: Uint8Array): void {
    this.#lastReceivedAt = Date.now();
    const wireBytes = frame.length + LENGTH_PREFIX_BYTES;
    // Rate limits are checked before decrypting, so a flood costs us as little as possible.
    if (!this.#messageBucket.take(1)) return this.#events.onViolation('rate-limit-messages', true);
    if (!this.#byteBucket.take(wireBytes)) return this.#events.onViolation('rate-limit-bytes', true);
    let plain: Uint8Array;
    try {
      plain = this.#options.receive.open(frame);
    } catch (err) {
      return this.#events.onViolation('decrypt-failed', !(err instanceof DecryptError));
    }
    const channel = plain[0]!;
    if (channel === CONTROL_CHANNEL) return this.#onControl(plain);
    if (!isAppChannel(channel)) return this.#events.onViolation('unknown-channel', true);
    this.#events.onMessage(channel, plain.subarray(1), wireBytes);
  }

  #onControl(plain: Uint8Array): void {
    // After the handshake the only control message a peer may send is a ping.
    if (plain.length !== 2 || plain[1] !== Control.ping) this.#events.onViolation('bad-control-message', true);
  }

  #keepalive(): void {
    if (this.closed) return;
    this.write(CONTROL_CHANNEL, new Uint8Array([Control.ping]));
    // Check after the poll phase: if our own event loop was stalled, frames that arrived meanwhile
    // are read first, so a busy node does not mistake a healthy peer for a dead one.
    setImmediate(() => {
      if (!this.closed && Date.now() - this.#lastReceivedAt > this.#options.idleTimeoutMs) this.close('idle-timeout');
    });
  }

  #finish(reason: string): void {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#pingTimer);
    this.#events.onClose(reason);
  }
}
