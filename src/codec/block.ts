import { DOMAIN, domainBytes, merkleRoot, sha256 } from '../crypto/hash.js';
import { toHex } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';
import type { SignedTx } from './tx.js';

export interface BlockHeader {
  chainId: string;
  height: number;
  /** Block time in integer milliseconds since the Unix epoch, chosen by consensus (never a client clock). */
  time: number;
  prevHash: string;
  txRoot: string;
  resultRoot: string;
  /** Commits to the whole application state after executing this block's transactions. */
  stateRoot: string;
  validatorsHash: string;
  nextValidatorsHash: string;
  /** Hash of `lastCommit` (the commit of the previous block carried in this block). */
  lastCommitHash: string;
  evidenceHash: string;
  proposer: string;
}

export interface CommitSig {
  validator: string;
  timestamp: number;
  signature: string;
}

export interface Commit {
  height: number;
  round: number;
  blockHash: string;
  signatures: CommitSig[];
}

export interface TxEvent {
  type: string;
  attributes: Record<string, string>;
}

/** Every transaction in a block gets exactly one committed result. code "OK" or a stable error code. */
export interface TxResult {
  code: string;
  message: string;
  events: TxEvent[];
}

export interface Block {
  header: BlockHeader;
  txs: SignedTx[];
  lastCommit: Commit | null;
  evidence: unknown[];
}

export const ZERO_HASH = '0'.repeat(64);

export function blockHash(header: BlockHeader): string {
  return toHex(sha256(domainBytes(DOMAIN.blockHeader, canonicalBytes(header))));
}

export function txRoot(txs: SignedTx[]): string {
  return toHex(merkleRoot(txs.map((tx) => canonicalBytes(tx))));
}

export function resultRoot(results: TxResult[]): string {
  return toHex(merkleRoot(results.map((r) => canonicalBytes(r))));
}

export function hashOf(value: unknown): string {
  return toHex(sha256(canonicalBytes(value)));
}
