import { z } from 'zod';
import { blockSchema, commitShape, type Commit } from '../codec/block.js';
import { LedgerError } from '../util/errors.js';

/**
 * Block sync: a node that is behind (new, restarted, partitioned, paused) fetches committed blocks
 * with their commits in batches from several peers, verifies each commit against the validator set
 * it knows before applying, and drops (penalises) a peer that serves wrong or unappendable blocks.
 * Peers announce their height in a small status message; a peer ahead of us for two announcements
 * in a row (or by more than one height) triggers fetching.
 *
 * Only what was asked for is accepted: a response may carry only blocks of ranges requested from
 * that peer recently (a late or duplicated answer to a request is still welcome); a block above our
 * height that was never asked of that peer is unsolicited and penalised. Blocks we already have are
 * ignored. Buffered blocks are bounded in bytes. Generic over the block type, so the simulator runs
 * this exact code.
 */

export const statusMessage = z.object({ height: z.number().int().min(0), hash: z.string().max(64) }).strict();
export const syncRequestMessage = z.object({ from: z.number().int().min(1), count: z.number().int().min(1).max(100) }).strict();
export const syncResponseMessage = z.object({ blocks: z.array(z.object({ block: blockSchema, commit: commitShape }).strict()).max(100) }).strict();

export type SyncStatus = z.infer<typeof statusMessage>;
export type SyncRequest = z.infer<typeof syncRequestMessage>;

export interface SyncTransport<B> {
  sendStatus(status: SyncStatus): void;
  sendRequest(peerId: string, request: SyncRequest): void;
  sendResponse(peerId: string, blocks: Array<{ block: B; commit: Commit }>): void;
  penalize(peerId: string, reason: string): void;
  connectedPeers(): string[];
}

export interface SyncTarget<B> {
  readonly height: number;
  latestHash(): string;
  getBlock(height: number): { block: B; commit: Commit } | undefined;
  /** Throws LedgerError BLOCK_SYNC_* when the block or its commit is wrong. */
  applySyncedBlock(block: B, commit: Commit): void;
}

export interface BlockSyncOptions<B> {
  batchSize: number;
  /** Largest response payload we build, in bytes of JSON. */
  maxResponseBytes: number;
  /** Most bytes of fetched blocks held while waiting for an earlier height. */
  maxBufferedBytes: number;
  requestTimeoutMs: number;
  clock: () => number;
  heightOf(block: B): number;
  /** Encoded size of a stored block with its commit (for the response and buffer limits). */
  sizeOf(entry: { block: B; commit: Commit }): number;
  onApplied(count: number): void;
  onRequestSent?(): void;
}

interface InFlight {
  peer: string;
  from: number;
  count: number;
  sentAt: number;
}

export class BlockSync<B> {
  private readonly peerHeights = new Map<string, { height: number; aheadCount: number }>();
  private readonly inFlight = new Map<number, InFlight>();
  /** Ranges asked of each peer, remembered for a while after the request (late and duplicate answers are fine). */
  private readonly asked = new Map<string, Array<{ from: number; to: number; until: number }>>();
  private readonly buffered = new Map<number, { block: B; commit: Commit; peer: string; bytes: number }>();
  private bufferedBytes = 0;
  private nextPeer = 0;

  constructor(
    private readonly target: SyncTarget<B>,
    private readonly transport: SyncTransport<B>,
    private readonly options: BlockSyncOptions<B>,
  ) {}

  /** Highest height a connected peer has announced. */
  get bestPeerHeight(): number {
    let best = 0;
    for (const { height } of this.peerHeights.values()) best = Math.max(best, height);
    return best;
  }

  get syncing(): boolean {
    return this.inFlight.size > 0;
  }

  /** Bytes of blocks held for later heights (bounded by `maxBufferedBytes`). */
  get bufferedByteCount(): number {
    return this.bufferedBytes;
  }

  announce(): void {
    this.transport.sendStatus({ height: this.target.height, hash: this.target.latestHash() });
  }

  peerGone(peerId: string): void {
    this.peerHeights.delete(peerId);
    this.asked.delete(peerId);
    for (const [from, f] of this.inFlight) if (f.peer === peerId) this.inFlight.delete(from);
  }

  onStatus(peerId: string, status: SyncStatus): void {
    const prev = this.peerHeights.get(peerId);
    const ahead = status.height > this.target.height;
    this.peerHeights.set(peerId, { height: status.height, aheadCount: ahead ? (prev?.aheadCount ?? 0) + 1 : 0 });
    this.maybeRequest();
  }

  /** A consensus message showed a peer at a height we have not reached. */
  hintHeight(peerId: string | undefined, height: number): void {
    if (peerId) {
      const prev = this.peerHeights.get(peerId);
      this.peerHeights.set(peerId, { height: Math.max(prev?.height ?? 0, height - 1), aheadCount: 2 });
    }
    this.maybeRequest();
  }

  onRequest(peerId: string, request: SyncRequest): void {
    const blocks: Array<{ block: B; commit: Commit }> = [];
    let bytes = 0;
    for (let h = request.from; h < request.from + request.count && h <= this.target.height; h++) {
      const stored = this.target.getBlock(h);
      if (!stored) break;
      const size = this.options.sizeOf(stored);
      if (blocks.length > 0 && bytes + size > this.options.maxResponseBytes) break;
      blocks.push({ block: stored.block, commit: stored.commit });
      bytes += size;
    }
    this.transport.sendResponse(peerId, blocks);
  }

