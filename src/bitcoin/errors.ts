import { defineErrors } from '../util/errors.js';

/**
 * Error codes of the Bitcoin anchoring library (used by the `anchor` module and the anchor service).
 * Verification failures are precise so `verify anchor` can say exactly what did not match. Scope
 * `bitcoin`: the `anchor` module declares its own rules' codes in src/modules/anchor/errors.ts.
 */
export const ANCHOR_ERRORS = defineErrors('bitcoin', {
  // Checkpoint payload and digest (ledger side, deterministic)
  ANCHOR_CHECKPOINT_INVALID: { meaning: 'a checkpoint field is out of range (height not a safe non-negative integer, a hash not 32 bytes of lowercase hex)' },
  ANCHOR_PAYLOAD_MALFORMED: { meaning: 'an OP_RETURN payload is not a GridLedger checkpoint payload (wrong length or prefix)' },
  ANCHOR_PAYLOAD_VERSION_UNSUPPORTED: { meaning: 'the checkpoint payload carries a version byte this node does not know' },
  ANCHOR_PAYLOAD_MISMATCH: { meaning: 'the payload in the Bitcoin transaction is not the checkpoint recomputed from the ledger' },
  ANCHOR_INCLUSION_PATH_INVALID: { meaning: 'an inclusion path from an item to a checkpoint is malformed or does not lead to the committed root' },
  // Bitcoin transactions
  ANCHOR_BTC_TX_MALFORMED: { meaning: 'bytes that do not decode as exactly one canonical Bitcoin transaction' },
  ANCHOR_BTC_TX_TOO_LARGE: { meaning: 'a raw Bitcoin transaction above the size this library parses (400,000 bytes)' },
  ANCHOR_BTC_NO_OP_RETURN: { meaning: 'the Bitcoin transaction has no OP_RETURN output' },
  ANCHOR_BTC_MULTIPLE_OP_RETURN: { meaning: 'the Bitcoin transaction has more than one OP_RETURN output, so its payload is ambiguous' },
  ANCHOR_BTC_OP_RETURN_MALFORMED: { meaning: 'the OP_RETURN output is not OP_RETURN followed by exactly one minimal data push' },
  ANCHOR_BTC_TXID_MISMATCH: { meaning: 'the raw transaction does not hash to the txid it was recorded with' },
  // Bitcoin Merkle branches and headers
  ANCHOR_BTC_MERKLE_BRANCH_INVALID: { meaning: 'a Bitcoin Merkle branch is malformed, has the wrong length for the block, or carries the duplicate-node ambiguity (CVE-2012-2459)' },
  ANCHOR_BTC_MERKLE_ROOT_MISMATCH: { meaning: 'the Merkle branch of the txid does not lead to the block header\'s Merkle root' },
  ANCHOR_BTC_TXIDS_INVALID: { meaning: 'a block\'s transaction list is empty, malformed or mutated (duplicate adjacent hashes)' },
  ANCHOR_BTC_HEADER_MALFORMED: { meaning: 'a Bitcoin block header that is not exactly 80 bytes' },
  ANCHOR_BTC_BITS_INVALID: { meaning: 'the compact target (bits) of a header is negative, zero, overflows 256 bits or exceeds the network\'s proof-of-work limit' },
  ANCHOR_BTC_POW_INVALID: { meaning: 'the block header\'s hash is above the target its bits claim' },
  ANCHOR_BTC_BLOCK_HASH_MISMATCH: { meaning: 'the block header does not hash to the block hash it was recorded with' },
  // Wallet and transaction building (anchor service)
  ANCHOR_WALLET_INVALID: { meaning: 'wallet parameters out of range (seed length, network, account, address count or index)' },
  ANCHOR_UTXO_INVALID: { meaning: 'a UTXO given to the transaction builder is malformed, duplicated or not of the sender address' },
  ANCHOR_FEE_RATE_INVALID: { meaning: 'the fee rate is not an integer number of sat/vB between 1 and 100,000' },
  ANCHOR_AMOUNT_INVALID: { meaning: 'the amount to send is below the dust threshold or not a positive integer of satoshis' },
  ANCHOR_INSUFFICIENT_FUNDS: { meaning: 'the sender\'s UTXOs do not cover the amount, the fee and a non-dust output to the receiver' },
  // Backends (I/O)
  ANCHOR_BACKEND_UNREACHABLE: { status: 502, meaning: 'the Bitcoin endpoint (Core JSON-RPC or Esplora) could not be reached or timed out' },
  ANCHOR_BACKEND_REJECTED: { status: 502, meaning: 'the Bitcoin endpoint refused the request (e.g. sendrawtransaction rejected the transaction)' },
  ANCHOR_BACKEND_BAD_RESPONSE: { status: 502, meaning: 'the Bitcoin endpoint answered with something that is not what the protocol promises' },
  ANCHOR_BACKEND_OFFLINE: { meaning: 'the offline backend only writes transactions to a folder; it cannot query the Bitcoin network' },
  ANCHOR_OFFLINE_WRITE_FAILED: { status: 500, meaning: 'the offline backend could not write the transaction files (or a different file of the same name exists)' },
});

export type AnchorErrors = typeof ANCHOR_ERRORS;
