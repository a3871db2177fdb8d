import type { Commit, CommitSig } from '../codec/block.js';
import { canonicalBytes } from '../util/canonical.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { LedgerError } from '../util/errors.js';
import { DOMAIN, domainBytes, sha256 } from '../crypto/hash.js';
import { verifySignature } from '../crypto/ed25519.js';
import { addressFromPublicKey } from '../crypto/address.js';
import { ceilDiv, floorDiv, hasTwoThirds, maxInt, truncDiv } from './intmath.js';

// ───────────────────────────── messages ─────────────────────────────

export interface Validator {
  readonly address: string;
  /** Ed25519 public key, 32 bytes as lowercase hex. */
  readonly pubKey: string;
  readonly power: bigint;
}

export type VoteType = 'prevote' | 'precommit';

export interface Vote {
  readonly chainId: string;
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  /** Hex hash of the block voted for; null is a vote for nil. */
  readonly blockHash: string | null;
  /** Integer milliseconds since the Unix epoch, taken from the driver's clock. */
  readonly timestamp: number;
  readonly validator: string;
  readonly signature: string;
}
export type UnsignedVote = Omit<Vote, 'signature'>;

export interface Proposal {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  /** Round of the proof-of-lock (2/3 prevotes) for this block, −1 if none. */
  readonly polRound: number;
  readonly blockHash: string;
  readonly timestamp: number;
  readonly proposer: string;
  readonly signature: string;
}
export type UnsignedProposal = Omit<Proposal, 'signature'>;

/** A commit (precommits of more than 2/3 of the power for one block) is part of the block format. */
export type { Commit, CommitSig };

export interface DuplicateVoteEvidence {
  readonly kind: 'duplicate-vote';
  readonly voteA: Vote;
  readonly voteB: Vote;
}
export type Evidence = DuplicateVoteEvidence;

// ───────────────────────────── sign bytes ─────────────────────────────

export function voteSignBytes(v: UnsignedVote): Uint8Array {
  const { chainId, type, height, round, blockHash, timestamp, validator } = v;
  return domainBytes(DOMAIN.vote, canonicalBytes({ chainId, type, height, round, blockHash, timestamp, validator }));
}

export function proposalSignBytes(p: UnsignedProposal): Uint8Array {
  const { chainId, height, round, polRound, blockHash, timestamp, proposer } = p;
  return domainBytes(DOMAIN.proposal, canonicalBytes({ chainId, height, round, polRound, blockHash, timestamp, proposer }));
}

function signatureValid(pubKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const pub = fromHexStrict(pubKeyHex, 32);
  const sig = fromHexStrict(signatureHex, 64);
  return pub !== undefined && sig !== undefined && verifySignature(pub, message, sig);
}

export function voteSignatureValid(vote: Vote, validator: Validator): boolean {
  return vote.validator === validator.address && signatureValid(validator.pubKey, voteSignBytes(vote), vote.signature);
}

export function proposalSignatureValid(p: Proposal, validator: Validator): boolean {
  return p.proposer === validator.address && signatureValid(validator.pubKey, proposalSignBytes(p), p.signature);
}

// ───────────────────────────── shape checks (wire input) ─────────────────────────────

const HASH_RE = /^[0-9a-f]{64}$/;
const SIG_RE = /^[0-9a-f]{128}$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isNat(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
function isShortString(x: unknown, max = 128): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= max;
}
export function isHash(x: unknown): x is string {
  return typeof x === 'string' && HASH_RE.test(x);
}

export function isWellFormedVote(x: unknown): x is Vote {
  return (
    isRecord(x) &&
    isShortString(x.chainId) &&
    (x.type === 'prevote' || x.type === 'precommit') &&
    isNat(x.height) && x.height >= 1 &&
    isNat(x.round) &&
    (x.blockHash === null || isHash(x.blockHash)) &&
    isNat(x.timestamp) &&
    isShortString(x.validator) &&
    typeof x.signature === 'string' && SIG_RE.test(x.signature)
  );
}

export function isWellFormedProposal(x: unknown): x is Proposal {
  return (
    isRecord(x) &&
    isShortString(x.chainId) &&
    isNat(x.height) && x.height >= 1 &&
    isNat(x.round) &&
    typeof x.polRound === 'number' && Number.isSafeInteger(x.polRound) && x.polRound >= -1 &&
    isHash(x.blockHash) &&
    isNat(x.timestamp) &&
    isShortString(x.proposer) &&
    typeof x.signature === 'string' && SIG_RE.test(x.signature)
  );
}

