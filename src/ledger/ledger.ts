import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { App, MISBEHAVIOUR_PREFIX, sameSignature, type ExecutedBlock, type ValidatorInfo } from '../app/host.js';
import { padKey } from '../app/state.js';
import { BLOCK_ERRORS, TX_ERRORS } from '../app/admission.js';
import type { Genesis, ModuleCore } from '../app/module.js';
import type { Commit, Misbehaviour, TxResult } from '../codec/block.js';
import { blockHash, hashOf, ZERO_HASH, type Block } from '../codec/block.js';
import { isWellFormedEvidence, misbehaviourKey, misbehaviourOf, ValidatorSet, verifyCommit, type BlockContext, type BlockValidation, type Evidence, type Validator } from '../consensus/index.js';
import type { SyncTarget } from '../sync/blocksync.js';
import { checkSenderKey, decodeTx, MAX_TX_BYTES, signedTxJson, txHash, txSignBytes, type SignedTx } from '../codec/tx.js';
import { verifySignature } from '../crypto/ed25519.js';
import { fromHexStrict } from '../util/bytes.js';
import { sameJson } from '../util/same-json.js';
import { VerifyPool, type VerifyItem } from './verify-pool.js';
import { StateTreeWorker } from './state-tree-worker.js';
import { VerifiedTxs } from './verified-txs.js';
import { addressFromPublicKey } from '../crypto/address.js';
import type { Signer } from '../crypto/ed25519.js';
import { Mempool } from '../mempool/mempool.js';
import { Storage, withTreeCacheMiB, type BlockInfo } from '../store/sqlite.js';
import { asLedgerError, defineErrors, LedgerError } from '../util/errors.js';
import { HOME_ERRORS, type NodeConfig } from '../home/home.js';
import { NodeMetrics } from './metrics.js';

export interface BlockEvent {
  height: number;
  hash: string;
  time: number;
  txs: number;
  stateRoot: string;
  proposer: string;
}

export interface TxResultEvent {
  hash: string;
  height: number;
  index: number;
  result: TxResult;
}

export interface NodeOptions {
  config: NodeConfig;
  genesis: Genesis;
  dbPath: string;
  /** This node's validator key; null for a node that follows the chain without voting. */
  validatorSigner: Signer | null;
  modules: readonly ModuleCore[];
  logger: Logger;
  /** Signature-verification worker threads; default: cores − 1 (0 verifies on the main thread). */
  verifyWorkers?: number;
  /**
   * Compute the state tree of this node's own proposals on a worker thread (ADR 0024), so the main
   * thread serves requests meanwhile. Default: the config's `consensus.stateTreeWorker`.
   */
  stateTreeWorker?: boolean;
}

/**
 * Transactions of a batch checked per event-loop turn. A 1000-transaction batch checked in one turn
 * held the loop for 0.2–0.9 s on a busy machine, so health checks, other requests and consensus
 * timers waited behind a flood of invalid batches; between slices they get their turn. (Each
 * admission re-checks against the state of its own turn, so interleaving changes no outcome.)
 */
const BATCH_SLICE = 50;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `slice` over [0, count) in slices of BATCH_SLICE, yielding to the event loop between them; stops
 * early once `stopped()` says so.
 */
async function inSlices(count: number, slice: (from: number, to: number) => void, stopped: () => boolean): Promise<void> {
  for (let from = 0; from < count; from += BATCH_SLICE) {
    if (from > 0) await yieldToEventLoop();
    if (stopped()) return;
    slice(from, Math.min(count, from + BATCH_SLICE));
  }
}

export const LEDGER_ERRORS = defineErrors('ledger', {
  VALSET_UNKNOWN: { status: 500, meaning: 'no validator set is stored for that height (a storage fault)' },
  NODE_STOPPING: { status: 503, meaning: 'the node stopped while it was admitting the transaction, which was not admitted (send it again)' },
});

/** The node's worker threads by Linux thread id (they report it once started). */
function workerThreads(verifier: VerifyPool, tree: StateTreeWorker | undefined): Iterable<number> {
  return {
    *[Symbol.iterator]() {
      yield* verifier.threadIds;
      if (tree) yield* tree.threadIds;
    },
  };
}

/** What a proposal's content depends on besides committed state and the mempool. */
type ProposalContext = Pick<BlockContext, 'time' | 'proposer' | 'lastCommit'> & { evidence: readonly unknown[] };

/** Identifies a proposal's context: a prepared block is used only for the very context it was built for. */
function proposalKey(ctx: BlockContext): string {
  return `${ctx.height}/${ctx.time}/${ctx.proposer}/${hashOf({ lastCommit: ctx.lastCommit, evidence: ctx.evidence })}`;
}

