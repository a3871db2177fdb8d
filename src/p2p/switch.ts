import { createServer, connect, type Server, type Socket } from 'node:net';
import { isAddress, addressFromPublicKey } from '../crypto/address.js';
import type { Signer } from '../crypto/ed25519.js';
import { isAppChannel, type ChannelId } from './channels.js';
import { AEAD_TAG_BYTES } from './cipher.js';
import { FramedSocket } from './framed-socket.js';
import { LENGTH_PREFIX_BYTES } from './frames.js';
import { HANDSHAKE_MAX_FRAME_BYTES, HandshakeError, performHandshake, type HandshakeResult } from './handshake.js';
import { OutboundQueue } from './queue.js';
import { Session, type Direction, type RateLimitOptions } from './session.js';
import { P2P_ERRORS } from './errors.js';

export interface PeerAddress {
  /** Node id: the address of the peer's Ed25519 node key. */
  id: string;
  host: string;
  port: number;
}

/** Minimal pino-compatible logger; secrets are never passed to it. */
export interface P2PLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PeerSwitchOptions {
  chainId: string;
  /** This node's Ed25519 key; the node id is addressFromPublicKey(nodeKey.publicKey). */
  nodeKey: Signer;
  /** Listen host; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (ephemeral, see address()). */
  port?: number;
  /** Peers to dial and keep connected; always allowed. */
  persistentPeers?: readonly PeerAddress[];
  /** Further node ids allowed to connect (e.g. the validator set). */
  allowedPeers?: readonly string[];
  /** Largest encrypted frame body on the wire; default 4 MiB. */
  maxFrameBytes?: number;
  handshakeTimeoutMs?: number;
  maxPendingHandshakes?: number;
  /** Inbound handshakes in progress from one IP address; default 8 (one host cannot take every slot). */
  maxPendingHandshakesPerIp?: number;
  /** An inbound connection that sends nothing for this long is closed; default 1 s (idle sockets cannot hold slots). */
  helloTimeoutMs?: number;
  /** How long a penalised peer is banned; default 60 s. */
  banMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Per-peer outbound queue bounds. */
  queueMaxMessages?: number;
  queueMaxBytes?: number;
  /** Stop moving messages from the queue into the socket above this many buffered bytes. */
  socketHighWaterBytes?: number;
  rateLimit?: Partial<RateLimitOptions>;
  pingIntervalMs?: number;
  idleTimeoutMs?: number;
  /**
   * A frame failing AEAD authentication always kills the connection. It is not banned by default:
   * anyone on the path can corrupt a TCP stream, so it is not proof the peer misbehaved.
   */
  banOnDecryptFailure?: boolean;
  /** Clock for rate limits and reported timestamps; default Date.now. */
  now?: () => number;
  logger?: P2PLogger;
}

export interface PeerStatus {
  id: string;
  /** Remote host:port of the current connection. */
  address: string;
  localAddress: string;
  direction: Direction;
  connectedSince: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  queueLength: number;
  queueBytes: number;
  /** Bytes written into the socket but not yet sent (kept under socketHighWaterBytes by the queue). */
  socketBufferedBytes: number;
  messagesDropped: number;
}

export interface HandshakeFailureInfo {
  direction: Direction;
  remoteAddress: string;
  reason: string;
  /** Known when the failure came after the peer authenticated (refusals). */
  peerId: string | undefined;
}

export interface P2PMetrics {
  peersConnected: number;
  peersInbound: number;
  peersOutbound: number;
  pendingHandshakes: number;
  /** Inbound connections refused before the handshake (slots full, per-IP cap, silent too long). */
  inboundRefused: number;
  dialAttempts: number;
  handshakesSucceeded: number;
  handshakesFailed: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Messages dropped by queue overflow or discarded unsent at disconnect. */
  messagesDropped: number;
  penalties: number;
  bansActive: number;
  disconnects: number;
  handlerErrors: number;
  messagesInByChannel: Record<number, number>;
  messagesOutByChannel: Record<number, number>;
}

