import { describe, expect, it } from 'vitest';
import { MessagePool, messageHash, type Envelope } from '../../src/messaging/index.js';

const NOW = 1_800_000_000;
let counter = 0;
function env(expiresAt: number, size = 100): Envelope {
  const payload = new Uint8Array(size);
  new DataView(payload.buffer).setUint32(0, ++counter);
  return { kind: 'sealed', expiresAt, ttl: 600, stamp: new Uint8Array(8), payload };
}

describe('message pool', () => {
  it('deduplicates by hash and serves messages after a cursor in arrival order', () => {
    const pool = new MessagePool({ maxMessages: 10, maxBytes: 1 << 20 });
    const [a, b, c] = [env(NOW + 900), env(NOW + 300), env(NOW + 600)];
    expect(pool.add(a, NOW)).toBe(true);
    expect(pool.add(a, NOW)).toBe(false);
    pool.add(b, NOW);
    pool.add(c, NOW);
    expect(pool.since(0, 10, NOW).map((m) => m.hash)).toEqual([a, b, c].map(messageHash));
    expect(pool.since(1, 1, NOW).map((m) => m.hash)).toEqual([messageHash(b)]);
    expect(pool.head).toBe(3);
  });

  it('evicts the message that expires first when full, and refuses a newcomer that would expire first', () => {
    const pool = new MessagePool({ maxMessages: 3, maxBytes: 1 << 20 });
    const early = env(NOW + 100);
    const kept = [env(NOW + 500), env(NOW + 400)];
    for (const m of [early, ...kept]) pool.add(m, NOW);
    const late = env(NOW + 1000);
    pool.add(late, NOW);
    expect(pool.has(messageHash(early))).toBe(false);
    expect(pool.size).toBe(3);
    expect(pool.evicted).toBe(1);
    expect(() => pool.add(env(NOW + 50), NOW)).toThrow(expect.objectContaining({ code: 'MSG_STORE_FULL' }));
    expect(pool.since(0, 10, NOW).map((m) => m.hash).sort()).toEqual([...kept, late].map(messageHash).sort());
  });

  it('keeps within its byte budget', () => {
    const pool = new MessagePool({ maxMessages: 1000, maxBytes: 10_000 });
    for (let i = 0; i < 500; i++) pool.add(env(NOW + 1000 + i, 1000), NOW);
    expect(pool.bytes).toBeLessThanOrEqual(10_000);
    expect(pool.size).toBe(9);
    // the survivors are the latest to expire
    expect(Math.min(...pool.since(0, 100, NOW).map((m) => m.envelope.expiresAt))).toBe(NOW + 1000 + 491);
  });

  it('drops expired messages', () => {
    const pool = new MessagePool({ maxMessages: 10, maxBytes: 1 << 20 });
    pool.add(env(NOW + 10), NOW);
    pool.add(env(NOW + 20), NOW);
    expect(pool.since(0, 10, NOW + 10)).toHaveLength(1);
    expect(pool.size).toBe(1);
    expect(pool.since(0, 10, NOW + 20)).toHaveLength(0);
    expect(pool.bytes).toBe(0);
  });
});
