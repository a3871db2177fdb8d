import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../../src/p2p/channels.js';
import type { HandshakeFailureInfo } from '../../src/p2p/switch.js';
import { bytes, Harness, nodeId, peerAddress, signer, startProxy, text, waitFor } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

const keyA = signer(1);
const keyB = signer(2);
const keyC = signer(3);

describe('p2p handshake and secure channel', () => {
  it('connects two allowed nodes and exchanges messages both ways', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, b)] });
    const atA: string[] = [];
    const atB: string[] = [];
    a.onMessage((peer, channel, payload) => atA.push(`${peer}|${channel}|${text(payload)}`));
    b.onMessage((peer, channel, payload) => atB.push(`${peer}|${channel}|${text(payload)}`));
    await waitFor(() => a.peers().length === 1 && b.peers().length === 1, 'both connected');

    expect(a.send(nodeId(keyB), Channel.vote, bytes('vote from a'))).toBe(true);
    expect(b.broadcast(Channel.tx, bytes('tx from b'))).toBe(1);
    await waitFor(() => atA.length === 1 && atB.length === 1, 'messages delivered');

    expect(atB).toEqual([`${nodeId(keyA)}|${Channel.vote}|vote from a`]);
    expect(atA).toEqual([`${nodeId(keyB)}|${Channel.tx}|tx from b`]);
    const [statusAtA] = a.peers();
    expect(statusAtA).toMatchObject({ id: nodeId(keyB), direction: 'outbound', messagesIn: 1, messagesOut: 1, queueLength: 0 });
    expect(b.peers()[0]).toMatchObject({ id: nodeId(keyA), direction: 'inbound', messagesIn: 1, messagesOut: 1 });
    expect(statusAtA!.bytesIn).toBeGreaterThan(0);
    expect(a.metrics()).toMatchObject({ peersConnected: 1, peersOutbound: 1, messagesIn: 1, messagesOut: 1, handshakesSucceeded: 1 });
  });

  it('broadcast skips one named peer, or every peer a predicate names', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const c = await h.node(keyC, { allowedPeers: [nodeId(keyA)] });
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, b), peerAddress(keyC, c)] });
    const got: string[] = [];
    b.onMessage((_p, _c, payload) => got.push(`b:${text(payload)}`));
    c.onMessage((_p, _c, payload) => got.push(`c:${text(payload)}`));
    await waitFor(() => a.peers().length === 2, 'both connected');
    expect(a.broadcast(Channel.proposal, bytes('1'), nodeId(keyB))).toBe(1);
    expect(a.broadcast(Channel.proposal, bytes('2'), (peer) => peer === nodeId(keyC))).toBe(1);
    expect(a.broadcast(Channel.proposal, bytes('3'), () => true)).toBe(0);
    expect(a.broadcast(Channel.proposal, bytes('4'), () => false)).toBe(2);
    await waitFor(() => got.length === 4, 'messages delivered');
    expect(got.sort()).toEqual(['b:2', 'b:4', 'c:1', 'c:4']);
  });

  it('refuses a node of another chain', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const failures: HandshakeFailureInfo[] = [];
    b.onHandshakeFailed((f) => failures.push(f));
    const a = await h.node(keyA, { chainId: 'some-other-chain', persistentPeers: [peerAddress(keyB, b)] });
    await waitFor(() => failures.length >= 2, 'repeated refusals');

    expect(failures.every((f) => f.reason === 'chain-mismatch')).toBe(true);
    expect(a.peers()).toEqual([]);
    expect(b.peers()).toEqual([]);
    expect(a.metrics().handshakesFailed).toBeGreaterThanOrEqual(1);
  });

  it('refuses a node id that is not on the allow-list, and the dialler sees no connection', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const failures: HandshakeFailureInfo[] = [];
    b.onHandshakeFailed((f) => failures.push(f));
    const c = await h.node(keyC, { persistentPeers: [peerAddress(keyB, b)] });
    let cConnected = 0;
    c.onPeerConnected(() => cConnected++);
    await waitFor(() => failures.length >= 2, 'repeated refusals');

    expect(failures[0]).toMatchObject({ direction: 'inbound', reason: 'refused:not-allowed', peerId: nodeId(keyC) });
    expect(b.peers()).toEqual([]);
    expect(cConnected).toBe(0);
  });

  it('the dialler refuses a responder whose node id is not the one it dialled', async () => {
    const c = await h.node(keyC, { allowedPeers: [nodeId(keyA)] });
    // A believes B listens at C's port: C authenticates as C, so A must refuse it.
    const a = await h.node(keyA, { persistentPeers: [{ ...peerAddress(keyB, c), id: nodeId(keyB) }] });
    const failures: HandshakeFailureInfo[] = [];
    a.onHandshakeFailed((f) => failures.push(f));
    await waitFor(() => failures.length >= 1, 'refusal');

    expect(failures[0]).toMatchObject({ direction: 'outbound', reason: 'refused:unexpected-peer', peerId: nodeId(keyC) });
    expect(a.peers()).toEqual([]);
    expect(c.peers()).toEqual([]);
  });

  it('drops the connection when a man in the middle tampers with a frame', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    // Frames a->b: 0 = hello, 1 = identity, 2.. = session frames. Flip one bit of the first session frame.
    const proxyPort = await startProxy(h, b.address().port, (dir, index, frame) => {
      if (dir === 'a->b' && index === 2) {
        const copy = Uint8Array.from(frame);
        copy[0]! ^= 0x01;
        return [copy];
      }
      return [frame];
    });
    const received: string[] = [];
    const dropped: string[] = [];
    b.onMessage((_p, _c, payload) => received.push(text(payload)));
    b.onPeerDisconnected((_p, reason) => dropped.push(reason));
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, { port: proxyPort })] });
    await waitFor(() => a.peers().length === 1, 'a connected through the proxy');

    a.send(nodeId(keyB), Channel.vote, bytes('tampered in transit'));
    await waitFor(() => dropped.length === 1, 'b drops the connection');

    expect(dropped[0]).toBe('decrypt-failed');
    expect(received).toEqual([]);
    // Tampering on the path is not proof the peer misbehaved: disconnect, but no ban by default.
    expect(b.isBanned(nodeId(keyA))).toBe(false);
  });

  it('delivers a replayed frame only once and then drops the connection', async () => {
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    const proxyPort = await startProxy(h, b.address().port, (dir, index, frame) =>
      dir === 'a->b' && index === 2 ? [frame, frame] : [frame],
    );
    const received: string[] = [];
    const dropped: string[] = [];
    b.onMessage((_p, _c, payload) => received.push(text(payload)));
    b.onPeerDisconnected((_p, reason) => dropped.push(reason));
    const a = await h.node(keyA, { persistentPeers: [peerAddress(keyB, { port: proxyPort })] });
    await waitFor(() => a.peers().length === 1, 'a connected through the proxy');

    a.send(nodeId(keyB), Channel.vote, bytes('vote once'));
    await waitFor(() => dropped.length === 1, 'b drops the connection');

    expect(received).toEqual(['vote once']);
    expect(dropped[0]).toBe('decrypt-failed');
  });

  it('keeps exactly one connection, the same on both sides, when two nodes dial each other at once', async () => {
    const a = await h.node(keyA, { allowedPeers: [nodeId(keyB)] });
    const b = await h.node(keyB, { allowedPeers: [nodeId(keyA)] });
    let connectedEvents = 0;
    a.onPeerConnected(() => connectedEvents++);
    b.onPeerConnected(() => connectedEvents++);
    // Same tick: both dial, so two TCP connections race through the handshake.
    a.addPersistentPeer(peerAddress(keyB, b));
    b.addPersistentPeer(peerAddress(keyA, a));
    const settled = () => a.metrics().pendingHandshakes === 0 && b.metrics().pendingHandshakes === 0;
    const sameConnection = () => a.peers()[0]?.localAddress === b.peers()[0]?.address && a.peers()[0]?.address === b.peers()[0]?.localAddress;
    await waitFor(() => settled() && a.peers().length === 1 && b.peers().length === 1 && sameConnection(), 'one shared connection');

    expect(a.metrics().dialAttempts + b.metrics().dialAttempts).toBeGreaterThanOrEqual(2);
    // The surviving connection is the one dialled by the lower node id.
    const lowerIsA = nodeId(keyA) < nodeId(keyB);
    expect(a.peers()[0]!.direction).toBe(lowerIsA ? 'outbound' : 'inbound');
    expect(connectedEvents).toBeGreaterThanOrEqual(2);
    // And it works.
    const got: string[] = [];
    b.onMessage((_p, _c, payload) => got.push(text(payload)));
    a.send(nodeId(keyB), Channel.block, bytes('after dedup'));
    await waitFor(() => got.length === 1, 'delivery after dedup');
    expect(got).toEqual(['after dedup']);
  });
});