type MessageHandler = (peerId: string, channel: ChannelId, payload: Uint8Array) => void;
type ConnectedHandler = (peer: PeerStatus) => void;
type DisconnectedHandler = (peerId: string, reason: string) => void;
type BannedHandler = (peerId: string, reason: string, untilMs: number) => void;
type UnbannedHandler = (peerId: string) => void;
type HandshakeFailedHandler = (info: HandshakeFailureInfo) => void;

interface PeerEntry {
  id: string;
  session: Session;
  queue: OutboundQueue;
  connectedSince: number;
  messagesIn: number;
  messagesOut: number;
  messagesDropped: number;
}

interface DialState {
  peer: PeerAddress;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
}

type ResolvedOptions = Required<Omit<PeerSwitchOptions, 'persistentPeers' | 'allowedPeers' | 'rateLimit' | 'logger'>> & {
  rateLimit: RateLimitOptions;
};

const MIB = 1024 * 1024;
const NOOP_LOGGER: P2PLogger = { debug: () => undefined, warn: () => undefined };

/**
 * The P2P transport: authenticated encrypted connections to known nodes, one bounded outbound queue
 * per peer, reconnect with backoff, frame size and rate limits, and bans for misbehaving peers.
 * Payloads are opaque bytes; decoding (and penalising peers for bad payloads) is the caller's job.
 */
