import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that forwards every connection to one target and can delay the bytes in
 * both directions by a configurable time (order preserved). The soak puts one in front of each
 * node's P2P port so "network delay" can be switched on and off without privileges (network
 * namespaces and tc need root and kernel modules this machine may not have).
 */
export class DelayProxy {
  private server: Server | undefined;
  private delayMs = 0;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Bytes forwarded (both directions). */
  bytes = 0;

  constructor(private targetPort = 0) {}

  async listen(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  setTarget(port: number): void {
    this.targetPort = port;
  }

  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  get delay(): number {
    return this.delayMs;
  }

  /** Cuts every open connection (the nodes reconnect through the proxy). */
  resetConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.resetConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Forwards chunks from `from` to `to`, each no earlier than arrival + delay and never before the previous one. */
  private pipe(from: Socket, to: Socket): void {
    const queue: Array<{ due: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    let lastDue = 0;
    const drain = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!;
        this.bytes += chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.due - now);
    };
    from.on('data', (chunk: Buffer) => {
      if (this.delayMs === 0 && queue.length === 0) {
        this.bytes += chunk.length;
        if (!to.destroyed) to.write(chunk);
        return;
      }
      lastDue = Math.max(lastDue, Date.now() + this.delayMs);
      queue.push({ due: lastDue, chunk });
      timer ??= setTimeout(drain, Math.max(0, queue[0]!.due - Date.now()));
    });
    from.on('close', () => {
      if (timer) clearTimeout(timer);
    });
  }
}
