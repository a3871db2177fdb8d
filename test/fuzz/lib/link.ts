import { connect, createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Two connected byte streams for the P2P fuzzers: in memory (a Duplex pair that behaves like a
 * TCP connection to FramedSocket: data, close on either side's destroy) for the long runs, or a
 * real loopback TCP connection.
 */

export interface LinkPair {
  a: Socket;
  b: Socket;
}

export function memoryPair(): LinkPair {
  const ends: { a?: Duplex; b?: Duplex } = {};
  const make = (peer: () => Duplex) =>
    new Duplex({
      allowHalfOpen: false,
      read() {},
      final(callback) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        callback();
      },
      write(chunk: Buffer, _encoding, callback) {
        const p = peer();
        if (!p.destroyed) p.push(Buffer.from(chunk));
        callback();
      },
      destroy(err, callback) {
        const p = peer();
        queueMicrotask(() => p.destroy());
        callback(err);
      },
    });
  const a = (ends.a = make(() => ends.b!));
  const b = (ends.b = make(() => ends.a!));
  for (const side of [a, b]) Object.assign(side, { remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2 });
  return { a: a as unknown as Socket, b: b as unknown as Socket };
}

/** Real loopback TCP connections, one per `pair()` call, accepted by one listening server. */
export class TcpPairs {
  private server: Server | undefined;
  private readonly waiting: Array<(s: Socket) => void> = [];
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((s) => {
      s.on('error', () => undefined);
      this.waiting.shift()?.(s);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async pair(): Promise<LinkPair> {
    const accepted = new Promise<Socket>((resolve) => this.waiting.push(resolve));
    const a = connect({ host: '127.0.0.1', port: this.port });
    a.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      a.once('connect', () => resolve());
      a.once('error', reject);
    });
    return { a, b: await accepted };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
