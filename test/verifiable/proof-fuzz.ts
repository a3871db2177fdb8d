import { Kernel } from '../../src/app/kernel.js';
import { RecordingReader } from '../../src/app/state-proof.js';
import { ReadOnlyStore } from '../../src/app/state.js';
import { accountNonce } from '../../src/app/nonce.js';
import { newExec, withNonceOf } from '../../src/app/kernel.js';
import type { Commit } from '../../src/codec/block.js';
import { voteSignBytes } from '../../src/consensus/messages.js';
import { checkSameAnswer, replayQuery, verifySignedHeader, type SignedHeader } from '../../src/light/verify.js';
import { registry } from '../../src/modules/registry/index.js';
import type { StateProof } from '../../src/app/state-proof.js';
import { TestChain, account } from '../helpers/chain.js';

/**
 * Fuzzing of the proof verifier: a proven answer from a TestChain whose commits are really signed,
 * then single-byte mutations of one part of it (the value, the state proof, the header, the
 * commit); every mutation must be refused. Shared by test/verifiable/proof-fuzz.test.ts (10⁴ per
 * kind) and scripts/fuzz-proofs.ts (any count, e.g. 10⁶).
 */

export interface ProvenFixture {
  value: unknown;
  proof: SignedHeader & { state: StateProof };
  replay: { kernel: Kernel; module: string; route: NonNullable<typeof registry.surface.routes>[number]; input: { params: unknown; query: unknown; body: undefined } };
}

/** A chain of a few blocks with signed commits, and a proven getAccount answer at its last height. */
export function provenFixture(): ProvenFixture {
  const chain = new TestChain({ modules: [registry.core] });
  for (let i = 0; i < 3; i++) chain.send(chain.operator, { type: 'registry/admit', value: { address: account(`fuzz-${i}`).address, roles: ['consumer'] } });
  const height = chain.app.height;
  const stored = chain.storage.getBlock(height)!;
  const timestamp = stored.block.header.time + 1;
  const signature = Buffer.from(chain.validator.signer.sign(voteSignBytes({ chainId: chain.chainId, type: 'precommit', height, round: 0, blockHash: stored.hash, timestamp, validator: chain.validator.address }))).toString('hex');
  const commit: Commit = { height, round: 0, blockHash: stored.hash, signatures: [{ validator: chain.validator.address, timestamp, signature }] };
  const route = registry.surface.routes!.find((r) => r.route.name === 'getAccount')!;
  const input = { params: { address: account('fuzz-1').address }, query: {}, body: undefined };
  const recorder = new RecordingReader(chain.storage);
  const state = new ReadOnlyStore(recorder);
  const exec = newExec({ state, chainId: chain.chainId, block: { height, time: stored.block.header.time }, sender: '', txHash: '', msgIndex: 0, readOnly: true });
  const kernel = new Kernel([registry.core]);
  const ctx = kernel.context('registry', exec);
  const value = route.handle(withNonceOf(ctx, (a: string) => accountNonce(state, a)), input as never);
  return {
    value: JSON.parse(JSON.stringify(value)),
    proof: { header: stored.block.header, commit, validators: chain.validators, state: chain.app.proveReads(recorder.reads()) },
    replay: { kernel, module: 'registry', route, input },
  };
}

/** Full verification of a proven answer against its chain (the checks the light client makes at the answer's height). */
export async function verifyProven(chainId: string, value: unknown, proof: ProvenFixture['proof'], replay: ProvenFixture['replay']): Promise<void> {
  verifySignedHeader(proof, chainId);
  const recomputed = await replayQuery(proof.header, proof.state, replay);
  checkSameAnswer(value, recomputed);
}

export const KINDS = ['value', 'proof', 'header', 'commit'] as const;
export type Kind = (typeof KINDS)[number];

/** Deterministic PRNG (xorshift32) so a failing run can be repeated from its seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** One byte of the JSON of one part replaced by another byte; undefined when the result is not JSON (refused at parsing). */
export function mutate(fixture: ProvenFixture, kind: Kind, next: () => number): { value: unknown; proof: ProvenFixture['proof'] } | undefined {
  const part = kind === 'value' ? fixture.value : kind === 'proof' ? fixture.proof.state : kind === 'header' ? fixture.proof.header : fixture.proof.commit;
  const bytes = Buffer.from(JSON.stringify(part), 'utf8');
  const at = next() % bytes.length;
  const old = bytes[at]!;
  let b = next() % 255;
  if (b >= old) b++;
  bytes[at] = b;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (bytes.toString('utf8') === JSON.stringify(part)) return undefined; // a byte that decodes to the same text (invalid UTF-8 → U+FFFD twice) is no mutation
  const proof = structuredClone(fixture.proof);
  if (kind === 'proof') proof.state = parsed as StateProof;
  if (kind === 'header') proof.header = parsed as SignedHeader['header'];
  if (kind === 'commit') proof.commit = parsed as Commit;
  return { value: kind === 'value' ? parsed : fixture.value, proof };
}

/** Runs `runs` mutations of one kind; returns how many were accepted (must be 0) and how many were not JSON. */
export async function fuzzKind(fixture: ProvenFixture, chainId: string, kind: Kind, runs: number, seed: number): Promise<{ accepted: Array<{ run: number }>; notJson: number }> {
  const next = prng(seed);
  const accepted: Array<{ run: number }> = [];
  let notJson = 0;
  for (let run = 0; run < runs; run++) {
    const m = mutate(fixture, kind, next);
    if (!m) {
      notJson++;
      continue;
    }
    try {
      await verifyProven(chainId, m.value, m.proof, fixture.replay);
      accepted.push({ run });
    } catch {
      // refused, as it must be
    }
  }
  return { accepted, notJson };
}
