import fc from 'fast-check';
import { createConsensus, restoreSigned, type ConsensusEvent, type ConsensusState, type HeightContext, type RejectReason } from '../../../src/consensus/engine.js';
import {
  isWellFormedCommit,
  isWellFormedEvidence,
  isWellFormedProposal,
  isWellFormedVote,
  makeEvidence,
  proposalSignBytes,
  proposalSignatureValid,
  ProposerSchedule,
  verifyCommit,
  verifyEvidence,
  voteSignatureValid,
  type Commit,
  type Evidence,
  type Proposal,
  type UnsignedProposal,
  type Vote,
} from '../../../src/consensus/index.js';
import { toHex } from '../../../src/util/bytes.js';
import { canonicalJson } from '../../../src/util/canonical.js';
import { FakeApp, type FakeBlock } from '../../../sim/fakeApp.js';
import { CHAIN, makeCommit, signVote, testKeys, valsetOf, type TestKey } from '../../consensus/helpers.js';
import { expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { mutatedBytes, mutatedJson, oddValue, parseJson, utf8Bytes } from '../lib/mutate.js';

/**
 * Consensus input: the wire shape checks (isWellFormed*) and signature checks on mutated genuine
 * votes, proposals, commits and evidence; and the engine's `step` fed sequences of well-formed but
 * wrong events (other heights and rounds, wrong proposers and blocks, forged signatures, conflicting
 * votes, evidence, commit certificates) from three validators the fuzzer controls.
 */

const HASH_X = 'cd'.repeat(32);
const HASH_Y = 'ef'.repeat(32);

function signProposal(key: TestKey, fields: Omit<UnsignedProposal, 'proposer' | 'chainId'>): Proposal {
  const unsigned: UnsignedProposal = { chainId: CHAIN, ...fields, proposer: key.address };
  return { ...unsigned, signature: toHex(key.signer.sign(proposalSignBytes(unsigned))) };
}

/** The fields a vote's signature covers (extra keys are refused by the reactor, not by the signature). */
const signedFields = ({ chainId, type, height, round, blockHash, timestamp, validator }: Vote) => canonicalJson({ chainId, type, height, round, blockHash, timestamp, validator });
const proposalFields = ({ chainId, height, round, polRound, blockHash, timestamp, proposer }: Proposal) => canonicalJson({ chainId, height, round, polRound, blockHash, timestamp, proposer });

// ───────────────────────────── messages ─────────────────────────────

type MessageKind = 'vote' | 'proposal' | 'commit' | 'evidence';

export function consensusMessagesTarget(): FuzzTarget<{ kind: MessageKind; json: { value: unknown } | undefined }> {
  const keys = testKeys(4, 'fuzz');
  const valset = valsetOf(keys);
  const vote = signVote(keys[0]!, { type: 'prevote', height: 3, round: 1, blockHash: HASH_X, timestamp: 77 });
  const other = signVote(keys[0]!, { type: 'prevote', height: 3, round: 1, blockHash: HASH_Y, timestamp: 78 });
  const nilVote = signVote(keys[1]!, { type: 'precommit', height: 3, round: 0, blockHash: null, timestamp: 5 });
  const proposal = signProposal(keys[2]!, { height: 3, round: 0, polRound: -1, blockHash: HASH_X, timestamp: 9 });
  const commit = makeCommit(keys, 3, 0, HASH_X);
  const evidence = makeEvidence(vote, other);
  const genuineVotes = new Map([vote, other, nilVote].map((v) => [v.signature, signedFields(v)]));
  const corpus: Record<MessageKind, unknown[]> = { vote: [vote, nilVote], proposal: [proposal], commit: [commit], evidence: [evidence] };
  const input = (kind: MessageKind) =>
    fc.oneof(
      { weight: 4, arbitrary: mutatedJson(corpus[kind], 3).map((value) => ({ value })) },
      { weight: 2, arbitrary: mutatedBytes(corpus[kind].map(utf8Bytes), 3).map(parseJson) },
      { weight: 1, arbitrary: oddValue.map((value) => ({ value })) },
    ).map((json) => ({ kind, json }));
  const validVote = (v: Vote) => {
    const validator = valset.get(v.validator);
    const valid = validator !== undefined && voteSignatureValid(v, validator);
    if (valid) expectThat(genuineVotes.get(v.signature) === signedFields(v), 'a vote whose signed fields were changed verified');
    return valid;
  };
  return {
    name: 'consensus-messages',
    description: 'vote, proposal, commit and evidence shape and signature checks on mutated genuine messages',
    arbitrary: fc.oneof(input('vote'), input('proposal'), input('commit'), input('evidence')),
    check({ kind, json }) {
      if (!json) return 'not-json';
      const x = json.value;
      if (kind === 'vote') {
        if (!isWellFormedVote(x)) return 'vote:malformed';
        return validVote(x) ? 'vote:valid' : 'vote:bad-signature';
      }
      if (kind === 'proposal') {
        if (!isWellFormedProposal(x)) return 'proposal:malformed';
        const proposer = valset.get(x.proposer);
        if (!proposer || !proposalSignatureValid(x, proposer)) return 'proposal:bad-signature';
        expectThat(proposalFields(x) === proposalFields(proposal), 'a proposal whose signed fields were changed verified');
        return 'proposal:valid';
      }
      if (kind === 'commit') {
        const wellFormed = isWellFormedCommit(x);
        const check = verifyCommit(x as Commit, valset, CHAIN);
        expectThat(wellFormed || !check.ok, 'verifyCommit accepted a malformed commit');
        if (!check.ok) return `commit:${check.reason}`;
        const c = x as Commit;
        const genuineSigs = new Set(commit.signatures.map((s) => canonicalJson(s)));
        expectThat(c.height === commit.height && c.round === commit.round && c.blockHash === commit.blockHash, 'a commit for another block verified');
        expectThat(c.signatures.every((s) => genuineSigs.has(canonicalJson({ validator: s.validator, timestamp: s.timestamp, signature: s.signature }))), 'a commit with a changed signature entry verified');
        return 'commit:valid';
      }
      const wellFormed = isWellFormedEvidence(x);
      const check = verifyEvidence(x as Evidence, valset, CHAIN);
      expectThat(wellFormed || !check.ok, 'verifyEvidence accepted malformed evidence');
      if (!check.ok) return `evidence:${check.reason}`;
      const ev = x as Evidence;
      expectThat(validVote(ev.voteA) && validVote(ev.voteB), 'evidence with a forged vote verified');
      return 'evidence:valid';
    },
  };
}

// ───────────────────────────── the engine ─────────────────────────────

const REJECT_REASONS = new Set<RejectReason>([
  'not-started', 'malformed', 'wrong-chain', 'old-height', 'future-height', 'already-decided', 'unknown-validator', 'round-out-of-range', 'wrong-proposer',
  'bad-pol-round', 'bad-signature', 'block-hash-mismatch', 'duplicate', 'conflicting-proposal', 'stale-timeout', 'stale-start', 'evidence-out-of-window',
  'invalid-evidence', 'invalid-commit', 'invalid-block',
]);

type EventSpec =
  | { t: 'vote'; i: number; tamper: boolean }
  | { t: 'proposal'; i: number; tamper: boolean }
  | { t: 'timeout'; height: number; round: number; step: 'propose' | 'prevote' | 'precommit' }
  | { t: 'evidence'; a: number; b: number }
  | { t: 'certificate'; i: number }
  | { t: 'restart' };

const GENESIS = 1_000_000;
const TIMEOUTS = { propose: { baseMs: 100, deltaMs: 10 }, prevote: { baseMs: 50, deltaMs: 5 }, precommit: { baseMs: 50, deltaMs: 5 } };

function tampered<T extends { signature: string }>(m: T): T {
  const last = m.signature.slice(-2) === '00' ? '01' : '00';
  return { ...m, signature: m.signature.slice(0, -2) + last };
}

export function engineTarget(): FuzzTarget<EventSpec[]> {
  const keys = testKeys(5, 'fuzz-engine');
  const validators = keys.slice(0, 4);
  const outsider = keys[4]!;
  const valset = valsetOf(validators);
  const self = validators[0]!;
  const schedule = new ProposerSchedule(valset);
  const context: HeightContext = { height: 1, validators: valset, previous: null, genesisTime: GENESIS };
  const builder = new FakeApp();
  // Blocks of height 1 for rounds 0–2 (each by that round's proposer), and one for height 2.
  const blocks: Array<{ hash: string; block: FakeBlock }> = [0, 1, 2].map((round) => {
    const { blockHash, block } = builder.buildBlock({ height: 1, round, time: GENESIS, proposer: schedule.proposerAt(round), lastCommit: null, evidence: [] });
    return { hash: blockHash, block };
  });
  const hashes = [null, ...blocks.map((b) => b.hash), HASH_X];
  const votes: Vote[] = [];
  for (const key of [...validators, outsider])
    for (const type of ['prevote', 'precommit'] as const)
      for (const height of [1, 2])
        for (const round of [0, 1, 2])
          for (const blockHash of hashes) votes.push(signVote(key, { type, height, round, blockHash, timestamp: GENESIS + 10 * round + 1 }));
  const proposals: Array<{ proposal: Proposal; block: FakeBlock }> = [];
  for (const round of [0, 1, 2])
    for (const key of [validators.find((k) => k.address === schedule.proposerAt(round))!, validators[(round + 1) % 4]!])
      for (const polRound of [-1, 0, 1])
        for (const b of [blocks[round]!, blocks[0]!]) {
          if (polRound >= round) continue;
          proposals.push({ proposal: signProposal(key, { height: 1, round, polRound, blockHash: b.hash, timestamp: GENESIS + round }), block: b.block });
        }
  const certificates = blocks.map((b, round) => ({ block: b.block, commit: makeCommit(validators.slice(1), 1, round, b.hash, [GENESIS + 1, GENESIS + 2, GENESIS + 3]) }));
  const weakCertificate = { block: blocks[0]!.block, commit: makeCommit(validators.slice(2), 1, 0, blocks[0]!.hash) };
  const allCertificates = [...certificates, weakCertificate];

  const spec: fc.Arbitrary<EventSpec> = fc.oneof(
    { weight: 10, arbitrary: fc.record({ t: fc.constant('vote' as const), i: fc.nat({ max: votes.length - 1 }), tamper: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('proposal' as const), i: fc.nat({ max: proposals.length - 1 }), tamper: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('timeout' as const), height: fc.integer({ min: 0, max: 2 }), round: fc.nat({ max: 3 }), step: fc.constantFrom('propose' as const, 'prevote' as const, 'precommit' as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('evidence' as const), a: fc.nat({ max: votes.length - 1 }), b: fc.nat({ max: votes.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('certificate' as const), i: fc.nat({ max: allCertificates.length - 1 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
  );

  const toEvent = (s: EventSpec, now: number): ConsensusEvent<FakeBlock> | undefined => {
    switch (s.t) {
      case 'vote':
        return { type: 'vote', now, vote: s.tamper ? tampered(votes[s.i]!) : votes[s.i]! };
      case 'proposal': {
        const p = proposals[s.i]!;
        return { type: 'proposal', now, proposal: s.tamper ? tampered(p.proposal) : p.proposal, block: p.block };
      }
      case 'timeout':
        return { type: 'timeout', now, height: s.height, round: s.round, step: s.step };
      case 'evidence': {
        const [a, b] = [votes[s.a]!, votes[s.b]!];
        return { type: 'evidence', now, evidence: makeEvidence(a, b) };
      }
      case 'certificate': {
        const c = allCertificates[s.i]!;
        return { type: 'commitCertificate', now, block: c.block, commit: c.commit };
      }
      default:
        return undefined;
    }
  };

  return {
    name: 'engine',
    description: "the consensus engine's step fed sequences of well-formed but wrong events from three validators the fuzzer controls",
    arbitrary: fc.array(spec, { minLength: 1, maxLength: 30 }),
    check(specs) {
      const engine = createConsensus<FakeBlock>({ chainId: CHAIN, self: self.address, timeouts: TIMEOUTS, maxRoundsAhead: 3 }, { app: new FakeApp(), sign: (b) => self.signer.sign(b) });
      let state: ConsensusState<FakeBlock> = engine.initialState();
      /** Everything this validator signed, by height/round/step: a second, different message is a double sign. */
      const signed = new Map<string, string>();
      /** Signed messages restored after a simulated restart (the WAL's 'signed' records). */
      const journal: Array<{ kind: 'vote'; vote: Vote } | { kind: 'proposal'; proposal: Proposal; block: FakeBlock }> = [];
      let decided: string | undefined;
      const reasons: string[] = [];
      const apply = (event: ConsensusEvent<FakeBlock>) => {
        const before = canonicalJson({ status: state.current?.round ?? -1, step: state.current?.step ?? '', pool: state.evidencePool.length, journal: state.signer.messages.size });
        const r = engine.step(state, event);
        const after = canonicalJson({ status: state.current?.round ?? -1, step: state.current?.step ?? '', pool: state.evidencePool.length, journal: state.signer.messages.size });
        expectThat(before === after, 'step mutated its input state');
        if (r.rejection) {
          expectThat(REJECT_REASONS.has(r.rejection.reason), `unknown rejection reason ${r.rejection.reason}`);
          reasons.push(r.rejection.reason);
        }
        const walSigned = new Set<string>();
        for (const e of r.effects) {
          if (e.type === 'walWrite' && e.record.type === 'signed') {
            const m = e.record.message;
            journal.push(m);
            walSigned.add(m.kind === 'vote' ? m.vote.signature : m.proposal.signature);
          }
          if (e.type === 'broadcastVote' || e.type === 'broadcastProposal') {
            const msg = e.type === 'broadcastVote' ? e.vote : e.proposal;
            const key = e.type === 'broadcastVote' ? `${e.vote.height}/${e.vote.round}/${e.vote.type}` : `${e.proposal.height}/${e.proposal.round}/proposal`;
            const content = e.type === 'broadcastVote' ? String(e.vote.blockHash) : e.proposal.blockHash;
            const earlier = signed.get(key);
            if (earlier !== undefined && earlier !== content) fail(`double sign at ${key}: ${earlier} then ${content}`);
            signed.set(key, content);
            const logged = walSigned.has(msg.signature) || journal.some((m) => (m.kind === 'vote' ? m.vote.signature : m.proposal.signature) === msg.signature);
            expectThat(logged, 'a signed message was broadcast before it was written to the WAL');
          }
          if (e.type === 'commit') {
            const check = verifyCommit(e.commit, valset, CHAIN, { height: 1, blockHash: e.blockHash });
            if (!check.ok) fail(`decided with a commit that does not verify: ${check.reason}`);
            if (decided !== undefined && decided !== e.blockHash) fail('decided two blocks at one height');
            decided = e.blockHash;
            expectThat(blocks.some((b) => b.hash === e.blockHash), 'decided a block nobody proposed');
          }
        }
        state = r.state;
      };
      apply({ type: 'start', now: 0, context });
      for (const [k, s] of specs.entries()) {
        // A node that decided commits the block and moves on: a restart would begin the next height.
        if (decided !== undefined && s.t === 'restart') break;
        const now = 10 * (k + 1);
        if (s.t === 'restart') {
          // A crash: a fresh engine that knows only what the WAL's signed records hold (as the driver restores it).
          const r = engine.step(restoreSigned(engine.initialState(), journal), { type: 'start', now, context });
          state = r.state;
          continue;
        }
        const event = toEvent(s, now);
        if (event) apply(event);
      }
      return decided ? 'decided' : (reasons[reasons.length - 1] ?? 'accepted');
    },
  };
}
