import { defineErrors } from '../util/errors.js';

export const P2P_ERRORS = defineErrors('p2p', {
  P2P_ALREADY_STARTED: { meaning: 'the peer switch was started twice' },
  P2P_NOT_LISTENING: { meaning: 'the peer switch is not listening (not started, or stopped)' },
  P2P_UNKNOWN_CHANNEL: { meaning: 'a message was sent on a channel the protocol does not have' },
  P2P_MESSAGE_TOO_LARGE: { meaning: 'a message exceeds the frame size limit' },
  P2P_BAD_CONFIG: { meaning: 'the peer switch configuration is invalid (frame limit, node ids)' },
  P2P_NONCE_EXHAUSTED: { meaning: "a connection's cipher counter is exhausted; the connection must be renewed" },
});
