import type { ValidatorInfo } from '../app/host.js';
import { newExec, withNonceOf, type Kernel } from '../app/kernel.js';
import { accountNonce } from '../app/nonce.js';
import { ProvenState, type StateProof } from '../app/state-proof.js';
import { ReadOnlyStore } from '../app/state.js';
import { blockHash, hashOf, type BlockHeader, type Commit } from '../codec/block.js';
import { commitVote, verifyCommit } from '../consensus/commit.js';
import { hasOneThird } from '../consensus/intmath.js';
import { voteSignatureValid } from '../consensus/messages.js';
import { ValidatorSet, type Validator } from '../consensus/validators.js';
import { canonicalJson } from '../util/canonical.js';
import { defineErrors } from '../util/errors.js';
import type { QueryRoute } from '../surface/index.js';

/**
 * The light client's checks (ADR 0012), as pure functions: a signed header against a validator set,
 * the step from a trusted header to a later one (adjacent, or skipping with the 1/3 trust level as
 * CometBFT's light client does), and a proven query answer. No I/O: the client (client.ts) fetches,
 * the CLI reads files, the dashboard runs the same checks in a browser.
 */

export const LIGHT_ERRORS = defineErrors('light', {
  LIGHT_HEADER_INVALID: { meaning: 'a header, its commit or its validator set do not belong together (hash, height or chain id differ)' },
  LIGHT_COMMIT_INVALID: { meaning: 'a commit does not carry valid signatures of more than 2/3 of the validator power' },
  LIGHT_VALIDATORS_UNTRUSTED: { meaning: 'the validator set that signed a header does not follow from the trusted one' },
  LIGHT_TRUST_EXPIRED: { meaning: 'the trusted header is older than the trust period; start from a newer trusted header' },
  LIGHT_ANSWER_MISMATCH: { meaning: "the node's answer differs from the answer recomputed from the proven state" },
  LIGHT_TRUST_INVALID: { meaning: 'the trusted genesis or header file is not usable' },
});

export interface SignedHeader {
  header: BlockHeader;
  commit: Commit;
  /** The validator set that decides this height (sorted by address). */
  validators: ValidatorInfo[];
}

/** What the client trusts: a verified height, its header (none for genesis) and the set deciding the next height. */
export interface TrustedState {
  chainId: string;
  height: number;
  /** Block time (ms) of the trusted height (genesis time for height 0). */
  time: number;
  header: BlockHeader | null;
  /** The validator set deciding height + 1 (for genesis: the genesis validators). */
  nextValidators: ValidatorInfo[];
}

