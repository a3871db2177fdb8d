import { DOMAIN, domainBytes, merkleRoot, sha256 } from '../crypto/hash.js';
import { toHex } from '../util/bytes.js';
import { canonicalBytes, canonicalJson } from '../util/canonical.js';
import { z } from 'zod';
import { hashSchema, safeUintSchema, signedTxJson, signedTxSchema, type SignedTx } from './tx.js';

/** Most transactions a block may carry (the schema refuses more). */
export const MAX_BLOCK_TXS = 100_000;

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
  readonly validator: string;
  readonly timestamp: number;
  readonly signature: string;
}

export interface Commit {
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
  readonly signatures: readonly CommitSig[];
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

/**
 * What a block's evidence says happened, in the terms the state machine acts on: consensus derives
 * it from each verified evidence item (one per item, same order); the host records it and tells
 * the modules (the registry jails the validator).
 */
export interface Misbehaviour {
  kind: 'duplicate-vote';
  validator: string;
  /** Height, round and vote type of the two conflicting votes. */
  height: number;
  round: number;
  vote: 'prevote' | 'precommit';
}

export interface Block {
  header: BlockHeader;
  txs: SignedTx[];
  lastCommit: Commit | null;
  evidence: unknown[];
}

const hash64 = hashSchema;
const safeUint = safeUintSchema;
const commitSchema = z
  .object({
    height: safeUint,
    round: safeUint,
    blockHash: hash64,
    signatures: z.array(z.object({ validator: z.string().max(128), timestamp: safeUint, signature: z.string().regex(/^[0-9a-f]{128}$/) }).strict()).max(10_000),
  })
  .strict();

/** Shape of a block received from a peer (content rules are checked by execution and consensus). */
export const blockSchema = z
  .object({
    header: z
      .object({
        chainId: z.string().max(64),
        height: safeUint,
        time: safeUint,
        prevHash: hash64,
        txRoot: hash64,
        resultRoot: hash64,
        stateRoot: hash64,
        validatorsHash: hash64,
        nextValidatorsHash: hash64,
        lastCommitHash: hash64,
        evidenceHash: hash64,
        proposer: z.string().max(128),
      })
      .strict(),
    txs: z.array(signedTxSchema).max(MAX_BLOCK_TXS),
    lastCommit: commitSchema.nullable(),
    evidence: z.array(z.unknown()).max(1_000),
  })
  .strict();

export const commitShape = commitSchema;

export const ZERO_HASH = '0'.repeat(64);

export function blockHash(header: BlockHeader): string {
  return toHex(sha256(domainBytes(DOMAIN.blockHeader, canonicalBytes(header))));
}

/** Roots already computed for a transaction list (a received block is checked, then executed). */
const txRootCache = new WeakMap<readonly SignedTx[], string>();

export function txRoot(txs: SignedTx[]): string {
  const cached = txRootCache.get(txs);
  if (cached !== undefined) return cached;
  const root = toHex(merkleRoot(txs.map((tx) => signedTxJson(tx))));
  txRootCache.set(txs, root);
  return root;
}

const blockJsonCache = new WeakMap<Block, string>();

/**
 * The block as JSON, computed once per block object and shared by the database, the WAL and every
 * peer the proposal goes to. Transactions are spliced in as their cached encodings (`signedTxJson`:
 * the body in canonical form), so a block of thousands is not stringified field by field again; it
 * parses to the same block as `JSON.stringify(block)`. A block is never changed once built.
 */
export function blockJson(block: Block): string {
  const cached = blockJsonCache.get(block);
  if (cached !== undefined) return cached;
  const txs = block.txs.map((tx) => signedTxJson(tx)).join(',');
  const json = `{"header":${JSON.stringify(block.header)},"txs":[${txs}],"lastCommit":${JSON.stringify(block.lastCommit)},"evidence":${JSON.stringify(block.evidence)}}`;
  blockJsonCache.set(block, json);
  return json;
}

const resultJsonCache = new WeakMap<TxResult, string>();

/** A result's canonical JSON, computed once: its leaf of the result root and its row in the database. */
export function resultJson(result: TxResult): string {
  let json = resultJsonCache.get(result);
  if (json === undefined) {
    json = canonicalJson(result);
    resultJsonCache.set(result, json);
  }
  return json;
}

export function resultRoot(results: TxResult[]): string {
  return toHex(merkleRoot(results.map((r) => resultJson(r))));
}

export function hashOf(value: unknown): string {
  return toHex(sha256(canonicalBytes(value)));
}
