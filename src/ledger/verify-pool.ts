import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifySignature } from '../crypto/ed25519.js';
import { NO_PHASES, type PhaseMeter, type PhaseTimer } from '../util/phase-meter.js';

export type VerifyItem = [publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array];

interface PoolWorker {
  worker: Worker;
  pending: Map<number, (results: boolean[]) => void>;
}

/**
 * Signature verification on worker threads, so admission of a batch of transactions uses every core
 * while the main thread keeps executing blocks and serving requests. The rule is the same function
 * (src/crypto/ed25519.ts) on every thread. Without workers (size 0 or a worker failed to start) it
 * verifies inline.
 */
export class VerifyPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  /** Linux thread ids of the workers (for the CPU report's per-thread split). */
  readonly threadIds = new Set<number>();
  private next = 0;

  /**
   * `phases`: inline verification is timed on this thread as `admission.verify`; the workers' busy
   * time is added as `workers.verify` (another thread: not part of the main thread's phases).
   */
  constructor(
    size = Math.max(1, availableParallelism() - 1),
    private readonly phases: PhaseTimer & Partial<Pick<PhaseMeter, 'add'>> = NO_PHASES,
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(new URL('./verify-worker.mjs', import.meta.url));
    const entry: PoolWorker = { worker, pending: new Map() };
    worker.on('message', (m: { id?: number; results?: boolean[]; busyMs?: number; tid?: number }) => {
      if (m.tid !== undefined) this.threadIds.add(m.tid);
      if (m.id === undefined || !m.results) return;
      if (m.busyMs !== undefined) this.phases.add?.('workers.verify', m.busyMs, m.results.length);
      const resolve = entry.pending.get(m.id);
      entry.pending.delete(m.id);
      resolve?.(m.results);
    });
    worker.on('error', () => this.retire(entry));
    worker.on('exit', () => this.retire(entry));
    worker.unref();
    this.workers.push(entry);
  }

  /** A failed worker's outstanding batches are verified inline; the pool shrinks. */
  private retire(entry: PoolWorker): void {
    const i = this.workers.indexOf(entry);
    if (i >= 0) this.workers.splice(i, 1);
    for (const resolve of entry.pending.values()) resolve([]);
    entry.pending.clear();
  }

  async verify(items: VerifyItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    if (this.workers.length === 0 || items.length < 8) return this.inline(items);
    const parts = Math.min(this.workers.length, Math.ceil(items.length / 64));
    const size = Math.ceil(items.length / parts);
    const chunks = Array.from({ length: parts }, (_, k) => items.slice(k * size, (k + 1) * size));
    const results = await Promise.all(chunks.map((chunk) => this.run(chunk)));
    return results.flat();
  }

  private run(chunk: VerifyItem[]): Promise<boolean[]> {
    const entry = this.workers[this.next++ % this.workers.length];
    if (!entry) return Promise.resolve(this.inline(chunk));
    const id = this.nextId++;
    return new Promise((resolve) => {
      entry.pending.set(id, (results) => resolve(results.length === chunk.length ? results : this.inline(chunk)));
      entry.worker.postMessage({ id, items: chunk });
    });
  }

  private inline(items: VerifyItem[]): boolean[] {
    return this.phases.time('admission.verify', () => items.map(([p, m, s]) => verifySignature(p, m, s)));
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
