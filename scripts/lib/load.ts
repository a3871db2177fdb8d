import { randomBytes } from 'node:crypto';
import { bech32m } from '@scure/base';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { call, sleep, type ClusterNode } from './cluster.js';

/**
 * Transaction load for the batteries: one worker per sender (each node's `admin` operator key),
 * sending batches of `registry/admit` transactions (fresh addresses) to its own node (another one
 * while that is down), and long-polling each transaction's commit (`GET /v1/txs/:hash?wait=…`). Every transaction
 * a node reported committed is *acknowledged*: its height and index are kept for the durability
 * checks, and its latency (submit → commit report) for the soak's percentiles. An optional rate
 * (transactions per second over all workers) paces the batches.
 */

export interface Acked {
  height: number;
  index: number;
  node: string;
}

export interface LoadOptions {
  chainId: string;
  batch: number;
  /** Total transactions per second over all workers; undefined = as fast as the nodes take them. */
  ratePerSec?: number;
  /** Seconds each commit is waited for before the transaction counts as not acknowledged. */
  waitSeconds?: number;
  /** Batches submitted but not yet known committed, at most (default 64). */
  maxBatchesInFlight?: number;
}

function randomAddress(): string {
  return bech32m.encode('grid', bech32m.toWords(randomBytes(20)));
}

export class TxLoad {
  readonly acked = new Map<string, Acked>();
  /** Commit latencies (ms) with the time they were observed, for windows of the soak. */
  readonly latencies: Array<{ at: number; ms: number }> = [];
  submitted = 0;
  refused = 0;
  /** Admission refusals by code (e.g. nonces lost with a killed node's mempool). */
  readonly refusedByCode = new Map<string, number>();
  failures = 0;
  private readonly down = new Set<string>();
  private stopped = false;
  private workers: Promise<void>[] = [];
  private readonly waits = new Set<Promise<void>>();

  constructor(
    private readonly nodes: ClusterNode[],
    private readonly options: LoadOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const senders = this.nodes.map((n) => n.admin);
    this.workers = senders.map((sender, w) => this.worker(sender, w, senders.length));
  }

  markDown(node: ClusterNode): void {
    this.down.add(node.name);
  }

  markUp(node: ClusterNode): void {
    this.down.delete(node.name);
  }

  /** Stops sending and waits for the workers and the commits still awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
    await Promise.all([...this.waits]);
  }

  /**
   * Worker w sends to node w while it is up, else to the next one that is: a sender that asked one
   * node for its next nonce and submitted to another would race the gossip (TX_NONCE_PENDING).
   */
  private nodeFor(w: number): ClusterNode | undefined {
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[(w + i) % this.nodes.length]!;
      if (!this.down.has(node.name)) return node;
    }
    return undefined;
  }

  private async worker(sender: ClusterNode['admin'], w: number, workers: number): Promise<void> {
    const interval = this.options.ratePerSec ? (1000 * this.options.batch * workers) / this.options.ratePerSec : 0;
    let nextAt = Date.now() + (interval * w) / workers;
    while (!this.stopped) {
      if (interval > 0) {
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait);
        nextAt = Math.max(nextAt + interval, Date.now() - 5 * interval);
      }
      const node = this.nodeFor(w);
      if (!node) {
        await sleep(50);
        continue;
      }
      try {
        await this.sendBatch(node, sender);
      } catch {
        this.failures += 1; // the node is down, restarting or paused: the next batch goes elsewhere
        await sleep(100);
      }
      // Keep the batches awaiting their commit bounded (a stalled chain must not grow this without limit).
      while (this.waits.size >= (this.options.maxBatchesInFlight ?? 64) && !this.stopped) await Promise.race(this.waits);
    }
  }

  private async sendBatch(node: ClusterNode, sender: ClusterNode['admin']): Promise<void> {
    const nonce = await call<{ next: number; height: number }>(node.api, `/v1/accounts/${sender.address}/nonce`, { timeoutMs: 3000 });
    const txs: SignedTx[] = [];
    for (let i = 0; i < this.options.batch; i++) {
      const body = { chainId: this.options.chainId, sender: sender.address, nonce: nonce.next + i, expiresAtHeight: nonce.height + 5000, msgs: [{ type: 'registry/admit', value: { address: randomAddress(), roles: ['consumer'] } }], memo: '' };
      txs.push(signTx(body, sender.signer));
    }
    const submittedAt = Date.now();
    this.submitted += txs.length;
    const res = await call<{ results: Array<{ hash: string | null; code: string }> }>(node.api, '/v1/txs/batch', { body: { txs }, timeoutMs: 5000 });
    const admitted: string[] = [];
    for (const r of res.results) {
      if (r.code === 'OK' && r.hash) admitted.push(r.hash);
      else {
        this.refused += 1;
        this.refusedByCode.set(r.code, (this.refusedByCode.get(r.code) ?? 0) + 1);
      }
    }
    if (admitted.length > 0) this.awaitBatch(node, admitted, submittedAt);
  }

  /**
   * Waits for the batch's last transaction (highest nonce: once it is committed, so is every
   * earlier one of the sender), then looks up where each landed. All of the batch get the last
   * one's commit time: an upper bound of each one's latency.
   */
  private awaitBatch(node: ClusterNode, hashes: string[], submittedAt: number): void {
    const waitSeconds = this.options.waitSeconds ?? 20;
    const lookUp = (hash: string, wait: number) =>
      call<{ status: string; height?: number; index?: number }>(node.api, `/v1/txs/${hash}${wait > 0 ? `?wait=${wait}` : ''}`, { timeoutMs: (wait + 5) * 1000 });
    const p = lookUp(hashes[hashes.length - 1]!, waitSeconds)
      .then(async (last) => {
        if (last.status !== 'committed') return;
        const committedAt = Date.now();
        const all = await Promise.all(hashes.map((h, i) => (i === hashes.length - 1 ? last : lookUp(h, 0))));
        all.forEach((got, i) => {
          if (got.status !== 'committed' || got.height === undefined || got.index === undefined) return;
          this.acked.set(hashes[i]!, { height: got.height, index: got.index, node: node.name });
          this.latencies.push({ at: committedAt, ms: committedAt - submittedAt });
        });
      })
      .catch(() => undefined) // the node went away while we waited: not acknowledged
      .finally(() => this.waits.delete(p));
    this.waits.add(p);
  }
}
