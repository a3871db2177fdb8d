import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../../src/p2p/channels.js';
import type { HandshakeFailureInfo } from '../../src/p2p/switch.js';
import { bytes, connectRaw, handshakeAsPeer, Harness, settles, nodeId, peerAddress, signer, text, waitFor, writeSealed } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const keyA = signer(11);
const keyB = signer(12);
const evilKey = signer(13);

/** A node B that allows A and the hand-driven "evil" peer; records bans and handshake failures. */
async function target(options: Parameters<Harness['node']>[1] = {}) {
  const node = await h.node(keyB, { allowedPeers: [nodeId(keyA), nodeId(evilKey)], ...options });
  const bans: string[] = [];
  const failures: HandshakeFailureInfo[] = [];
  const received: string[] = [];
  node.onPeerBanned((peer, reason) => bans.push(`${peer}|${reason}`));
  node.onHandshakeFailed((f) => failures.push(f));
  node.onMessage((_p, _c, payload) => received.push(text(payload)));
  return { node, bans, failures, received };
}

/** Proves the node still works: a well-behaved peer can connect and deliver a message. */
async function assertStillServes(t: Awaited<ReturnType<typeof target>>): Promise<void> {
  const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, t.node)] });
  await waitFor(() => a.peers().length === 1, 'honest peer connects');
  a.send(nodeId(keyB), Channel.tx, bytes('still alive'));
  await waitFor(() => t.received.includes('still alive'), 'honest message delivered');
}

