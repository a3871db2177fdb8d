/**
 * GridLedger P2P transport (DESIGN.md §2 "Network"): TCP between known nodes, a SIGMA-I/Noise-XX
 * style handshake (X25519 ephemerals, Ed25519 node-key signatures over a transcript that includes the
 * chain id, allow-list of node ids), ChaCha20-Poly1305 frames with implicit per-direction counter
 * nonces, length-prefixed frames with a hard size limit, one bounded priority-aware outbound queue
 * per peer, token-bucket inbound rate limits, bans, keepalive, and reconnect with capped backoff.
 * Start with PeerSwitch (node.ts); the other exports exist for tests and tools.
 */
export { Channel, CONTROL_CHANNEL, channelPriority, isAppChannel, type ChannelId } from './channels.js';
export { DecryptError, DirectionalCipher } from './cipher.js';
export { FramedSocket } from './framed-socket.js';
export { encodeFrame, FrameError, FrameReader, LENGTH_PREFIX_BYTES } from './frames.js';
export { chainTag, HandshakeError, performHandshake, PROTOCOL_VERSION, type HandshakeOptions, type HandshakeResult } from './handshake.js';
export {
  newConnectionWins,
  PeerSwitch,
  type HandshakeFailureInfo,
  type P2PLogger,
  type P2PMetrics,
  type PeerSwitchOptions,
  type PeerAddress,
  type PeerStatus,
} from './switch.js';
export { OutboundQueue, type QueuedMessage } from './queue.js';
export { TokenBucket } from './rate-limit.js';
export { MIN_SESSION_FRAME_BYTES, type Direction, type RateLimitOptions } from './session.js';
