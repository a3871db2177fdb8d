/** Evidence of equivocation: two conflicting signed votes of one validator. */
import type { Misbehaviour } from '../codec/block.js';
import { isWellFormedEvidence, voteSignatureValid, type Vote } from './messages.js';
import type { ValidatorSet } from './validators.js';

/**
 * Evidence stays committable for this many heights after the equivocation: long enough for it to
 * reach a proposer over gossip after partitions and restarts, short enough that the validator sets
 * it is checked against are at hand.
 */
export const EVIDENCE_WINDOW = 100;
/** At most this many evidence items per block (the rest wait for the next blocks). */
export const MAX_EVIDENCE_PER_BLOCK = 50;

export interface DuplicateVoteEvidence {
  readonly kind: 'duplicate-vote';
  readonly voteA: Vote;
  readonly voteB: Vote;
}
export type Evidence = DuplicateVoteEvidence;

// ───────────────────────────── evidence ─────────────────────────────

export function evidenceKey(ev: Evidence): string {
  return misbehaviourKey(misbehaviourOf(ev));
}

/** One equivocation (validator, height, round, vote type) has one key, whichever votes prove it. */
export function misbehaviourKey(m: Misbehaviour): string {
  return `${m.validator}/${m.height}/${m.round}/${m.vote}`;
}

/** What the state machine acts on for a (well-formed) evidence item. */
export function misbehaviourOf(ev: Evidence): Misbehaviour {
  const v = ev.voteA;
  return { kind: 'duplicate-vote', validator: v.validator, height: v.height, round: v.round, vote: v.type };
}

/**
 * The heights a block at `height` may still commit evidence from, with the validator sets that
 * decided them (runs of heights with the same members share one set), and the evidence of those
 * heights already committed. Plain data: the engine logs it in the WAL with the height's start.
 */
export interface EvidenceWindow {
  /** The oldest height whose evidence is still committable. */
  readonly fromHeight: number;
  /** Sets for heights fromHeight … height−1 (inclusive ranges, ascending). */
  readonly sets: readonly { readonly fromHeight: number; readonly toHeight: number; readonly validators: ValidatorSet }[];
  /** Keys (evidenceKey) of evidence already committed from those heights. */
  readonly committed: readonly string[];
}

/** The set that decided `height` according to the window (undefined when outside it). */
export function windowValset(window: EvidenceWindow, height: number): ValidatorSet | undefined {
  return window.sets.find((s) => s.fromHeight <= height && height <= s.toHeight)?.validators;
}

/** Members only (address, key, power): proposer priorities change every height, membership rarely. */
function membership(set: ValidatorSet): string {
  return set.validators.map((v) => `${v.address}:${v.pubKey}:${v.power}`).join(',');
}

/**
 * Builds the window for a block at `height` from the sets of the heights before it (`valsetAt`
 * is asked only for heights in the window) and the keys already committed.
 */
export function buildEvidenceWindow(height: number, valsetAt: (h: number) => ValidatorSet, committed: readonly string[], size = EVIDENCE_WINDOW): EvidenceWindow {
  const fromHeight = Math.max(1, height - size);
  const sets: { fromHeight: number; toHeight: number; validators: ValidatorSet; members: string }[] = [];
  for (let h = fromHeight; h < height; h++) {
    const validators = valsetAt(h);
    const members = membership(validators);
    const last = sets[sets.length - 1];
    if (last && last.members === members) last.toHeight = h;
    else sets.push({ fromHeight: h, toHeight: h, validators, members });
  }
  return { fromHeight, sets: sets.map(({ fromHeight: f, toHeight, validators }) => ({ fromHeight: f, toHeight, validators })), committed };
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
