import type { BitcoinMerkleBranch } from '../merkle.js';
import type { AnchorUtxo } from '../wallet/builder.js';

/**
 * One interface for the three ways the anchor service reaches Bitcoin: a Bitcoin Core node over
 * JSON-RPC, an Esplora REST server, or nobody (offline: files for someone to broadcast by hand).
 * Hashes are display-order hex throughout, as both protocols show them.
 */

export interface AnchorBroadcastRequest {
  /** The checkpoint height the transaction anchors (names the offline files). */
  height: number;
  txid: string;
  rawHex: string;
  psbtBase64?: string;
}

export interface BroadcastResult {
  txid: string;
  /** Where the transaction went: the endpoint, or the files written. */
  locations: string[];
}

export interface UnspentOutput extends AnchorUtxo {
  /** False for an output still in the mempool (Esplora lists those; Core's UTXO-set scan does not). */
  confirmed: boolean;
}

/** Everything needed to record "the including block" and verify it (verifyAnchorInclusion / verifyAnchor). */
export interface TxInclusion {
  blockHash: string;
  blockHeight: number;
  /** The header's time field (Unix seconds). */
  blockTime: number;
  /** The 80-byte block header, hex. */
  blockHeader: string;
  branch: BitcoinMerkleBranch;
}

export type BitcoinBackendKind = 'bitcoind-rpc' | 'esplora' | 'offline';

export interface BitcoinBackend {
  readonly kind: BitcoinBackendKind;
  /** Sends (or, offline, writes) a signed transaction. Re-sending one the endpoint already knows succeeds. */
  broadcast(tx: AnchorBroadcastRequest): Promise<BroadcastResult>;
  /** Unspent outputs paying `address`. */
  listUnspent(address: string): Promise<UnspentOutput[]>;
  /** The raw transaction (hex), or undefined when the endpoint does not know it. */
  getRawTransaction(txid: string): Promise<string | undefined>;
  /** Block, header and Merkle branch of a confirmed transaction; undefined while it is unconfirmed or unknown. */
  getInclusion(txid: string): Promise<TxInclusion | undefined>;
  /** The 80-byte header (hex) of a block. */
  getBlockHeader(blockHash: string): Promise<string>;
}
