import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { App, verifiedTxKey, type ExecutedBlock } from '../app/host.js';
import type { AppModule, Genesis } from '../app/module.js';
import type { Commit, TxResult } from '../codec/block.js';
import { ZERO_HASH } from '../codec/block.js';
import { decodeTx, MAX_TX_BYTES, verifyTxSignature, type SignedTx } from '../codec/tx.js';
import { addressFromPublicKey } from '../crypto/address.js';
import type { Signer } from '../crypto/ed25519.js';
import { DOMAIN, domainBytes } from '../crypto/hash.js';
import { Mempool } from '../mempool/mempool.js';
import { listValidators } from '../modules/registry/state.js';
import { Storage } from '../store/sqlite.js';
import { toHex } from '../util/bytes.js';
import { canonicalBytes, canonicalJson } from '../util/canonical.js';
import { LedgerError } from '../util/errors.js';
import type { NodeConfig } from './home.js';
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
  validatorSigner: Signer;
  modules: AppModule[];
  logger: Logger;
}

const VERIFIED_CACHE_LIMIT = 500_000;

/**
 * A GridLedger node: storage, application host and mempool, with block production behind a small
 * boundary (`buildBlock` / `validateBlock` / `commitBlock`) that the consensus driver calls.
 */
export class GridNode extends EventEmitter {
  readonly storage: Storage;
  readonly app: App;
  readonly mempool: Mempool;
  readonly metrics = new NodeMetrics();
  readonly chainId: string;
  readonly validatorAddress: string;
  private readonly verified = new Set<string>();
  private readonly txWaiters = new Map<string, Array<(e: TxResultEvent | undefined) => void>>();
  private lastBlockTime: number;

  constructor(readonly options: NodeOptions) {
    super();
    this.setMaxListeners(0);
    const { config, genesis } = options;
    if (config.chainId !== genesis.chainId) throw new LedgerError('CONFIG_INVALID', `config chain id ${config.chainId} differs from genesis ${genesis.chainId}`);
    this.chainId = genesis.chainId;
    this.storage = new Storage(options.dbPath);
    this.app = new App(this.storage, {
      chainId: this.chainId,
      modules: options.modules,
      validatorSet: (store) => listValidators(store).map(({ address, pubKey, power }) => ({ address, pubKey, power })),
      verifiedTxs: this.verified,
    });
    this.app.initGenesis(genesis);
    this.mempool = new Mempool({ maxTxs: config.mempool.maxTxs, maxBytes: config.mempool.maxBytes });
    this.validatorAddress = addressFromPublicKey(options.validatorSigner.publicKey);
    const latest = this.storage.getBlock(this.storage.latestHeight());
    this.lastBlockTime = latest ? latest.block.header.time : genesis.genesisTime;
    this.metrics.height.set(this.app.height);
  }

  get height(): number {
    return this.app.height;
  }

  get latestBlockTime(): number {
    return this.lastBlockTime;
  }

  close(): void {
    this.storage.close();
  }

  /**
   * Admission of a transaction from the API or a peer: decode, size, signature, then the stateful
   * checks (chain id, message types, nonce window, expiry, sender admitted). Returns its hash.
   */
  submitTx(input: unknown): string {
    try {
      const tx = decodeTx(input);
      const size = Buffer.byteLength(canonicalJson(tx));
      if (size > MAX_TX_BYTES) throw new LedgerError('TX_TOO_LARGE', `transaction is ${size} bytes; the limit is ${MAX_TX_BYTES}`, 413);
      const hash = verifyTxSignature(tx);
      if (this.mempool.has(hash)) throw new LedgerError('TX_DUPLICATE', `transaction ${hash} is already pending`, 409);
      if (this.storage.getTx(hash)) throw new LedgerError('TX_ALREADY_COMMITTED', `transaction ${hash} is already committed`, 409);
      this.app.checkTx(tx, { nonceWindow: this.options.config.mempool.nonceWindow });
      this.mempool.add({ hash, tx, bytes: size });
      this.rememberVerified(hash, tx);
      this.metrics.txsAdmitted.inc();
      this.emit('txAdmitted', hash);
      return hash;
    } catch (err) {
      this.metrics.txsRejected.inc({ code: err instanceof LedgerError ? err.code : 'INTERNAL' });
      throw err;
    }
  }

