import { blockHash, hashOf, txRoot, ZERO_HASH, type Block } from '../../codec/block.js';
import type { SignedTx } from '../../codec/tx.js';
import { isWellFormedEvidence, isWellFormedProposal, isWellFormedVote, type Evidence, type Proposal, type Vote } from '../../consensus/index.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import type { ConsensusDriver, ConsensusNetwork } from '../driver.js';
import { asFilled, asFillRequest, compactBlockJson, completed, filledJson, missingOf, parseProposalBlock, refill, type PartialBlock } from './compact-blocks.js';
import { hasExactly, RawJson, type Reactor, type ReactorLink } from './wire.js';

/**
 * Consensus on the wire: proposals (with their block, compact: ADR 0021), votes and evidence. Every
 * message must carry exactly its signed fields and a proposal's body must match its signed header;
 * anything else penalises the sender. Accepted messages go to the driver.
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

/** Blocks kept to answer peers' fill requests: the proposals this node sent or accepted lately. */
const RECENT_BLOCKS = 8;
/** Fill requests answered per peer and block (the second asks again for what was filled locally). */
const MAX_FILLS_PER_BLOCK = 2;
const MAX_ANSWERED = 4_096;

/** A compact proposal from a peer still waiting for the transactions asked of that peer. */
interface AwaitedFill {
  readonly value: unknown;
  readonly proposal: Proposal;
  readonly partial: PartialBlock;
  readonly requested: number[];
  /** 'missing': asked for what this node lacks; 'all-local': asked again for what it had filled itself. */
  readonly stage: 'missing' | 'all-local';
  /** Whether this node already looked again for the missing ones (FILL_WAIT_MS after the proposal). */
  readonly waited: boolean;
  /** When the proposal arrived (this node's clock). */
  readonly arrived: number;
}

export interface ProposalGossipOptions {
  /** The validator a connected peer's node key belongs to (registered `nodeId`), if any. */
  validatorOfPeer?: (peer: string) => string | undefined;
  /** Copies of a proposal sent to peers and skipped because the peer holds it (metrics). */
  counted?: (outcome: 'sent' | 'skipped', copies: number) => void;
  /** The transaction with this hash that this node holds, pending or being admitted (fills compact blocks). */
  txWithHash?: (hash: string) => SignedTx | undefined;
  /** Transactions of compact blocks: filled from this node's pools, and asked of the peer (metrics). */
  filledTxs?: (source: 'local' | 'asked', txs: number) => void;
  /** A compact proposal forwarded only after a second look or a fill: how long after it arrived (metrics). */
  fillDelay?: (ms: number) => void;
  /** Runs before a proposal goes out (the node sends its queued transaction gossip first). */
  beforeProposal?: () => void;
  /** Runs `fn` after `ms` (setTimeout; tests pass their own). */
  later?: (fn: () => void, ms: number) => void;
}

/**
 * How long a validator lacking some of a compact block's transactions waits before asking for them:
 * they mostly arrived just before the proposal and are still being decoded, a slice at a time.
 */
