import { callRoute } from '../../api/client.js';
import { coreRoutes } from '../../api/routes.js';
import type { RouteDef, RouteInput, RouteOutput } from '../../api/route.js';
import { MAX_MSGS_PER_TX, signTx, type Msg, type SignedTx } from '../../codec/tx.js';
import { LedgerError } from '../../util/errors.js';
import { SIMULATE_ERRORS as E } from './errors.js';
import type { SimAccount } from './identities.js';

/** What happened to one submitted transaction. */
export interface TxOutcome {
  hash: string | null;
  sender: string;
  msgs: Msg[];
  /** OK, an admission code (never entered the mempool) or the committed result's code. */
  code: string;
  message: string;
}

/** Batches stay well below the API's 8 MiB body limit and its 1000 transactions. */
const BATCH_MAX_TXS = 1000;
const BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** Far enough ahead that a long backfill queued in the mempool does not expire. */
const EXPIRY_BLOCKS = 10_000;
/** Refusals that pass: the node is busy, the same batch is sent again after a pause. */
const RETRYABLE = new Set(['RATE_LIMITED', 'MEMPOOL_FULL', 'CONNECTIONS_PER_CLIENT_EXCEEDED', 'CONNECTIONS_EXHAUSTED', 'BODY_BUDGET_EXHAUSTED']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Signs and submits transactions for many accounts through the batch endpoint, keeps each
 * account's next nonce locally (one nonce query per account and run), and waits for commits. It
 * knows nothing of energy: the driver gives it messages per account.
 */
export class Submitter {
  readonly #nonces = new Map<string, number>();
  #chainId = '';
  #height = 0;

  constructor(
    readonly url: string,
    /** How long to wait for a submitted transaction to commit before giving up. */
    readonly commitDeadlineMs = 300_000,
  ) {}

  call<R extends RouteDef>(route: R, input: RouteInput<R>, token?: string): Promise<RouteOutput<R>> {
    return callRoute(this.url, route, input, { token });
  }

  async refreshStatus(): Promise<{ chainId: string; height: number; timeMs: number }> {
    const s = await this.call(coreRoutes.status, {});
    this.#chainId = s.chainId;
    this.#height = s.height;
    return { chainId: s.chainId, height: s.height, timeMs: s.latestBlockTime };
  }

  async #nextNonce(address: string): Promise<number> {
    let n = this.#nonces.get(address);
    if (n === undefined) {
      n = (await this.call(coreRoutes.accountNonce, { params: { address } })).next;
      this.#nonces.set(address, n);
    }
    return n;
  }

  /** Signs one transaction per group of up to 64 messages, in order, with consecutive nonces. */
  async sign(account: SimAccount, msgs: Msg[]): Promise<SignedTx[]> {
    if (!this.#chainId) await this.refreshStatus();
    const txs: SignedTx[] = [];
    for (let i = 0; i < msgs.length; i += MAX_MSGS_PER_TX) {
      const nonce = await this.#nextNonce(account.address);
      this.#nonces.set(account.address, nonce + 1);
      txs.push(signTx({ chainId: this.#chainId, sender: account.address, nonce, expiresAtHeight: this.#height + EXPIRY_BLOCKS, msgs: msgs.slice(i, i + MAX_MSGS_PER_TX), memo: 'gridledger simulate' }, account.signer));
    }
    return txs;
  }

  /**
   * Submits the transactions (batches by count and bytes; busy refusals are retried) and waits
   * until every admitted one is committed. Outcomes are in the order given. An account whose
   * transaction was refused at admission has its nonce asked again next time.
   */
  async submitAndWait(txs: SignedTx[]): Promise<TxOutcome[]> {
    const outcomes: TxOutcome[] = [];
    for (const batch of batches(txs)) outcomes.push(...(await this.#submitBatch(batch)));
    for (const o of outcomes) if (o.code !== 'OK') this.#nonces.delete(o.sender);
    // Waiting on the last transaction of each sender first: by then the others are mostly committed.
    for (const o of outcomes) if (o.hash !== null && o.code === 'OK') Object.assign(o, await this.#waitFor(o.hash));
    return outcomes;
  }

  /** One batch; transactions refused because the node was busy are sent again (same nonces, same order). */
  async #submitBatch(batch: SignedTx[]): Promise<TxOutcome[]> {
    const outcomes = await this.#post(batch);
    for (let attempt = 0; attempt < 120; attempt++) {
      const again = outcomes.flatMap((o, i) => (RETRYABLE.has(o.code) ? [i] : []));
      if (again.length === 0) break;
      await sleep(1000);
      const retried = await this.#post(again.map((i) => batch[i]!));
      again.forEach((i, k) => (outcomes[i] = retried[k]!));
    }
    return outcomes;
  }

  async #post(batch: SignedTx[]): Promise<TxOutcome[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.call(coreRoutes.submitTxBatch, { body: { txs: batch } });
        return res.results.map((r, i) => ({ hash: r.hash, sender: batch[i]!.body.sender, msgs: batch[i]!.body.msgs, code: r.code, message: r.message }));
      } catch (err) {
        if (!(err instanceof LedgerError) || !RETRYABLE.has(err.code) || attempt >= 120) throw err;
        await sleep(1000);
      }
    }
  }

  async #waitFor(hash: string): Promise<{ code: string; message: string }> {
    const deadline = Date.now() + this.commitDeadlineMs;
    while (Date.now() < deadline) {
      const wait = Math.max(1, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
      let res: RouteOutput<typeof coreRoutes.getTx>;
      try {
        res = await this.call(coreRoutes.getTx, { params: { hash }, query: { wait } });
      } catch (err) {
        if (err instanceof LedgerError && RETRYABLE.has(err.code)) {
          await sleep(1000);
          continue;
        }
        throw err;
      }
      if (res.status === 'committed' && res.result) return { code: res.result.code, message: res.result.message };
    }
    throw E.SIMULATE_TX_NOT_COMMITTED(`transaction ${hash} was not committed within ${Math.round(this.commitDeadlineMs / 1000)} s`);
  }
}

function* batches(txs: SignedTx[]): Generator<SignedTx[]> {
  let batch: SignedTx[] = [];
  let bytes = 0;
  for (const tx of txs) {
    const size = JSON.stringify(tx).length;
    if (batch.length > 0 && (batch.length >= BATCH_MAX_TXS || bytes + size > BATCH_MAX_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(tx);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
