import { createServer, connect, type Server, type Socket } from 'node:net';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { FramedSocket } from '../../src/p2p/framed-socket.js';
import { encodeFrame, FrameReader } from '../../src/p2p/frames.js';
import { HANDSHAKE_MAX_FRAME_BYTES, performHandshake, type HandshakeResult } from '../../src/p2p/handshake.js';
import { PeerSwitch, type PeerSwitchOptions, type PeerAddress } from '../../src/p2p/switch.js';

export const CHAIN = 'gridledger-test-1';

export function signer(seed: number): Signer {
  return new Signer(keyPairFromSeed(new Uint8Array(32).fill(seed)).secretKey);
}

export function nodeId(key: Signer): string {
  return addressFromPublicKey(key.publicKey);
}

/** Tracks every node, socket and server a test creates so afterEach can close them all. */
export class Harness {
  readonly #nodes: PeerSwitch[] = [];
  readonly #sockets: Socket[] = [];
  readonly #servers: Server[] = [];

  async node(key: Signer, options: Partial<PeerSwitchOptions> = {}): Promise<PeerSwitch> {
    const node = new PeerSwitch({ chainId: CHAIN, nodeKey: key, reconnectBaseMs: 20, reconnectMaxMs: 200, ...options });
    this.#nodes.push(node);
    await node.start();
    return node;
  }

  socket(socket: Socket): Socket {
    this.#sockets.push(socket);
    return socket;
  }

  server(server: Server): Server {
    this.#servers.push(server);
    return server;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#nodes.map((n) => n.stop()));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#nodes.length = 0;
    this.#sockets.length = 0;
    this.#servers.length = 0;
  }
}

export function peerAddress(key: Signer, node: PeerSwitch | { port: number }): PeerAddress {
  const port = node instanceof PeerSwitch ? node.address().port : node.port;
  return { id: nodeId(key), host: '127.0.0.1', port };
}

/** Polls a condition (not a timing assertion: the deadline only turns a hang into a clear failure). */
export async function waitFor(condition: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Awaits a promise, failing clearly (instead of hanging the suite) if it never settles. */
export async function settles<T>(promise: Promise<T>, what: string, deadlineMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for: ${what}`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function connectRaw(h: Harness, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = h.socket(connect({ host: '127.0.0.1', port }));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A hand-driven peer that performs a real handshake and can then write arbitrary bytes. */
export interface RawPeer {
  socket: Socket;
  link: FramedSocket;
  session: HandshakeResult;
  /** Resolves when the remote side closes the connection. */
  closed: Promise<void>;
}

export async function handshakeAsPeer(h: Harness, key: Signer, target: PeerSwitch, chainId = CHAIN): Promise<RawPeer> {
  const socket = await connectRaw(h, target.address().port);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const link = new FramedSocket(socket, 1, HANDSHAKE_MAX_FRAME_BYTES);
  const session = await performHandshake(link, { role: 'initiator', chainId, signer: key, timeoutMs: 5000, authorize: () => undefined });
  return { socket, link, session, closed };
}

/** Writes one correctly encrypted session frame with the given plaintext (channel byte + payload). */
export function writeSealed(peer: RawPeer, plaintext: Uint8Array): void {
  peer.socket.write(encodeFrame(peer.session.send.seal(plaintext)));
}

export type FrameTransform = (direction: 'a->b' | 'b->a', index: number, frame: Uint8Array) => Uint8Array[];

/**
 * A TCP proxy that understands the length-prefixed framing and lets a test rewrite, duplicate or drop
 * whole frames — a man in the middle.
 */
export async function startProxy(h: Harness, targetPort: number, transform: FrameTransform): Promise<number> {
  const server = h.server(
    createServer((client) => {
      h.socket(client);
      const upstream = h.socket(connect({ host: '127.0.0.1', port: targetPort }));
      pipeFrames(client, upstream, 'a->b', transform);
      pipeFrames(upstream, client, 'b->a', transform);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy has no port');
  return addr.port;
}

function pipeFrames(from: Socket, to: Socket, direction: 'a->b' | 'b->a', transform: FrameTransform): void {
  const reader = new FrameReader(0, 64 * 1024 * 1024);
  let index = 0;
  from.on('data', (chunk: Buffer) => {
    reader.push(chunk);
    for (let frame = reader.next(); frame; frame = reader.next()) {
      for (const out of transform(direction, index, frame)) to.write(encodeFrame(out));
      index++;
    }
  });
}

export function bytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text));
}

export function text(b: Uint8Array): string {
  return Buffer.from(b).toString();
}
