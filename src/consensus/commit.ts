/** Commits: verification against a validator set, and block time from the commit's timestamps. */
import type { Commit, CommitSig } from '../codec/block.js';

/** A commit (precommits of more than 2/3 of the power for one block) is part of the block format. */
export type { Commit, CommitSig };
import { hasTwoThirds } from './intmath.js';
import { isWellFormedCommit, voteSignatureValid, type Vote } from './messages.js';
import type { ValidatorSet } from './validators.js';

// ───────────────────────────── commits and time ─────────────────────────────

export type CommitRejectReason =
  | 'malformed'
  | 'wrong-height'
  | 'wrong-block'
  | 'unknown-validator'
  | 'duplicate-validator'
  | 'bad-signature'
  | 'insufficient-power';

export type CommitCheck = { ok: true; signedPower: bigint } | { ok: false; reason: CommitRejectReason; detail: string };

export function commitVote(commit: Commit, sig: CommitSig, chainId: string): Vote {
  return {
    chainId,
    type: 'precommit',
    height: commit.height,
    round: commit.round,
    blockHash: commit.blockHash,
    timestamp: sig.timestamp,
    validator: sig.validator,
    signature: sig.signature,
  };
}

/**
 * Checks that a commit carries valid precommits of more than 2/3 of `valset`'s power for its block.
 * Optionally also pins the height and block hash the caller expects. Never throws.
 */
export function verifyCommit(
  commit: Commit,
  valset: ValidatorSet,
  chainId: string,
  expect: { height?: number; blockHash?: string } = {},
): CommitCheck {
  if (!isWellFormedCommit(commit)) return { ok: false, reason: 'malformed', detail: 'commit is not well formed' };
  if (expect.height !== undefined && commit.height !== expect.height) {
    return { ok: false, reason: 'wrong-height', detail: `commit is for height ${commit.height}, expected ${expect.height}` };
  }
  if (expect.blockHash !== undefined && commit.blockHash !== expect.blockHash) {
    return { ok: false, reason: 'wrong-block', detail: 'commit is for another block' };
  }
  const seen = new Set<string>();
  let power = 0n;
  for (const sig of commit.signatures) {
    const validator = valset.get(sig.validator);
    if (!validator) return { ok: false, reason: 'unknown-validator', detail: `${sig.validator} is not in the validator set` };
    if (seen.has(sig.validator)) return { ok: false, reason: 'duplicate-validator', detail: `${sig.validator} signed twice` };
    seen.add(sig.validator);
    if (!voteSignatureValid(commitVote(commit, sig, chainId), validator)) {
      return { ok: false, reason: 'bad-signature', detail: `signature of ${sig.validator} is invalid` };
    }
    power += validator.power;
  }
  if (!hasTwoThirds(power, valset.totalPower)) {
    return { ok: false, reason: 'insufficient-power', detail: `signed power ${power} of ${valset.totalPower} is not more than 2/3` };
  }
  return { ok: true, signedPower: power };
}
