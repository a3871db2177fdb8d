import { afterEach, describe, expect, it } from 'vitest';
import { Signer, generateKeyPair } from '../../src/crypto/ed25519.js';
import { composeBroadcast, composeSealed, DEFAULT_MESSAGING_PARAMS, generateMessagingKey, MessagingNode, toWire, type Envelope } from '../../src/messaging/index.js';
import { Channel } from '../../src/p2p/index.js';
import { MessagingReactor } from '../../src/runtime/reactors/messaging.js';
import type { ReactorLink } from '../../src/runtime/reactors/wire.js';

/**
 * The worst case for the relay's defences: the flooding peer is never disconnected (its frames keep
 * arriving after every penalty), so only the reactor's own bounds protect the node. 100,000 junk
 * messages of every kind, including valid ones beyond the peer's rate: the store, the pending
 * relays and the per-peer state stay within their limits, and the peer is penalised.
 */

// Stamps are free at this setting (work 1), so the flood can carry 100,000 distinct valid messages.
const PARAMS = { ...DEFAULT_MESSAGING_PARAMS, referenceTrials: 1 };
const LIMITS = { maxMessages: 1000, maxBytes: 512 * 1024 };
const MAX_PENDING = 500;
let reactor: MessagingReactor | undefined;
afterEach(() => reactor?.stop());

describe('a flood of 100,000 junk messages from one peer', () => {
  it('leaves memory bounded and the peer penalised', () => {
    let clock = 1_800_000_000_000;
    const now = () => clock;
    const penalties: string[] = [];
    let relayedFrames = 0;
    const link: ReactorLink = {
      send: () => void relayedFrames++,
      broadcast: () => void relayedFrames++,
      penalize: (peer, reason) => void penalties.push(`${peer}: ${reason}`),
      connectedPeers: () => ['z', 'honest'],
    };
    const messaging = new MessagingNode({ params: PARAMS, limits: LIMITS, now });
    reactor = new MessagingReactor(link, messaging, { now, maxPendingRelays: MAX_PENDING });
    const seconds = () => Math.floor(clock / 1000);
    const key = generateMessagingKey().publicKey;
    const dave = new Signer(generateKeyPair().secretKey);
    const base = composeSealed(key, { content: { text: 'x' }, ttl: 3600, now: seconds() });
    const broadcast = toWire({ ...composeBroadcast({ content: { text: 'y' }, ttl: 3600, now: seconds(), signer: dave }), stamp: new Uint8Array(8) });
    const kinds: Array<(i: number) => unknown> = [
      // distinct valid messages (each one a new payload)
      (i) => toWire(variant(base, i, seconds())),
      (i) => toWire({ ...variant(base, i, seconds()), expiresAt: seconds() - 1 }),
      (i) => toWire({ ...variant(base, i, seconds()), expiresAt: seconds() + 7200 + DEFAULT_MESSAGING_PARAMS.maxSkewSeconds, ttl: 60 }),
      (i) => ({ ...toWire(variant(base, i, seconds())), payload: '%%%' }),
      (i) => ({ ...broadcast, expiresAt: broadcast.expiresAt + (i % 1000) }),
      () => 'not an envelope',
    ];
    for (let i = 0; i < 100_000; i++) {
      reactor.receive('z', Channel.message, kinds[i % kinds.length]!(i), 700);
      clock += 1; // the flood arrives at 1000 messages per second
    }
    expect(messaging.pool.size).toBeLessThanOrEqual(LIMITS.maxMessages);
    expect(messaging.pool.bytes).toBeLessThanOrEqual(LIMITS.maxBytes);
    expect(reactor.pendingRelays).toBeLessThanOrEqual(MAX_PENDING);
    expect(reactor.trackedPeers).toBeLessThanOrEqual(1);
    expect(penalties.length).toBeGreaterThan(0);
    expect(penalties.every((p) => p.startsWith('z: '))).toBe(true);
    // Every kind of junk was refused and penalised for: bad shapes, bad signatures, clocks, and the rate.
    expect(penalties.some((p) => p.includes('MSG_MALFORMED'))).toBe(true);
    expect(penalties.some((p) => p.includes('MSG_BAD_SIGNATURE'))).toBe(true);
    expect(penalties.some((p) => p.includes('expired or future'))).toBe(true);
    expect(penalties.some((p) => p.includes('rate limit'))).toBe(true);
    // The rate limit held: far fewer than the 16,667 valid messages were taken in.
    expect(messaging.counters.accepted).toBeLessThan(16_667);
    expect(reactor.stats.rateLimited).toBeGreaterThan(0);
  });
});

function variant(base: Omit<Envelope, 'stamp'>, i: number, nowSeconds: number): Envelope {
  const payload = new Uint8Array(base.payload);
  new DataView(payload.buffer).setUint32(payload.length - 4, i);
  return { ...base, expiresAt: nowSeconds + 3600, ttl: 3600, payload, stamp: new Uint8Array(8) };
}
