import { App } from '../src/app/host.js';
import { VerifiedTxs } from '../src/ledger/verified-txs.js';
import { ZERO_HASH } from '../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx } from '../src/codec/tx.js';
import type { Signer } from '../src/crypto/ed25519.js';
import { genesisModuleSections, genesisStateVersions, MODULE_CORES } from '../src/modules/index.js';
import { DEFAULT_READ_CACHE_LIMITS, DEFAULT_TREE_FLUSH_BYTES, Storage, type ReadCacheLimits } from '../src/store/sqlite.js';
import { PhaseMeter } from '../src/util/phase-meter.js';
import { benchSigner } from './foundation.js';

/**
 * Block execution and commit in one process, without consensus or networking: blocks of registry
 * admissions through the real App with every module active, the signatures already verified (as at
 * admission). What a validator spends per transaction on the ledger itself — kernel and module
 * dispatch, handlers, the state tree, storage — so changes there show without the noise of a network
 * run (issue 8's kernel overhead, issue 18's state root).
 */
export interface ExecuteResult {
  blocks: number;
  txsPerBlock: number;
  /** µs of this thread per transaction, by phase of the App's own phase timer */
  usPerTx: Record<string, number>;
  executeTxPerSec: number;
  commitTxPerSec: number;
  executeAndCommitTxPerSec: number;
}

/**
 * A one-validator chain that commits blocks of `registry/admit` transactions (each admits a new
 * account, so the state grows by a few entries per transaction). `path` is an SQLite file, or
 * ':memory:' (no I/O: the whole database is its page cache).
 */
export class AdmissionChain {
  readonly phases = new PhaseMeter();
  readonly storage: Storage;
  private readonly app: App;
  private readonly verified = new VerifiedTxs(1_000_000);
  private readonly chainId = 'bench-execute';
  private readonly operator = benchSigner('execute', 'operator');
  private readonly validator = benchSigner('execute', 'validator');
  private readonly validators = [{ address: this.validator.address, pubKey: Buffer.from(this.validator.signer.publicKey).toString('hex'), power: '10' }];
  private time = Date.UTC(2026, 5, 1);
  private nonce = 0;

  constructor(path = ':memory:', cacheLimits: ReadCacheLimits = DEFAULT_READ_CACHE_LIMITS, treeFlushBytes = DEFAULT_TREE_FLUSH_BYTES) {
    this.storage = new Storage(path, cacheLimits, treeFlushBytes);
    this.app = new App(this.storage, { chainId: this.chainId, modules: MODULE_CORES, verifiedTxs: this.verified, phases: this.phases });
    this.app.initGenesis({ chainId: this.chainId, genesisTime: this.time, operators: [this.operator.address], validators: this.validators, accounts: [], modules: genesisModuleSections(), stateVersions: genesisStateVersions() });
  }

  /** Signed admissions of new members, already counted as verified (signing is the client's cost). */
  signAdmissions(count: number, member: (n: number) => string = (n) => benchSigner('execute', `member-${n}`).address): SignedTx[] {
    const txs: SignedTx[] = [];
    for (let i = 0; i < count; i++) {
      const nonce = this.nonce;
      txs.push(this.signOperatorTx([{ type: 'registry/admit', value: { address: member(nonce), roles: ['prosumer'] } }]));
    }
    return txs;
  }

  /** A transaction of the chain's operator (admissions, set-up messages), already counted as verified. */
  signOperatorTx(msgs: Msg[]): SignedTx {
    return this.signTxFrom(this.operator, this.nonce++, msgs);
  }

  /** A transaction of another sender with its own nonce (a meter's readings), already counted as verified. */
  signTxFrom(from: { signer: Signer; address: string }, nonce: number, msgs: Msg[]): SignedTx {
    const tx = signTx({ chainId: this.chainId, sender: from.address, nonce, expiresAtHeight: 1_000_000_000, msgs, memo: '' }, from.signer);
    this.verified.remember(txHash(tx.body), tx);
    return tx;
  }

  /** The time of the last block (ms). */
  get blockTime(): number {
    return this.time;
  }

  /**
   * Executes and commits one block of `txs` one second after the last, or at `atMs` if later; the wall
   * time (ns) of each step. Throws if a transaction failed.
   */
  commitBlock(txs: SignedTx[], atMs = 0): { executeNs: bigint; commitNs: bigint } {
    const height = this.app.height + 1;
    const prev = this.storage.getBlock(height - 1);
    this.time = Math.max(this.time + 1000, atMs);
    const t0 = process.hrtime.bigint();
    const executed = this.app.executeBlock({ height, time: this.time, proposer: this.validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs, lastCommit: prev?.commit ?? null, evidence: [], validators: this.validators });
    const t1 = process.hrtime.bigint();
    this.app.commitBlock(executed, { height, round: 0, blockHash: executed.hash, signatures: [] });
    const t2 = process.hrtime.bigint();
    const failed = executed.results.find((r) => r.code !== 'OK');
    if (failed) throw new Error(`bench transaction failed: ${failed.code} ${failed.message}`);
    return { executeNs: t1 - t0, commitNs: t2 - t1 };
  }

  close(): void {
    this.storage.close();
  }
}

/** µs per transaction by phase between two snapshots of a PhaseMeter. */
export function phaseUsPerTx(after: ReturnType<PhaseMeter['snapshot']>, before: ReturnType<PhaseMeter['snapshot']>, txs: number): Record<string, number> {
  const usPerTx: Record<string, number> = {};
  for (const [phase, { seconds }] of Object.entries(after)) usPerTx[phase] = Number((((seconds - (before[phase]?.seconds ?? 0)) * 1e6) / txs).toFixed(1));
  return usPerTx;
}

export function benchExecute(options: { blocks: number; txsPerBlock: number }): ExecuteResult {
  const { blocks, txsPerBlock } = options;
  const chain = new AdmissionChain();
  // Signed before timing; two warm-up blocks are not counted.
  const warmup = 2;
  const txsOf: SignedTx[][] = [];
  for (let b = 0; b < blocks + warmup; b++) txsOf.push(chain.signAdmissions(txsPerBlock));

  let executeNs = 0n;
  let commitNs = 0n;
  let atWarmup: ReturnType<PhaseMeter['snapshot']> = {};
  for (let b = 0; b < blocks + warmup; b++) {
    if (b === warmup) atWarmup = chain.phases.snapshot();
    const took = chain.commitBlock(txsOf[b]!);
    if (b >= warmup) {
      executeNs += took.executeNs;
      commitNs += took.commitNs;
    }
  }
  const usPerTx = phaseUsPerTx(chain.phases.snapshot(), atWarmup, blocks * txsPerBlock);
  chain.close();
  const txs = blocks * txsPerBlock;
  const perSec = (ns: bigint) => Math.round((txs * 1e9) / Number(ns));
  return { blocks, txsPerBlock, usPerTx, executeTxPerSec: perSec(executeNs), commitTxPerSec: perSec(commitNs), executeAndCommitTxPerSec: perSec(executeNs + commitNs) };
}