/**
 * The ledger node: storage, the application host and the mempool, with admission, block building,
 * block validation and commit. It is the ledger port of the consensus driver and the target of
 * block sync; it does no networking and keeps no timers.
 */
export class LedgerNode extends EventEmitter implements SyncTarget<Block> {
  readonly storage: Storage;
  readonly app: App;
  readonly mempool: Mempool;
  private readonly verifier: VerifyPool;
  private readonly treeWorker: StateTreeWorker | undefined;
  /** This node's next proposal, prepared before consensus asked for it (ADR 0024). */
  private prepared: { key: string; executed: ExecutedBlock } | undefined;
  readonly metrics = new NodeMetrics();
  readonly chainId: string;
  readonly validatorAddress: string | null;
  private readonly valsets = new Map<number, ValidatorSet>();
  /** Blocks executed but not yet committed (proposals), by block hash. */
  private readonly executedCache = new Map<string, ExecutedBlock>();
  /** Signatures verified at admission, while their transactions are pending (bounded: issue 9). */
  readonly verified: VerifiedTxs;
  /**
   * Transactions (hash, key and signature) whose batch is verifying their signatures right now.
   * Gossip brings each transaction from every peer, often while the first copy is still on the
   * worker pool; an identical copy is refused as a duplicate instead of verified a second time
   * (it would end exactly as the first: the same bytes are signed and checked).
   */
  private readonly admitting = new Map<string, SignedTx>();
  /**
   * The same transactions by signature, so that gossiped copies of them are recognised from their
   * fields before they are parsed and hashed (see copyInFlight); the first one decoded per signature.
   */
  private readonly admittingBySignature = new Map<string, SignedTx>();
  /** Set by close(): batches still being admitted stop touching the store. */
  private closed = false;
  /** Measured block execution cost per transaction (µs, moving average); 0 until measured. */
  private usPerTx = 0;
  private readonly txWaiters = new Map<string, Array<(e: TxResultEvent | undefined) => void>>();
  private lastBlockTime: number;

  constructor(readonly options: NodeOptions) {
    super();
    this.setMaxListeners(0);
    const { config, genesis } = options;
    if (config.chainId !== genesis.chainId) throw HOME_ERRORS.CONFIG_INVALID(`config chain id ${config.chainId} differs from genesis ${genesis.chainId}`);
    this.chainId = genesis.chainId;
    this.storage = new Storage(options.dbPath, withTreeCacheMiB(config.storage.treeCacheMiB));
    const recovered = this.storage.treeRecovery;
    if (recovered) options.logger.warn({ ...recovered }, `state-tree rows of ${recovered.blocks} blocks brought up to date after an unclean stop (${recovered.how === 'journal' ? 'from their journalled keys' : 'rebuilt from the state table: the journal did not give the committed root'})`);
    this.verified = new VerifiedTxs(config.mempool.maxTxs);
    this.on('txResult', (e: TxResultEvent) => this.verified.forget(e.hash));
    this.on('txDropped', (hash: string) => this.verified.forget(hash));
    this.app = new App(this.storage, {
      chainId: this.chainId,
      modules: options.modules,
      verifiedTxs: this.verified,
      phases: this.metrics.phases,
      onInternalError: (err, where) => {
        this.metrics.internalErrors.inc({ phase: where.phase, module: where.module ?? '' });
        const what = where.phase === 'query-index' ? "a query index failed in a commit (the block committed; the index is out of use until it is rebuilt at the node's next start)" : 'internal error in ledger code (committed as INTERNAL_ERROR)';
        options.logger.error({ err: err instanceof Error ? `${err.name}: ${err.message}` : String(err), ...where }, what);
      },
    });
    this.app.initGenesis(genesis);
    const { rebuilt, dropped } = this.app.queryIndexesAtOpen;
    if (rebuilt.length + dropped.length > 0) options.logger.info({ rebuilt, dropped }, 'query indexes built from the state table (missing or of another version) or dropped (no longer declared)');
    this.verifier = new VerifyPool(options.verifyWorkers, this.metrics.phases);
    this.mempool = new Mempool({ maxTxs: config.mempool.maxTxs, maxBytes: config.mempool.maxBytes });
    this.validatorAddress = options.validatorSigner ? addressFromPublicKey(options.validatorSigner.publicKey) : null;
    if (options.stateTreeWorker ?? config.consensus.stateTreeWorker) this.treeWorker = this.startTreeWorker();
    this.metrics.workerThreadIds = workerThreads(this.verifier, this.treeWorker);
    const latest = this.storage.blockInfo(this.storage.latestHeight());
    this.lastBlockTime = latest ? latest.time : genesis.genesisTime;
    this.metrics.height.set(this.app.height);
  }

  get height(): number {
    return this.app.height;
  }

  get latestBlockTime(): number {
    return this.lastBlockTime;
  }

