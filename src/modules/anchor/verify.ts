import {
  chainIdHash,
  checkpointDigest,
  verifyAnchorInclusion,
  verifyAnchorTx,
  verifyBlockHeaderPow,
  type BitcoinNetwork,
  type Checkpoint,
} from '../../bitcoin/index.js';
import { LedgerError } from '../../util/errors.js';
import { E } from './errors.js';
import type { AnchorRecord, AnchorStatus, CheckpointRecord } from './state.js';

/**
 * Verification of one checkpoint's anchor, step by step, shared by `gridledger verify anchor` (which
 * recomputes the ledger side from blocks fetched over the API) and the API's verification route (which
 * uses the values the ledger recorded). Pure; each failing step names the code and what differed.
 *
 *   checkpoint   the recorded checkpoint equals the one recomputed from the ledger (chain id, block hash,
 *                state root, interval root) and its digest is the digest of those values
 *   anchor       an anchor transaction is recorded
 *   transaction  the raw transaction parses and hashes to the recorded txid
 *   op_return    its single OP_RETURN carries exactly the recomputed checkpoint (payload = "GRDL" 01 height digest)
 *   inclusion    the including block is recorded; its header hashes to the recorded block hash and the
 *                txid's Merkle branch leads to the header's Merkle root
 *   proof_of_work the header's hash is at most the target its bits claim, within the network's limit
 */

export type CheckName = 'checkpoint' | 'anchor' | 'transaction' | 'op_return' | 'inclusion' | 'proof_of_work';
export const CHECKS: readonly CheckName[] = ['checkpoint', 'anchor', 'transaction', 'op_return', 'inclusion', 'proof_of_work'];

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  detail: string;
}

export interface AnchoredIn {
  blockHeight: number;
  blockHash: string;
  /** The header's time (Unix seconds). */
  time: number;
}

export interface VerificationReport {
  height: number;
  ok: boolean;
  status: AnchorStatus;
  network: BitcoinNetwork;
  digest: string;
  /** The checks run, in order; verification stops at the first failure. */
  checks: CheckResult[];
  failure?: { check: CheckName; code: string; message: string };
  anchoredIn?: AnchoredIn;
  txid?: string;
  /** Where the header checked came from: the ledger's record, a file, or a Bitcoin endpoint. */
  headerSource?: string;
}

/** The ledger-side values of a checkpoint as the verifier recomputed them. */
export type LedgerCheckpoint = Checkpoint;

export interface VerifyInput {
  /** The checkpoint as recomputed from the ledger (chain, blocks, items). */
  ledger: LedgerCheckpoint;
  /** The checkpoint the anchor module recorded. */
  recorded: CheckpointRecord;
  anchor: AnchorRecord | undefined;
  network: BitcoinNetwork;
  /** Check this raw transaction instead of the recorded one (e.g. one found in Bitcoin). */
  rawTx?: string;
  /** Check this header instead of the recorded one (from a file or a Bitcoin endpoint). */
  header?: { hex: string; source: string };
  /** Refuse headers whose target is easier than this. */
  maxTarget?: bigint;
  /** A further ledger-side check run first in the checkpoint step (e.g. the next block links to the hash). */
  ledgerCheck?: () => void;
}

const FIELDS = ['blockHash', 'stateRoot', 'intervalRoot'] as const;
const FIELD_NAMES: Record<(typeof FIELDS)[number], string> = { blockHash: 'block hash', stateRoot: 'state root', intervalRoot: 'interval root' };

/** Throws ANCHOR_CHECKPOINT_MISMATCH naming the first recorded value that differs from the ledger's. */
export function compareCheckpoint(ledger: LedgerCheckpoint, recorded: CheckpointRecord): string {
  if (ledger.height !== recorded.height) throw E.ANCHOR_CHECKPOINT_MISMATCH(`recorded checkpoint is for height ${recorded.height}, the ledger block is ${ledger.height}`);
  const idHash = chainIdHash(ledger.chainId);
  if (idHash !== recorded.chainIdHash) throw E.ANCHOR_CHECKPOINT_MISMATCH(`recorded chain id hash ${recorded.chainIdHash} is not SHA-256 of chain id ${JSON.stringify(ledger.chainId)} (${idHash})`);
  for (const field of FIELDS) {
    if (ledger[field] !== recorded[field]) {
      throw E.ANCHOR_CHECKPOINT_MISMATCH(`${FIELD_NAMES[field]} of block ${ledger.height}: the checkpoint recorded ${recorded[field]}, the ledger has ${ledger[field]}`);
    }
  }
  const digest = checkpointDigest(ledger);
  if (digest !== recorded.digest) throw E.ANCHOR_CHECKPOINT_MISMATCH(`recorded digest ${recorded.digest} differs from the digest ${digest} of the recorded values`);
  return digest;
}

