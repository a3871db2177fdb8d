import type { Block, Commit } from '../../codec/block.js';
import type { LedgerNode } from '../../ledger/ledger.js';
import { Channel, type ChannelId } from '../../p2p/index.js';
import { BlockSync, statusMessage, syncRequestMessage, syncResponseMessage } from '../../sync/blocksync.js';
import type { Reactor, ReactorLink } from './wire.js';

/**
 * Block sync on the wire: height announcements (status), requests and responses, each shape-checked
 * before the sync pool sees it. Announces the node's height every 500 ms and after every block.
 */
export class BlockSyncReactor implements Reactor {
  readonly channels: readonly ChannelId[] = [Channel.block, Channel.syncRequest, Channel.syncResponse];
  readonly sync: BlockSync<Block>;
  private readonly timer: NodeJS.Timeout;
  private readonly onBlock = () => this.sync.announce();

  constructor(
    private readonly link: ReactorLink,
    private readonly node: LedgerNode,
    options: { maxFrameBytes: number; onApplied(count: number): void },
  ) {
    this.sync = new BlockSync<Block>(
      node,
      {
        sendStatus: (s) => link.broadcast(Channel.block, s),
        sendRequest: (peer, r) => link.send(peer, Channel.syncRequest, r),
        sendResponse: (peer, blocks) => link.send(peer, Channel.syncResponse, { blocks }),
        penalize: (peer, reason) => link.penalize(peer, reason),
        connectedPeers: () => link.connectedPeers(),
      },
      {
        batchSize: 20,
        maxResponseBytes: options.maxFrameBytes / 2,
        maxBufferedBytes: 64 * 1024 * 1024,
        requestTimeoutMs: 5000,
        clock: Date.now,
        heightOf: (block) => block.header.height,
        sizeOf: (entry: { block: Block; commit: Commit }) => JSON.stringify(entry).length,
        onApplied: (n) => {
          node.metrics.syncBlocks.inc(n);
          options.onApplied(n);
        },
        onRequestSent: () => node.metrics.syncRequests.inc(),
      },
    );
    node.on('block', this.onBlock);
    this.timer = setInterval(() => {
      this.sync.announce();
      this.sync.maybeRequest();
    }, 500);
  }

  stop(): void {
    clearInterval(this.timer);
    this.node.off('block', this.onBlock);
  }

  peerConnected(): void {
    this.sync.announce();
  }

  peerGone(peerId: string): void {
    this.sync.peerGone(peerId);
  }

  receive(peer: string, channel: ChannelId, value: unknown): void {
    if (channel === Channel.block) {
      const s = statusMessage.safeParse(value);
      if (!s.success) return this.penalizeMalformed(peer, 'status');
      this.sync.onStatus(peer, s.data);
    } else if (channel === Channel.syncRequest) {
      const r = syncRequestMessage.safeParse(value);
      if (!r.success) return this.penalizeMalformed(peer, 'sync request');
      this.sync.onRequest(peer, r.data);
    } else {
      const r = syncResponseMessage.safeParse(value);
      if (!r.success) return this.penalizeMalformed(peer, 'sync response');
      this.sync.onResponse(peer, r.data.blocks as Array<{ block: Block; commit: Commit }>);
    }
  }

  private penalizeMalformed(peer: string, what: string): void {
    this.sync.peerGone(peer);
    this.link.penalize(peer, `malformed ${what}`);
  }
}