export class PeerSwitch {
  readonly id: string;
  readonly #opts: ResolvedOptions;
  readonly #log: P2PLogger;
  readonly #persistent = new Map<string, DialState>();
  #allowed: Set<string>;
  readonly #peers = new Map<string, PeerEntry>();
  readonly #bans = new Map<string, { until: number; timer: NodeJS.Timeout }>();
  readonly #sockets = new Set<Socket>();
  #pendingHandshakes = 0;
  readonly #pendingByIp = new Map<string, number>();
  #server: Server | undefined;
  #started = false;
  #stopped = false;
  readonly #handlers = {
    message: new Set<MessageHandler>(),
    connected: new Set<ConnectedHandler>(),
    disconnected: new Set<DisconnectedHandler>(),
    banned: new Set<BannedHandler>(),
    unbanned: new Set<UnbannedHandler>(),
    handshakeFailed: new Set<HandshakeFailedHandler>(),
  };
  readonly #counters = {
    inboundRefused: 0,
    dialAttempts: 0,
    handshakesSucceeded: 0,
    handshakesFailed: 0,
    closedBytesIn: 0,
    closedBytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    messagesDropped: 0,
    penalties: 0,
    disconnects: 0,
    handlerErrors: 0,
    inByChannel: {} as Record<number, number>,
    outByChannel: {} as Record<number, number>,
  };

  constructor(options: PeerSwitchOptions) {
    this.id = addressFromPublicKey(options.nodeKey.publicKey);
    this.#opts = resolveOptions(options);
    this.#log = options.logger ?? NOOP_LOGGER;
    for (const peer of options.persistentPeers ?? []) {
      requireNodeId(peer.id);
      if (peer.id !== this.id) this.#persistent.set(peer.id, { peer, attempt: 0, timer: undefined, dialing: false });
    }
    this.#allowed = this.#validatedAllowList(options.allowedPeers ?? []);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.#started) throw P2P_ERRORS.P2P_ALREADY_STARTED('p2p node already started');
    this.#started = true;
    const server = createServer((socket) => this.#onInbound(socket));
    this.#server = server;
    // After listening, a server error (e.g. EMFILE on accept) must not crash the node.
    server.on('error', (err) => this.#log.warn({ err: err.message }, 'p2p listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port, this.#opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    for (const id of this.#persistent.keys()) this.#dial(id);
  }

  /** Closes the listener and every connection, cancels all timers; resolves when all sockets are closed. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const state of this.#persistent.values()) clearTimeout(state.timer);
    for (const ban of this.#bans.values()) clearTimeout(ban.timer);
    for (const entry of [...this.#peers.values()]) entry.session.close('stopped');
    const socketsClosed = [...this.#sockets].map((s) => closedPromise(s));
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    const serverClosed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.all([serverClosed, ...socketsClosed]);
  }

  /** The bound listen address (after start()). */
  address(): { host: string; port: number } {
    const addr = this.#server?.address();
    if (!addr || typeof addr === 'string') throw P2P_ERRORS.P2P_NOT_LISTENING('p2p node is not listening');
    return { host: addr.address, port: addr.port };
  }

  // ---------------------------------------------------------------- sending

  /** Queues a message for one peer; false if the peer is not connected or the message was dropped. */
  send(peerId: string, channel: ChannelId, payload: Uint8Array): boolean {
    this.#checkOutgoing(channel, payload);
    const entry = this.#peers.get(peerId);
    return entry ? this.#enqueue(entry, channel, payload) : false;
  }

  /** Queues a message for every connected peer except `except` (one peer, or those it returns true for); returns how many accepted it. */
  broadcast(channel: ChannelId, payload: Uint8Array, except?: string | ((peerId: string) => boolean)): number {
    this.#checkOutgoing(channel, payload);
    const skipped = typeof except === 'function' ? except : (id: string) => id === except;
    let accepted = 0;
    for (const entry of this.#peers.values()) {
      if (!skipped(entry.id) && this.#enqueue(entry, channel, payload)) accepted++;
    }
    return accepted;
  }

  /** Largest payload send()/broadcast() accept (the frame limit minus channel byte and AEAD tag). */
  get maxPayloadBytes(): number {
    return this.#opts.maxFrameBytes - 1 - AEAD_TAG_BYTES;
  }

  // ---------------------------------------------------------------- events (each returns an unsubscribe function)

  onMessage(handler: MessageHandler): () => void {
    return subscribe(this.#handlers.message, handler);
  }
  onPeerConnected(handler: ConnectedHandler): () => void {
    return subscribe(this.#handlers.connected, handler);
  }
  onPeerDisconnected(handler: DisconnectedHandler): () => void {
    return subscribe(this.#handlers.disconnected, handler);
  }
  onPeerBanned(handler: BannedHandler): () => void {
    return subscribe(this.#handlers.banned, handler);
  }
  onPeerUnbanned(handler: UnbannedHandler): () => void {
    return subscribe(this.#handlers.unbanned, handler);
  }
  onHandshakeFailed(handler: HandshakeFailedHandler): () => void {
    return subscribe(this.#handlers.handshakeFailed, handler);
  }

  // ---------------------------------------------------------------- peer management

  /**
   * Disconnects the peer (if connected) and bans it for banMs: a banned peer is refused on inbound
   * and not dialled. Penalising an already banned peer restarts its ban.
   */
  penalize(peerId: string, reason: string): void {
    this.#counters.penalties++;
    if (this.#stopped) return;
    const until = this.#opts.now() + this.#opts.banMs;
    clearTimeout(this.#bans.get(peerId)?.timer);
    const timer = setTimeout(() => this.#unban(peerId), this.#opts.banMs);
    timer.unref();
    this.#bans.set(peerId, { until, timer });
    this.#log.warn({ peerId, reason }, 'p2p peer penalised');
    this.#peers.get(peerId)?.session.close(`penalized:${reason}`);
    this.#emit(this.#handlers.banned, (h) => h(peerId, reason, until));
  }

  /** Adds (or updates the address of) a persistent peer and dials it if the node is running. */
  addPersistentPeer(peer: PeerAddress): void {
    requireNodeId(peer.id);
    if (peer.id === this.id) return;
    const state = this.#persistent.get(peer.id);
    if (state) state.peer = peer;
    else this.#persistent.set(peer.id, { peer, attempt: 0, timer: undefined, dialing: false });
    if (this.#started) this.#dial(peer.id);
  }

  isBanned(peerId: string): boolean {
    return this.#bans.has(peerId);
  }

  bannedPeers(): { id: string; until: number }[] {
    return [...this.#bans].map(([id, ban]) => ({ id, until: ban.until }));
  }

  /** Replaces the allow-list (e.g. after a validator-set change); drops peers no longer allowed. */
  setAllowedPeers(ids: readonly string[]): void {
    this.#allowed = this.#validatedAllowList(ids);
    for (const entry of [...this.#peers.values()]) {
      if (!this.#isAllowed(entry.id)) entry.session.close('not-allowed');
    }
  }

  peers(): PeerStatus[] {
    return [...this.#peers.values()].map((entry) => this.#status(entry));
  }

  metrics(): P2PMetrics {
    const c = this.#counters;
    let bytesIn = c.closedBytesIn;
    let bytesOut = c.closedBytesOut;
    let inbound = 0;
    for (const entry of this.#peers.values()) {
      bytesIn += entry.session.bytesIn;
      bytesOut += entry.session.bytesOut;
      if (entry.session.direction === 'inbound') inbound++;
    }
    return {
      peersConnected: this.#peers.size,
      peersInbound: inbound,
      peersOutbound: this.#peers.size - inbound,
      pendingHandshakes: this.#pendingHandshakes,
      inboundRefused: c.inboundRefused,
      dialAttempts: c.dialAttempts,
      handshakesSucceeded: c.handshakesSucceeded,
      handshakesFailed: c.handshakesFailed,
      bytesIn,
      bytesOut,
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      messagesDropped: c.messagesDropped,
      penalties: c.penalties,
      bansActive: this.#bans.size,
      disconnects: c.disconnects,
      handlerErrors: c.handlerErrors,
      messagesInByChannel: { ...c.inByChannel },
      messagesOutByChannel: { ...c.outByChannel },
    };
  }

  // ---------------------------------------------------------------- connection setup

  #onInbound(socket: Socket): void {
    const ip = socket.remoteAddress ?? '?';
    const fromIp = this.#pendingByIp.get(ip) ?? 0;
    if (this.#stopped || this.#pendingHandshakes >= this.#opts.maxPendingHandshakes || fromIp >= this.#opts.maxPendingHandshakesPerIp) {
      this.#counters.inboundRefused++;
      socket.destroy();
      return;
    }
    this.#pendingByIp.set(ip, fromIp + 1);
    // The handshake timeout bounds the whole exchange; a peer must at least start it promptly.
    const silent = setTimeout(() => {
      this.#counters.inboundRefused++;
      socket.destroy();
    }, this.#opts.helloTimeoutMs);
    silent.unref();
    socket.once('data', () => clearTimeout(silent));
    socket.once('close', () => clearTimeout(silent));
    void this.#handshake(socket, 'inbound', undefined, `${ip}:${socket.remotePort ?? 0}`).finally(() => {
      const left = (this.#pendingByIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#pendingByIp.set(ip, left);
      else this.#pendingByIp.delete(ip);
    });
  }

  #dial(peerId: string): void {
    const state = this.#persistent.get(peerId);
    if (!state || this.#stopped || state.dialing || this.#peers.has(peerId) || this.isBanned(peerId)) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    state.dialing = true;
    this.#counters.dialAttempts++;
    const socket = connect({ host: state.peer.host, port: state.peer.port });
    void this.#handshake(socket, 'outbound', peerId, `${state.peer.host}:${state.peer.port}`).then((ok) => {
      state.dialing = false;
      if (ok) state.attempt = 0;
      else this.#scheduleRedial(peerId);
    });
  }

  /** Exponential backoff with ±25 % jitter (I/O timing only, never ledger state), capped. */
  #scheduleRedial(peerId: string): void {
    const state = this.#persistent.get(peerId);
    if (!state || this.#stopped || state.timer || state.dialing || this.#peers.has(peerId) || this.isBanned(peerId)) return;
    const exp = Math.min(this.#opts.reconnectMaxMs, this.#opts.reconnectBaseMs * 2 ** Math.min(state.attempt, 30));
    state.attempt++;
    const delay = Math.round(exp * (0.75 + Math.random() * 0.5));
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.#dial(peerId);
    }, delay);
    state.timer.unref();
  }

  /** Runs the handshake and registers the session; resolves true on success. */
  async #handshake(socket: Socket, direction: Direction, expectedPeerId: string | undefined, remoteAddress: string): Promise<boolean> {
    this.#track(socket);
    socket.setNoDelay(true);
    const link = new FramedSocket(socket, 1, HANDSHAKE_MAX_FRAME_BYTES);
    this.#pendingHandshakes++;
    let result: HandshakeResult;
    try {
      result = await performHandshake(link, {
        role: direction === 'outbound' ? 'initiator' : 'responder',
        chainId: this.#opts.chainId,
        signer: this.#opts.nodeKey,
        timeoutMs: this.#opts.handshakeTimeoutMs,
        authorize: (peerId) => this.#authorize(peerId, direction, expectedPeerId),
      });
    } catch (err) {
      this.#onHandshakeFailure(err, direction, remoteAddress);
      return false;
    } finally {
      this.#pendingHandshakes--;
    }
    // Re-check: the initiator waited for the ack since it authorised the peer.
    const refusal = this.#authorize(result.peerId, direction, expectedPeerId);
    if (refusal !== undefined) {
      link.destroy();
      this.#onHandshakeFailure(new HandshakeError(`refused:${refusal}`, result.peerId), direction, remoteAddress);
      return false;
    }
    this.#counters.handshakesSucceeded++;
    this.#register(link, result, direction);
    return true;
  }

  #onHandshakeFailure(err: unknown, direction: Direction, remoteAddress: string): void {
    const reason = err instanceof HandshakeError ? err.reason : 'closed';
    const peerId = err instanceof HandshakeError ? err.peerId : undefined;
    this.#counters.handshakesFailed++;
    this.#log.debug({ direction, remoteAddress, reason, peerId }, 'p2p handshake failed');
    this.#emit(this.#handlers.handshakeFailed, (h) => h({ direction, remoteAddress, reason, peerId }));
  }

  /** Returns why an authenticated peer is refused, or undefined to accept it. */
  #authorize(peerId: string, direction: Direction, expectedPeerId: string | undefined): string | undefined {
    if (this.#stopped) return 'stopping';
    if (peerId === this.id) return 'self';
    if (expectedPeerId !== undefined && peerId !== expectedPeerId) return 'unexpected-peer';
    if (!this.#isAllowed(peerId)) return 'not-allowed';
    if (this.isBanned(peerId)) return 'banned';
    const existing = this.#peers.get(peerId)?.session;
    const initiatorId = direction === 'outbound' ? this.id : peerId;
    if (existing && !newConnectionWins(existing.initiatorId, initiatorId)) return 'duplicate';
    return undefined;
  }

  #isAllowed(peerId: string): boolean {
    return this.#allowed.has(peerId) || this.#persistent.has(peerId);
  }

  #register(link: FramedSocket, result: HandshakeResult, direction: Direction): void {
    const session = new Session(
      link,
      {
        peerId: result.peerId,
        direction,
        initiatorId: direction === 'outbound' ? this.id : result.peerId,
        send: result.send,
        receive: result.receive,
        maxFrameBytes: this.#opts.maxFrameBytes,
        rateLimit: this.#opts.rateLimit,
        pingIntervalMs: this.#opts.pingIntervalMs,
        idleTimeoutMs: this.#opts.idleTimeoutMs,
        now: this.#opts.now,
      },
      {
        onMessage: (channel, payload) => this.#onMessage(session, channel, payload),
        onViolation: (reason, attributable) => this.#onViolation(session, reason, attributable),
        onClose: (reason) => this.#onSessionClosed(session, reason),
        onDrain: () => this.#pumpPeer(session.peerId),
      },
    );
    const existing = this.#peers.get(result.peerId);
    if (existing) {
      // Duplicate connection that wins the tie-break: move the peer (and its queue) onto it silently.
      const old = existing.session;
      existing.session = session;
      existing.connectedSince = this.#opts.now();
      old.close('replaced');
    } else {
      this.#peers.set(result.peerId, newPeerEntry(result.peerId, session, this.#opts));
    }
    session.start();
    const dialState = this.#persistent.get(result.peerId);
    if (dialState) dialState.attempt = 0;
    this.#log.debug({ peerId: result.peerId, direction }, 'p2p peer connected');
    if (!existing) this.#emit(this.#handlers.connected, (h) => h(this.#status(this.#peers.get(result.peerId)!)));
    this.#pumpPeer(result.peerId);
  }

  // ---------------------------------------------------------------- session events

  #onMessage(session: Session, channel: number, payload: Uint8Array): void {
    const entry = this.#peers.get(session.peerId);
    if (!entry || entry.session !== session) return; // a replaced connection's late frames
    entry.messagesIn++;
    this.#counters.messagesIn++;
    this.#counters.inByChannel[channel] = (this.#counters.inByChannel[channel] ?? 0) + 1;
    this.#emit(this.#handlers.message, (h) => h(session.peerId, channel as ChannelId, payload));
  }

  #onViolation(session: Session, reason: string, attributable: boolean): void {
    this.#log.warn({ peerId: session.peerId, reason }, 'p2p bad input from peer');
    if (attributable || this.#opts.banOnDecryptFailure) this.penalize(session.peerId, reason);
    session.close(reason);
  }

  #onSessionClosed(session: Session, reason: string): void {
    this.#counters.closedBytesIn += session.bytesIn;
    this.#counters.closedBytesOut += session.bytesOut;
    const entry = this.#peers.get(session.peerId);
    if (!entry || entry.session !== session) return; // replaced or never registered
    this.#peers.delete(session.peerId);
    this.#counters.disconnects++;
    this.#countDropped(entry, entry.queue.length);
    entry.queue.clear();
    this.#log.debug({ peerId: session.peerId, reason }, 'p2p peer disconnected');
    this.#emit(this.#handlers.disconnected, (h) => h(session.peerId, reason));
    this.#scheduleRedial(session.peerId);
  }

  // ---------------------------------------------------------------- queues

  #enqueue(entry: PeerEntry, channel: ChannelId, payload: Uint8Array): boolean {
    const { accepted, dropped } = entry.queue.enqueue({ channel, payload });
    this.#countDropped(entry, dropped);
    if (accepted) this.#pumpPeer(entry.id);
    return accepted;
  }

  /** Moves queued messages into the socket until its buffer reaches the high-water mark. */
  #pumpPeer(peerId: string): void {
    const entry = this.#peers.get(peerId);
    if (!entry) return;
    const { session, queue } = entry;
    while (queue.length > 0 && !session.closed && session.writableLength < this.#opts.socketHighWaterBytes) {
      const message = queue.shift()!;
      session.write(message.channel, message.payload);
      entry.messagesOut++;
      this.#counters.messagesOut++;
      this.#counters.outByChannel[message.channel] = (this.#counters.outByChannel[message.channel] ?? 0) + 1;
    }
    if (queue.length > 0) session.waitForDrain();
  }

  #countDropped(entry: PeerEntry, n: number): void {
    entry.messagesDropped += n;
    this.#counters.messagesDropped += n;
  }

  // ---------------------------------------------------------------- helpers

  #unban(peerId: string): void {
    if (!this.#bans.delete(peerId) || this.#stopped) return;
    this.#emit(this.#handlers.unbanned, (h) => h(peerId));
    const state = this.#persistent.get(peerId);
    if (state) {
      state.attempt = 0;
      this.#dial(peerId);
    }
  }

  #status(entry: PeerEntry): PeerStatus {
    const s = entry.session;
    return {
      id: entry.id,
      address: s.remoteAddress,
      localAddress: s.localAddress,
      direction: s.direction,
      connectedSince: entry.connectedSince,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      messagesIn: entry.messagesIn,
      messagesOut: entry.messagesOut,
      queueLength: entry.queue.length,
      queueBytes: entry.queue.bytes,
      socketBufferedBytes: s.writableLength,
      messagesDropped: entry.messagesDropped,
    };
  }

  #checkOutgoing(channel: number, payload: Uint8Array): void {
    if (!isAppChannel(channel)) throw P2P_ERRORS.P2P_UNKNOWN_CHANNEL(`unknown p2p channel ${channel}`);
    if (payload.length > this.maxPayloadBytes) {
      throw P2P_ERRORS.P2P_MESSAGE_TOO_LARGE(`payload of ${payload.length} bytes exceeds ${this.maxPayloadBytes}`);
    }
  }

  #validatedAllowList(ids: readonly string[]): Set<string> {
    for (const id of ids) requireNodeId(id);
    return new Set(ids);
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Handlers are the caller's code: an exception there must not break the transport. */
  #emit<H>(handlers: Set<H>, call: (h: H) => void): void {
    for (const handler of handlers) {
      try {
        call(handler);
      } catch (err) {
        this.#counters.handlerErrors++;
        this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'p2p event handler threw');
      }
    }
  }
}

