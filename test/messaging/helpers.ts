import { DEFAULT_MESSAGING_PARAMS, MessagingNode, messageHash, fromWire, type MessagingParams } from '../../src/messaging/index.js';
import { Channel, type PeerSwitch } from '../../src/p2p/index.js';
import { MessagingReactor, type MessagingReactorOptions } from '../../src/runtime/reactors/messaging.js';
import { decode, switchLink } from '../../src/runtime/reactors/wire.js';
import { Harness, nodeId, peerAddress, signer } from '../p2p/helpers.js';
import type { Signer } from '../../src/crypto/ed25519.js';

/** Cheap stamps so tests mint quickly; every rule is the production one. */
export const TEST_PARAMS: MessagingParams = { ...DEFAULT_MESSAGING_PARAMS, referenceTrials: 2000 };
export const FAST_RELAY: Partial<MessagingReactorOptions> = { relayDelayMs: { min: 5, max: 60 }, fallbackDelayMs: 300 };

export interface MsgNode {
  key: Signer;
  id: string;
  p2p: PeerSwitch;
  messaging: MessagingNode;
  reactor: MessagingReactor;
  /** Every message-channel frame this node received: the peer it came from and the message hash. */
  frames: Array<{ from: string; hash: string | null; raw: string }>;
  bans: Array<{ peer: string; reason: string }>;
}

/**
 * A node of the messaging layer as the runtime wires it (NodeNetwork): the peer switch, the
 * messaging node and its reactor on the switch's link; frames of the message channel are decoded
 * and handed to the reactor. The tap records what arrived, as an eavesdropping operator would.
 */
export async function startMessagingNode(h: Harness, seed: number, peers: MsgNode[], allowed: string[], reactorOptions: Partial<MessagingReactorOptions> = {}, params = TEST_PARAMS): Promise<MsgNode> {
  const key = signer(seed);
  const p2p = await h.node(key, { persistentPeers: peers.map((p) => peerAddress(p.key, p.p2p)), allowedPeers: allowed });
  const messaging = new MessagingNode({ params });
  const reactor = new MessagingReactor(
    switchLink(p2p, (peer, reason) => p2p.penalize(peer, reason)),
    messaging,
    { ...FAST_RELAY, ...reactorOptions },
  );
  const node: MsgNode = { key, id: nodeId(key), p2p, messaging, reactor, frames: [], bans: [] };
  p2p.onPeerBanned((peer, reason) => node.bans.push({ peer, reason }));
  p2p.onPeerDisconnected((peer) => reactor.peerGone(peer));
  p2p.onMessage((peer, channel, payload) => {
    if (channel !== Channel.message) return;
    const raw = Buffer.from(payload).toString('utf8');
    let value: unknown;
    try {
      value = decode(payload);
    } catch {
      return p2p.penalize(peer, 'payload is not JSON');
    }
    node.frames.push({ from: peer, hash: hashOf(value), raw });
    reactor.receive(peer, channel, value, payload.byteLength);
  });
  return node;
}

function hashOf(value: unknown): string | null {
  try {
    return messageHash(fromWire(value, TEST_PARAMS));
  } catch {
    return null;
  }
}

/** Four nodes in a full mesh (each dials the ones started before it). */
export async function startMesh(h: Harness, count: number, reactorOptions: Partial<MessagingReactorOptions> = {}, params = TEST_PARAMS): Promise<MsgNode[]> {
  const allowed = Array.from({ length: count + 4 }, (_, i) => nodeId(signer(40 + i)));
  const nodes: MsgNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startMessagingNode(h, 40 + i, [...nodes], allowed, reactorOptions, params));
  return nodes;
}

export function stopAll(nodes: MsgNode[]): void {
  for (const n of nodes) n.reactor.stop();
}