  private stale(height: number): boolean {
    return height <= this.target.height || this.buffered.has(height);
  }

  /** A block above our height that was never asked of this peer (recently) and is not buffered already. */
  private unsolicited(peerId: string, height: number): boolean {
    if (this.stale(height)) return false;
    const now = this.options.clock();
    return !(this.asked.get(peerId) ?? []).some((r) => r.until >= now && height >= r.from && height < r.to);
  }

  onResponse(peerId: string, blocks: Array<{ block: B; commit: Commit }>): void {
    const asked = [...this.inFlight.values()].filter((f) => f.peer === peerId);
    const unsolicited = blocks.find((e) => this.unsolicited(peerId, this.options.heightOf(e.block)));
    if (unsolicited) {
      this.transport.penalize(peerId, `unsolicited block sync response (height ${this.options.heightOf(unsolicited.block)} was not requested from this peer)`);
      this.peerGone(peerId);
      return;
    }
    // Only blocks we already have (a duplicate or late copy of an answer): nothing to do, no harm done.
    if (blocks.length > 0 && blocks.every((e) => this.stale(this.options.heightOf(e.block)))) return;
    for (const f of asked) this.inFlight.delete(f.from);
    // A peer that announced the heights we asked for but serves nothing is stalling us.
    const announced = this.peerHeights.get(peerId)?.height ?? 0;
    if (blocks.length === 0 && asked.some((f) => f.from <= announced)) {
      this.transport.penalize(peerId, `announced height ${announced} but served no blocks`);
      this.peerGone(peerId);
      return;
    }
    for (const entry of blocks) this.buffer(entry, peerId);
    this.applyBuffered();
    this.maybeRequest();
  }

  /** Keeps a fetched block for later; beyond the byte budget it is dropped (and fetched again later). */
  private buffer(entry: { block: B; commit: Commit }, peer: string): void {
    const h = this.options.heightOf(entry.block);
    if (h <= this.target.height || this.buffered.has(h)) return;
    const bytes = this.options.sizeOf(entry);
    if (this.bufferedBytes + bytes > this.options.maxBufferedBytes && h !== this.target.height + 1) return;
    this.buffered.set(h, { ...entry, peer, bytes });
    this.bufferedBytes += bytes;
  }

  private unbuffer(height: number): void {
    const b = this.buffered.get(height);
    if (!b) return;
    this.buffered.delete(height);
    this.bufferedBytes -= b.bytes;
  }

  /** Applies buffered blocks in height order; a bad one penalises the peer that served it. */
  private applyBuffered(): void {
    let applied = 0;
    for (;;) {
      const next = this.buffered.get(this.target.height + 1);
      if (!next) break;
      this.unbuffer(this.target.height + 1);
      try {
        this.target.applySyncedBlock(next.block, next.commit);
        applied += 1;
      } catch (err) {
        const reason = err instanceof LedgerError ? `${err.code}: ${err.message}` : 'block could not be applied';
        this.transport.penalize(next.peer, reason);
        this.peerGone(next.peer);
        for (const [h, b] of this.buffered) if (b.peer === next.peer) this.unbuffer(h);
        break;
      }
    }
    for (const h of [...this.buffered.keys()]) if (h <= this.target.height) this.unbuffer(h);
    if (applied > 0) this.options.onApplied(applied);
  }

  private rememberAsked(peer: string, from: number, count: number, now: number): void {
    const ranges = (this.asked.get(peer) ?? []).filter((r) => r.until >= now);
    ranges.push({ from, to: from + count, until: now + 4 * this.options.requestTimeoutMs });
    this.asked.set(peer, ranges);
  }

  /** Requests missing batches from different peers that have them; re-requests timed-out ones. */
  maybeRequest(): void {
    const now = this.options.clock();
    for (const [from, f] of this.inFlight) if (now - f.sentAt > this.options.requestTimeoutMs) this.inFlight.delete(from);
    const candidates = [...this.peerHeights.entries()].filter(([, p]) => p.height > this.target.height + 1 || (p.height > this.target.height && p.aheadCount >= 2));
    if (candidates.length === 0) return;
    const best = Math.max(...candidates.map(([, p]) => p.height));
    let from = this.target.height + 1;
    const maxParallel = Math.min(4, candidates.length * 2);
    while (from <= best && this.inFlight.size < maxParallel) {
      if (this.inFlight.has(from) || this.buffered.has(from)) {
        from += this.options.batchSize;
        continue;
      }
      const withBlock = candidates.filter(([, p]) => p.height >= from);
      if (withBlock.length === 0) break;
      const [peer] = withBlock[this.nextPeer++ % withBlock.length]!;
      const count = Math.min(this.options.batchSize, best - from + 1);
      this.inFlight.set(from, { peer, from, count, sentAt: now });
      this.rememberAsked(peer, from, count, now);
      this.transport.sendRequest(peer, { from, count });
      this.options.onRequestSent?.();
      from += this.options.batchSize;
    }
  }
}