export function isWellFormedCommit(x: unknown): x is Commit {
  return (
    isRecord(x) &&
    isNat(x.height) && x.height >= 1 &&
    isNat(x.round) &&
    isHash(x.blockHash) &&
    Array.isArray(x.signatures) &&
    x.signatures.every(
      (s: unknown) => isRecord(s) && isShortString(s.validator) && isNat(s.timestamp) && typeof s.signature === 'string' && SIG_RE.test(s.signature),
    )
  );
}

export function isWellFormedEvidence(x: unknown): x is Evidence {
  return isRecord(x) && x.kind === 'duplicate-vote' && isWellFormedVote(x.voteA) && isWellFormedVote(x.voteB);
}

// ───────────────────────────── validator set ─────────────────────────────

/** Proposer priorities may drift at most this many times the total power apart (CometBFT). */
const PRIORITY_WINDOW_FACTOR = 2n;

export function validatorSetHash(validators: readonly Validator[]): string {
  const sorted = [...validators].sort((a, b) => compareStrings(a.address, b.address));
  const payload = sorted.map((v) => ({ address: v.address, pubKey: v.pubKey, power: v.power.toString() }));
  return toHex(sha256(domainBytes(DOMAIN.validatorSet, canonicalBytes(payload))));
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface ValidatorSetJson {
  readonly validators: readonly { address: string; pubKey: string; power: string; priority: string }[];
  readonly proposer: string;
}

/**
 * An immutable validator set sorted by address, with CometBFT's proposer priorities.
 * The proposer of round 0 at a height is `proposer`; later rounds come from a ProposerSchedule.
 * Priorities are not part of the hash (as in CometBFT) but must be persisted with the set.
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly priorities: readonly bigint[];
  readonly totalPower: bigint;
  readonly proposerIndex: number;
  readonly #index: ReadonlyMap<string, number>;

  private constructor(validators: readonly Validator[], priorities: readonly bigint[], proposerIndex: number) {
    this.validators = validators;
    this.priorities = priorities;
    this.totalPower = validators.reduce((s, v) => s + v.power, 0n);
    this.proposerIndex = proposerIndex;
    this.#index = new Map(validators.map((v, i) => [v.address, i]));
  }

  /** The set at genesis: priorities start equal, then advance once so height 1 has a proposer. */
  static genesis(validators: readonly Validator[]): ValidatorSet {
    const sorted = checkValidators(validators);
    return new ValidatorSet(sorted, sorted.map(() => 0n), 0).incremented(1);
  }

  static fromJSON(json: ValidatorSetJson): ValidatorSet {
    const validators = json.validators.map((v) => ({ address: v.address, pubKey: v.pubKey, power: BigInt(v.power) }));
    const sorted = checkValidators(validators);
    const priorities = sorted.map((v) => BigInt(json.validators.find((j) => j.address === v.address)!.priority));
    const proposerIndex = sorted.findIndex((v) => v.address === json.proposer);
    if (proposerIndex < 0) throw new LedgerError('VALSET_INVALID', 'proposer is not in the set');
    return new ValidatorSet(sorted, priorities, proposerIndex);
  }

  toJSON(): { $valset: ValidatorSetJson } {
    return {
      $valset: {
        validators: this.validators.map((v, i) => ({ address: v.address, pubKey: v.pubKey, power: v.power.toString(), priority: this.priorities[i]!.toString() })),
        proposer: this.proposer.address,
      },
    };
  }

  get size(): number {
    return this.validators.length;
  }
  get proposer(): Validator {
    return this.validators[this.proposerIndex]!;
  }
  get(address: string): Validator | undefined {
    const i = this.#index.get(address);
    return i === undefined ? undefined : this.validators[i];
  }
  has(address: string): boolean {
    return this.#index.has(address);
  }
  hash(): string {
    return validatorSetHash(this.validators);
  }

  /** CometBFT IncrementProposerPriority(times): rescale, centre, then `times` weighted round-robin steps. */
  incremented(times: number): ValidatorSet {
    if (times < 1) throw new RangeError('increment at least once');
    let prios = centred(rescaled(this.priorities, this.totalPower), this.validators.length);
    let proposerIndex = this.proposerIndex;
    for (let i = 0; i < times; i++) {
      [prios, proposerIndex] = roundRobinStep(prios, this.validators, this.totalPower);
    }
    return new ValidatorSet(this.validators, prios, proposerIndex);
  }

  /**
   * The set for the next height: apply updates (power 0 removes a validator; a new validator starts
   * at −1.125 × total so it cannot jump the queue), then advance the priorities once.
   */
  nextHeight(updates: readonly Validator[] = []): ValidatorSet {
    const prios = new Map(this.validators.map((v, i) => [v.address, this.priorities[i]!]));
    const byAddress = new Map(this.validators.map((v) => [v.address, v]));
    for (const u of updates) {
      if (u.power === 0n) byAddress.delete(u.address);
      else byAddress.set(u.address, u);
    }
    const sorted = checkValidators([...byAddress.values()]);
    const total = sorted.reduce((s, v) => s + v.power, 0n);
    const newcomerPriority = -(total + (total >> 3n));
    const priorities = sorted.map((v) => prios.get(v.address) ?? newcomerPriority);
    const centredPrios = centred(rescaled(priorities, total), sorted.length);
    return new ValidatorSet(sorted, centredPrios, 0).incremented(1);
  }
}

