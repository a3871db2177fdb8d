import { callRoute } from '../api/client.js';
import type { RouteDef } from '../api/route.js';
import type { Genesis } from '../app/module.js';
import type { StateProof } from '../app/state-proof.js';
import type { BlockHeader } from '../codec/block.js';
import { lightRoutes } from '../surface/prove.js';
import type { LightHeader, StatementEvidence } from './statement.js';
import { checkSameAnswer, checkTrustPeriod, LIGHT_ERRORS, replayQuery, sortValidators, stepTrust, type QueryReplay, type SignedHeader, type TrustedState } from './verify.js';

/**
 * A light client over the node API (ADR 0012): it starts from a trusted genesis or header, follows
 * the chain to the height of each answer by verifying signed headers (skipping ahead when more than
 * 1/3 of the trusted validators signed, bisecting otherwise, as CometBFT's light client does), and
 * verifies proven query answers by re-running the query over the proven state.
 */

export const DEFAULT_TRUST_PERIOD_MS = 14 * 24 * 3_600_000;

export interface LightClientOptions {
  nodeUrl: string;
  trusted: TrustedState;
  trustPeriodMs?: number;
  /** Wall clock (ms) for the trust period; injectable for tests. */
  now?: () => number;
  /** How a route is called (default: callRoute on nodeUrl); the CLI passes its own, which logs in for private reads. */
  callRoute?: (route: RouteDef, input: Record<string, unknown>) => Promise<unknown>;
}

/** The trust a genesis gives: the genesis validators decide height 1. */
export function trustFromGenesis(genesis: Genesis): TrustedState {
  if (typeof genesis?.chainId !== 'string' || !Array.isArray(genesis.validators) || typeof genesis.genesisTime !== 'number') throw LIGHT_ERRORS.LIGHT_TRUST_INVALID('a genesis has chainId, genesisTime and validators');
  return { chainId: genesis.chainId, height: 0, time: genesis.genesisTime, header: null, nextValidators: sortValidators(genesis.validators) };
}

/** Trust from a file: a genesis (has `validators` and `genesisTime`) or a saved trusted state (has `nextValidators`). */
export function trustFromJson(json: unknown): TrustedState {
  const j = json as Partial<TrustedState & Genesis>;
  if (j && Array.isArray(j.nextValidators) && typeof j.chainId === 'string' && typeof j.height === 'number' && typeof j.time === 'number') {
    return { chainId: j.chainId, height: j.height, time: j.time, header: (j.header ?? null) as BlockHeader | null, nextValidators: sortValidators(j.nextValidators) };
  }
  return trustFromGenesis(j as Genesis);
}

export interface VerifiedAnswer<T = unknown> {
  height: number;
  value: T;
  header: BlockHeader;
  /** Heights whose signed headers were checked to get there from the trusted state. */
  path: number[];
  proof: SignedHeader & { state: StateProof };
}

export class LightClient {
  trusted: TrustedState;
  private readonly trustPeriodMs: number;
  private readonly now: () => number;
  /** Heights verified on the way, with their headers (reused by later answers). */
  private readonly verified = new Map<number, TrustedState>();
  /** The signed headers fetched on the way (statement evidence carries them). */
  private readonly fetched = new Map<number, LightHeader>();

  constructor(private readonly options: LightClientOptions) {
    this.trusted = options.trusted;
    this.trustPeriodMs = options.trustPeriodMs ?? DEFAULT_TRUST_PERIOD_MS;
    this.now = options.now ?? (() => Date.now());
  }

  /** A signed header and the set deciding the next height (unverified: stepTrust checks both). */
  async signedHeader(height: number): Promise<SignedHeader & { nextValidators: SignedHeader['validators'] }> {
    return (await this.call(lightRoutes.signedHeader, { params: { height } })) as unknown as SignedHeader & { nextValidators: SignedHeader['validators'] };
  }

  /** Verifies the chain from the trusted state up to `height` and returns the verified state at it. */
  async verifyTo(height: number, path: number[] = []): Promise<TrustedState> {
    const known = this.verified.get(height);
    if (known) return known;
    if (height === this.trusted.height && this.trusted.header) return this.trusted;
    if (height <= this.trusted.height) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`height ${height} is not after the trusted height ${this.trusted.height}; start from an earlier trusted header`);
    checkTrustPeriod(this.trusted, this.trustPeriodMs, this.now());
    const target = await this.signedHeader(height);
    this.fetched.set(height, target);
    const outcome = stepTrust(this.trusted, target, target.nextValidators);
    if (outcome.ok) {
      path.push(height);
      this.remember(outcome.trusted);
      return outcome.trusted;
    }
    // Not enough of the trusted validators signed: verify a height in between first (bisection).
    const pivot = this.trusted.height + Math.floor((height - this.trusted.height) / 2);
    await this.verifyTo(pivot, path);
    return this.verifyTo(height, path);
  }

  private call(route: RouteDef, input: Record<string, unknown>): Promise<unknown> {
    return this.options.callRoute ? this.options.callRoute(route, input) : callRoute(this.options.nodeUrl, route, input as never);
  }

  private remember(state: TrustedState): void {
    this.verified.set(state.height, state);
    if (state.height > this.trusted.height) this.trusted = state;
  }

  /**
   * Calls a module query route with `?prove=true`, verifies the header of the answer's height from
   * the trusted state, re-runs the query over the proven state and compares.
   */
  async query<R extends RouteDef>(route: R, request: { params?: Record<string, unknown>; query?: Record<string, unknown> }, replay: Omit<QueryReplay, 'route' | 'input'> & { route: QueryReplay['route']; input: QueryReplay['input'] }): Promise<VerifiedAnswer> {
    const answer = (await this.call(route, { params: request.params, query: { ...(request.query ?? {}), prove: 'true' } })) as unknown as {
      height: number;
      value: unknown;
      proof: SignedHeader & { state: StateProof };
    };
    const path: number[] = [];
    const state = await this.verifyTo(answer.height, path);
    const header = state.header!;
    // The header the node sent must be the verified one (same hash means same state root).
    if (JSON.stringify(answer.proof.header) !== JSON.stringify(header)) {
      const same = answer.proof.header && answer.proof.header.stateRoot === header.stateRoot && answer.proof.header.height === header.height;
      if (!same) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the answer's header at height ${answer.height} is not the verified one`);
    }
    const recomputed = await replayQuery(header, answer.proof.state, replay);
    checkSameAnswer(answer.value, recomputed);
    return { height: answer.height, value: recomputed, header, path, proof: answer.proof };
  }

  /**
   * A verified proven answer with the evidence a statement carries: the proof and every signed header
   * from the trusted state to the answer's height (a verifier holding the same trust needs nothing else).
   */
  async evidence(route: RouteDef, request: { params?: Record<string, unknown>; query?: Record<string, unknown> }, replay: QueryReplay): Promise<{ value: unknown; evidence: StatementEvidence }> {
    const start = this.trusted.height;
    const answer = await this.query(route, request, replay);
    const heights = [...this.fetched.keys()].filter((h) => h > start && h <= answer.height).sort((a, b) => a - b);
    const proof = { ...answer.proof, header: answer.header } as StatementEvidence['proof'];
    return { value: answer.value, evidence: { route: route.name, height: answer.height, proof, headers: heights.map((h) => this.fetched.get(h)!) } };
  }
}
