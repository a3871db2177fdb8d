import { Worker } from 'node:worker_threads';
import { decodeRoot } from '../app/state-tree.js';
import type { TreeUpdate } from '../app/smt.js';
import { NO_PHASES, type PhaseMeter, type PhaseTimer } from '../util/phase-meter.js';
import type { TreeThreadReply, TreeThreadRequest } from './state-tree-thread.js';
import { unpackTree } from './tree-rows-wire.js';
import type { ReadCacheLimits, TreeRowsListener } from '../store/sqlite.js';

type Reply = TreeThreadReply & { busyMs?: number };

/**
 * The node's side of the state-tree worker (ADR 0024): asks a worker thread for a block's tree
 * update and keeps the worker's copy of the rows held in memory and its caches exact (`committed`,
 * `flushed`, `reset`: the storage's listener, called in the order storage changes). Every failure
 * ends in null — the caller computes the tree itself — and a worker that errs, exits, refuses or
 * does not answer is not replaced: the node goes on computing inline, as before ADR 0024.
 */
export class StateTreeWorker implements TreeRowsListener {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (update: TreeUpdate | null) => void>();
  /** The rows of the worker's answers, so committing one tells the worker its id instead of its rows. */
  private readonly answerIds = new WeakMap<object, number>();
  /** Linux thread id of the worker (for the CPU report's per-thread split). */
  readonly threadIds = new Set<number>();

  constructor(
    dbPath: string,
    private readonly phases: PhaseTimer & Partial<Pick<PhaseMeter, 'add'>> = NO_PHASES,
    private readonly onFailure: (reason: string) => void = () => {},
    private readonly answerTimeoutMs = 30_000,
    /** The node storage's cache limits: the worker's own caches are bounded alike (undefined: the defaults). */
    cacheLimits?: ReadCacheLimits,
  ) {
    const worker = new Worker(new URL('./state-tree-thread.mjs', import.meta.url), { workerData: { dbPath, cacheLimits } });
    worker.on('message', (m: Reply | { type: 'ready'; tid?: number }) => this.onReply(m));
    worker.on('error', (err) => this.retire(`the state-tree worker failed: ${err.message}`));
    worker.on('exit', (code) => this.retire(`the state-tree worker exited (code ${code})`));
    worker.unref();
    this.worker = worker;
  }

  /** False once the worker failed or was closed. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The tree after `writes` on the committed state whose root is `parentRoot`, or null (compute it yourself). */
  compute(height: number, parentRoot: Uint8Array, writes: ReadonlyMap<string, string | null>): Promise<TreeUpdate | null> {
    if (!this.worker) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ type: 'compute', id, height, parentRoot, writes });
      // A block's tree takes well under a second (~70 µs per transaction); one that never comes means a stuck worker.
      const timer = setTimeout(() => {
        if (this.waiting.has(id)) void this.end(`the state-tree worker did not answer request ${id} within ${this.answerTimeoutMs} ms`);
      }, this.answerTimeoutMs);
      timer.unref();
    });
  }

  /** A worker that is stuck or refuses is ended; what it owed is computed inline (retire). */
  private async end(reason: string): Promise<void> {
    const worker = this.worker;
    this.retire(reason);
    await worker?.terminate();
  }

  /** Storage listener: a block was committed (its writes and rows: by id when they were this worker's answer). */
  committed(block: { writes: ReadonlyMap<string, string | null>; rows: ReadonlyMap<string, Uint8Array | null>; held: boolean; flushed: boolean }): void {
    const id = this.answerIds.get(block.rows);
    const { held, flushed } = block;
    this.post(id !== undefined ? { type: 'committed', id, held, flushed } : { type: 'committed', writes: block.writes, rows: block.rows, held, flushed });
  }

  /** Storage listener: the rows held in memory were written to the table. */
  flushed(): void {
    this.post({ type: 'flushed' });
  }

  /** Storage listener: genesis was written. */
  reset(): void {
    this.post({ type: 'reset' });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.retire(undefined);
    await worker?.terminate();
  }

  private post(request: TreeThreadRequest): void {
    this.worker?.postMessage(request);
  }

  private onReply(m: Reply | { type: 'ready'; tid?: number }): void {
    if (m.type === 'ready') {
      if (m.tid !== undefined) this.threadIds.add(m.tid);
      return;
    }
    const resolve = this.waiting.get(m.id);
    this.waiting.delete(m.id);
    if (m.busyMs !== undefined) this.phases.add?.('workers.stateTree', m.busyMs, 1);
    if (m.type !== 'computed') {
      resolve?.(null);
      if (m.type === 'refused') void this.end(`the state-tree worker refused request ${m.id}: ${m.reason}`);
      return;
    }
    const { root, rows } = unpackTree(m.packed);
    this.answerIds.set(rows, m.id);
    resolve?.({ root: decodeRoot(root), rows });
  }

  /** The worker is gone: what it owed is computed inline from now on. */
  private retire(reason: string | undefined): void {
    if (!this.worker) return;
    this.worker = undefined;
    for (const resolve of this.waiting.values()) resolve(null);
    this.waiting.clear();
    if (reason) this.onFailure(reason);
  }
}