  get genesisTime(): number {
    return this.options.genesis.genesisTime;
  }

  storedBlock(height: number): BlockInfo | undefined {
    return this.storage.blockInfo(height);
  }

  latestHash(): string {
    return this.storage.blockInfo(this.height)?.hash ?? '';
  }

  getBlock(height: number): { block: Block; commit: Commit } | undefined {
    return this.storage.getBlock(height);
  }

  hasPendingTxs(): boolean {
    return this.mempool.size > 0;
  }

  /**
   * Closes the store and the verify workers. A batch still being admitted (gossip or the API, between
   * its slices or waiting for the workers) then refuses what it has not admitted yet with NODE_STOPPING
   * instead of touching the closed store.
   */
  close(): void {
    this.closed = true;
    void this.verifier.close();
    this.storage.treeRowsListener = undefined;
    void this.treeWorker?.close();
    this.storage.close();
  }

  /**
   * Admission of a transaction from the API or a peer: decode, size, signature, then the stateful
   * checks (chain id, message types, nonce window, expiry, sender admitted). Returns its hash.
   */
  submitTx(input: unknown, origin?: string): string {
    let hash: string | undefined;
    try {
      const c = this.precheck(input);
      hash = c.hash;
      this.refuseIfAdmitting(c.hash, c.tx);
      const verify = (t: SignedTx) => this.verified.has(c.hash, t) || this.metrics.phases.time('admission.verify', () => verifySignature(fromHexStrict(t.pubKey, 32)!, txSignBytes(t.body), fromHexStrict(t.signature, 64)!));
      return this.admit(c.tx, c.hash, c.size, origin, verify);
    } catch (err) {
      const e = this.committedOr(err, hash);
      this.metrics.txsRejected.inc({ code: asLedgerError(e).code });
      throw e;
    }
  }

  /**
   * Admission of a batch (API batch, peer gossip): the same checks, with the signatures verified on
   * the worker pool. One result per input, in order: the hash, or the error.
   */
  async submitTxs(inputs: unknown[], origin?: string): Promise<Array<{ hash: string } | { error: LedgerError }>> {
    const out: Array<{ hash: string } | { error: LedgerError }> = new Array(inputs.length);
    const candidates: Array<{ index: number; tx: SignedTx; hash: string; size: number }> = [];
    try {
      await this.precheckBatch(inputs, candidates, out);
      const valid = await this.signaturesValid(candidates);
      if (!this.closed) await this.admitVerified(candidates, valid, out, origin);
    } finally {
      for (const c of candidates) if (this.admitting.get(c.hash) === c.tx) this.admitting.delete(c.hash);
      for (const c of candidates) if (this.admittingBySignature.get(c.tx.signature) === c.tx) this.admittingBySignature.delete(c.tx.signature);
    }
    if (this.closed) {
      for (let i = 0; i < out.length; i++) out[i] ??= { error: LEDGER_ERRORS.NODE_STOPPING('the node stopped before this transaction was admitted') };
    }
    return out;
  }

  /**
   * Whether each candidate's signature is valid: on the worker pool, except those this node already
   * verified (a copy gossiped after the proposal that carried it: the block's execution verified it).
   */
  private async signaturesValid(candidates: ReadonlyArray<{ tx: SignedTx; hash: string }>): Promise<boolean[]> {
    const known = candidates.map((c) => this.verified.has(c.hash, c.tx));
    const items = this.metrics.phases.time('admission.batch', () =>
      candidates.filter((_, i) => !known[i]).map((c): VerifyItem => [fromHexStrict(c.tx.pubKey, 32)!, txSignBytes(c.tx.body), fromHexStrict(c.tx.signature, 64)!]),
    );
    const checked = await this.verifier.verify(items);
    let next = 0;
    return known.map((k) => k || checked[next++] === true);
  }

