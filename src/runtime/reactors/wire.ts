import type { ChannelId, PeerSwitch } from '../../p2p/index.js';
import { NO_PHASES, type PhaseTimer } from '../../util/phase-meter.js';

/**
 * A payload already encoded as JSON (e.g. a proposal around its block's cached JSON, a batch of
 * transactions' cached encodings): sent as is instead of being stringified again.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

/** Payloads are JSON: every reactor encodes with `encode`; the network decodes once per frame. */
export function encode(value: unknown): Uint8Array {
  return Buffer.from(value instanceof RawJson ? value.json : JSON.stringify(value), 'utf8');
}

export function decode(payload: Uint8Array): unknown {
  return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
}

/** What a reactor sees of the network: send on its channels, and punish a peer that sent garbage. */
export interface ReactorLink {
  send(peerId: string, channel: ChannelId, value: unknown): void;
  /** To every connected peer but `except` (one peer, or those for which it returns true); encoded once. */
  broadcast(channel: ChannelId, value: unknown, except?: string | ((peerId: string) => boolean)): void;
  penalize(peerId: string, reason: string): void;
  connectedPeers(): string[];
}

/** One concern of the node on the wire: owns its channels, checks the shape of what arrives, penalises. */
export interface Reactor {
  readonly channels: readonly ChannelId[];
  receive(peerId: string, channel: ChannelId, value: unknown, bytes: number): void;
  peerConnected?(peerId: string): void;
  peerGone?(peerId: string): void;
  stop?(): void;
}

/** True when `x` is a plain object with exactly these own keys. */
export function hasExactly(x: unknown, keys: readonly string[]): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const own = Object.keys(x);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(x, k));
}

/** The link of reactors running on a peer switch (payloads JSON-encoded once per send; encoding and sealing timed as `p2p.send`). */
export function switchLink(p2p: PeerSwitch, penalize: (peerId: string, reason: string) => void, phases: PhaseTimer = NO_PHASES): ReactorLink {
  return {
    send: (peer, channel, value) => phases.time('p2p.send', () => void p2p.send(peer, channel, encode(value))),
    broadcast: (channel, value, except) => phases.time('p2p.send', () => void p2p.broadcast(channel, encode(value), except)),
    penalize,
    connectedPeers: () => p2p.peers().map((p) => p.id),
  };
}
