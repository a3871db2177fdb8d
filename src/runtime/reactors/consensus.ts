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

export class ConsensusReactor implements Reactor, ConsensusNetwork<Block> {
  readonly channels: readonly ChannelId[] = [Channel.proposal, Channel.vote, Channel.evidence];

  constructor(
    private readonly link: ReactorLink,
    private readonly driver: ConsensusDriver<Block>,
    private readonly onBehind: (height: number) => void,
    private readonly clock: () => number,
    /** A transaction this node already decoded and admitted, when `raw` is exactly it (see LedgerNode.knownTx). */
    private readonly knownTx: (raw: unknown) => SignedTx | undefined = () => undefined,
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

  broadcastProposal(proposal: Proposal, block: Block): void {
    // The block's JSON is computed once and shared with the WAL and the database (codec/block.ts).
    this.link.broadcast(Channel.proposal, new RawJson(`{"proposal":${JSON.stringify(proposal)},"block":${blockJson(block)}}`));
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

  receive(peer: string, channel: ChannelId, value: unknown): void {
    const now = this.clock();
    if (channel === Channel.proposal) {
      const v = value as { proposal?: unknown; block?: unknown };
      // The same decoded value again (a re-gossiped copy): checked already, forwarded as before.
      const last = this.lastForwarded;
      if (last && last.value === value) return this.driver.onPeerMessage({ type: 'proposal', now, proposal: v.proposal as Proposal, block: last.block }, peer);
      const block = this.parseBlock(v?.block);
      if (!hasExactly(v, ['block', 'proposal']) || !hasExactly(v.proposal, PROPOSAL_KEYS) || !isWellFormedProposal(v.proposal) || !block) {
        return this.penalize(peer, 'malformed proposal');
      }
      if (!blockMatchesProposal(v.proposal, block)) return this.penalize(peer, 'proposal block does not match its signed hash');
      this.lastForwarded = { value, block };
      this.driver.onPeerMessage({ type: 'proposal', now, proposal: v.proposal, block }, peer);
    } else if (channel === Channel.vote) {
      if (!hasExactly(value, VOTE_KEYS) || !isWellFormedVote(value)) return this.penalize(peer, 'malformed vote');
      this.driver.onPeerMessage({ type: 'vote', now, vote: value }, peer);
    } else {
      if (!isWellFormedEvidence(value) || !hasExactly(value, ['kind', 'voteA', 'voteB']) || !hasExactly(value.voteA, VOTE_KEYS) || !hasExactly(value.voteB, VOTE_KEYS)) {
        return this.penalize(peer, 'malformed evidence');
      }
      this.driver.handle({ type: 'evidence', now, evidence: value }, peer);
    }
  }
}
