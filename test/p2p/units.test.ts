import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/p2p/channels.js';
import { DecryptError, DirectionalCipher } from '../../src/p2p/cipher.js';
import { encodeFrame, FrameError, FrameReader } from '../../src/p2p/frames.js';
import { newConnectionWins } from '../../src/p2p/switch.js';
import { OutboundQueue } from '../../src/p2p/queue.js';
import { TokenBucket } from '../../src/p2p/rate-limit.js';

describe('p2p building blocks', () => {
  it('FrameReader reassembles frames split at every byte and rejects bad lengths early', () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(9), new Uint8Array([4])];
    const wire = Buffer.concat(frames.map(encodeFrame));
    const reader = new FrameReader(1, 1000);
    const out: Uint8Array[] = [];
    for (const byte of wire) {
      reader.push(new Uint8Array([byte]));
      for (let f = reader.next(); f; f = reader.next()) out.push(f);
    }
    expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));

    const oversize = new FrameReader(1, 1000);
    oversize.push(new Uint8Array([0, 0, 0x03, 0xe9])); // 1001, body not yet sent
    expect(() => oversize.next()).toThrow(FrameError);
    const tooShort = new FrameReader(17, 1000);
    tooShort.push(encodeFrame(new Uint8Array(16)));
    expect(() => tooShort.next()).toThrowError(expect.objectContaining({ reason: 'malformed-frame' }));
  });

  it('DirectionalCipher rejects replayed, reordered and modified frames', () => {
    const key = new Uint8Array(32).fill(5);
    const send = new DirectionalCipher(key);
    const f0 = send.seal(new Uint8Array([1, 2]));
    const f1 = send.seal(new Uint8Array([3, 4]));
    const inOrder = new DirectionalCipher(key);
    expect([...inOrder.open(f0)]).toEqual([1, 2]);
    expect(() => inOrder.open(f0)).toThrow(DecryptError); // replay
    expect(() => new DirectionalCipher(key).open(f1)).toThrow(DecryptError); // reorder
    const tampered = Uint8Array.from(f0);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => new DirectionalCipher(key).open(tampered)).toThrow(DecryptError);
  });

  it('TokenBucket spends, refuses and refills by the injected clock', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    now += 100; // 10/s → one token
    expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    now += 60_000;
    expect(bucket.take(5)).toBe(true); // capped at the burst
    expect(bucket.take(1)).toBe(false);
  });

  it('OutboundQueue evicts the oldest lowest-priority message and never a vote for a tx', () => {
    const q = new OutboundQueue(3, 1_000_000);
    const msg = (channel: number, tag: number) => ({ channel, payload: new Uint8Array([tag]) });
    expect(q.enqueue(msg(Channel.vote, 1))).toEqual({ accepted: true, dropped: 0 });
    expect(q.enqueue(msg(Channel.tx, 2)).accepted).toBe(true);
    expect(q.enqueue(msg(Channel.tx, 3)).accepted).toBe(true);
    expect(q.enqueue(msg(Channel.proposal, 4))).toEqual({ accepted: true, dropped: 1 }); // evicts tx 2
    expect(q.enqueue(msg(Channel.vote, 5))).toEqual({ accepted: true, dropped: 1 }); // evicts tx 3
    expect(q.enqueue(msg(Channel.tx, 6))).toEqual({ accepted: false, dropped: 1 }); // only consensus left
    const order: number[] = [];
    for (let m = q.shift(); m; m = q.shift()) order.push(m.payload[0]!);
    expect(order).toEqual([1, 4, 5]);

    const byBytes = new OutboundQueue(100, 10);
    byBytes.enqueue({ channel: Channel.tx, payload: new Uint8Array(6) });
    expect(byBytes.enqueue({ channel: Channel.vote, payload: new Uint8Array(6) })).toEqual({ accepted: true, dropped: 1 });
    expect(byBytes.bytes).toBe(6);
    expect(byBytes.enqueue({ channel: Channel.vote, payload: new Uint8Array(11) }).accepted).toBe(false);
  });

  it('the duplicate-connection tie-break is the same from both ends', () => {
    const low = 'grid1aaa';
    const high = 'grid1zzz';
    // A connection dialled by the lower id beats one dialled by the higher id, in either arrival order.
    expect(newConnectionWins(high, low)).toBe(true);
    expect(newConnectionWins(low, high)).toBe(false);
    // A newer connection from the same dialler replaces the stale one.
    expect(newConnectionWins(low, low)).toBe(true);
  });
});
