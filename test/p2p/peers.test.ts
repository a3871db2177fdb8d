import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../../src/p2p/channels.js';
import { bytes, handshakeAsPeer, Harness, settles, nodeId, peerAddress, signer, text, waitFor } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const keyA = signer(21);
const keyB = signer(22);
const stalledKey = signer(23);

describe('p2p peers, queues and reconnects', () => {
  it('a peer that never reads does not block delivery to another peer; its queue stays bounded and drops are counted', async () => {
    const queueMaxMessages = 16;
    const a = await h.node(keyA, {
      allowedPeers: [nodeId(keyB), nodeId(stalledKey)],
      queueMaxMessages,
      queueMaxBytes: 4 * 1024 * 1024,
      socketHighWaterBytes: 256 * 1024,
    });
    const stalled = await handshakeAsPeer(h, stalledKey, a);
    stalled.socket.pause(); // never reads again: the kernel buffers fill, then A's queue for it.
    const b = await h.node(keyB, { persistentPeers: [peerAddress(keyA, a)] });
    await waitFor(() => a.peers().length === 2, 'both peers connected');
    const got: number[] = [];
    b.onMessage((_p, _c, payload) => got.push(payload[0]! * 256 + payload[1]!));

    // 200 × 256 KiB = 50 MiB: far more than any socket buffer, so the stalled peer's queue must overflow.
    const total = 200;
    for (let i = 0; i < total; i++) {
      const payload = new Uint8Array(256 * 1024);
      payload[0] = i >> 8;
      payload[1] = i & 0xff;
      expect(a.broadcast(Channel.block, payload)).toBeGreaterThanOrEqual(1);
      // Pace on B's progress (not on time) so B's own queue never overflows.
      if (i % 4 === 3) await waitFor(() => got.length > i - 4, `b received ${i - 3}`);
    }
    await waitFor(() => got.length === total, 'b received everything');

    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
    const byId = new Map(a.peers().map((p) => [p.id, p]));
    const toStalled = byId.get(nodeId(stalledKey))!;
    const toB = byId.get(nodeId(keyB))!;
    expect(toB.messagesDropped).toBe(0);
    expect(toB.messagesOut).toBe(total);
    expect(toStalled.messagesDropped).toBeGreaterThan(0);
    expect(toStalled.queueLength).toBeLessThanOrEqual(queueMaxMessages);
    expect(toStalled.messagesOut + toStalled.messagesDropped + toStalled.queueLength).toBe(total);
    expect(a.metrics().messagesDropped).toBe(toStalled.messagesDropped);
  });

  it('reconnects after the peer restarts, with fresh session keys', async () => {
    const b1 = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const port = b1.address().port;
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, b1)] });
    await waitFor(() => a.peers().length === 1, 'first connection');
    const events: string[] = [];
    a.onPeerConnected((p) => events.push(`up:${p.id}`));
    a.onPeerDisconnected((id) => events.push(`down:${id}`));

    await b1.stop();
    await waitFor(() => events.includes(`down:${nodeId(keyB)}`), 'a notices the restart');
    expect(a.send(nodeId(keyB), Channel.vote, bytes('lost'))).toBe(false);
    const b2 = await h.node(keyB, { port, allowedPeers: [nodeId(keyA)] });
    const got: string[] = [];
    b2.onMessage((_p, _c, payload) => got.push(text(payload)));
    await waitFor(() => events.includes(`up:${nodeId(keyB)}`), 'a reconnects');

    expect(a.send(nodeId(keyB), Channel.vote, bytes('after restart'))).toBe(true);
    await waitFor(() => got.length === 1, 'delivery after restart');
    expect(got).toEqual(['after restart']);
    expect(events).toEqual([`down:${nodeId(keyB)}`, `up:${nodeId(keyB)}`]);
    expect(a.metrics().dialAttempts).toBeGreaterThanOrEqual(2);
  });

  it('carries maximum-size messages intact and in order', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, b)] });
    await waitFor(() => a.peers().length === 1, 'connected');
    const got: Uint8Array[] = [];
    b.onMessage((_p, _c, payload) => got.push(payload));
    const big = new Uint8Array(a.maxPayloadBytes).map((_, i) => i * 7);
    a.send(nodeId(keyB), Channel.syncResponse, big);
    a.send(nodeId(keyB), Channel.syncResponse, new Uint8Array(0));
    a.send(nodeId(keyB), Channel.syncResponse, big);
    await waitFor(() => got.length === 3, 'three messages');
    expect(Buffer.compare(got[0]!, big)).toBe(0);
    expect(got[1]!.length).toBe(0);
    expect(Buffer.compare(got[2]!, big)).toBe(0);
  });

  it('stop() closes connections, notifies handlers and frees the port', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, b)] });
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 'connected');
    const reasons: string[] = [];
    a.onPeerDisconnected((_p, reason) => reasons.push(reason));
    const port = a.address().port;
    await a.stop();
    expect(reasons).toEqual(['stopped']);
    expect(a.peers()).toEqual([]);
    await waitFor(() => b.peers().length === 0, 'b sees the close');
    const again = await h.node(keyA, { port });
    expect(again.address().port).toBe(port);
  });

  it('drops a connection that goes silent (half-open), while pings keep a quiet healthy one alive', async () => {
    const fast = { pingIntervalMs: 40, idleTimeoutMs: 500 };
    const a = await h.node(keyA, { allowedPeers: [nodeId(keyB), nodeId(stalledKey)], ...fast });
    await h.node(keyB, { persistentPeers: [peerAddress(keyA, a)], ...fast });
    await waitFor(() => a.peers().length === 1, 'b connected');
    const silent = await handshakeAsPeer(h, stalledKey, a); // never sends anything, not even pings
    const reasons: string[] = [];
    a.onPeerDisconnected((id, reason) => reasons.push(`${id === nodeId(stalledKey) ? 'silent' : 'b'}:${reason}`));
    await waitFor(() => reasons.length === 1, 'silent peer dropped');
    await settles(silent.closed, 'the node closes the connection');
    expect(reasons).toEqual(['silent:idle-timeout']);

    // B sends no messages but its pings count as traffic: wait for many idle periods' worth of them.
    const pingFrameBytes = 4 + 2 + 16;
    const start = a.peers().find((p) => p.id === nodeId(keyB))!.bytesIn;
    // 30 pings at 40 ms span more than twice the idle timeout.
    await waitFor(() => (a.peers().find((p) => p.id === nodeId(keyB))?.bytesIn ?? 0) >= start + 30 * pingFrameBytes, 'thirty pings from b');
    expect(reasons).toEqual(['silent:idle-timeout']);
    expect(a.peers().map((p) => p.id)).toEqual([nodeId(keyB)]);
  });
});
