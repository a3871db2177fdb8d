import type { Logger } from 'pino';
import { blockHash, blockSchema, hashOf, txRoot, ZERO_HASH, type Block } from '../codec/block.js';
import { isWellFormedEvidence, isWellFormedProposal, isWellFormedVote, type Proposal } from '../consensus/index.js';
import type { Signer } from '../crypto/ed25519.js';
import { Channel, PeerSwitch, type ChannelId } from '../p2p/index.js';
import { BlockSync, statusMessage, syncRequestMessage, syncResponseMessage } from '../sync/blocksync.js';
import type { ConsensusDriver, ConsensusNetwork } from './driver.js';
import type { NodeConfig } from '../home/home.js';
import type { LedgerNode } from '../ledger/ledger.js';

/**
 * Wires the P2P layer to the node: transaction gossip, consensus messages to the driver, block sync.
 * Every payload is JSON, parsed and shape-checked here; anything malformed penalises the sender.
 */

const MAX_FRAME_BYTES = 8 * 1024 * 1024;

function encode(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function decode(payload: Uint8Array): unknown {
  return JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
}

/**
 * Consensus messages must carry exactly their signed fields: an extra (unsigned) field could be
 * added by any relaying peer to a genuine vote, would be written to the WAL with it, and a deeply
 * nested one makes the WAL encoding throw after the engine already accepted the vote.
 */
const VOTE_KEYS = ['blockHash', 'chainId', 'height', 'round', 'signature', 'timestamp', 'type', 'validator'];
const PROPOSAL_KEYS = ['blockHash', 'chainId', 'height', 'polRound', 'proposer', 'round', 'signature', 'timestamp'];

function hasExactly(x: unknown, keys: readonly string[]): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const own = Object.keys(x);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(x, k));
}

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

/** Transaction admission failures that prove the relaying peer broken (honest peers check first). */
const PEER_FAULT_TX_CODES = new Set(['TX_MALFORMED', 'TX_BAD_SIGNATURE', 'TX_SENDER_KEY_MISMATCH', 'TX_TOO_LARGE', 'TX_WRONG_CHAIN']);

