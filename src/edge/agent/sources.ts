import { createReadStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { LedgerError } from '../../util/errors.js';
import { decodeDsmrReaderJson } from '../mqtt/dsmr-reader.js';
import { P1Framer, type FramedTelegram } from '../p1/framer.js';
import { sampleFromTelegram } from '../sample.js';
import type { SourceConfig } from './config.js';
import type { Incoming, OfferOutcome } from './ingest.js';

/**
 * Where samples come from. P1 byte streams (serial port, TCP à la ser2net, a capture file or stdin)
 * go through the framer and parser; MQTT messages carry dsmr-reader JSON. Sources never throw at the
 * agent: a bad telegram or payload is counted and logged with its reason, a lost connection is
 * reopened with backoff (1 s doubling to 30 s).
 */

export interface SourceSink {
  offer(item: Incoming): OfferOutcome;
  /** Counts and logs input that never became a sample. */
  refuse(code: string, message: string, nowMs: number, context: Record<string, unknown>): void;
  now(): number;
  logger: Logger;
}

export interface SourceStatus {
  name: string;
  kind: string;
  meters: string[];
  connected: boolean;
  ended: boolean;
  lastError?: string;
  counters: Record<string, number>;
}

export interface Source {
  readonly name: string;
  readonly kind: SourceConfig['kind'];
  readonly meters: readonly string[];
  /** A replay (file or stdin): it ends, and its end closes its meters' slots. */
  readonly replay: boolean;
  readonly ended: boolean;
  /** Resolves when a replay has been read to the end (never for live sources). */
  readonly finished: Promise<void>;
  start(): void;
  stop(): Promise<void>;
  status(): SourceStatus;
}

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/** Telegrams → samples, shared by every P1 byte stream. */
abstract class P1Source implements Source {
  abstract readonly kind: 'serial' | 'tcp' | 'file';
  readonly replay: boolean = false;
  readonly meters: readonly string[];
  protected framer: P1Framer;
  protected connected = false;
  protected stopped = false;
  protected lastError: string | undefined;
  private warnings = 0;
  /** Counters of the framers of earlier connections. */
  private readonly earlier = { bytesIn: 0, bytesDropped: 0, telegramsOk: 0, telegramsRejected: 0, crcFailures: 0 };
  private samples = 0;
  private endedFlag = false;
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((r) => (this.resolveFinished = r));

  constructor(
    readonly name: string,
    protected readonly meterId: string,
    protected readonly maxTelegramBytes: number | undefined,
    protected readonly sink: SourceSink,
  ) {
    this.meters = [meterId];
    this.framer = this.newFramer();
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  abstract start(): void;
  abstract stop(): Promise<void>;

  protected newFramer(): P1Framer {
    return new P1Framer(this.maxTelegramBytes !== undefined ? { maxTelegramBytes: this.maxTelegramBytes } : {});
  }

  protected markEnded(): void {
    this.endedFlag = true;
    this.resolveFinished();
  }

  /** A new connection starts a new framer: a telegram cut by the disconnect is not glued to the next. */
  protected resetFramer(): void {
    this.handleAll(this.framer.end());
    const c = this.framer.counters();
    for (const k of ['bytesIn', 'bytesDropped', 'telegramsOk', 'telegramsRejected', 'crcFailures'] as const) this.earlier[k] += c[k];
    this.framer = this.newFramer();
  }

  protected handleAll(framed: FramedTelegram[]): void {
    for (const f of framed) this.handle(f);
  }

  /** Hands a framed telegram on; true when it became a sample the agent took (queued or held). */
  protected handle(f: FramedTelegram): boolean {
    const now = this.sink.now();
    if (!f.ok) {
      this.sink.refuse(f.error.code, `${this.name}: ${f.error.message}`, now, { source: this.name, meter: this.meterId });
      return false;
    }
    this.warnings += f.warnings.length;
    let sample;
    try {
      sample = sampleFromTelegram(f.telegram, f.raw, { meterId: this.meterId, fallbackTimestampMs: now });
    } catch (err) {
      const e = err instanceof LedgerError ? err : new LedgerError('P1_MALFORMED_LINE', String(err));
      this.sink.refuse(e.code, `${this.name}: ${e.message}`, now, { source: this.name, meter: this.meterId });
      return false;
    }
    this.samples++;
    return this.sink.offer({ sample, receivedAtMs: now, source: this.name, raw: Buffer.from(f.raw).toString('latin1') }).status !== 'refused';
  }

  status(): SourceStatus {
    const c = this.framer.counters();
    return {
      name: this.name,
      kind: this.kind,
      meters: [...this.meters],
      connected: this.connected,
      ended: this.ended,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      counters: {
        bytesIn: this.earlier.bytesIn + c.bytesIn,
        bytesDropped: this.earlier.bytesDropped + c.bytesDropped,
        telegramsOk: this.earlier.telegramsOk + c.telegramsOk,
        telegramsRejected: this.earlier.telegramsRejected + c.telegramsRejected,
        crcFailures: this.earlier.crcFailures + c.crcFailures,
        parserWarnings: this.warnings,
        samples: this.samples,
      },
    };
  }
}

/**
 * A P1 capture file or stdin, as fast as possible or at its own pace (`speed` × real time by the
 * telegram timestamps). Replaying again after a restart skips what the store already holds at full
 * speed (those telegrams are refused as duplicates) and paces from the first new telegram on.
 */
export class FileP1Source extends P1Source {
  readonly kind = 'file' as const;
  override readonly replay = true;
  private running: Promise<void> | undefined;

  constructor(
    name: string,
    meterId: string,
    private readonly path: string,
    private readonly speed: number | 'max',
    maxTelegramBytes: number | undefined,
    sink: SourceSink,
  ) {
    super(name, meterId, maxTelegramBytes, sink);
  }

  start(): void {
    this.running = this.run().catch((err) => {
      this.lastError = (err as Error).message;
      this.sink.logger.error({ source: this.name, err: this.lastError }, 'replay source failed');
      this.markEnded();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const stream = this.path === '-' ? process.stdin : createReadStream(this.path, { highWaterMark: 64 * 1024 });
    this.connected = true;
    let anchor: { meterMs: number; wallMs: number } | undefined;
    let handled = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        for (const f of this.framer.push(chunk)) {
          if (this.stopped) return;
          const ts = f.ok ? f.telegram.timestampMs : undefined;
          if (this.speed !== 'max' && anchor !== undefined && ts !== undefined) {
            const wait = anchor.wallMs + (ts - anchor.meterMs) / this.speed - Date.now();
            if (wait > 0) await sleep(wait);
            if (this.stopped) return;
          }
          const taken = this.handle(f);
          if (this.speed !== 'max' && anchor === undefined && taken && ts !== undefined) anchor = { meterMs: ts, wallMs: Date.now() };
          // Let the agent's timers (flush, seal, submit, status) run between telegrams of a fast replay.
          if (++handled % 200 === 0) await yieldToLoop();
        }
        if (this.stopped) return;
      }
      this.handleAll(this.framer.end());
    } finally {
      this.connected = false;
      if (stream !== process.stdin) (stream as ReturnType<typeof createReadStream>).destroy();
    }
    this.markEnded();
  }
}

/** A reconnecting byte stream (TCP socket or serial port). */
abstract class ReconnectingP1Source extends P1Source {
  private delayMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    void this.open();
  }

  protected abstract connectOnce(onData: (chunk: Buffer) => void, onClose: (err?: Error) => void): Promise<void>;
  protected abstract closeOnce(): Promise<void>;

  private async open(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.connectOnce(
        (chunk) => this.handleAll(this.framer.push(chunk)),
        (err) => this.lost(err),
      );
      this.connected = true;
      this.delayMs = RECONNECT_MIN_MS;
      this.sink.logger.info({ source: this.name }, 'P1 source connected');
    } catch (err) {
      this.lost(err as Error);
    }
  }

  private lost(err?: Error): void {
    const wasConnected = this.connected;
    this.connected = false;
    if (err) this.lastError = err.message;
    this.resetFramer();
    if (this.stopped || this.timer) return;
    this.sink.logger.warn({ source: this.name, err: err?.message, retryInMs: this.delayMs }, wasConnected ? 'P1 source disconnected' : 'P1 source cannot connect');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.open();
    }, this.delayMs);
    this.delayMs = Math.min(RECONNECT_MAX_MS, this.delayMs * 2);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.closeOnce();
    this.connected = false;
  }
}

