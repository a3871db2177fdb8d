import type { Logger } from 'pino';
import type { Block } from '../codec/block.js';
import type { Signer } from '../crypto/ed25519.js';
import type { NodeConfig } from '../home/home.js';
import type { LedgerNode } from '../ledger/ledger.js';
import { registryKeeper } from '../modules/registry/keeper.js';
import { isAddress } from '../crypto/address.js';
import { Channel, PeerSwitch, type ChannelId } from '../p2p/index.js';
import type { ConsensusDriver } from './driver.js';
import { BlockSyncReactor } from './reactors/blocksync.js';
import { ConsensusReactor } from './reactors/consensus.js';
import { MempoolReactor } from './reactors/mempool.js';
import { MessagingReactor } from './reactors/messaging.js';
import type { MessagingNode } from '../messaging/index.js';
import { decode, switchLink, type Reactor } from './reactors/wire.js';

/**
 * The node on the network: the peer switch (authenticated, encrypted connections) and the reactors
 * that own the channels — consensus, transactions, block sync, and (off the ledger) messages. A frame is decoded once here and
 * handed to the reactor of its channel; a payload that is not JSON penalises the sender.
 */

const MAX_FRAME_BYTES = 8 * 1024 * 1024;
const PROPOSAL_PREFIX = Buffer.from('{"proposal":');

function startsWith(payload: Uint8Array, prefix: Buffer): boolean {
  return payload.byteLength >= prefix.byteLength && prefix.equals(payload.subarray(0, prefix.byteLength));
}

export class NodeNetwork {
  readonly p2p: PeerSwitch;
  readonly consensus: ConsensusReactor;
  readonly mempool: MempoolReactor;
  readonly blocksync: BlockSyncReactor;
  readonly messaging: MessagingReactor | null;
  private readonly byChannel = new Map<ChannelId, Reactor>();
  /**
   * The last proposal payload decoded, and its value: a proposal is re-gossiped every second until
   * its height ends, so a validator receives the same multi-megabyte payload several times; a copy
   * equal byte for byte is the same value, so it is not decoded again (the reactor then recognises
   * the value it already checked).
   */
  private lastProposal: { payload: Buffer; value: unknown } | null = null;
  private metricsTimer: NodeJS.Timeout | undefined;
  private allowList = '';
  /** The validators in force by their registered node id (a peer's own votes tell what it holds). */
  private validatorByNode = new Map<string, string>();
  private readonly onBlock = () => this.followValidatorSet();

  constructor(
    private readonly node: LedgerNode,
    driver: ConsensusDriver<Block>,
    private readonly config: NodeConfig,
    nodeKey: Signer,
    private readonly logger: Logger,
    messaging?: MessagingNode,
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
    const link = switchLink(this.p2p, (peer, reason) => this.penalize(peer, reason), node.metrics.phases);
    this.blocksync = new BlockSyncReactor(link, node, { maxFrameBytes: MAX_FRAME_BYTES, onApplied: () => driver.afterSync() });
    this.consensus = new ConsensusReactor(link, driver, (height) => this.blocksync.sync.hintHeight(undefined, height), Date.now, (raw) => node.knownTx(raw), {
      validatorOfPeer: (peer) => this.validatorByNode.get(peer),
      counted: (outcome, copies) => node.metrics.proposalCopies.inc({ outcome }, copies),
      txWithHash: (hash) => node.txWithHash(hash),
      filledTxs: (source, txs) => node.metrics.compactFills.inc({ source }, txs),
      beforeProposal: () => this.mempool.flushNow(),
      fillDelay: (ms) => node.metrics.compactFillDelay.observe(ms / 1000),
    });
    this.mempool = new MempoolReactor(link, node, this.p2p.maxPayloadBytes);
    this.messaging = messaging ? new MessagingReactor(link, messaging) : null;
    for (const reactor of this.reactors()) for (const channel of reactor.channels) this.byChannel.set(channel, reactor);
    this.p2p.onMessage((peer, channel, payload) => this.route(peer, channel, payload));
    this.p2p.onPeerConnected(() => this.blocksync.peerConnected());
    this.p2p.onPeerDisconnected((peer) => {
      this.blocksync.peerGone(peer);
      this.consensus.peerGone(peer);
      this.mempool.peerGone(peer);
      this.messaging?.peerGone(peer);
    });
  }

  private reactors(): Reactor[] {
    return [this.consensus, this.mempool, this.blocksync, ...(this.messaging ? [this.messaging] : [])];
  }

  get sync() {
    return this.blocksync.sync;
  }

  private route(peer: string, channel: ChannelId, payload: Uint8Array): void {
    const reactor = this.byChannel.get(channel);
    if (!reactor) return this.penalize(peer, `no reactor for channel ${channel}`);
    const phases = this.node.metrics.phases;
    let value: unknown;
    try {
      value = phases.time('p2p.decode', () => this.decodeOnce(channel, payload));
    } catch {
      return this.penalize(peer, `channel ${channel}: payload is not JSON`);
    }
    phases.time(`p2p.receive.${channel}`, () => reactor.receive(peer, channel, value, payload.byteLength));
  }

  private decodeOnce(channel: ChannelId, payload: Uint8Array): unknown {
    // Only proposals are kept (not the block-fill requests and replies on the same channel).
    if (channel !== Channel.proposal || !startsWith(payload, PROPOSAL_PREFIX)) return decode(payload);
    const last = this.lastProposal;
    if (last && last.payload.equals(payload)) return last.value;
    const value = decode(payload);
    this.lastProposal = { payload: Buffer.from(payload), value };
    return value;
  }

  penalize(peerId: string, reason: string): void {
    this.logger.warn({ peer: peerId, reason }, 'penalising peer');
    this.p2p.penalize(peerId, reason);
  }

  /**
   * Who may connect: the configured allow-list and persistent peers, plus the nodes of the
   * validators in force (their registered node ids). Refreshed after every block, so a validator
   * added by governance can connect and a removed or jailed one is dropped.
   */
  private followValidatorSet(): void {
    const ctx = this.node.app.queryContext('registry', { height: this.node.height, time: this.node.latestBlockTime });
    const withNodes = registryKeeper(ctx)
      .validators()
      .flatMap((v) => (v.nodeId && isAddress(v.nodeId) ? [{ nodeId: v.nodeId, address: v.address }] : []));
    this.validatorByNode = new Map(withNodes.map((v) => [v.nodeId, v.address]));
    const validatorNodes = withNodes.map((v) => v.nodeId);
    const allowed = [...new Set([...this.config.p2p.allowedPeers, ...validatorNodes])].sort();
    const key = allowed.join(',');
    if (key === this.allowList) return;
    this.allowList = key;
    this.p2p.setAllowedPeers(allowed);
    this.logger.info({ allowed: allowed.length }, 'peer allow-list follows the validator set');
  }

  async start(): Promise<void> {
    this.followValidatorSet();
    this.node.on('block', this.onBlock);
    await this.p2p.start();
    this.metricsTimer = setInterval(() => {
      const m = this.p2p.metrics();
      this.node.metrics.peers.set(m.peersConnected);
      this.node.metrics.peerBytes.set({ direction: 'in' }, m.bytesIn);
      this.node.metrics.peerBytes.set({ direction: 'out' }, m.bytesOut);
      this.node.metrics.peerPenalties.set(m.penalties);
    }, 500);
  }

  async stop(): Promise<void> {
    this.node.off('block', this.onBlock);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    for (const reactor of this.reactors()) reactor.stop?.();
    await this.p2p.stop();
  }
}