function statusOfRecord(anchor: AnchorRecord | undefined): AnchorStatus {
  if (!anchor) return 'pending';
  return anchor.confirmation ? 'confirmed' : 'recorded';
}

export function verifyCheckpointAnchor(input: VerifyInput): VerificationReport {
  const { ledger, recorded, anchor, network } = input;
  const report: VerificationReport = { height: ledger.height, ok: false, status: statusOfRecord(anchor), network, digest: checkpointDigest(ledger), checks: [] };
  const step = (name: CheckName, run: () => string): boolean => {
    try {
      report.checks.push({ name, ok: true, detail: run() });
      return true;
    } catch (err) {
      if (!(err instanceof LedgerError)) throw err;
      report.checks.push({ name, ok: false, detail: `${err.code}: ${err.message}` });
      report.failure = { check: name, code: err.code, message: err.message };
      return false;
    }
  };
  if (!step('checkpoint', () => {
    input.ledgerCheck?.();
    return `digest ${compareCheckpoint(ledger, recorded)} of block ${ledger.height} (${recorded.itemCount} items)`;
  })) return report;
  if (!step('anchor', () => requireAnchor(anchor, ledger.height).txid)) return report;
  const a = anchor!;
  report.txid = a.txid;
  const rawTx = input.rawTx ?? a.rawTx;
  let opReturn = '';
  if (!step('transaction', () => {
    const check = verifyAnchorTx(rawTx, a.txid, ledger);
    opReturn = `output ${check.outputIndex} carries "GRDL" version ${check.payload.version}, height ${check.payload.height}, digest ${check.payload.digest}`;
    return `${check.tx.txid} (${check.tx.vsize} vB, ${check.tx.inputs.length} inputs, ${check.tx.outputs.length} outputs)`;
  })) {
    moveTxFailure(report);
    return report;
  }
  step('op_return', () => opReturn);
  const confirmation = a.confirmation;
  const header = input.header?.hex ?? confirmation?.blockHeader;
  report.headerSource = input.header?.source ?? (confirmation ? 'ledger record' : undefined);
  if (!step('inclusion', () => {
    if (!confirmation) throw E.ANCHOR_NOT_CONFIRMED(`the anchor transaction ${a.txid} of checkpoint ${ledger.height} has no recorded including block yet`);
    const parsed = verifyAnchorInclusion(a.txid, { blockHeader: header!, blockHash: confirmation.blockHash, branch: confirmation.branch });
    return `block ${confirmation.blockHeight} ${parsed.hash}: branch of ${confirmation.branch.siblings.length} hashes leads to Merkle root ${parsed.merkleRoot} (tx ${confirmation.branch.index} of ${confirmation.branch.txCount})`;
  })) return report;
  if (!step('proof_of_work', () => {
    const pow = verifyBlockHeaderPow(header!, { network, ...(input.maxTarget !== undefined ? { maxTarget: input.maxTarget } : {}) });
    return `hash ${pow.hash} ≤ target of bits 0x${pow.bits.toString(16).padStart(8, '0')} (${network}; about ${pow.work} hashes of work)`;
  })) return report;
  report.anchoredIn = { blockHeight: confirmation!.blockHeight, blockHash: confirmation!.blockHash, time: confirmation!.blockTime };
  report.ok = true;
  return report;
}

function requireAnchor(anchor: AnchorRecord | undefined, height: number): AnchorRecord {
  if (!anchor) throw E.ANCHOR_NOT_ANCHORED(`no anchor transaction is recorded for checkpoint ${height}`);
  return anchor;
}

/** A payload or OP_RETURN failure is reported under op_return, where a reader looks for it. */
function moveTxFailure(report: VerificationReport): void {
  const failure = report.failure;
  if (!failure || !/^ANCHOR_(PAYLOAD_|BTC_NO_OP_RETURN|BTC_MULTIPLE_OP_RETURN|BTC_OP_RETURN_MALFORMED)/.test(failure.code)) return;
  const last = report.checks[report.checks.length - 1]!;
  report.checks[report.checks.length - 1] = { name: 'transaction', ok: true, detail: 'parses, hashes to the recorded txid' };
  report.checks.push({ ...last, name: 'op_return' });
  report.failure = { ...failure, check: 'op_return' };
}