  private rememberVerified(hash: string, tx: SignedTx): void {
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    this.verified.add(verifiedTxKey(hash, tx));
  }

  /** Pending transactions in block order for the next height. */
  private reapForBlock(): SignedTx[] {
    const { maxBlockTxs, maxBlockBytes } = this.options.config.consensus;
    const committed = this.app.committed();
    return this.mempool.reap({ maxTxs: maxBlockTxs, maxBytes: maxBlockBytes }, (s) => this.app.nonceOf(s, committed)).map((e) => e.tx);
  }

  /** Proposer side: a block for the next height from the mempool, executed but not committed. */
  buildBlock(time: number, lastCommit: Commit | null): ExecutedBlock {
    const height = this.height + 1;
    const prevHash = this.storage.getBlock(height - 1)?.hash ?? ZERO_HASH;
    const input = { height, time, proposer: this.validatorAddress, prevHash, lastCommit, evidence: [] };
    const txs = this.reapForBlock();
    try {
      return this.app.executeBlock({ ...input, txs });
    } catch (err) {
      // A pending tx became invalid for inclusion (should not happen after recheck): drop the
      // offenders and build again rather than stall the chain.
      this.options.logger.warn({ err: (err as Error).message }, 'block build failed; dropping invalid pending transactions');
      const valid = txs.filter((tx) => this.isIncludable(tx));
      return this.app.executeBlock({ ...input, txs: valid });
    }
  }

  private isIncludable(tx: SignedTx): boolean {
    try {
      this.app.checkTx(tx, { nonceWindow: this.options.config.mempool.nonceWindow });
      return true;
    } catch {
      return false;
    }
  }

  /** Commits a decided block, then updates the mempool and tells subscribers. */
  commitBlock(executed: ExecutedBlock, commit: Commit): void {
    this.app.commitBlock(executed, commit);
    const { header } = executed.block;
    this.lastBlockTime = header.time;
    for (const hash of executed.txHashes) this.mempool.remove(hash);
    this.recheckMempool();
    this.metrics.observeBlock(executed);
    const event: BlockEvent = { height: header.height, hash: executed.hash, time: header.time, txs: executed.txHashes.length, stateRoot: header.stateRoot, proposer: header.proposer };
    this.emit('block', event);
    executed.txHashes.forEach((hash, index) => {
      const txEvent: TxResultEvent = { hash, height: header.height, index, result: executed.results[index]! };
      this.notifyWaiters(txEvent);
      this.emit('txResult', txEvent);
    });
  }

  private recheckMempool(): void {
    const committed = this.app.committed();
    const height = this.height;
    const dropped = this.mempool.recheck((entry) => {
      const { body } = entry.tx;
      if (body.expiresAtHeight <= height) return false;
      if (body.nonce < this.app.nonceOf(body.sender, committed)) return false;
      try {
        for (const m of this.options.modules) m.authorize?.(committed, body.sender);
        return true;
      } catch {
        return false;
      }
    });
    for (const hash of dropped) this.emit('txDropped', hash);
    this.metrics.mempoolSize.set(this.mempool.size);
  }

  /** Signs this validator's precommit for a block (the commit of a single-validator chain). */
  signPrecommit(height: number, round: number, blockHash: string, timestamp: number): Commit['signatures'][number] {
    const vote = { chainId: this.chainId, type: 'precommit', height, round, blockHash, timestamp, validator: this.validatorAddress };
    const signature = toHex(this.options.validatorSigner.sign(domainBytes(DOMAIN.vote, canonicalBytes(vote))));
    return { validator: this.validatorAddress, timestamp, signature };
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
