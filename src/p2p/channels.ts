/**
 * Message channels of the P2P layer. Every frame carries one channel byte followed by opaque payload
 * bytes; decoding the payload is the caller's job. Channel 0 is reserved for the transport's own
 * control messages (handshake ack, keepalive ping) and is never delivered to handlers.
 */
export const Channel = {
  tx: 1,
  proposal: 2,
  block: 3,
  vote: 4,
  syncRequest: 5,
  syncResponse: 6,
  evidence: 7,
  /** Encrypted messages (off the ledger; src/messaging). */
  message: 8,
} as const;

export type ChannelId = (typeof Channel)[keyof typeof Channel];

export const CONTROL_CHANNEL = 0;

/** Control message types (first payload byte on the control channel). */
export const Control = {
  ack: 1,
  ping: 2,
} as const;

const APP_CHANNELS: ReadonlySet<number> = new Set(Object.values(Channel));

export function isAppChannel(value: number): value is ChannelId {
  return APP_CHANNELS.has(value);
}

/**
 * Drop priority when a peer's outbound queue is full (higher = kept longer). Transactions and
 * messages are re-gossiped and re-submittable, so they go first; sync traffic is re-requested by the syncer;
 * consensus messages (proposal, vote) and evidence are the last to go because losing them costs a
 * round.
 */
export function channelPriority(channel: number): number {
  switch (channel) {
    case Channel.tx:
    case Channel.message:
      return 0;
    case Channel.syncRequest:
    case Channel.syncResponse:
      return 1;
    case Channel.block:
    case Channel.evidence:
      return 2;
    default:
      // proposal, vote, control
      return 3;
  }
}
