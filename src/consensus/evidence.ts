/** Evidence of equivocation: two conflicting signed votes of one validator. */
import { isWellFormedEvidence, voteSignatureValid, type Vote } from './messages.js';
import type { ValidatorSet } from './validators.js';

export interface DuplicateVoteEvidence {
  readonly kind: 'duplicate-vote';
  readonly voteA: Vote;
  readonly voteB: Vote;
}
export type Evidence = DuplicateVoteEvidence;

// ───────────────────────────── evidence ─────────────────────────────

export function evidenceKey(ev: Evidence): string {
  return `${ev.voteA.validator}/${ev.voteA.height}/${ev.voteA.round}/${ev.voteA.type}`;
}

/** Orders the two votes by block hash (nil first) so the same equivocation always makes the same evidence. */
export function makeEvidence(a: Vote, b: Vote): Evidence {
  const ka = a.blockHash ?? '';
  const kb = b.blockHash ?? '';
  return ka <= kb ? { kind: 'duplicate-vote', voteA: a, voteB: b } : { kind: 'duplicate-vote', voteA: b, voteB: a };
}

export type EvidenceCheck = { ok: true } | { ok: false; reason: 'malformed' | 'not-conflicting' | 'unknown-validator' | 'bad-signature' | 'wrong-chain' };

/** Valid evidence: two correctly signed votes of one validator for the same height/round/type and different blocks. */
export function verifyEvidence(ev: Evidence, valset: ValidatorSet, chainId: string): EvidenceCheck {
  if (!isWellFormedEvidence(ev)) return { ok: false, reason: 'malformed' };
  const { voteA: a, voteB: b } = ev;
  if (a.chainId !== chainId || b.chainId !== chainId) return { ok: false, reason: 'wrong-chain' };
  const same = a.validator === b.validator && a.height === b.height && a.round === b.round && a.type === b.type;
  if (!same || a.blockHash === b.blockHash || (a.blockHash ?? '') > (b.blockHash ?? '')) return { ok: false, reason: 'not-conflicting' };
  const validator = valset.get(a.validator);
  if (!validator) return { ok: false, reason: 'unknown-validator' };
  if (!voteSignatureValid(a, validator) || !voteSignatureValid(b, validator)) return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}
