import type { Logger } from 'pino';
import type { GridNode } from './node.js';

/**
 * Block production for a chain with one validator: a block every `blockTimeMs` while transactions
 * wait, and an empty heartbeat block every `emptyBlockIntervalMs` so an idle chain keeps advancing.
 * The single validator's precommit is the commit. Block time = max(wall clock, previous + 1 ms).
 */
export class SoloProducer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly node: GridNode,
    private readonly timing: { blockTimeMs: number; emptyBlockIntervalMs: number },
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.timing.blockTimeMs);
  }

  private tick(): void {
    try {
      const idleFor = this.clock() - this.node.latestBlockTime;
      if (this.node.mempool.size > 0 || idleFor >= this.timing.emptyBlockIntervalMs) this.produce();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'block production failed');
    }
    this.schedule();
  }

  /** Builds, signs and commits the next block. */
  produce(): void {
    const time = Math.max(this.clock(), this.node.latestBlockTime + 1);
    const prev = this.node.storage.getBlock(this.node.height);
    const executed = this.node.buildBlock(time, prev ? prev.commit : null);
    const { height } = executed.block.header;
    const commit = { height, round: 0, blockHash: executed.hash, signatures: [this.node.signPrecommit(height, 0, executed.hash, time)] };
    this.node.commitBlock(executed, commit);
    this.logger.debug({ height, txs: executed.txHashes.length }, 'committed block');
  }
}