/** A TCP stream of P1 bytes, e.g. ser2net in raw mode in front of the meter's serial port. */
export class TcpP1Source extends ReconnectingP1Source {
  readonly kind = 'tcp' as const;
  private socket: Socket | undefined;

  constructor(name: string, meterId: string, private readonly host: string, private readonly port: number, maxTelegramBytes: number | undefined, sink: SourceSink) {
    super(name, meterId, maxTelegramBytes, sink);
  }

  protected connectOnce(onData: (chunk: Buffer) => void, onClose: (err?: Error) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      let opened = false;
      socket.once('connect', () => {
        opened = true;
        this.socket = socket;
        socket.setKeepAlive(true, 30_000);
        resolve();
      });
      socket.on('data', onData);
      socket.once('error', (err) => (opened ? undefined : reject(err)));
      socket.once('close', () => {
        if (opened) onClose(new Error('connection closed'));
      });
    });
  }

  protected async closeOnce(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

/** The meter's P1 port on a serial device (DSMR 4/5: 115200 8N1; DSMR 2.2/3: 9600 7E1). */
export class SerialP1Source extends ReconnectingP1Source {
  readonly kind = 'serial' as const;
  private port: import('serialport').SerialPort | undefined;

  constructor(
    name: string,
    meterId: string,
    private readonly settings: { path: string; baudRate: number; dataBits: 5 | 6 | 7 | 8; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 },
    maxTelegramBytes: number | undefined,
    sink: SourceSink,
  ) {
    super(name, meterId, maxTelegramBytes, sink);
  }

  protected async connectOnce(onData: (chunk: Buffer) => void, onClose: (err?: Error) => void): Promise<void> {
    // Loaded on demand: the native binding is only needed by agents that read a serial port.
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ ...this.settings, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    port.on('data', onData);
    port.once('close', (err: Error | null) => onClose(err ?? new Error('port closed')));
    port.on('error', (err) => (this.lastError = err.message));
  }

  protected async closeOnce(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

/**
 * MQTT topics carrying dsmr-reader JSON telegrams, one topic per meter, from a real broker. QoS 1 with
 * a persistent session (fixed client id, clean = false): while the agent is away the broker keeps the
 * messages. A message is acknowledged once it is in the agent's batch (written within flushMs), so a
 * crash can lose at most that much; the resulting gap is reported like any other. The connection
 * announces a maximum packet size (MQTT 5), so the broker drops giant messages before they reach the
 * agent; payloads above the decoder's cap are refused as MQTT_PAYLOAD_TOO_LARGE.
 */
export class MqttSource implements Source {
  readonly kind = 'mqtt' as const;
  readonly replay = false;
  readonly ended = false;
  readonly finished = new Promise<void>(() => undefined);
  readonly meters: readonly string[];
  private client: import('mqtt').MqttClient | undefined;
  private connected = false;
  private lastError: string | undefined;
  private readonly stats = { messages: 0, samples: 0, refused: 0, unknownTopic: 0 };
  private readonly byTopic: Map<string, string>;

  constructor(
    readonly name: string,
    private readonly config: Extract<SourceConfig, { kind: 'mqtt' }>,
    private readonly sink: SourceSink,
  ) {
    this.byTopic = new Map(config.topics.map((t) => [t.topic, t.meter]));
    this.meters = [...new Set(config.topics.map((t) => t.meter))];
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    const mqtt = await import('mqtt');
    const password = this.config.passwordEnv !== undefined ? process.env[this.config.passwordEnv] : undefined;
    const client = mqtt.connect(this.config.url, {
      clientId: this.config.clientId ?? `gridledger-edge-${this.meters.join('-')}`.slice(0, 64),
      clean: false,
      protocolVersion: 5,
      // Session kept by the broker for a day after a disconnect (MQTT 5 default would end it at once).
      properties: { sessionExpiryInterval: 86_400, maximumPacketSize: this.config.maxPayloadBytes * 4 + 1024 },
      reconnectPeriod: RECONNECT_MIN_MS,
      connectTimeout: 10_000,
      ...(this.config.username !== undefined ? { username: this.config.username } : {}),
      ...(password !== undefined ? { password } : {}),
    });
    this.client = client;
    client.on('connect', (ack) => {
      this.sink.logger.info({ source: this.name, sessionPresent: ack.sessionPresent }, 'MQTT source connected');
      // Subscribing again is harmless and covers a changed topic list on a kept session.
      client.subscribe(
        this.config.topics.map((t) => t.topic),
        { qos: 1 },
        (err, granted) => {
          const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
          if (err || refused.length > 0) {
            this.lastError = err?.message ?? `subscription refused for ${refused.join(', ')}`;
            this.sink.logger.error({ source: this.name, err: this.lastError }, 'MQTT subscribe failed');
            return;
          }
          // Connected counts from here: messages published now reach the agent.
          this.connected = true;
        },
      );
    });
    client.on('close', () => (this.connected = false));
    client.on('error', (err) => {
      this.lastError = err.message;
      this.sink.logger.warn({ source: this.name, err: err.message }, 'MQTT source error');
    });
    client.handleMessage = (packet, done) => {
      this.message(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      done();
    };
  }

  private message(topic: string, payload: Buffer): void {
    this.stats.messages++;
    const now = this.sink.now();
    const meterId = this.byTopic.get(topic);
    if (meterId === undefined) {
      this.stats.unknownTopic++;
      return;
    }
    try {
      const decoded = decodeDsmrReaderJson(payload, { meterId, maxBytes: this.config.maxPayloadBytes, ...(this.config.fieldNames ? { fieldNames: this.config.fieldNames } : {}) });
      this.stats.samples++;
      this.sink.offer({ sample: decoded.sample, receivedAtMs: now, source: this.name });
    } catch (err) {
      this.stats.refused++;
      const e = err instanceof LedgerError ? err : new LedgerError('MQTT_PAYLOAD_NOT_JSON', String(err));
      this.sink.refuse(e.code, `${this.name} ${topic}: ${e.message}`, now, { source: this.name, meter: meterId, topic, bytes: payload.length });
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    this.connected = false;
  }

  status(): SourceStatus {
    return { name: this.name, kind: this.kind, meters: [...this.meters], connected: this.connected, ended: false, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}), counters: { ...this.stats } };
  }
}

/** Builds the configured P1 and MQTT sources (HTTP intake is served by the agent's HTTP server). */
export function createSource(config: SourceConfig, index: number, sink: SourceSink): Source | undefined {
  switch (config.kind) {
    case 'file':
      return new FileP1Source(`file:${config.path === '-' ? 'stdin' : config.path}`, config.meter, config.path, config.speed, config.maxTelegramBytes, sink);
    case 'tcp':
      return new TcpP1Source(`tcp:${config.host}:${config.port}`, config.meter, config.host, config.port, config.maxTelegramBytes, sink);
    case 'serial':
      return new SerialP1Source(`serial:${config.path}`, config.meter, config, config.maxTelegramBytes, sink);
    case 'mqtt':
      return new MqttSource(`mqtt:${config.url}#${index}`, config, sink);
    case 'http':
      return undefined;
  }
}
