import { describe, expect, it } from 'vitest';
import { blockHash, hashOf, txRoot, ZERO_HASH, type Block } from '../../src/codec/block.js';
import type { Proposal, Vote } from '../../src/consensus/index.js';
import { Channel } from '../../src/p2p/index.js';
import type { ConsensusDriver } from '../../src/runtime/driver.js';
import { ConsensusReactor, MAX_KNOWN_PROPOSALS_PER_PEER, PeerProposals, RESEND_AFTER_MS } from '../../src/runtime/reactors/consensus.js';
import { RawJson, type ReactorLink } from '../../src/runtime/reactors/wire.js';

/**
 * Issue 18: the current proposal is re-gossiped every second until its height ends; under load a
 * height takes about a second and its block is most of the traffic. Copies go only to peers not
 * known to hold the proposal (they sent it, or their own validator voted for its block in its round;
 * a copy sent counts for RESEND_AFTER_MS).
 */

const SIG = 'ab'.repeat(64);
const PEERS = ['p1', 'p2', 'p3'];
/** Each peer's node runs the validator of the same number. */
const VALIDATOR_OF: Record<string, string> = { p0: 'val0', p1: 'val1', p2: 'val2', p3: 'val3' };

function emptyBlock(height: number): Block {
  const txs: Block['txs'] = [];
  const header = {
    chainId: 'pg',
    height,
    time: 1,
    prevHash: ZERO_HASH,
    txRoot: txRoot(txs),
    resultRoot: ZERO_HASH,
    stateRoot: ZERO_HASH,
    validatorsHash: ZERO_HASH,
    nextValidatorsHash: ZERO_HASH,
    lastCommitHash: ZERO_HASH,
    evidenceHash: hashOf([]),
    proposer: 'val0',
  };
  return { header, txs, lastCommit: null, evidence: [] };
}

function proposalOf(block: Block, round = 0): Proposal {
  return { chainId: 'pg', height: block.header.height, round, polRound: -1, blockHash: blockHash(block.header), timestamp: 1, proposer: 'val0', signature: SIG };
}

function voteBy(validator: string, proposal: Proposal, change: Partial<Vote> = {}): Vote {
  return { chainId: 'pg', type: 'prevote', height: proposal.height, round: proposal.round, blockHash: proposal.blockHash, timestamp: 1, validator, signature: SIG, ...change };
}

function setup() {
  const sent: Array<{ to: string[]; proposal: Proposal }> = [];
  const counted = { sent: 0, skipped: 0 };
  const penalties: string[] = [];
  let peers = [...PEERS];
  const clock = { now: 1_000 };
  const link: ReactorLink = {
    send: () => undefined,
    broadcast: (_c, value, except) => {
      const skip = typeof except === 'function' ? except : (p: string) => p === except;
      sent.push({ to: peers.filter((p) => !skip(p)), proposal: (JSON.parse((value as RawJson).json) as { proposal: Proposal }).proposal });
    },
    penalize: (_p, reason) => void penalties.push(reason),
    connectedPeers: () => peers,
  };
  const forwarded: string[] = [];
  const driver = { onPeerMessage: (e: { type: string }) => void forwarded.push(e.type) } as unknown as ConsensusDriver<Block>;
  const reactor = new ConsensusReactor(link, driver, () => undefined, () => clock.now, undefined, {
    validatorOfPeer: (peer) => VALIDATOR_OF[peer],
    counted: (outcome, copies) => void (counted[outcome] += copies),
  });
  const receive = (peer: string, channel: typeof Channel.proposal | typeof Channel.vote, value: unknown) => reactor.receive(peer, channel, JSON.parse(JSON.stringify(value)));
  const later = () => void (clock.now += RESEND_AFTER_MS + 1);
  return { reactor, sent, counted, penalties, forwarded, receive, later, setPeers: (list: string[]) => void (peers = list) };
}

