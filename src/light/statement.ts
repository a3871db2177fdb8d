import type { ValidatorInfo } from '../app/host.js';
import type { StateProof } from '../app/state-proof.js';
import { blockHash, type BlockHeader, type Commit } from '../codec/block.js';
import { canonicalJson } from '../util/canonical.js';
import { LedgerError } from '../util/errors.js';
import { LIGHT_ERRORS, replayQuery, stepTrust, type QueryReplay, type SignedHeader, type TrustedState } from './verify.js';

/**
 * Customer-verifiable statements (issue 17 #4, docs/verifiable.md): a statement (a PV statement or a
 * community bill) carries `evidence` — the proven answer of the query that computed it (header,
 * commit, signing validators and a state proof of every ledger value the computation read: holdings,
 * readings, tariffs, trades) and the signed headers leading from genesis to that header. A verifier
 * holding only a trusted genesis or header follows the headers, re-runs the same query over the
 * proven values and compares the result with the statement, field by field, so an altered Wh or µ€
 * is named. Pure (no I/O, no node): the CLI and the dashboard run it offline.
 *
 * `evidence` is not part of the statement's hash (statementHash leaves it out): adding a proof does
 * not change the statement a utility recorded.
 */

export const EVIDENCE_FIELD = 'evidence';

/** A signed header and the set deciding the next height: one step of the light client. */
export interface LightHeader extends SignedHeader {
  nextValidators: ValidatorInfo[];
}

export interface StatementEvidence {
  /** The query route (its operationId) whose answer the statement is. */
  route: string;
  height: number;
  proof: { header: BlockHeader; commit: Commit; validators: ValidatorInfo[]; state: StateProof };
  /** Signed headers from the first height after genesis the light client checked up to `height`, ascending. */
  headers: LightHeader[];
}

/** One check of a verification: passed, failed, or not applicable (null). */
export interface EvidenceCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

/** The query to re-run for a statement, and how to find the statement in its answer. */
export interface StatementReplay extends QueryReplay {
  pick(answer: unknown): Record<string, unknown> | undefined;
}

function describe(e: unknown): string {
  return e instanceof LedgerError ? `${e.code}: ${e.message}` : (e as Error).message;
}

/**
 * Follows the evidence's headers from the trusted state to the evidence height. Headers at or below
 * the trusted height are skipped (the trusted header itself must then be the one named). No trust
 * period applies: a statement is history, checked against the validators that signed it then.
 */
export function followHeaders(trusted: TrustedState, evidence: StatementEvidence): BlockHeader {
  let state = trusted;
  if (evidence.height < trusted.height) throw LIGHT_ERRORS.LIGHT_TRUST_INVALID(`the statement is proven at height ${evidence.height}, before the trusted height ${trusted.height}; trust the genesis or an earlier header`);
  if (evidence.height === trusted.height) {
    if (!trusted.header || blockHash(trusted.header) !== blockHash(evidence.proof.header)) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the statement's header at height ${evidence.height} is not the trusted one`);
    return trusted.header;
  }
  for (const step of [...evidence.headers].sort((a, b) => a.header.height - b.header.height)) {
    if (step.header.height <= state.height) continue;
    const outcome = stepTrust(state, step, step.nextValidators);
    if (!outcome.ok) throw LIGHT_ERRORS.LIGHT_VALIDATORS_UNTRUSTED(`height ${step.header.height} is not signed by more than 1/3 of the validators trusted at height ${state.height}, and no header in between is given`);
    state = outcome.trusted;
    if (state.height === evidence.height) break;
  }
  if (state.height !== evidence.height || !state.header) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the headers given do not reach the statement's height ${evidence.height}`);
  if (blockHash(state.header) !== blockHash(evidence.proof.header)) throw LIGHT_ERRORS.LIGHT_HEADER_INVALID(`the proof's header at height ${evidence.height} is not the verified one`);
  return state.header;
}

const IGNORED = new Set(['hash', EVIDENCE_FIELD]);

/** Every leaf where the statement differs from the recomputation, as `path: the statement says X, the proven ledger data give Y`. */
export function differences(claimed: unknown, recomputed: unknown, path = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(claimed) && isObj(recomputed) && Array.isArray(claimed) === Array.isArray(recomputed)) {
    const keys = [...new Set([...Object.keys(claimed), ...Object.keys(recomputed)])].filter((k) => path !== '' || !IGNORED.has(k)).sort();
    return keys.flatMap((k) => differences(claimed[k], recomputed[k], Array.isArray(claimed) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
  }
  if (canonicalJson(claimed ?? null) === canonicalJson(recomputed ?? null)) return [];
  const show = (v: unknown) => (v === undefined ? '(nothing)' : JSON.stringify(v));
  return [`${path || '(statement)'}: the statement says ${show(claimed)}, the proven ledger data give ${show(recomputed)}`];
}

/**
 * The offline checks of a statement's evidence: `headers` (commits from the trusted state to the
 * proof's height), `proof` (the state proof hashes to that header's state root and covers every read
 * of the recomputation) and `recomputed` (the statement equals the recomputed one; differences named).
 */
export async function verifyStatementEvidence(statement: Record<string, unknown>, trusted: TrustedState, replay: StatementReplay): Promise<EvidenceCheck[]> {
  const evidence = statement[EVIDENCE_FIELD] as StatementEvidence | undefined;
  if (!evidence || typeof evidence !== 'object' || !evidence.proof || !Array.isArray(evidence.headers)) {
    return [{ name: 'evidence', ok: false, detail: 'the statement carries no evidence (bill it with --prove)' }];
  }
  const checks: EvidenceCheck[] = [];
  let header: BlockHeader;
  try {
    header = followHeaders(trusted, evidence);
    checks.push({ name: 'headers', ok: true, detail: `header ${evidence.height} follows from the trusted height ${trusted.height} (${evidence.headers.length} signed header(s) checked)` });
  } catch (e) {
    return [...checks, { name: 'headers', ok: false, detail: describe(e) }];
  }
  let answer: unknown;
  try {
    answer = await replayQuery(header, evidence.proof.state, replay);
    checks.push({ name: 'proof', ok: true, detail: `${evidence.proof.state.entries.length} ledger values and ${evidence.proof.state.absent.length} absent keys proven against state root ${header.stateRoot}` });
  } catch (e) {
    return [...checks, { name: 'proof', ok: false, detail: describe(e) }];
  }
  const again = replay.pick(answer);
  if (!again) return [...checks, { name: 'recomputed', ok: false, detail: 'the proven ledger data give no statement for this party and period' }];
  const diffs = differences(statement, again);
  checks.push({ name: 'recomputed', ok: diffs.length === 0, detail: diffs.length === 0 ? `recomputed from the proven ledger data at height ${header.height}: identical` : diffs.join('; ') });
  return checks;
}
