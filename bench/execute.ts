import { App, verifiedTxKey } from '../src/app/host.js';
import { ZERO_HASH } from '../src/codec/block.js';
import { signTx, txHash, type SignedTx } from '../src/codec/tx.js';
import { genesisModuleSections, MODULE_CORES } from '../src/modules/index.js';
import { Storage } from '../src/store/sqlite.js';
import { PhaseMeter } from '../src/util/phase-meter.js';
import { benchSigner } from './foundation.js';

/**
 * Block execution and commit in one process, without consensus or networking: blocks of registry
 * admissions through the real App with every module active, on an in-memory SQLite database, the
 * signatures already verified (as at admission). What a validator spends per transaction on the
 * ledger itself — kernel and module dispatch, handlers, the state tree, storage — so changes there
 * show without the noise of a network run (issue 8's kernel overhead, issue 18's state root).
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

export function benchExecute(options: { blocks: number; txsPerBlock: number }): ExecuteResult {
  const { blocks, txsPerBlock } = options;
  const storage = new Storage(':memory:');
  const verified = new Set<string>();
  const phases = new PhaseMeter();
  const chainId = 'bench-execute';
  const app = new App(storage, { chainId, modules: MODULE_CORES, verifiedTxs: verified, phases });
  const operator = benchSigner('execute', 'operator');
  const validator = benchSigner('execute', 'validator');
  const validators = [{ address: validator.address, pubKey: Buffer.from(validator.signer.publicKey).toString('hex'), power: '10' }];
  let time = Date.UTC(2026, 5, 1);
  app.initGenesis({ chainId, genesisTime: time, operators: [operator.address], validators, accounts: [], modules: genesisModuleSections() });

  // Signed before timing (signing is the client's cost); two warm-up blocks are not counted.
  const warmup = 2;
  let nonce = 0;
  const txsOf: SignedTx[][] = [];
  for (let b = 0; b < blocks + warmup; b++) {
    const txs: SignedTx[] = [];
    for (let i = 0; i < txsPerBlock; i++) {
      const member = benchSigner('execute', `member-${nonce}`);
      const tx = signTx({ chainId, sender: operator.address, nonce: nonce++, expiresAtHeight: 1_000_000_000, msgs: [{ type: 'registry/admit', value: { address: member.address, roles: ['prosumer'] } }], memo: '' }, operator.signer);
      verified.add(verifiedTxKey(txHash(tx.body), tx));
      txs.push(tx);
    }
    txsOf.push(txs);
  }

  let executeNs = 0n;
  let commitNs = 0n;
  let atWarmup: Record<string, { seconds: number }> = {};
  for (let b = 0; b < blocks + warmup; b++) {
    if (b === warmup) atWarmup = phases.snapshot();
    const height = app.height + 1;
    const prev = storage.getBlock(height - 1);
    time += 1000;
    const t0 = process.hrtime.bigint();
    const executed = app.executeBlock({ height, time, proposer: validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs: txsOf[b]!, lastCommit: prev?.commit ?? null, evidence: [], validators });
    const t1 = process.hrtime.bigint();
    app.commitBlock(executed, { height, round: 0, blockHash: executed.hash, signatures: [] });
    const t2 = process.hrtime.bigint();
    const failed = executed.results.find((r) => r.code !== 'OK');
    if (failed) throw new Error(`bench transaction failed: ${failed.code} ${failed.message}`);
    if (b >= warmup) {
      executeNs += t1 - t0;
      commitNs += t2 - t1;
    }
  }
  storage.close();
  const txs = blocks * txsPerBlock;
  const perSec = (ns: bigint) => Math.round((txs * 1e9) / Number(ns));
  const usPerTx: Record<string, number> = {};
  for (const [phase, { seconds }] of Object.entries(phases.snapshot())) usPerTx[phase] = Number((((seconds - (atWarmup[phase]?.seconds ?? 0)) * 1e6) / txs).toFixed(1));
  return { blocks, txsPerBlock, usPerTx, executeTxPerSec: perSec(executeNs), commitTxPerSec: perSec(commitNs), executeAndCommitTxPerSec: perSec(executeNs + commitNs) };
}