  /** Decoding and the stateful checks of a batch; the survivors become candidates, marked as being admitted. */
  private async precheckBatch(
    inputs: unknown[],
    candidates: Array<{ index: number; tx: SignedTx; hash: string; size: number }>,
    out: Array<{ hash: string } | { error: LedgerError }>,
  ): Promise<void> {
    const P = this.metrics.phases;
    const seen = new Set<string>();
    const ours = new Set<SignedTx>();
    await inSlices(inputs.length, (from, to) =>
      P.time('admission.batch', () => this.storage.readTransaction(() => {
        for (let index = from; index < to; index++) {
          let hash: string | undefined;
          try {
            const earlier = this.copyInFlight(inputs[index]);
            if (earlier !== undefined && ours.has(earlier.tx)) throw TX_ERRORS.TX_DUPLICATE(`transaction ${txHash(earlier.tx.body)} appears twice in the batch`);
            const c = this.precheck(inputs[index], earlier);
            hash = c.hash;
            if (seen.has(c.hash)) throw TX_ERRORS.TX_DUPLICATE(`transaction ${c.hash} appears twice in the batch`);
            seen.add(c.hash);
            this.refuseIfAdmitting(c.hash, c.tx);
            // The cheap, stateful admission checks first; signatures of the survivors in one batch.
            P.share('admission.check', () => this.app.checkTx(c.tx, c.hash, { nonceWindow: this.options.config.mempool.nonceWindow, signatureValid: () => true }));
            candidates.push({ index, ...c });
            this.admitting.set(c.hash, c.tx);
            ours.add(c.tx);
            if (!this.admittingBySignature.has(c.tx.signature)) this.admittingBySignature.set(c.tx.signature, c.tx);
          } catch (err) {
            out[index] = { error: this.rejected(this.committedOr(err, hash)) };
          }
        }
      })),
      () => this.closed,
    );
  }

  /**
   * A committed transaction sent again is refused as such. It can only fail the nonce or expiry check
   * (its nonce is used; it may have expired since), so the transaction index — a random read in a table
   * that grows with the chain's history — is consulted only after those refusals, not for every new one.
   */
  private committedOr(err: unknown, hash: string | undefined): unknown {
    const code = err instanceof LedgerError ? err.code : undefined;
    if (hash !== undefined && (code === 'TX_NONCE_USED' || code === 'TX_EXPIRED') && this.storage.getTx(hash)) {
      return TX_ERRORS.TX_ALREADY_COMMITTED(`transaction ${hash} is already committed`);
    }
    return err;
  }

  private refuseIfAdmitting(hash: string, tx: SignedTx): void {
    const admitting = this.admitting.get(hash);
    if (admitting !== undefined && sameSignature(admitting, tx)) throw TX_ERRORS.TX_DUPLICATE(`transaction ${hash} is being admitted`);
  }

  private async admitVerified(
    candidates: ReadonlyArray<{ index: number; tx: SignedTx; hash: string; size: number }>,
    valid: readonly boolean[],
    out: Array<{ hash: string } | { error: LedgerError }>,
    origin: string | undefined,
  ): Promise<void> {
    const P = this.metrics.phases;
    await inSlices(candidates.length, (from, to) =>
      P.time('admission.batch', () => {
        const admitted: string[] = [];
        this.storage.readTransaction(() => {
          for (let k = from; k < to; k++) {
            const c = candidates[k]!;
            try {
              out[c.index] = { hash: this.enterMempool(c.tx, c.hash, c.size, () => valid[k] === true) };
              admitted.push(c.hash);
            } catch (err) {
              out[c.index] = { error: this.rejected(this.committedOr(err, c.hash)) };
            }
          }
        });
        // Listeners may build and commit a block: told after the read transaction has ended.
        for (const hash of admitted) this.emit('txAdmitted', hash, origin);
      }),
      () => this.closed,
    );
  }

  private rejected(err: unknown): LedgerError {
    const e = asLedgerError(err);
    this.metrics.txsRejected.inc({ code: e.code });
    return e;
  }

  /**
   * A transaction of a received proposal that this node already admitted: the pending object itself
   * when `raw` equals it field for field (then it is well formed, and its encodings, decoded messages
   * and verified signature are reused instead of parsed, hashed and validated again), else undefined.
   */
  knownTx(raw: unknown): SignedTx | undefined {
    const signature = (raw as { signature?: unknown } | null)?.signature;
    if (typeof signature !== 'string') return undefined;
    const entry = this.mempool.withSignature(signature);
    return entry && sameJson(raw, entry.tx) ? entry.tx : undefined;
  }

  /**
   * Whether `raw` is, field for field, a transaction that is pending or whose batch is being admitted
   * right now (waiting for the signature workers). In a mesh every transaction arrives once from each
   * peer that admitted it, and under load most copies come while the first is still on the worker
   * pool: they are recognised here instead of being parsed, hashed and refused with an error.
   */
  copyInFlight(raw: unknown): { tx: SignedTx; state: 'pending' | 'admitting' } | undefined {
    const pending = this.knownTx(raw);
    if (pending !== undefined) return { tx: pending, state: 'pending' };
    const signature = (raw as { signature?: unknown } | null)?.signature;
    if (typeof signature !== 'string') return undefined;
    const admitting = this.admittingBySignature.get(signature);
    return admitting && sameJson(raw, admitting) ? { tx: admitting, state: 'admitting' } : undefined;
  }

  /** The transaction with this hash that is pending or being admitted (fills a compact proposal: ADR 0021). */
  txWithHash(hash: string): SignedTx | undefined {
    return this.mempool.get(hash)?.tx ?? this.admitting.get(hash);
  }

