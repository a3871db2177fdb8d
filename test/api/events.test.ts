import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { callRoute } from '../../src/api/client.js';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { boundedWriter } from '../../src/runtime/events.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { account } from '../helpers/chain.js';
import { makeHome } from '../helpers/node.js';

/**
 * GET /v1/events (issue 9 low, issue 19 #16): event ids, resuming with Last-Event-ID from storage,
 * coded refusals of unknown topics and bad cursors, caps on streams in total and per client, and
 * readers that stall are dropped instead of buffered without bound.
 */

interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** An open stream from a given local address; collects events as they arrive. */
function openStream(base: string, options: { path?: string; lastEventId?: string; localAddress?: string } = {}) {
  const events: SseEvent[] = [];
  let status = 0;
  let body = '';
  let close = () => undefined as void;
  const ready = new Promise<void>((resolve, reject) => {
    const req = request(`${base}${options.path ?? '/v1/events'}`, { headers: options.lastEventId ? { 'last-event-id': options.lastEventId } : {}, localAddress: options.localAddress }, (res) => {
      status = res.statusCode ?? 0;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1];
          const event = field('event');
          const data = field('data');
          if (event && data) events.push({ id: field('id'), event, data: JSON.parse(data) });
        }
        resolve();
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
    close = () => void req.destroy();
  });
  return {
    events,
    ready,
    get status() {
      return status;
    },
    get body() {
      return body;
    },
    close: () => close(),
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let home: string;
let running: RunningNode;
let signer: ReturnType<ReturnType<typeof openKeyring>['signer']>;
let admin: string;
const opened: Array<{ close(): void }> = [];

async function commit(msgs: Msg[][]): Promise<number[]> {
  const nonce = await callRoute(running.url, coreRoutes.accountNonce, { params: { address: admin } });
  const txs = msgs.map((m, i) => signTx({ chainId: 'test-chain', sender: admin, nonce: nonce.next + i, expiresAtHeight: nonce.height + 100, msgs: m, memo: '' }, signer));
  const hashes = (await callRoute(running.url, coreRoutes.submitTxBatch, { body: { txs } })).results.map((r) => r.hash!);
  const heights: number[] = [];
  for (const hash of hashes) heights.push((await callRoute(running.url, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } })).height!);
  return heights;
}

const admit = (name: string): Msg[] => [{ type: 'registry/admit', value: { address: account(name).address, roles: ['prosumer'] } }];

beforeAll(async () => {
  ({ home } = makeHome({}, 200));
  const configPath = paths(home).config;
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  Object.assign(config.api, { maxEventStreams: 3, maxEventStreamsPerClient: 2, eventReplayHeights: 20 });
  config.consensus.emptyBlockIntervalMs = 200;
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const keyring = openKeyring(home, 'test');
  signer = keyring.signer('admin');
  admin = keyring.show('admin').address;
  running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
}, 60_000);

