/** Validator sets with CometBFT proposer priorities, and the proposer of each round. */
import { DOMAIN, domainBytes, sha256 } from '../crypto/hash.js';
import { addressFromPublicKey } from '../crypto/address.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';
import { ceilDiv, floorDiv, truncDiv } from './intmath.js';
import { CONSENSUS_ERRORS } from './errors.js';

export interface Validator {
  readonly address: string;
  /** Ed25519 public key, 32 bytes as lowercase hex. */
  readonly pubKey: string;
  readonly power: bigint;
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
    if (proposerIndex < 0) throw CONSENSUS_ERRORS.VALSET_INVALID('proposer is not in the set');
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
  if (validators.length === 0) throw CONSENSUS_ERRORS.VALSET_EMPTY('a validator set needs at least one validator');
  const sorted = [...validators].sort((a, b) => compareStrings(a.address, b.address));
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (typeof v.power !== 'bigint' || v.power <= 0n) throw CONSENSUS_ERRORS.VALSET_INVALID(`validator ${v.address} needs positive power`);
    const pub = fromHexStrict(v.pubKey, 32);
    if (!pub || addressFromPublicKey(pub) !== v.address) throw CONSENSUS_ERRORS.VALSET_INVALID(`validator ${v.address} does not match its public key`);
    if (i > 0 && sorted[i - 1]!.address === v.address) throw CONSENSUS_ERRORS.VALSET_INVALID(`validator ${v.address} listed twice`);
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