export class NodeNetwork implements ConsensusNetwork {
  readonly p2p: PeerSwitch;
  readonly sync: BlockSync;
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly node: LedgerNode,
    private readonly driver: ConsensusDriver,
    config: NodeConfig,
    nodeKey: Signer,
    private readonly logger: Logger,
  ) {
    this.p2p = new PeerSwitch({
      chainId: node.chainId,
      nodeKey,
      host: config.p2p.host,
      port: config.p2p.port,
      persistentPeers: config.p2p.persistentPeers,
      allowedPeers: config.p2p.allowedPeers,
      maxFrameBytes: MAX_FRAME_BYTES,
      reconnectMaxMs: 5000,
      // Transactions travel in batches, so these limits leave ample room for saturation load.
      rateLimit: { messagesPerSec: 20_000, messagesBurst: 40_000 },
      logger: { debug: (o, m) => logger.debug(o, m), warn: (o, m) => logger.warn(o, m) },
    });
    this.sync = new BlockSync(
      {
        get height() {
          return node.height;
        },
        latestHash: () => node.storage.getBlock(node.height)?.hash ?? '',
        getBlock: (h) => node.storage.getBlock(h),
        applySyncedBlock: (block, commit) => node.applySyncedBlock(block, commit),
      },
      {
        sendStatus: (s) => this.p2p.broadcast(Channel.block, encode(s)),
        sendRequest: (peer, r) => this.p2p.send(peer, Channel.syncRequest, encode(r)),
        sendResponse: (peer, blocks) => this.p2p.send(peer, Channel.syncResponse, encode({ blocks })),
        penalize: (peer, reason) => this.penalize(peer, reason),
        connectedPeers: () => this.p2p.peers().map((p) => p.id),
      },
      {
        batchSize: 20,
        maxResponseBytes: MAX_FRAME_BYTES / 2,
        requestTimeoutMs: 5000,
        clock: Date.now,
        onApplied: (n) => {
          node.metrics.syncBlocks.inc(n);
          this.driver.afterSync();
        },
        onRequestSent: () => node.metrics.syncRequests.inc(),
      },
    );
    this.p2p.onMessage((peer, channel, payload) => this.onMessage(peer, channel, payload));
    this.p2p.onPeerDisconnected((peer) => this.sync.peerGone(peer));
    this.p2p.onPeerConnected(() => this.sync.announce());
    node.on('txAdmitted', (hash: string, origin?: string) => this.queueTxGossip(hash, origin));
    node.on('block', () => this.sync.announce());
  }

  private gossipQueue: Array<{ hash: string; origin?: string }> = [];
  private gossipTimer: NodeJS.Timeout | undefined;

  /** Admitted transactions are gossiped in batches every 20 ms (one message per batch, not per tx). */
  private queueTxGossip(hash: string, origin?: string): void {
    this.gossipQueue.push({ hash, origin });
    this.gossipTimer ??= setTimeout(() => this.flushTxGossip(), 20);
  }

  private flushTxGossip(): void {
    this.gossipTimer = undefined;
    const queue = this.gossipQueue;
    this.gossipQueue = [];
    const byOrigin = new Map<string | undefined, unknown[]>();
    for (const { hash, origin } of queue) {
      const entry = this.node.mempool.get(hash);
      if (!entry) continue;
      const list = byOrigin.get(origin) ?? [];
      list.push(entry.tx);
      byOrigin.set(origin, list);
    }
    const budget = Math.floor(this.p2p.maxPayloadBytes / 2);
    for (const [origin, txs] of byOrigin) {
      let batch: unknown[] = [];
      let bytes = 0;
      for (const tx of txs) {
        const size = JSON.stringify(tx).length;
        if (batch.length > 0 && bytes + size > budget) {
          this.p2p.broadcast(Channel.tx, encode(batch), origin);
          batch = [];
          bytes = 0;
        }
        batch.push(tx);
        bytes += size;
      }
      if (batch.length > 0) this.p2p.broadcast(Channel.tx, encode(batch), origin);
    }
  }

  async start(): Promise<void> {
    await this.p2p.start();
    this.statusTimer = setInterval(() => {
      this.sync.announce();
      this.sync.maybeRequest();
      const m = this.p2p.metrics();
      this.node.metrics.peers.set(m.peersConnected);
      this.node.metrics.peerBytes.set({ direction: 'in' }, m.bytesIn);
      this.node.metrics.peerBytes.set({ direction: 'out' }, m.bytesOut);
      this.node.metrics.peerPenalties.set(m.penalties);
    }, 500);
  }

  async stop(): Promise<void> {
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.gossipTimer) clearTimeout(this.gossipTimer);
    await this.p2p.stop();
  }

  broadcastProposal(proposal: unknown, block: Block): void {
    this.p2p.broadcast(Channel.proposal, encode({ proposal, block }));
  }
  broadcastVote(vote: unknown): void {
    this.p2p.broadcast(Channel.vote, encode(vote));
  }
  broadcastEvidence(evidence: unknown): void {
    this.p2p.broadcast(Channel.evidence, encode(evidence));
  }
  penalize(peerId: string, reason: string): void {
    this.logger.warn({ peer: peerId, reason }, 'penalising peer');
    this.p2p.penalize(peerId, reason);
  }
  behind(height: number): void {
    this.sync.hintHeight(undefined, height);
  }

  private onMessage(peer: string, channel: ChannelId, payload: Uint8Array): void {
    let value: unknown;
    try {
      value = decode(payload);
    } catch {
      this.penalize(peer, `channel ${channel}: payload is not JSON`);
      return;
    }
    const now = Date.now();
    switch (channel) {
      case Channel.tx:
        return this.onTx(peer, value);
      case Channel.proposal: {
        const v = value as { proposal?: unknown; block?: unknown };
        const block = blockSchema.safeParse(v?.block);
        if (!hasExactly(v, ['block', 'proposal']) || !hasExactly(v.proposal, PROPOSAL_KEYS) || !isWellFormedProposal(v.proposal) || !block.success) {
          return this.penalize(peer, 'malformed proposal');
        }
        if (!blockMatchesProposal(v.proposal, block.data as Block)) return this.penalize(peer, 'proposal block does not match its signed hash');
        this.driver.onPeerMessage({ type: 'proposal', now, proposal: v.proposal, block: block.data as Block }, peer);
        return;
      }
      case Channel.vote:
        if (!hasExactly(value, VOTE_KEYS) || !isWellFormedVote(value)) return this.penalize(peer, 'malformed vote');
        this.driver.onPeerMessage({ type: 'vote', now, vote: value }, peer);
        return;
      case Channel.evidence:
        if (!isWellFormedEvidence(value) || !hasExactly(value, ['kind', 'voteA', 'voteB']) || !hasExactly(value.voteA, VOTE_KEYS) || !hasExactly(value.voteB, VOTE_KEYS)) {
          return this.penalize(peer, 'malformed evidence');
        }
        this.driver.handle({ type: 'evidence', now, evidence: value }, peer);
        return;
      case Channel.block: {
        const s = statusMessage.safeParse(value);
        if (!s.success) return this.penalize(peer, 'malformed status');
        this.sync.onStatus(peer, s.data);
        return;
      }
      case Channel.syncRequest: {
        const r = syncRequestMessage.safeParse(value);
        if (!r.success) return this.penalize(peer, 'malformed sync request');
        this.sync.onRequest(peer, r.data);
        return;
      }
      case Channel.syncResponse: {
        const r = syncResponseMessage.safeParse(value);
        if (!r.success) return this.penalize(peer, 'malformed sync response');
        this.sync.onResponse(peer, r.data.blocks as Array<{ block: Block; commit: never }>);
        return;
      }
    }
  }

  private onTx(peer: string, value: unknown): void {
    if (!Array.isArray(value) || value.length > 100_000) return this.penalize(peer, 'transaction gossip is not a batch');
    void this.node.submitTxs(value, peer).then((results) => {
      const fault = results.find((r) => 'error' in r && PEER_FAULT_TX_CODES.has(r.error.code));
      if (fault && 'error' in fault) this.penalize(peer, `invalid transaction: ${fault.error.code}`);
    });
  }
}
