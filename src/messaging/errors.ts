import { defineErrors } from '../util/errors.js';

/** Why a node refuses a message (the API answers with these; the relay drops and may penalise). */
export const MSG_ERRORS = defineErrors('messaging', {
  MSG_MALFORMED: { meaning: 'a message envelope is not of the documented shape (fields, kinds, hex and base64, sizes)' },
  MSG_TOO_LARGE: { status: 413, meaning: 'the message payload exceeds the network maximum (64 KiB)' },
  MSG_TTL_INVALID: { meaning: 'the time to live is not a whole number of seconds between the network minimum and maximum (2 days)' },
  MSG_EXPIRED: { meaning: 'the message expiry has passed' },
  MSG_FROM_FUTURE: { meaning: 'the message was created (expiry minus TTL) later than now plus the allowed clock skew' },
  MSG_BAD_STAMP: { meaning: 'the proof-of-work stamp does not meet the target for this message (size and TTL), or was made for another message' },
  MSG_BAD_SIGNATURE: { meaning: 'a broadcast message does not carry a valid Ed25519 signature of its sender' },
  MSG_STORE_FULL: { status: 503, meaning: 'the node holds its maximum of messages and this one expires before all of them; retry with a longer TTL or later' },
  MSG_NOT_FOR_KEY: { meaning: 'the message cannot be opened with this messaging key (it is addressed to someone else, or damaged)' },
  MSG_ADDRESS_INVALID: { meaning: 'not a messaging address (bech32m "gridmsg1…" of a 32-byte X25519 public key)' },
  MSG_STAMP_GAVE_UP: { meaning: 'no stamp was found within the allowed number of trials' },
});