/**
 * Deterministic tie-break between two connections of the same pair, applied identically by both
 * sides: a newer connection from the same initiator replaces the old one (the dialler restarted or
 * lost it); between connections dialled by different sides, the one dialled by the lower node id wins.
 */
export function newConnectionWins(existingInitiatorId: string, newInitiatorId: string): boolean {
  if (existingInitiatorId === newInitiatorId) return true;
  return newInitiatorId < existingInitiatorId;
}

function resolveOptions(o: PeerSwitchOptions): ResolvedOptions {
  const maxFrameBytes = o.maxFrameBytes ?? 4 * MIB;
  if (maxFrameBytes < 1 + AEAD_TAG_BYTES) throw P2P_ERRORS.P2P_BAD_CONFIG('maxFrameBytes is too small');
  const bytesPerSec = o.rateLimit?.bytesPerSec ?? 64 * MIB;
  const messagesPerSec = o.rateLimit?.messagesPerSec ?? 5000;
  return {
    chainId: o.chainId,
    nodeKey: o.nodeKey,
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    maxFrameBytes,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000,
    maxPendingHandshakes: o.maxPendingHandshakes ?? 64,
    maxPendingHandshakesPerIp: o.maxPendingHandshakesPerIp ?? 8,
    helloTimeoutMs: o.helloTimeoutMs ?? 1000,
    banMs: o.banMs ?? 60_000,
    reconnectBaseMs: o.reconnectBaseMs ?? 500,
    reconnectMaxMs: o.reconnectMaxMs ?? 30_000,
    queueMaxMessages: o.queueMaxMessages ?? 4096,
    queueMaxBytes: o.queueMaxBytes ?? 64 * MIB,
    socketHighWaterBytes: o.socketHighWaterBytes ?? 1 * MIB,
    rateLimit: {
      messagesPerSec,
      messagesBurst: o.rateLimit?.messagesBurst ?? 2 * messagesPerSec,
      bytesPerSec,
      // A burst must always admit at least one maximal frame.
      bytesBurst: Math.max(o.rateLimit?.bytesBurst ?? 2 * bytesPerSec, maxFrameBytes + LENGTH_PREFIX_BYTES),
    },
    pingIntervalMs: o.pingIntervalMs ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 30_000,
    banOnDecryptFailure: o.banOnDecryptFailure ?? false,
    now: o.now ?? Date.now,
  };
}

function newPeerEntry(id: string, session: Session, opts: ResolvedOptions): PeerEntry {
  return {
    id,
    session,
    queue: new OutboundQueue(opts.queueMaxMessages, opts.queueMaxBytes),
    connectedSince: opts.now(),
    messagesIn: 0,
    messagesOut: 0,
    messagesDropped: 0,
  };
}

function requireNodeId(id: string): void {
  if (!isAddress(id)) throw P2P_ERRORS.P2P_BAD_CONFIG(`not a node id: ${String(id)}`);
}

function subscribe<H>(set: Set<H>, handler: H): () => void {
  set.add(handler);
  return () => set.delete(handler);
}

function closedPromise(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}