afterAll(async () => {
  for (const s of opened) s.close();
  await running?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('event stream', () => {
  it('gives every event an id (H for a block, H/i for its transactions) and resumes exactly after Last-Event-ID', async () => {
    const live = openStream(running.url);
    opened.push(live);
    await live.ready;
    const heights = await commit([admit('ev-a'), admit('ev-b'), admit('ev-c')]);
    const last = Math.max(...heights);
    await until(() => live.events.some((e) => e.event === 'block' && e.data.height === last) && live.events.filter((e) => e.event === 'tx').length >= 3, 'live events');
    live.close();
    for (const e of live.events) expect(e.id).toBe(e.event === 'block' ? String(e.data.height) : `${e.data.height}/${e.data.index}`);

    // Resume after the first transaction event: everything after it, in the same order, from storage.
    const seen = live.events;
    const firstTx = seen.findIndex((e) => e.event === 'tx');
    const resumed = openStream(running.url, { lastEventId: seen[firstTx]!.id });
    opened.push(resumed);
    await resumed.ready;
    const expected = seen.slice(firstTx + 1).map((e) => e.id);
    await until(() => resumed.events.length >= expected.length, 'replayed events');
    expect(resumed.events.slice(0, expected.length).map((e) => e.id)).toEqual(expected);
    expect(resumed.events.slice(0, expected.length).map((e) => e.data)).toEqual(seen.slice(firstTx + 1).map((e) => e.data));
    resumed.close();
  });

  it('refuses unknown topics and bad, future or too old cursors with their codes', async () => {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${running.url}${path}`, { headers });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    };
    expect(await get('/v1/events?topics=blocks,mempool')).toMatchObject({ status: 400, body: { error: { code: 'EVENTS_TOPIC_UNKNOWN' } } });
    expect(await get('/v1/events', { 'last-event-id': 'abc' })).toMatchObject({ status: 400, body: { error: { code: 'EVENTS_CURSOR_INVALID' } } });
    expect(await get('/v1/events?lastEventId=99999999')).toMatchObject({ status: 400, body: { error: { code: 'EVENTS_CURSOR_INVALID' } } });
    await until(() => running.node.height > 25, 'more than the replay window of heights');
    expect(await get('/v1/events', { 'last-event-id': '1' })).toMatchObject({ status: 410, body: { error: { code: 'EVENTS_CURSOR_TOO_OLD' } } });
  }, 30_000);

  it('caps streams per client and in total; a closed stream frees its place', async () => {
    const a = openStream(running.url, { path: '/v1/events?topics=blocks' });
    const b = openStream(running.url, { path: '/v1/events?topics=blocks' });
    opened.push(a, b);
    await Promise.all([a.ready, b.ready]);
    const third = await fetch(`${running.url}/v1/events`);
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ error: { code: 'EVENTS_TOO_MANY_STREAMS' } });

    const other = openStream(running.url, { localAddress: '127.0.0.2' });
    opened.push(other);
    await other.ready;
    expect(other.status).toBe(200);
    const full = openStream(running.url, { localAddress: '127.0.0.3' });
    await full.ready;
    expect(full.status).toBe(503);
    expect(JSON.parse(full.body)).toMatchObject({ error: { code: 'EVENTS_STREAMS_FULL' } });

    a.close();
    const openStreams = async () => (await (await fetch(`${running.url}/metrics`)).text()).match(/^gridledger_event_streams (\d+)$/m)?.[1];
    let count: string | undefined;
    for (let i = 0; i < 100 && (count = await openStreams()) !== '2'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(count).toBe('2');
    const again = openStream(running.url);
    opened.push(again);
    await again.ready;
    expect(again.status).toBe(200);
    for (const s of [b, other, again]) s.close();
  });
});

describe('a reader that falls behind', () => {
  /** A destination that never drains, as a socket whose reader stopped reading. */
  function stalled() {
    return new Writable({ write: () => undefined });
  }

  /** A destination whose reader keeps up: each chunk is taken on the next tick. */
  function draining() {
    return new Writable({ write: (_chunk, _enc, done) => setImmediate(done) });
  }

  it('is dropped at the next block once more than the allowed bytes wait unsent; a reader within the bound is not', () => {
    const out = stalled();
    let drops = 0;
    const stream = boundedWriter(out, 1000, () => drops++);
    expect(stream.keptUp()).toBe(true);
    for (let i = 0; i < 9; i++) stream.write('x'.repeat(100));
    expect(stream.keptUp()).toBe(true); // 900 bytes waiting
    stream.write('x'.repeat(200));
    expect(out.destroyed).toBe(false); // a block's events are written whole
    expect(stream.keptUp()).toBe(false); // the next block finds 1,100 bytes unsent
    expect(out.destroyed).toBe(true);
    expect(drops).toBe(1);
    stream.write('more');
    expect(stream.keptUp()).toBe(false);
    expect(drops).toBe(1);
  });

  it('a block whose events alone exceed the bound reaches a reader that keeps up (a full block of transactions)', async () => {
    const out = draining();
    let drops = 0;
    const stream = boundedWriter(out, 1000, () => drops++);
    for (let block = 0; block < 3; block++) {
      expect(stream.keptUp()).toBe(true);
      for (let i = 0; i < 50; i++) stream.write('x'.repeat(100)); // 5,000 bytes: five times the bound
      while (out.writableLength > 0) await new Promise((r) => setImmediate(r)); // the reader takes it all
    }
    expect(out.destroyed).toBe(false);
    expect(drops).toBe(0);
  });
});
