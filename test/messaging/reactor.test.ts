import { afterEach, describe, expect, it, vi } from 'vitest';
import { composeSealed, DEFAULT_MESSAGING_PARAMS, generateMessagingKey, MessagingNode, messageHash, toWire, type Envelope } from '../../src/messaging/index.js';
import { Channel } from '../../src/p2p/index.js';
import { MessagingReactor } from '../../src/runtime/reactors/messaging.js';
import type { ReactorLink } from '../../src/runtime/reactors/wire.js';

/** Relay timing and fan-out of the messaging reactor, on fake timers. */
const PARAMS = { ...DEFAULT_MESSAGING_PARAMS, referenceTrials: 1 };

function setup(randomValue: number) {
  const sent: Array<{ to: string; hash: string }> = [];
  const broadcasts: Array<{ except: string | ((peer: string) => boolean) | undefined; hash: string }> = [];
  const hashOf = (w: unknown) => (w as { payload: string }).payload.slice(0, 12);
  const link: ReactorLink = {
    send: (peer, _c, w) => void sent.push({ to: peer, hash: hashOf(w) }),
    broadcast: (_c, w, except) => void broadcasts.push({ except, hash: hashOf(w) }),
    penalize: () => undefined,
    connectedPeers: () => ['p1', 'p2', 'p3'],
  };
  const messaging = new MessagingNode({ params: PARAMS });
  const random = vi.fn((min: number, max: number) => Math.min(max, min + randomValue));
  const reactor = new MessagingReactor(link, messaging, { relayDelayMs: { min: 100, max: 1000 }, fallbackDelayMs: 3000, random });
  return { sent, broadcasts, messaging, reactor, random };
}

function message(): Envelope {
  const u = composeSealed(generateMessagingKey().publicKey, { content: { text: 'x' }, ttl: 600, now: Math.floor(Date.now() / 1000) });
  return { ...u, stamp: new Uint8Array(8) };
}

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  vi.useRealTimers();
});

describe('messaging relay', () => {
  it('floods a message from a peer to all other peers after the random delay, once', () => {
    vi.useFakeTimers();
    const s = setup(400);
    stop = () => s.reactor.stop();
    const env = message();
    s.reactor.receive('p2', Channel.message, toWire(env), 700);
    s.reactor.receive('p3', Channel.message, toWire(env), 700); // a duplicate: stored once, relayed once
    expect(s.messaging.pool.has(messageHash(env))).toBe(true);
    vi.advanceTimersByTime(499);
    expect(s.broadcasts).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.broadcasts).toHaveLength(1);
    expect(s.broadcasts[0]!.except).toBe('p2');
    vi.advanceTimersByTime(10_000);
    expect(s.broadcasts).toHaveLength(1);
    expect(s.random).toHaveBeenCalledWith(100, 1000);
  });

  it('sends a local message to one random peer first, then floods it after the fallback delay', () => {
    vi.useFakeTimers();
    const s = setup(0);
    stop = () => s.reactor.stop();
    s.messaging.submit(toWire(message()));
    vi.advanceTimersByTime(100);
    expect(s.sent.map((x) => x.to)).toEqual(['p1']);
    expect(s.broadcasts).toEqual([]);
    vi.advanceTimersByTime(3000);
    expect(s.broadcasts.map((b) => b.except)).toEqual(['p1']);
  });

  it('does not relay a message that expired while it waited', () => {
    vi.useFakeTimers();
    const s = setup(900);
    stop = () => s.reactor.stop();
    const u = composeSealed(generateMessagingKey().publicKey, { content: { text: 'x' }, ttl: 60, now: Math.floor(Date.now() / 1000) - 59 });
    s.reactor.receive('p1', Channel.message, toWire({ ...u, stamp: new Uint8Array(8) }), 700);
    expect(s.messaging.pool.size).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(s.broadcasts).toEqual([]);
  });
});
