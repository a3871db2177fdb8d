import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { Counter, Gauge } from 'prom-client';
import { clientKey } from '../api/server.js';
import type { BlockEvent, LedgerNode, TxResultEvent } from '../ledger/ledger.js';
import { defineErrors } from '../util/errors.js';

/**
 * Server-sent events: `GET /v1/events?topics=blocks,txs` streams committed blocks and transaction
 * results. Each event has an id — `H` for the block at height H, `H/i` for its i-th transaction,
 * in that order — so a client that reconnects with `Last-Event-ID` (browsers' EventSource do it
 * themselves) gets exactly what it missed, replayed from storage, before the live events.
 *
 * Streams are bounded: in total and per client address, and per stream by the bytes buffered for
 * a reader that does not keep up (it is disconnected; it can resume with its last id). Keeping up
 * is judged at block boundaries: a block's events are written whole (a full block can exceed the
 * bound by itself), and a reader that still has more than the bound unsent when the next block
 * (or heartbeat) comes is dropped — so a stream holds at most the bound plus one block's events.
 */

export const EVENTS_ERRORS = defineErrors('events', {
  EVENTS_TOPIC_UNKNOWN: { meaning: 'topics must be a comma-separated list of blocks and txs' },
  EVENTS_CURSOR_INVALID: { meaning: 'Last-Event-ID (or ?lastEventId) must be an event id the stream sent: H or H/i, at or below the latest height' },
  EVENTS_CURSOR_TOO_OLD: { status: 410, meaning: 'the stream replays at most config api.eventReplayHeights heights after a reconnect; read older blocks with GET /v1/blocks/:height' },
  EVENTS_TOO_MANY_STREAMS: { status: 429, meaning: 'this client address already holds the most event streams allowed (config api.maxEventStreamsPerClient)' },
  EVENTS_STREAMS_FULL: { status: 503, meaning: 'the node serves the most event streams allowed in total (config api.maxEventStreams); retry later' },
});

export interface EventStreamLimits {
  maxEventStreams: number;
  maxEventStreamsPerClient: number;
  /** A reader with more than this many bytes waiting to be sent is disconnected. */
  maxEventBufferedBytes: number;
  /** How many heights a reconnect may replay. */
  eventReplayHeights: number;
  heartbeatMs: number;
}

export const DEFAULT_EVENT_LIMITS: EventStreamLimits = {
  maxEventStreams: 256,
  maxEventStreamsPerClient: 16,
  maxEventBufferedBytes: 1024 * 1024,
  eventReplayHeights: 1000,
  heartbeatMs: 15_000,
};

const TOPICS = ['blocks', 'txs'] as const;
type Topic = (typeof TOPICS)[number];

/** Where a stream resumes: after the block event of `height` (index -1) or after its tx `index`. */
interface Cursor {
  height: number;
  index: number;
}

function parseTopics(raw: unknown): Set<Topic> {
  const text = typeof raw === 'string' ? raw : 'blocks,txs';
  const topics = text.split(',').map((t) => t.trim());
  const unknown = topics.filter((t) => !(TOPICS as readonly string[]).includes(t));
  if (unknown.length > 0 || topics.length === 0) throw EVENTS_ERRORS.EVENTS_TOPIC_UNKNOWN(`unknown topic ${JSON.stringify(unknown[0] ?? '')}; use blocks, txs or both`);
  return new Set(topics as Topic[]);
}

function parseCursor(raw: unknown, latest: number, replayHeights: number): Cursor | null {
  if (raw === undefined || raw === '') return null;
  const m = typeof raw === 'string' ? /^(\d{1,15})(?:\/(\d{1,9}))?$/.exec(raw) : null;
  if (!m) throw EVENTS_ERRORS.EVENTS_CURSOR_INVALID(`${JSON.stringify(raw)} is not an event id (H or H/i)`);
  const cursor = { height: Number(m[1]), index: m[2] === undefined ? -1 : Number(m[2]) };
  if (cursor.height > latest) throw EVENTS_ERRORS.EVENTS_CURSOR_INVALID(`event ${raw} is after the latest height ${latest}`);
  if (latest - cursor.height > replayHeights) throw EVENTS_ERRORS.EVENTS_CURSOR_TOO_OLD(`event ${raw} is more than ${replayHeights} heights behind ${latest}`);
  return cursor;
}

class EventMetrics {
  readonly open: Gauge;
  readonly dropped: Counter;
  constructor(node: LedgerNode) {
    const registers = [node.metrics.registry];
    this.open = new Gauge({ name: 'gridledger_event_streams', help: 'Open server-sent event streams', registers });
    this.dropped = new Counter({ name: 'gridledger_event_streams_dropped_total', help: 'Event streams closed because the reader fell behind', registers });
  }
}

