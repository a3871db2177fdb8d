import { blockHash, blockJson, blockSchema, hashOf, MAX_BLOCK_TXS, txRoot, ZERO_HASH, type Block } from '../../codec/block.js';
import type { SignedTx } from '../../codec/tx.js';
import { isWellFormedEvidence, isWellFormedProposal, isWellFormedVote, type Evidence, type Proposal, type Vote } from '../../consensus/index.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import type { ConsensusDriver, ConsensusNetwork } from '../driver.js';
import { hasExactly, RawJson, type Reactor, type ReactorLink } from './wire.js';

/**
 * Consensus on the wire: proposals (with their block), votes and evidence. Every message must carry
 * exactly its signed fields and a proposal's body must match its signed header; anything else
 * penalises the sender. Accepted messages go to the driver.
 */

/**
 * Consensus messages must carry exactly their signed fields: an extra (unsigned) field could be
 * added by any relaying peer to a genuine vote, would be written to the WAL with it, and a deeply
 * nested one makes the WAL encoding throw after the engine already accepted the vote.
 */
const VOTE_KEYS = ['blockHash', 'chainId', 'height', 'round', 'signature', 'timestamp', 'type', 'validator'];
const PROPOSAL_KEYS = ['blockHash', 'chainId', 'height', 'polRound', 'proposer', 'round', 'signature', 'timestamp'];

/**
 * The proposal's signature covers only the block hash (of the header): the body must match the
 * header's roots, or any relay could swap the body of a genuine proposal and make honest validators
 * prevote nil for it (the genuine copy arriving later is then ignored as a duplicate).
 */
function blockMatchesProposal(proposal: Proposal, block: Block): boolean {
  try {
    const { header } = block;
    return (
      blockHash(header) === proposal.blockHash &&
      header.txRoot === txRoot(block.txs) &&
      header.evidenceHash === hashOf(block.evidence) &&
      header.lastCommitHash === (block.lastCommit ? hashOf(block.lastCommit) : ZERO_HASH)
    );
  } catch {
    return false; // e.g. nesting too deep to encode
  }
}

/** How many proposals a peer is remembered to hold (the newest kept; forgetting one only costs a copy). */
export const MAX_KNOWN_PROPOSALS_PER_PEER = 64;

/**
 * How long a peer presumed to have a copy counts as holding it without showing it (the re-gossip
 * interval): a copy we sent it, or — when a proposal reaches us — the copy its proposer sent every
 * validator at the same time. A peer one height behind keeps the proposal for later and one busy
 * executing the block votes within this; a peer further behind (block sync) or that dropped it or
 * never got it gets a copy after this.
 */
export const RESEND_AFTER_MS = 1_000;

/**
 * Which proposals each peer holds, so that the every-second re-gossip of the current proposal
 * (Tendermint relies on eventual delivery) skips peers that have it — under load a height takes about
 * a second and its block is most of the traffic, so every validator re-sent it to every peer. A peer
 * holds a proposal when it sent it to us, or when its own validator prevoted or precommitted its
 * block in its round (both need the round's proposal and block); a presumed copy counts for
 * RESEND_AFTER_MS. Forgotten when the peer disconnects (it may have restarted without it).
 */
export class PeerProposals {
  /** Per peer: proposal key → until when it counts as held (Infinity once the peer showed it). */
  private readonly byPeer = new Map<string, Map<string, number>>();

  static key(height: number, round: number, blockHash: string): string {
    return `${height}/${round}/${blockHash}`;
  }

  holds(peer: string, key: string, now: number): boolean {
    return (this.byPeer.get(peer)?.get(key) ?? -Infinity) > now;
  }

  /** The peer showed it holds the proposal. */
  note(peer: string, key: string): void {
    this.hold(peer, key, Infinity);
  }

  /** A copy went to the peer at `now` (from us, or from the proposal's proposer). */
  presume(peer: string, key: string, now: number): void {
    this.hold(peer, key, now + RESEND_AFTER_MS);
  }

  forget(peer: string): void {
    this.byPeer.delete(peer);
  }

  private hold(peer: string, key: string, until: number): void {
    let keys = this.byPeer.get(peer);
    if (!keys) this.byPeer.set(peer, (keys = new Map()));
    const held = keys.get(key);
    if (held !== undefined) {
      if (until > held) keys.set(key, until);
      return;
    }
    keys.set(key, until);
    // Maps iterate in insertion order: the first key is the oldest.
    if (keys.size > MAX_KNOWN_PROPOSALS_PER_PEER) keys.delete(keys.keys().next().value!);
  }
}

export interface ProposalGossipOptions {
  /** The validator a connected peer's node key belongs to (registered `nodeId`), if any. */
  validatorOfPeer?: (peer: string) => string | undefined;
  /** Copies of a proposal sent to peers and skipped because the peer holds it (metrics). */
  counted?: (outcome: 'sent' | 'skipped', copies: number) => void;
}

export class ConsensusReactor implements Reactor, ConsensusNetwork<Block> {
  readonly channels: readonly ChannelId[] = [Channel.proposal, Channel.vote, Channel.evidence];
  private readonly peerProposals = new PeerProposals();

  constructor(
    private readonly link: ReactorLink,
    private readonly driver: ConsensusDriver<Block>,
    private readonly onBehind: (height: number) => void,
    private readonly clock: () => number,
    /** A transaction this node already decoded and admitted, when `raw` is exactly it (see LedgerNode.knownTx). */
    private readonly knownTx: (raw: unknown) => SignedTx | undefined = () => undefined,
    private readonly gossip: ProposalGossipOptions = {},
  ) {}

