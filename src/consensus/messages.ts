/**
 * Consensus messages: votes and proposals, their sign bytes and signature checks, and shape checks
 * for anything received from the wire.
 */
import type { Commit } from '../codec/block.js';
import { verifySignature } from '../crypto/ed25519.js';
import { DOMAIN, domainBytes } from '../crypto/hash.js';
import { fromHexStrict } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';
import type { Evidence } from './evidence.js';
import type { Validator } from './validators.js';

// ───────────────────────────── messages ─────────────────────────────


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
