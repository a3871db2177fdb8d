export { Channel, CONTROL_CHANNEL, channelPriority, isAppChannel, type ChannelId } from './channels.js';
export { DecryptError, DirectionalCipher } from './cipher.js';
export { FramedSocket } from './framed-socket.js';
export { encodeFrame, FrameError, FrameReader, LENGTH_PREFIX_BYTES } from './frames.js';
export { chainTag, HandshakeError, performHandshake, PROTOCOL_VERSION, type HandshakeOptions, type HandshakeResult } from './handshake.js';
export {
  newConnectionWins,
  P2PNode,
  type HandshakeFailureInfo,
  type P2PLogger,
  type P2PMetrics,
  type P2PNodeOptions,
  type PeerAddress,
  type PeerStatus,
} from './node.js';
export { OutboundQueue, type QueuedMessage } from './queue.js';
export { TokenBucket } from './rate-limit.js';
export { MIN_SESSION_FRAME_BYTES, type Direction, type RateLimitOptions } from './session.js';
