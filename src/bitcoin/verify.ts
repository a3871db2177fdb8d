import { verifyCheckpointPayload, type Checkpoint, type CheckpointPayload } from './checkpoint.js';
import { ANCHOR_ERRORS as E } from './errors.js';
import { parseBlockHeader, verifyBlockHeaderPow, type BitcoinBlockHeader } from './header.js';
import { verifyBitcoinMerkleBranch, type BitcoinMerkleBranch } from './merkle.js';
import type { BitcoinNetwork } from './network.js';
import { findOpReturnPayload, parseBitcoinTx, type ParsedBitcoinTx } from './tx.js';

/**
 * End-to-end anchor verification, pure: the ledger's checkpoint ↔ the Bitcoin transaction's
 * OP_RETURN ↔ the txid ↔ the Merkle branch ↔ the block header (↔ its proof of work).
 * The state machine runs the first two steps when an operator records an anchor (and the branch once
 * the block is known); `gridledger verify anchor` runs them all. Each failure has its own code.
 */

export interface AnchorTxCheck {
  tx: ParsedBitcoinTx;
  outputIndex: number;
  payload: CheckpointPayload;
}

/**
 * The raw transaction hashes to `txid`, has exactly one well-formed OP_RETURN, and its payload is the
 * checkpoint recomputed from the ledger. A 64-byte transaction (without witness) is refused: it could
 * pose as an inner Merkle node.
 */
export function verifyAnchorTx(rawTx: Uint8Array | string, txid: string, checkpoint: Checkpoint): AnchorTxCheck {
  const tx = parseBitcoinTx(rawTx);
  if (tx.txid !== txid) throw E.ANCHOR_BTC_TXID_MISMATCH(`raw transaction has txid ${tx.txid}, recorded as ${txid}`);
  if (tx.strippedSize === 64) throw E.ANCHOR_BTC_TX_MALFORMED('a 64-byte transaction is indistinguishable from an inner Merkle node and is not accepted as an anchor');
  const { outputIndex, payload } = findOpReturnPayload(tx);
  return { tx, outputIndex, payload: verifyCheckpointPayload(payload, checkpoint) };
}

export interface AnchorInclusion {
  /** The 80-byte header of the including block (hex or bytes). */
  blockHeader: Uint8Array | string;
  /** The block hash as recorded; must be the header's hash. */
  blockHash: string;
  branch: BitcoinMerkleBranch;
}

/** The header hashes to `blockHash` and the txid's branch leads to the header's Merkle root. No proof-of-work check. */
export function verifyAnchorInclusion(txid: string, inclusion: AnchorInclusion): BitcoinBlockHeader {
  const header = parseBlockHeader(inclusion.blockHeader);
  if (header.hash !== inclusion.blockHash) throw E.ANCHOR_BTC_BLOCK_HASH_MISMATCH(`block header hashes to ${header.hash}, recorded as ${inclusion.blockHash}`);
  verifyBitcoinMerkleBranch(txid, inclusion.branch, header.merkleRoot);
  return header;
}

export interface AnchorEvidence extends AnchorInclusion {
  checkpoint: Checkpoint;
  rawTx: Uint8Array | string;
  txid: string;
}

export interface AnchorVerification extends AnchorTxCheck {
  header: BitcoinBlockHeader & { target: bigint; work: bigint };
}

/** Everything: transaction and payload, inclusion, and the header's proof of work (on `network`, with an optional floor `maxTarget`). */
export function verifyAnchor(e: AnchorEvidence, opts: { network: BitcoinNetwork; maxTarget?: bigint }): AnchorVerification {
  const txCheck = verifyAnchorTx(e.rawTx, e.txid, e.checkpoint);
  verifyAnchorInclusion(e.txid, e);
  const header = verifyBlockHeaderPow(e.blockHeader, opts);
  return { ...txCheck, header };
}