describe('p2p bad input on the wire', () => {
  it('bans a peer that sends an oversize frame, before buffering its body, and refuses it while banned', async () => {
    const t = await target({ maxFrameBytes: 1024 });
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    await waitFor(() => t.node.peers().length === 1, 'evil peer admitted');
    // Only a length prefix announcing 1 MiB: the node must reject it without waiting for the body.
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(1 << 20);
    evil.socket.write(prefix);
    await settles(evil.closed, 'the node closes the connection');

    expect(t.bans).toEqual([`${nodeId(evilKey)}|oversize-frame`]);
    expect(t.node.isBanned(nodeId(evilKey))).toBe(true);
    await expect(handshakeAsPeer(h, evilKey, t.node)).rejects.toThrow();
    await waitFor(() => t.failures.some((f) => f.reason === 'refused:banned'), 'banned peer refused');
    await assertStillServes(t);
  });

  it('survives garbage bytes before the handshake and keeps serving honest peers', async () => {
    const t = await target();
    const sockets = await Promise.all([0, 1, 2].map(() => connectRaw(h, t.node.address().port)));
    const closed = sockets.map((s) => new Promise((resolve) => s.once('close', resolve)));
    sockets[0]!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); // "GET " read as a length: far too big
    sockets[1]!.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(64)]));
    sockets[2]!.write(Buffer.from([0, 0, 0, 3, 1, 2, 3])); // fits a frame but is no hello
    await settles(Promise.all(closed), 'garbage connections closed');
    await waitFor(() => t.failures.length === 3, 'three failed handshakes');

    expect(t.failures.map((f) => f.reason).sort()).toEqual(['bad-hello', 'oversize-frame', 'oversize-frame']);
    // Nobody authenticated, so there is no node id to ban: the connection is dropped and counted.
    expect(t.failures.every((f) => f.peerId === undefined && f.direction === 'inbound')).toBe(true);
    expect(t.node.metrics().handshakesFailed).toBe(3);
    await assertStillServes(t);
  });

  // Issue 9 (low): idle TCP connections must not hold the handshake slots.
  it('closes an inbound connection that stays silent past the hello timeout, long before the handshake timeout', async () => {
    const t = await target({ helloTimeoutMs: 300, handshakeTimeoutMs: 20_000 });
    const started = Date.now();
    const silent = await connectRaw(h, t.node.address().port);
    await settles(new Promise((resolve) => silent.once('close', resolve)), 'silent connection closed');
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(() => t.node.metrics().pendingHandshakes === 0, 'slot released');
    expect(t.node.metrics().inboundRefused).toBe(1);
    await assertStillServes(t);
  });

  it('one IP address cannot take more than its share of pending handshakes; other addresses still connect', async () => {
    const t = await target({ maxPendingHandshakesPerIp: 3, helloTimeoutMs: 20_000, handshakeTimeoutMs: 20_000 });
    const fromOtherIp = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = h.socket(connect({ host: '127.0.0.1', port: t.node.address().port, localAddress: '127.0.0.2' }));
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    const sockets = [];
    for (let i = 0; i < 5; i++) sockets.push(await fromOtherIp());
    const closed = sockets.map((s) => new Promise<boolean>((resolve) => s.once('close', () => resolve(true))));
    await settles(Promise.all(closed.slice(3)), 'the connections beyond the cap are closed');
    expect(t.node.metrics().inboundRefused).toBe(2);
    expect(t.node.metrics().pendingHandshakes).toBe(3);
    await assertStillServes(t); // from 127.0.0.1
  });

  it('bans a peer that sends a frame too short to be a sealed message after the handshake', async () => {
    const t = await target();
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    evil.socket.write(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    await settles(evil.closed, 'the node closes the connection');
    expect(t.bans).toEqual([`${nodeId(evilKey)}|malformed-frame`]);
    await assertStillServes(t);
  });

  it('drops a peer whose well-framed garbage fails authentication', async () => {
    const t = await target();
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    const disconnects: string[] = [];
    t.node.onPeerDisconnected((_p, reason) => disconnects.push(reason));
    const body = randomBytes(200);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32BE(body.length);
    body.copy(frame, 4);
    evil.socket.write(frame);
    await settles(evil.closed, 'the node closes the connection');
    expect(disconnects).toEqual(['decrypt-failed']);
    expect(t.received).toEqual([]);
    await assertStillServes(t);
  });

  it('bans on decrypt failure when configured to', async () => {
    const t = await target({ banOnDecryptFailure: true });
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    evil.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 40]), randomBytes(40)]));
    await settles(evil.closed, 'the node closes the connection');
    expect(t.bans).toEqual([`${nodeId(evilKey)}|decrypt-failed`]);
  });

  it('bans a peer that uses an unknown channel or sends a bad control message', async () => {
    const t = await target();
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    writeSealed(evil, new Uint8Array([Channel.vote, 7]));
    writeSealed(evil, new Uint8Array([99, 1, 2, 3]));
    await settles(evil.closed, 'the node closes the connection');
    expect(t.bans).toEqual([`${nodeId(evilKey)}|unknown-channel`]);
    expect(t.received).toHaveLength(1); // the valid vote before it was delivered

    const t2Key = signer(14);
    t.node.setAllowedPeers([nodeId(keyA), nodeId(t2Key)]);
    const evil2 = await handshakeAsPeer(h, t2Key, t.node);
    writeSealed(evil2, new Uint8Array([0, 1])); // a second "ack" after the handshake is not allowed
    await settles(evil2.closed, 'the node closes the connection');
    expect(t.bans[1]).toBe(`${nodeId(t2Key)}|bad-control-message`);
  });

  it('bans a peer that exceeds its message rate', async () => {
    const t = await target({ rateLimit: { messagesPerSec: 1, messagesBurst: 20 } });
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    for (let i = 0; i < 100; i++) writeSealed(evil, new Uint8Array([Channel.tx, i]));
    await settles(evil.closed, 'the node closes the connection');
    expect(t.bans).toEqual([`${nodeId(evilKey)}|rate-limit-messages`]);
    // The burst of 20 passes; refilling at 1/s cannot admit the other 80 while they are read.
    expect(t.received.length).toBeGreaterThanOrEqual(20);
    expect(t.received.length).toBeLessThan(100);
  });

  it('bans a peer that exceeds its byte rate', async () => {
    const t = await target({ maxFrameBytes: 2048, rateLimit: { bytesPerSec: 1, bytesBurst: 8 * 1024 } });
    const evil = await handshakeAsPeer(h, evilKey, t.node);
    const payload = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 20; i++) writeSealed(evil, new Uint8Array([Channel.block, ...payload]));
    await settles(evil.closed, 'the node closes the connection');
    expect(t.bans).toEqual([`${nodeId(evilKey)}|rate-limit-bytes`]);
    expect(t.received.length).toBeLessThan(20);
  });

  it('penalize() disconnects and bans; the ban expires, then the peer is dialled again', async () => {
    const a = await h.node(keyA, { allowedPeers: [nodeId(keyB)] });
    const b = await h.node(keyB, { persistentPeers: [peerAddress(keyA, a)], banMs: 300 });
    await waitFor(() => b.peers().length === 1, 'connected');
    const events: string[] = [];
    b.onPeerDisconnected((_p, reason) => events.push(`disconnected:${reason}`));
    b.onPeerUnbanned(() => events.push('unbanned'));
    b.onPeerConnected(() => events.push('connected'));

    b.penalize(nodeId(keyA), 'invalid-vote-signature');
    expect(b.isBanned(nodeId(keyA))).toBe(true);
    expect(b.send(nodeId(keyA), Channel.vote, bytes('x'))).toBe(false);
    await waitFor(() => events.includes('connected'), 'reconnected after the ban');

    expect(events).toEqual(['disconnected:penalized:invalid-vote-signature', 'unbanned', 'connected']);
    expect(b.isBanned(nodeId(keyA))).toBe(false);
    expect(b.metrics().penalties).toBe(1);
  });

  it('rejects outgoing messages above the frame limit and on unknown channels', async () => {
    const a = await h.node(keyA, { maxFrameBytes: 1024 });
    expect(a.maxPayloadBytes).toBe(1024 - 17);
    expect(() => a.broadcast(Channel.tx, new Uint8Array(1008))).toThrow(/exceeds/);
    expect(() => a.broadcast(42 as typeof Channel.tx, new Uint8Array(1))).toThrow(/unknown p2p channel/);
    expect(a.broadcast(Channel.tx, new Uint8Array(1007))).toBe(0);
  });
});