describe('proposal re-gossip skips peers that hold the proposal (issue 18)', () => {
  it('the first copy goes to every peer; a copy sent counts for a while; peers that sent it or whose validator voted for it get no more', () => {
    const t = setup();
    const block = emptyBlock(5);
    const proposal = proposalOf(block);
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(PEERS);
    // re-gossip within the grace period: every peer was just sent a copy
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent).toHaveLength(1);
    // p1 sends the proposal back (its own re-gossip); p2's validator prevotes the block
    t.receive('p1', Channel.proposal, { proposal, block });
    t.receive('p2', Channel.vote, voteBy('val2', proposal));
    expect(t.penalties).toEqual([]);
    expect(t.forwarded).toEqual(['proposal', 'vote']);
    // after the grace period only the peer that showed nothing gets a copy again
    t.later();
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['p3']);
    // p3's validator precommits it: no copy at all, however long the height lasts
    t.receive('p3', Channel.vote, voteBy('val3', proposal, { type: 'precommit' }));
    t.later();
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent).toHaveLength(2);
    expect(t.counted).toEqual({ sent: 4, skipped: 3 + 2 + 3 });
  });

  it("a new proposal from its proposer's node is presumed sent to every peer: copies only to those that show nothing within the grace period", () => {
    const t = setup();
    t.setPeers(['p0', ...PEERS]);
    const block = emptyBlock(6);
    const proposal = proposalOf(block);
    t.receive('p0', Channel.proposal, { proposal, block });
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent).toEqual([]);
    t.receive('p1', Channel.vote, voteBy('val1', proposal));
    t.later();
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['p2', 'p3']);
    // the same proposal relayed by a node that did not propose it presumes nothing
    const relayed = setup();
    relayed.setPeers(['p0', ...PEERS]);
    relayed.receive('p1', Channel.proposal, { proposal, block });
    relayed.reactor.broadcastProposal(proposal, block);
    expect(relayed.sent.at(-1)!.to).toEqual(['p0', 'p2', 'p3']);
  });

  it('votes that do not show the peer holds this proposal change nothing', () => {
    const t = setup();
    const block = emptyBlock(7);
    const proposal = proposalOf(block, 1);
    // p1 relays another validator's prevote; p2's validator prevotes nil; p3's prevotes the block in another round
    t.receive('p1', Channel.vote, voteBy('val2', proposal));
    t.receive('p2', Channel.vote, voteBy('val2', proposal, { blockHash: null }));
    t.receive('p3', Channel.vote, voteBy('val3', proposal, { round: 0 }));
    // a malformed vote is penalised and not noted either
    t.receive('p1', Channel.vote, { ...voteBy('val1', proposal), extra: 1 });
    expect(t.penalties).toEqual(['malformed vote']);
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(PEERS);
    t.later();
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(PEERS);
    // the same block proposed again in a later round is a new proposal: peers need it again
    t.receive('p1', Channel.vote, voteBy('val1', proposal));
    t.reactor.broadcastProposal(proposalOf(block, 2), block);
    expect(t.sent.at(-1)!.to).toEqual(PEERS);
  });

  it('a malformed or mismatching proposal from a peer does not count as holding it', () => {
    const t = setup();
    const block = emptyBlock(9);
    const proposal = proposalOf(block);
    t.receive('p1', Channel.proposal, { proposal: { ...proposal, blockHash: 'cd'.repeat(32) }, block });
    t.receive('p2', Channel.proposal, { proposal, block: { ...block, extra: 1 } });
    expect(t.penalties).toEqual(['proposal block does not match its signed hash', 'malformed proposal']);
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(PEERS);
  });

  it('a peer that disconnects is forgotten: after it reconnects it gets the proposal again', () => {
    const t = setup();
    const block = emptyBlock(11);
    const proposal = proposalOf(block);
    t.receive('p1', Channel.vote, voteBy('val1', proposal));
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['p2', 'p3']);
    t.setPeers(['p2', 'p3']);
    t.reactor.peerGone('p1');
    t.setPeers(PEERS);
    // p2 and p3 were sent a copy just now; p1 is new again
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['p1']);
  });

  it('a peer without a known validator (a full node) keeps getting copies', () => {
    const t = setup();
    t.setPeers(['p1', 'full']);
    const block = emptyBlock(13);
    const proposal = proposalOf(block);
    t.receive('full', Channel.vote, voteBy('val1', proposal));
    t.receive('p1', Channel.vote, voteBy('val1', proposal));
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['full']);
    t.later();
    t.reactor.broadcastProposal(proposal, block);
    expect(t.sent.at(-1)!.to).toEqual(['full']);
    expect(t.sent).toHaveLength(2);
  });

  it('each peer is remembered to hold at most MAX_KNOWN_PROPOSALS_PER_PEER proposals, the oldest forgotten first', () => {
    const known = new PeerProposals();
    const keys = Array.from({ length: MAX_KNOWN_PROPOSALS_PER_PEER + 1 }, (_, i) => PeerProposals.key(i + 1, 0, ZERO_HASH));
    for (const key of keys) known.note('p1', key);
    known.presume('p1', keys.at(-1)!, 0); // a copy sent does not shorten what the peer showed
    expect(known.holds('p1', keys[0]!, 0)).toBe(false);
    expect(keys.slice(1).every((key) => known.holds('p1', key, 10 * RESEND_AFTER_MS))).toBe(true);
    expect(known.holds('p2', keys[1]!, 0)).toBe(false);
    // a copy sent counts until RESEND_AFTER_MS have passed
    known.presume('p2', keys[1]!, 0);
    expect(known.holds('p2', keys[1]!, RESEND_AFTER_MS - 1)).toBe(true);
    expect(known.holds('p2', keys[1]!, RESEND_AFTER_MS)).toBe(false);
  });
});