export const FILL_WAIT_MS = 10;

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

  /** The last proposal value checked and forwarded, with its block (see NodeNetwork: a re-gossiped copy is the same value). */
  private lastForwarded: { value: unknown; block: Block } | null = null;
  private readonly recentBlocks = new Map<string, Block>();
  /** Per peer: the compact proposal waiting for the transactions asked of it (the latest one). */
  private readonly awaited = new Map<string, AwaitedFill>();
  private readonly answered = new Map<string, number>();

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
    this.remember(proposal.blockHash, block);
    this.gossip.beforeProposal?.();
    this.link.broadcast(Channel.proposal, new RawJson(`{"proposal":${JSON.stringify(proposal)},"block":${compactBlockJson(block)}}`), (peer) => skip.has(peer));
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
    this.awaited.delete(peer);
    // A reconnected peer may have lost the answers in flight: it may ask again.
    for (const key of this.answered.keys()) if (key.startsWith(`${peer}/`)) this.answered.delete(key);
  }

  private remember(hash: string, block: Block): void {
    this.recentBlocks.delete(hash);
    this.recentBlocks.set(hash, block);
    if (this.recentBlocks.size > RECENT_BLOCKS) this.recentBlocks.delete(this.recentBlocks.keys().next().value!);
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

  private get sources() {
    return { knownTx: this.knownTx, txWithHash: this.gossip.txWithHash ?? (() => undefined) };
  }

  /**
   * A proposal whose block may lack transactions: ask the sender for them; once complete, check it
   * against the signed header. A block filled from this node's own pools that does not match may
   * hold another signature for a transaction than the proposer's: ask for those too before blaming.
   */
  private tryComplete(peer: string, fill: AwaitedFill, now: number): void {
    const missing = missingOf(fill.partial);
    if (missing.length > 0 && !fill.waited) return this.waitForLocal(peer, fill);
    if (missing.length > 0) return this.askFill(peer, { ...fill, requested: missing });
    const block = completed(fill.partial)!;
    if (blockMatchesProposal(fill.proposal, block)) {
      if (fill.waited) this.gossip.fillDelay?.(now - fill.arrived);
      return this.accept(peer, fill.value, fill.proposal, block, now);
    }
    if (fill.stage === 'missing' && fill.partial.local.length > 0) {
      const txs = fill.partial.txs.slice();
      for (const i of fill.partial.local) txs[i] = undefined;
      return this.askFill(peer, { ...fill, partial: { ...fill.partial, txs, local: [] }, requested: fill.partial.local, stage: 'all-local', waited: true });
    }
    this.penalize(peer, 'proposal block does not match its signed hash');
  }

  /** Looks again for the missing transactions after FILL_WAIT_MS, then goes on (asking the peer for those still missing). */
  private waitForLocal(peer: string, fill: AwaitedFill): void {
    this.awaited.set(peer, fill);
    (this.gossip.later ?? ((fn, ms) => void setTimeout(fn, ms)))(() => {
      if (this.awaited.get(peer) !== fill) return; // replaced by a newer proposal, or the peer left
      this.awaited.delete(peer);
      const partial = refill(fill.partial, this.sources);
      this.gossip.filledTxs?.('local', partial.local.length - fill.partial.local.length);
      this.tryComplete(peer, { ...fill, partial, waited: true }, this.clock());
    }, FILL_WAIT_MS);
  }

  private askFill(peer: string, fill: AwaitedFill): void {
    this.awaited.set(peer, fill);
    this.gossip.filledTxs?.('asked', fill.requested.length);
    this.link.send(peer, Channel.proposal, { fill: { blockHash: fill.proposal.blockHash, indexes: fill.requested } });
  }

  private accept(peer: string, value: unknown, proposal: Proposal, block: Block, now: number): void {
    this.lastForwarded = { value, block };
    this.remember(proposal.blockHash, block);
    this.noteProposal(peer, proposal);
    this.presumeDelivered(peer, proposal, now);
    this.driver.onPeerMessage({ type: 'proposal', now, proposal, block }, peer);
  }

  /** A peer asks for transactions of a block this node sent or accepted: answered at most twice per block. */
  private answerFill(peer: string, raw: unknown): void {
    const request = asFillRequest(raw);
    if (!request) return this.penalize(peer, 'malformed block fill request');
    const block = this.recentBlocks.get(request.blockHash);
    if (!block) return; // an old block, forgotten: the peer gets the next proposal
    if (request.indexes[request.indexes.length - 1]! >= block.txs.length) return this.penalize(peer, 'block fill request beyond the block');
    const key = `${peer}/${request.blockHash}`;
    const answered = this.answered.get(key) ?? 0;
    if (answered >= MAX_FILLS_PER_BLOCK) return;
    if (this.answered.size >= MAX_ANSWERED) this.answered.clear();
    this.answered.set(key, answered + 1);
    this.link.send(peer, Channel.proposal, new RawJson(filledJson(request.blockHash, block, request.indexes)));
  }

  /** The transactions asked of a peer: completes the awaited proposal, or is ignored when nothing was asked (late). */
  private takeFilled(peer: string, raw: unknown, now: number): void {
    const filled = asFilled(raw);
    if (!filled) return this.penalize(peer, 'malformed block fill');
    const fill = this.awaited.get(peer);
    if (!fill || fill.proposal.blockHash !== filled.blockHash || !sameIndexes(fill.requested, filled.indexes)) return;
    this.awaited.delete(peer);
    const txs = fill.partial.txs.slice();
    filled.indexes.forEach((at, j) => (txs[at] = filled.txs[j]));
    this.tryComplete(peer, { ...fill, partial: { ...fill.partial, txs } }, now);
  }

  receive(peer: string, channel: ChannelId, value: unknown): void {
    const now = this.clock();
    if (channel === Channel.proposal) {
      const v = value as { proposal?: unknown; block?: unknown; fill?: unknown; filled?: unknown } | null;
      if (hasExactly(v, ['fill'])) return this.answerFill(peer, v!.fill);
      if (hasExactly(v, ['filled'])) return this.takeFilled(peer, v!.filled, now);
      // The same decoded value again (a re-gossiped copy): checked already, forwarded as before.
      const last = this.lastForwarded;
      if (last && last.value === value) {
        this.noteProposal(peer, v!.proposal as Proposal);
        return this.driver.onPeerMessage({ type: 'proposal', now, proposal: v!.proposal as Proposal, block: last.block }, peer);
      }
      const partial = hasExactly(v, ['block', 'proposal']) ? parseProposalBlock(v!.block, this.sources) : undefined;
      if (!partial || !hasExactly(v!.proposal, PROPOSAL_KEYS) || !isWellFormedProposal(v!.proposal)) return this.penalize(peer, 'malformed proposal');
      this.gossip.filledTxs?.('local', partial.local.length);
      this.tryComplete(peer, { value, proposal: v!.proposal, partial, requested: [], stage: 'missing', waited: false, arrived: now }, now);
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

function sameIndexes(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