  /** Whether the transaction with this hash is pending or being admitted (a peer's announcement of it needs no copy). */
  hasTx(hash: string): boolean {
    return this.mempool.has(hash) || this.admitting.has(hash);
  }

  /** Decoding, size, duplicates and the key ↔ sender binding: everything before the signature. */
  /** `copy`: what copyInFlight says of the input, when the caller already asked. */
  private precheck(input: unknown, copy = this.copyInFlight(input)): { tx: SignedTx; hash: string; size: number } {
    return this.metrics.phases.share('admission.decode', () => this.decodeForAdmission(input, copy));
  }

  private decodeForAdmission(input: unknown, copy: ReturnType<LedgerNode['copyInFlight']>): { tx: SignedTx; hash: string; size: number } {
    // Gossip brings each transaction once from every peer: a copy of a pending one, or of one being
    // admitted, is refused before it is parsed and hashed again (the refusal those steps would reach).
    if (copy !== undefined) throw TX_ERRORS.TX_DUPLICATE(`transaction ${txHash(copy.tx.body)} is ${copy.state === 'pending' ? 'already pending' : 'being admitted'}`);
    const tx = decodeTx(input);
    const size = Buffer.byteLength(signedTxJson(tx));
    if (size > MAX_TX_BYTES) throw TX_ERRORS.TX_TOO_LARGE(`transaction is ${size} bytes; the limit is ${MAX_TX_BYTES}`);
    // Duplicates (common with gossip) are refused before the expensive signature check.
    const hash = txHash(tx.body);
    if (this.mempool.has(hash)) throw TX_ERRORS.TX_DUPLICATE(`transaction ${hash} is already pending`);
    checkSenderKey(tx);
    return { tx, hash, size };
  }

  /** The stateful checks and the mempool, for a transaction whose signature is valid; then tells listeners. */
  private admit(tx: SignedTx, hash: string, size: number, origin: string | undefined, signatureValid: (tx: SignedTx) => boolean): string {
    this.enterMempool(tx, hash, size, signatureValid);
    this.emit('txAdmitted', hash, origin);
    return hash;
  }

  private enterMempool(tx: SignedTx, hash: string, size: number, signatureValid: (tx: SignedTx) => boolean): string {
    this.metrics.phases.share('admission.mempool', () => {
      this.app.checkTx(tx, hash, { nonceWindow: this.options.config.mempool.nonceWindow, signatureValid });
      this.mempool.add({ hash, tx, bytes: size });
      this.rememberVerified(hash, tx);
      this.metrics.txsAdmitted.inc();
    });
    return hash;
  }

  private rememberVerified(hash: string, tx: SignedTx): void {
    this.verified.remember(hash, tx);
  }

  /** True when at least `atLeast` pending transactions could go into the next block (not just nonce gaps). */
  hasIncludableTxs(atLeast = 1): boolean {
    if (this.mempool.size < atLeast) return false;
    const committed = this.app.committed();
    return this.mempool.reap({ maxTxs: atLeast, maxBytes: Number.MAX_SAFE_INTEGER }, (s) => this.app.nonceOf(s, committed)).length >= atLeast;
  }

  pendingTxCount(): number {
    return this.mempool.size;
  }

  /** Pending transactions in block order for the next height, within the size and time budgets. */
  private reapForBlock(): SignedTx[] {
    const { maxBlockBytes } = this.options.config.consensus;
    const committed = this.app.committed();
    return this.mempool.reap({ maxTxs: this.blockTxBudget(), maxBytes: maxBlockBytes }, (s) => this.app.nonceOf(s, committed)).map((e) => e.tx);
  }

  /**
   * How many transactions the next proposal may carry: a proposal must be built, sent and re-executed
   * by the other validators before their propose timeout, so the count follows the measured execution cost
   * per transaction (µs, moving average) to stay within `buildBudgetMs`. Only the proposer's choice
   * of block content depends on it, never validity, so it may use the wall clock.
   */
  private blockTxBudget(): number {
    const { maxBlockTxs, buildBudgetMs } = this.options.config.consensus;
    // A lone validator decides without waiting for anyone: no propose timeout to respect.
    if (this.valsetAt(this.height + 1).size === 1) return maxBlockTxs;
    if (this.usPerTx <= 0) return Math.min(maxBlockTxs, 1000);
    return Math.max(100, Math.min(maxBlockTxs, Math.floor((buildBudgetMs * 1000) / this.usPerTx)));
  }

  private observeExecution(txs: number, elapsedMs: number): void {
    if (txs < 20) return;
    const us = (elapsedMs * 1000) / txs;
    this.usPerTx = this.usPerTx <= 0 ? us : this.usPerTx * 0.7 + us * 0.3;
  }