  /**
   * The proposal's block, checked against the block schema. Transactions this node already admitted
   * are taken as its own decoded objects (equal field for field, so the schema holds for them and
   * every encoding is the same); only the rest of the block goes through the schema.
   */
  /** The last proposal value checked and forwarded, with its block (see NodeNetwork: a re-gossiped copy is the same value). */
  private lastForwarded: { value: unknown; block: Block } | null = null;

  private parseBlock(raw: unknown): Block | undefined {
    const txs = (raw as { txs?: unknown } | null)?.txs;
    if (!Array.isArray(txs) || txs.length > MAX_BLOCK_TXS) {
      const whole = blockSchema.safeParse(raw);
      return whole.success ? (whole.data as Block) : undefined;
    }
    const known = txs.map((tx) => this.knownTx(tx));
    const parsed = blockSchema.safeParse({ ...(raw as object), txs: txs.filter((_, i) => known[i] === undefined) });
    if (!parsed.success) return undefined;
    let next = 0;
    return { ...(parsed.data as Block), txs: known.map((tx) => tx ?? (parsed.data.txs[next++] as SignedTx)) };
  }

  /** To every peer not known to hold it (see PeerProposals): the proposer's first copy goes to all. */
  broadcastProposal(proposal: Proposal, block: Block): void {
    const key = PeerProposals.key(proposal.height, proposal.round, proposal.blockHash);
    const now = this.clock();
    const peers = this.link.connectedPeers();
    const skip = new Set(peers.filter((peer) => this.peerProposals.holds(peer, key, now)));
    if (skip.size > 0) this.gossip.counted?.('skipped', skip.size);
    if (skip.size === peers.length) return;
    this.gossip.counted?.('sent', peers.length - skip.size);
    for (const peer of peers) if (!skip.has(peer)) this.peerProposals.presume(peer, key, now);
    // The block's JSON is computed once and shared with the WAL and the database (codec/block.ts).
    this.link.broadcast(Channel.proposal, new RawJson(`{"proposal":${JSON.stringify(proposal)},"block":${blockJson(block)}}`), (peer) => skip.has(peer));
  }
  broadcastVote(vote: Vote): void {
    this.link.broadcast(Channel.vote, vote);
  }
  broadcastEvidence(evidence: Evidence): void {
    this.link.broadcast(Channel.evidence, evidence);
  }
  penalize(peerId: string, reason: string): void {
    this.link.penalize(peerId, reason);
  }
  behind(height: number): void {
    this.onBehind(height);
  }
  peerGone(peer: string): void {
    this.peerProposals.forget(peer);
  }

  /** A peer's own validator voted for a block in a round: it holds that round's proposal. */
  private noteVote(peer: string, vote: Vote): void {
    if (vote.blockHash !== null && this.gossip.validatorOfPeer?.(peer) === vote.validator) {
      this.peerProposals.note(peer, PeerProposals.key(vote.height, vote.round, vote.blockHash));
    }
  }
  private noteProposal(peer: string, proposal: Proposal): void {
    this.peerProposals.note(peer, PeerProposals.key(proposal.height, proposal.round, proposal.blockHash));
  }
  /** A new proposal from its proposer's node: in the validators' full mesh it went to every peer at once. */
  private presumeDelivered(from: string, proposal: Proposal, now: number): void {
    if (this.gossip.validatorOfPeer?.(from) !== proposal.proposer) return;
    const key = PeerProposals.key(proposal.height, proposal.round, proposal.blockHash);
    for (const peer of this.link.connectedPeers()) if (peer !== from) this.peerProposals.presume(peer, key, now);
  }

  receive(peer: string, channel: ChannelId, value: unknown): void {
    const now = this.clock();
    if (channel === Channel.proposal) {
      const v = value as { proposal?: unknown; block?: unknown };
      // The same decoded value again (a re-gossiped copy): checked already, forwarded as before.
      const last = this.lastForwarded;
      if (last && last.value === value) {
        this.noteProposal(peer, v.proposal as Proposal);
        return this.driver.onPeerMessage({ type: 'proposal', now, proposal: v.proposal as Proposal, block: last.block }, peer);
      }
      const block = this.parseBlock(v?.block);
      if (!hasExactly(v, ['block', 'proposal']) || !hasExactly(v.proposal, PROPOSAL_KEYS) || !isWellFormedProposal(v.proposal) || !block) {
        return this.penalize(peer, 'malformed proposal');
      }
      if (!blockMatchesProposal(v.proposal, block)) return this.penalize(peer, 'proposal block does not match its signed hash');
      this.lastForwarded = { value, block };
      this.noteProposal(peer, v.proposal);
      this.presumeDelivered(peer, v.proposal, now);
      this.driver.onPeerMessage({ type: 'proposal', now, proposal: v.proposal, block }, peer);
    } else if (channel === Channel.vote) {
      if (!hasExactly(value, VOTE_KEYS) || !isWellFormedVote(value)) return this.penalize(peer, 'malformed vote');
      this.noteVote(peer, value);
      this.driver.onPeerMessage({ type: 'vote', now, vote: value }, peer);
    } else {
      if (!isWellFormedEvidence(value) || !hasExactly(value, ['kind', 'voteA', 'voteB']) || !hasExactly(value.voteA, VOTE_KEYS) || !hasExactly(value.voteB, VOTE_KEYS)) {
        return this.penalize(peer, 'malformed evidence');
      }
      this.driver.handle({ type: 'evidence', now, evidence: value }, peer);
    }
  }
}