export function registerEvents(app: FastifyInstance, node: LedgerNode, limits: EventStreamLimits = DEFAULT_EVENT_LIMITS): void {
  const open = new Set<ServerResponse>();
  const perClient = new Map<string, number>();
  const metrics = new EventMetrics(node);
  app.addHook('onClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/v1/events', (request, reply) => {
    const query = request.query as { topics?: unknown; lastEventId?: unknown };
    const topics = parseTopics(query.topics);
    const cursor = parseCursor(request.headers['last-event-id'] ?? query.lastEventId, node.height, limits.eventReplayHeights);
    const client = clientKey(request.socket.remoteAddress);
    const held = perClient.get(client) ?? 0;
    if (open.size >= limits.maxEventStreams) throw EVENTS_ERRORS.EVENTS_STREAMS_FULL(`${open.size} event streams are open`);
    if (held >= limits.maxEventStreamsPerClient) throw EVENTS_ERRORS.EVENTS_TOO_MANY_STREAMS(`${client} holds ${held} event streams`);

    reply.hijack();
    const res = reply.raw;
    open.add(res);
    perClient.set(client, held + 1);
    metrics.open.set(open.size);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`: connected at height ${node.height}\n\n`);

    const stream = boundedWriter(res, limits.maxEventBufferedBytes, () => metrics.dropped.inc());
    const sendBlock = (e: BlockEvent): void => {
      if (!stream.keptUp()) return;
      if (topics.has('blocks')) stream.write(`id: ${e.height}\nevent: block\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const sendTx = (e: TxResultEvent): void => {
      if (topics.has('txs')) stream.write(`id: ${e.height}/${e.index}\nevent: tx\ndata: ${JSON.stringify(e)}\n\n`);
    };

    // Replay and subscription happen in one synchronous step, so no event falls in between.
    if (cursor) replay(node, cursor, sendBlock, sendTx);
    node.on('block', sendBlock);
    node.on('txResult', sendTx);
    const heartbeat = setInterval(() => stream.keptUp() && stream.write(': keep-alive\n\n'), limits.heartbeatMs);
    heartbeat.unref();
    res.on('close', () => {
      open.delete(res);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left > 0) perClient.set(client, left);
      else perClient.delete(client);
      metrics.open.set(open.size);
      clearInterval(heartbeat);
      node.off('block', sendBlock);
      node.off('txResult', sendTx);
    });
  });
}

/** A stream whose reader may stall: written freely, checked at event-batch boundaries. */
export interface BoundedStream {
  write(text: string): void;
  /**
   * Called before each batch (a block's events, a heartbeat): false — and the stream destroyed,
   * `onDrop` told — once more than `maxBuffered` bytes written earlier still wait unsent.
   */
  keptUp(): boolean;
}

export function boundedWriter(out: Writable, maxBuffered: number, onDrop: () => void): BoundedStream {
  return {
    write: (text) => {
      if (!out.destroyed) out.write(text);
    },
    keptUp: () => {
      if (out.destroyed) return false;
      if (out.writableLength <= maxBuffered) return true;
      onDrop();
      out.destroy();
      return false;
    },
  };
}

/** The events after `cursor` up to the latest height, in the order they were first sent. */
function replay(node: LedgerNode, cursor: Cursor, sendBlock: (e: BlockEvent) => void, sendTx: (e: TxResultEvent) => void): void {
  for (let height = cursor.height; height <= node.height; height++) {
    const events = node.storedEvents(height);
    if (!events) continue;
    const first = height === cursor.height;
    if (!first) sendBlock(events.block);
    for (const tx of events.txs) if (!first || tx.index > cursor.index) sendTx(tx);
  }
}

export const EVENTS_OPENAPI: Record<string, Record<string, unknown>> = {
  '/v1/events': {
    get: {
      operationId: 'events',
      summary:
        'Server-sent events: `block` (height, hash, time, txs, stateRoot, proposer; id "H") and `tx` (hash, height, index, result; id "H/i") as they commit. Reconnect with Last-Event-ID (or ?lastEventId) to replay what was missed.',
      tags: ['events'],
      parameters: [
        { name: 'topics', in: 'query', required: false, schema: { type: 'string', example: 'blocks,txs' } },
        { name: 'lastEventId', in: 'query', required: false, schema: { type: 'string', example: '120/3' } },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', example: '120/3' } },
      ],
      responses: {
        '200': { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '400': { description: 'EVENTS_TOPIC_UNKNOWN or EVENTS_CURSOR_INVALID' },
        '410': { description: 'EVENTS_CURSOR_TOO_OLD' },
        '429': { description: 'EVENTS_TOO_MANY_STREAMS' },
        '503': { description: 'EVENTS_STREAMS_FULL' },
      },
    },
  },
};