  /** The consensus driver's proposer side: the block prepared for exactly this context, else one built now. */
  buildBlock(ctx: BlockContext): { blockHash: string; block: Block } {
    const prepared = this.takePrepared(ctx);
    const executed = prepared ?? this.buildExecutedBlock(ctx);
    return { blockHash: executed.hash, block: executed.block };
  }

  /** Whether `prepareProposal` computes off the main thread (else the driver need not call it). */
  get preparesOffThread(): boolean {
    return this.treeWorker?.running ?? false;
  }

  /**
   * Builds this node's proposal for `ctx` with the state tree on the worker (ADR 0024), so that the
   * main thread serves admissions while the tree is computed; `buildBlock(ctx)` then returns it. The
   * result is used only for the same context on the same committed state; anything else builds anew.
   */
  async prepareProposal(ctx: BlockContext): Promise<void> {
    const worker = this.treeWorker;
    if (!worker?.running || ctx.height !== this.height + 1) return;
    const phases = this.metrics.phases;
    const started = performance.now();
    const { input, txs } = phases.time('block.build', () => this.blockInput(ctx));
    const executed = await this.app.executeBlockWithTree({ ...input, txs }, { skipInvalid: (tx, error) => this.dropInvalid(tx, error) }, (height, root, writes) => worker.compute(height, root, writes));
    if (!executed || this.closed) return;
    this.observeExecution(executed.txHashes.length, performance.now() - started);
    this.prepared = { key: proposalKey(ctx), executed };
  }

  private takePrepared(ctx: BlockContext): ExecutedBlock | undefined {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (!prepared || prepared.executed.block.header.height !== this.height + 1 || prepared.key !== proposalKey(ctx)) return undefined;
    this.metrics.preparedProposals.inc();
    this.rememberExecuted(prepared.executed);
    return prepared.executed;
  }

  private startTreeWorker(): StateTreeWorker {
    const worker = new StateTreeWorker(this.options.dbPath, this.metrics.phases, (reason) => this.options.logger.warn({ reason }, 'state-tree worker stopped; computing the state tree on the main thread'), undefined, this.storage.cacheLimits);
    this.storage.treeRowsListener = worker;
    return worker;
  }

  /** The consensus driver's validator side: the proposal re-executes to its header, with the fields the engine checks. */
  validateBlock(_height: number, block: Block): BlockValidation {
    const v = this.validateProposal(block);
    if (!v.ok) return v;
    const { header } = block;
    return { ok: true, blockHash: v.hash, info: { time: header.time, proposer: header.proposer, lastCommit: block.lastCommit, evidence: block.evidence as Evidence[] } };
  }

  /** Proposer side: a block for the next height from the mempool, executed but not committed. */
  buildExecutedBlock(ctx: ProposalContext): ExecutedBlock {
    return this.metrics.phases.time('block.build', () => this.storage.readTransaction(() => this.buildFromMempool(ctx)));
  }

  private buildFromMempool(ctx: ProposalContext): ExecutedBlock {
    const { input, txs } = this.blockInput(ctx);
    const started = performance.now();
    const executed = this.app.executeBlock({ ...input, txs }, { skipInvalid: (tx, error) => this.dropInvalid(tx, error) });
    this.observeExecution(executed.txHashes.length, performance.now() - started);
    this.rememberExecuted(executed);
    return executed;
  }

  /** The next height's block input for a proposal, with the pending transactions it will try. */
  private blockInput(ctx: ProposalContext) {
    const height = this.height + 1;
    const prevHash = this.storage.blockInfo(height - 1)?.hash ?? ZERO_HASH;
    const evidence = [...ctx.evidence];
    const input = { height, time: ctx.time, proposer: ctx.proposer, prevHash, lastCommit: ctx.lastCommit, evidence, misbehaviour: explainEvidence(evidence), validators: this.validatorsAt(height) };
    return { input, txs: this.metrics.phases.time('block.reap', () => this.reapForBlock()) };
  }

  /** A pending transaction that became invalid for inclusion (should not happen after recheck) is left out and dropped rather than stalling the chain. */
  private dropInvalid(tx: SignedTx, error: LedgerError): void {
    this.options.logger.warn({ err: `${error.code}: ${error.message}` }, 'left an invalid pending transaction out of the block');
    this.mempool.remove(txHash(tx.body));
  }

  private rememberExecuted(executed: ExecutedBlock): void {
    if (this.executedCache.size > 16) this.executedCache.clear();
    this.executedCache.set(executed.hash, executed);
  }

  /**
   * Validator side: re-executes a proposed block for the next height on committed state and accepts
   * it only if every header field comes out the same (so the hash matches). Returns the hash.
   */
  validateProposal(block: Block): { ok: true; hash: string } | { ok: false; reason: string } {
    return this.metrics.phases.time('block.validate', () => this.checkProposal(block));
  }

