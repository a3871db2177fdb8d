import { defineErrors } from '../util/errors.js';

/** Errors of transactions and blocks: their format, admission and validity. */

export const TX_ERRORS = defineErrors('tx', {
  TX_MALFORMED: { meaning: 'the transaction is not a well-formed signed transaction (JSON shape, encodings, limits)' },
  TX_TOO_LARGE: { status: 413, meaning: 'the encoded transaction exceeds 64 KiB' },
  TX_BAD_SIGNATURE: { meaning: 'the signature does not verify for the transaction body and public key' },
  TX_SENDER_KEY_MISMATCH: { meaning: 'the public key does not belong to the sender address' },
  TX_WRONG_CHAIN: { meaning: 'the transaction names another chain id' },
  TX_EXPIRED: { meaning: 'the transaction expired: its expiry height is not above the current height' },
  TX_NONCE_USED: { meaning: 'the nonce was already used by a committed transaction of the sender' },
  TX_NONCE_TOO_HIGH: { meaning: "the nonce is beyond the mempool's window above the sender's next nonce" },
  TX_NONCE_MISMATCH: { meaning: "in a block, the nonce must equal the sender's next nonce" },
  TX_UNKNOWN_MSG_TYPE: { meaning: 'a message type no active module handles' },
  MSG_INVALID: { meaning: "a message value does not match its type's schema" },
  TX_DUPLICATE: { status: 409, meaning: 'the same transaction is already pending (or twice in one batch)' },
  TX_ALREADY_COMMITTED: { status: 409, meaning: 'the same transaction was already committed' },
  TX_NONCE_PENDING: { status: 409, meaning: 'another pending transaction of the sender already uses this nonce' },
  TX_NOT_FOUND: { status: 404, meaning: 'no pending or committed transaction with that hash' },
  TX_NOT_COMMITTED: { meaning: 'the transaction was not committed within the wait time' },
  MEMPOOL_FULL: { status: 503, meaning: 'the mempool holds its maximum number of transactions or bytes; retry later' },
});

export const BLOCK_ERRORS = defineErrors('block', {
  BLOCK_INVALID_TX: { meaning: 'a block carries a transaction that breaks a validity rule (signature, chain id, expiry, nonce)' },
  BLOCK_INVALID_HEIGHT: { meaning: 'a block was executed for a height other than the next one' },
  BLOCK_EVIDENCE_INVALID: { meaning: 'a block carries evidence that is not well formed' },
  BLOCK_EVIDENCE_COMMITTED: { meaning: 'a block carries evidence of an equivocation an earlier block already committed' },
  BLOCK_INVALID: { status: 500, meaning: 'a decided block failed re-execution on this node (storage or determinism fault)' },
  BLOCK_NOT_FOUND: { status: 404, meaning: 'no block at that height' },
  BLOCK_SYNC_BAD_COMMIT: { meaning: 'a block served by block sync carries a commit that does not verify' },
  BLOCK_SYNC_INVALID_BLOCK: { meaning: 'a block served by block sync does not re-execute to its header' },
  BLOCK_SYNC_UNAPPENDABLE: { meaning: 'a block served by block sync is not the next height' },
  GENESIS_MISMATCH: { status: 500, meaning: 'genesis.json differs from the genesis this database was created with' },
  GENESIS_TZ_TABLE_MISMATCH: { status: 500, meaning: 'genesis names a time-zone table (version and hash) other than the one this node ships; run the release the chain uses' },
});