export function sortValidators(vs: readonly ValidatorInfo[]): ValidatorInfo[] {
  return vs.map((v) => ({ address: v.address, pubKey: v.pubKey, power: v.power })).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function validatorSet(vs: readonly ValidatorInfo[]): ValidatorSet {
  try {
    return ValidatorSet.genesis(vs.map((v) => ({ address: v.address, pubKey: v.pubKey, power: BigInt(v.power) })));
  } catch (e) {
    throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the validator set is not valid: ${(e as Error).message}`);
  }
}

/** Checks a signed header on its own: the commit is for this header and carries > 2/3 of its validators' power. */
export function verifySignedHeader(sh: SignedHeader, chainId: string): void {
  const { header, commit } = sh;
  if (typeof header !== 'object' || header === null || typeof commit !== 'object' || commit === null || !Array.isArray(sh.validators)) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID('a signed header has header, commit and validators');
  if (header.chainId !== chainId) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`header is for chain ${JSON.stringify(header.chainId)}, expected ${JSON.stringify(chainId)}`);
  const hash = blockHash(header);
  if (commit.blockHash !== hash || commit.height !== header.height) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the commit is not for this header (height ${header.height})`);
  if (hashOf(sortValidators(sh.validators)) !== header.validatorsHash) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the validator set given does not hash to the header's validatorsHash at height ${header.height}`);
  const check = verifyCommit(commit, validatorSet(sh.validators), chainId, { height: header.height, blockHash: hash });
  if (!check.ok) throw LIGHT_ERRORS.LIGHT_COMMIT_INVALID(`height ${header.height}: ${check.detail}`);
}

/** Whether validators of `trusted` holding more than 1/3 of its power signed the commit (CometBFT's default trust level). */
export function signedByOneThirdOf(commit: Commit, trusted: readonly ValidatorInfo[], chainId: string): boolean {
  const set = validatorSet(trusted);
  let power = 0n;
  const seen = new Set<string>();
  for (const sig of commit.signatures) {
    const v: Validator | undefined = set.get(sig.validator);
    if (!v || seen.has(sig.validator)) continue;
    seen.add(sig.validator);
    if (voteSignatureValid(commitVote(commit, sig, chainId), v)) power += v.power;
  }
  return hasOneThird(power, set.totalPower);
}

export function checkTrustPeriod(trusted: TrustedState, trustPeriodMs: number, now: number): void {
  if (trusted.time + trustPeriodMs <= now) {
    throw LIGHT_ERRORS.LIGHT_TRUST_EXPIRED(`the trusted height ${trusted.height} (time ${new Date(trusted.time).toISOString()}) is older than the trust period of ${Math.floor(trustPeriodMs / 3_600_000)} h`);
  }
}

export type StepOutcome = { ok: true; trusted: TrustedState } | { ok: false; reason: 'not-enough-trust' };

/**
 * One step from a trusted state to a later signed header. Adjacent (height + 1): its validators must
 * be the trusted next set. Skipping: validators of the trusted next set with more than 1/3 of its
 * power must have signed it; otherwise the caller bisects. `nextValidators` is the set deciding
 * sh's height + 1 (checked against its header).
 */
export function stepTrust(trusted: TrustedState, sh: SignedHeader, nextValidators: ValidatorInfo[]): StepOutcome {
  verifySignedHeader(sh, trusted.chainId);
  const { header } = sh;
  if (header.height <= trusted.height) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`height ${header.height} is not after the trusted height ${trusted.height}`);
  if (header.time < trusted.time) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`header time at height ${header.height} is before the trusted time`);
  if (hashOf(sortValidators(nextValidators)) !== header.nextValidatorsHash) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the next validator set given does not hash to nextValidatorsHash at height ${header.height}`);
  if (header.height === trusted.height + 1) {
    if (hashOf(sortValidators(sh.validators)) !== hashOf(sortValidators(trusted.nextValidators))) {
      throw LIGHT_ERRORS.LIGHT_VALIDATORS_UNTRUSTED(`the validators of height ${header.height} are not the set the trusted height named`);
    }
  } else if (!signedByOneThirdOf(sh.commit, trusted.nextValidators, trusted.chainId)) {
    return { ok: false, reason: 'not-enough-trust' };
  }
  return { ok: true, trusted: { chainId: trusted.chainId, height: header.height, time: header.time, header, nextValidators: sortValidators(nextValidators) } };
}

/** What a light client needs to re-run a query: the kernel of the same modules and the route's handler. */
export interface QueryReplay {
  kernel: Kernel;
  module: string;
  route: QueryRoute;
  /** The handler input as the node parsed it (params, query without `prove`, body). */
  input: { params: unknown; query: unknown; body: unknown };
}

/**
 * Re-runs a query over the proven state of a verified header and returns its answer. Throws if the
 * proof does not hash to the header's state root or does not cover every read the query makes.
 */
export async function replayQuery(header: BlockHeader, proof: StateProof, replay: QueryReplay): Promise<unknown> {
  const state = new ReadOnlyStore(new ProvenState(header.stateRoot, proof));
  const exec = newExec({ state, chainId: header.chainId, block: { height: header.height, time: header.time }, sender: '', txHash: '', msgIndex: 0, readOnly: true });
  const ctx = replay.kernel.context(replay.module, exec);
  return replay.route.handle(withNonceOf(ctx, (address: string) => accountNonce(state, address)), replay.input as never);
}

/** The node's answer must be what the proven state gives (compared as canonical JSON). */
export function checkSameAnswer(nodeValue: unknown, recomputed: unknown): void {
  const a = canonicalJson(JSON.parse(JSON.stringify(nodeValue ?? null)));
  const b = canonicalJson(JSON.parse(JSON.stringify(recomputed ?? null)));
  if (a !== b) throw LIGHT_ERRORS.LIGHT_ANSWER_MISMATCH("the node's answer is not what its proven state gives");
}