  private checkProposal(block: Block): { ok: true; hash: string } | { ok: false; reason: string } {
    const claimed = blockHash(block.header);
    if (this.executedCache.has(claimed)) return { ok: true, hash: claimed };
    const { header } = block;
    const expectedPrev = this.storage.blockInfo(this.height)?.hash ?? ZERO_HASH;
    if (header.chainId !== this.chainId) return { ok: false, reason: `chain id ${header.chainId}` };
    if (header.height !== this.height + 1) return { ok: false, reason: `height ${header.height}, expected ${this.height + 1}` };
    if (header.prevHash !== expectedPrev) return { ok: false, reason: 'previous hash does not match' };
    try {
      const executed = this.reexecute(block);
      if (executed.hash !== claimed) return { ok: false, reason: 'header differs from re-execution (state root, results or roots)' };
      this.rememberExecuted(executed);
      return { ok: true, hash: claimed };
    } catch (err) {
      return { ok: false, reason: err instanceof LedgerError ? `${err.code}: ${err.message}` : 'block could not be executed' };
    }
  }

  /** Executes a block for the next height on committed state, as its header says (the audit compares the outcome field by field). */
  reexecute(block: Block): ExecutedBlock {
    const { header } = block;
    return this.app.executeBlock({
      height: header.height,
      time: header.time,
      proposer: header.proposer,
      prevHash: header.prevHash,
      txs: block.txs,
      lastCommit: block.lastCommit,
      evidence: block.evidence,
      misbehaviour: explainEvidence(block.evidence),
      validators: this.validatorsAt(header.height),
    });
  }

  /** Commits a block decided by consensus (executing it first if this node has not yet). */
  commitDecided(block: Block, commit: Commit): void {
    const validation = this.validateProposal(block);
    if (!validation.ok) throw BLOCK_ERRORS.BLOCK_INVALID(`decided block failed re-execution: ${validation.reason}`);
    this.commitBlock(this.executedCache.get(validation.hash)!, commit);
  }

  /**
   * Block sync: applies a block fetched from a peer after checking its commit against the validator
   * set this node knows for that height. Throws BLOCK_SYNC_* when the peer served something wrong.
   */
  applySyncedBlock(block: Block, commit: Commit): void {
    const height = this.height + 1;
    if (block.header.height !== height) throw BLOCK_ERRORS.BLOCK_SYNC_UNAPPENDABLE(`block height ${block.header.height}, expected ${height}`);
    const check = verifyCommit(commit, this.valsetAt(height), this.chainId, { height, blockHash: blockHash(block.header) });
    if (!check.ok) throw BLOCK_ERRORS.BLOCK_SYNC_BAD_COMMIT(`commit rejected: ${check.reason} (${check.detail})`);
    const validation = this.validateProposal(block);
    if (!validation.ok) throw BLOCK_ERRORS.BLOCK_SYNC_INVALID_BLOCK(validation.reason);
    this.commitBlock(this.executedCache.get(validation.hash)!, commit);
  }

  /** The validator set (with proposer priorities) that decides `height`. */
  valsetAt(height: number): ValidatorSet {
    const cached = this.valsets.get(height);
    if (cached) return cached;
    let set: ValidatorSet;
    const stored = this.storage.getMeta(`valset/${height}`);
    if (stored) set = ValidatorSet.fromJSON(JSON.parse(stored.toString('utf8')).$valset);
    else if (height === 1) set = ValidatorSet.genesis(this.options.genesis.validators.map(toValidator));
    else throw LEDGER_ERRORS.VALSET_UNKNOWN(`no validator set known for height ${height}`);
    if (this.valsets.size > 64) this.valsets.clear();
    this.valsets.set(height, set);
    return set;
  }

  /** Keys of the equivocations at `fromHeight` or later that blocks have committed (the consensus evidence window). */
  committedEvidence(fromHeight: number): string[] {
    const committed = this.app.committed().scan<unknown>(MISBEHAVIOUR_PREFIX, { start: `${MISBEHAVIOUR_PREFIX}${padKey(fromHeight)}` });
    return committed.map(([key]) => {
      const [height, validator, round, vote] = key.slice(MISBEHAVIOUR_PREFIX.length).split('/');
      return misbehaviourKey({ kind: 'duplicate-vote', validator: validator!, height: Number(height), round: Number(round), vote: vote as 'prevote' | 'precommit' });
    });
  }