function checkValidators(validators: readonly Validator[]): Validator[] {
  if (validators.length === 0) throw new LedgerError('VALSET_EMPTY', 'a validator set needs at least one validator');
  const sorted = [...validators].sort((a, b) => compareStrings(a.address, b.address));
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (typeof v.power !== 'bigint' || v.power <= 0n) throw new LedgerError('VALSET_INVALID', `validator ${v.address} needs positive power`);
    const pub = fromHexStrict(v.pubKey, 32);
    if (!pub || addressFromPublicKey(pub) !== v.address) throw new LedgerError('VALSET_INVALID', `validator ${v.address} does not match its public key`);
    if (i > 0 && sorted[i - 1]!.address === v.address) throw new LedgerError('VALSET_INVALID', `validator ${v.address} listed twice`);
  }
  return sorted;
}

function rescaled(prios: readonly bigint[], total: bigint): bigint[] {
  const diffMax = PRIORITY_WINDOW_FACTOR * total;
  let max = prios[0]!;
  let min = prios[0]!;
  for (const p of prios) {
    if (p > max) max = p;
    if (p < min) min = p;
  }
  const diff = max - min;
  if (diff <= diffMax) return [...prios];
  const ratio = ceilDiv(diff, diffMax);
  return prios.map((p) => truncDiv(p, ratio));
}

function centred(prios: readonly bigint[], n: number): bigint[] {
  const avg = floorDiv(prios.reduce((s, p) => s + p, 0n), BigInt(n));
  return prios.map((p) => p - avg);
}

/** One weighted round-robin step: everyone gains its power; the highest (ties: lowest address) pays the total. */
function roundRobinStep(prios: readonly bigint[], validators: readonly Validator[], total: bigint): [bigint[], number] {
  const next = prios.map((p, i) => p + validators[i]!.power);
  let best = 0;
  for (let i = 1; i < next.length; i++) if (next[i]! > next[best]!) best = i; // strict: equal keeps the lower address
  next[best] = next[best]! - total;
  return [next, best];
}

/**
 * Proposers of the rounds of one height: round 0 is the set's proposer, round r the proposer after
 * r further round-robin steps from the height's set (one rescale, then r steps), so every node
 * computes the same proposer whatever rounds it visited. Memoised; rounds only grow.
 */
export class ProposerSchedule {
  readonly #set: ValidatorSet;
  readonly #proposers: string[];
  #prios: bigint[];

  constructor(set: ValidatorSet) {
    this.#set = set;
    this.#proposers = [set.proposer.address];
    this.#prios = centred(rescaled(set.priorities, set.totalPower), set.size);
  }

  proposerAt(round: number): string {
    while (this.#proposers.length <= round) {
      const [prios, idx] = roundRobinStep(this.#prios, this.#set.validators, this.#set.totalPower);
      this.#prios = prios;
      this.#proposers.push(this.#set.validators[idx]!.address);
    }
    return this.#proposers[round]!;
  }
}

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

/**
 * Power-weighted median of the commit's precommit timestamps (CometBFT's weightedMedian: sorted by
 * time, the first timestamp at which the accumulated weight reaches half of the signed power).
 */
export function weightedMedianTime(commit: Commit, valset: ValidatorSet): number {
  const weighted = commit.signatures
    .map((s) => ({ time: s.timestamp, weight: valset.get(s.validator)?.power ?? 0n }))
    .filter((w) => w.weight > 0n)
    .sort((a, b) => a.time - b.time);
  const total = weighted.reduce((s, w) => s + w.weight, 0n);
  let median = total >> 1n;
  for (const w of weighted) {
    if (median <= w.weight) return w.time;
    median -= w.weight;
  }
  throw new LedgerError('COMMIT_EMPTY', 'a commit without known signers has no median time');
}

/** Block time of the next block: the weighted median, but always strictly after the previous block. */
export function nextBlockTime(lastCommit: Commit, lastValset: ValidatorSet, lastBlockTime: number): number {
  return maxInt(weightedMedianTime(lastCommit, lastValset), lastBlockTime + 1);
}

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