  /** The validators deciding `height` as the app sees them: address, key and power, sorted by address. */
  validatorsAt(height: number): ValidatorInfo[] {
    return this.valsetAt(height)
      .validators.map((v) => ({ address: v.address, pubKey: v.pubKey, power: v.power.toString() }))
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /** The next height's set: the validator updates the block returned apply at once. */
  private nextValset(executed: ExecutedBlock): ValidatorSet {
    const current = this.valsetAt(executed.block.header.height);
    const wanted = new Map(executed.nextValidators.map((v) => [v.address, toValidator(v)]));
    const updates: Validator[] = [];
    for (const v of current.validators) if (!wanted.has(v.address)) updates.push({ ...v, power: 0n });
    for (const v of wanted.values()) {
      const have = current.get(v.address);
      if (!have || have.power !== v.power) updates.push(v);
    }
    return current.nextHeight(updates);
  }

  /** Commits a decided block, then updates the mempool and tells subscribers. */
  commitBlock(executed: ExecutedBlock, commit: Commit): void {
    this.metrics.phases.time('commit', () => this.commitExecuted(executed, commit));
  }

  private commitExecuted(executed: ExecutedBlock, commit: Commit): void {
    const { header } = executed.block;
    const next = this.nextValset(executed);
    this.app.commitBlock(executed, commit, [[`valset/${header.height + 1}`, JSON.stringify(next.toJSON())]]);
    this.executedCache.clear();
    this.lastBlockTime = header.time;
    const P = this.metrics.phases;
    P.time('commit.mempool', () => {
      for (const hash of executed.txHashes) this.mempool.remove(hash);
      this.recheckMempool();
    });
    P.time('commit.metrics', () => this.metrics.observeBlock(executed));
    // Subscribers (event streams, waiting API calls) encode and send here.
    P.time('commit.events', () => {
      this.emit('block', blockEventOf(executed.block, executed.hash));
      executed.txHashes.forEach((hash, index) => {
        const txEvent: TxResultEvent = { hash, height: header.height, index, result: executed.results[index]! };
        this.notifyWaiters(txEvent);
        this.emit('txResult', txEvent);
      });
    });
  }

  /** The events a stored height produced when it was committed (the event stream's replay after a reconnect). */
  storedEvents(height: number): { block: BlockEvent; txs: TxResultEvent[] } | undefined {
    const stored = this.storage.getBlock(height);
    if (!stored) return undefined;
    const txs = stored.block.txs.map((tx, index) => {
      const hash = txHash(tx.body);
      return { hash, height, index, result: this.storage.getTx(hash)!.result };
    });
    return { block: blockEventOf(stored.block, stored.hash), txs };
  }

  private recheckMempool(): void {
    const window = this.options.config.mempool.nonceWindow;
    const admissible = this.app.stillAdmissibleAll(window);
    const dropped = this.storage.readTransaction(() => this.mempool.recheck((entry) => admissible(entry.tx, entry.hash)));
    for (const hash of dropped) this.emit('txDropped', hash);
    this.metrics.mempoolSize.set(this.mempool.size);
  }

  /** Resolves with the committed result, or undefined when `timeoutMs` passes first. */
  waitForTx(hash: string, timeoutMs: number): Promise<TxResultEvent | undefined> {
    const stored = this.storage.getTx(hash);
    if (stored) return Promise.resolve({ hash, height: stored.height, index: stored.index, result: stored.result });
    return new Promise((resolvePromise) => {
      const waiter = (e: TxResultEvent | undefined) => {
        clearTimeout(timer);
        resolvePromise(e);
      };
      const timer = setTimeout(() => {
        const list = this.txWaiters.get(hash);
        const i = list ? list.indexOf(waiter) : -1;
        if (list && i >= 0) list.splice(i, 1);
        if (list && list.length === 0) this.txWaiters.delete(hash);
        resolvePromise(undefined);
      }, timeoutMs);
      const list = this.txWaiters.get(hash);
      if (list) list.push(waiter);
      else this.txWaiters.set(hash, [waiter]);
    });
  }

  private notifyWaiters(e: TxResultEvent): void {
    const list = this.txWaiters.get(e.hash);
    if (!list) return;
    this.txWaiters.delete(e.hash);
    for (const w of list) w(e);
  }
}

function toValidator(v: { address: string; pubKey: string; power: string }): Validator {
  return { address: v.address, pubKey: v.pubKey, power: BigInt(v.power) };
}

/** What the block's evidence proves, for the state machine; malformed evidence makes the block invalid. */
function explainEvidence(evidence: readonly unknown[]): Misbehaviour[] {
  return evidence.map((ev) => {
    if (!isWellFormedEvidence(ev)) throw BLOCK_ERRORS.BLOCK_EVIDENCE_INVALID('an evidence item is not well formed');
    return misbehaviourOf(ev);
  });
}

function blockEventOf(block: Block, hash: string): BlockEvent {
  const { header } = block;
  return { height: header.height, hash, time: header.time, txs: block.txs.length, stateRoot: header.stateRoot, proposer: header.proposer };
}
