import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Commit } from '../src/codec/block.js';
import { signTx } from '../src/codec/tx.js';
import { voteSignBytes } from '../src/consensus/messages.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { keyPairFromSeed } from '../src/crypto/ed25519.js';
import { loadConfig, loadGenesis, openKeyring, paths } from '../src/home/home.js';
import { auditChain } from '../src/ledger/audit.js';
import { LedgerNode } from '../src/ledger/ledger.js';
import { runIndexer } from '../src/indexer/indexer.js';
import { trustFromGenesis } from '../src/light/client.js';
import { MODULE_CORES } from '../src/modules/index.js';
import { initHome } from '../src/runtime/init.js';
import { startNode } from '../src/runtime/service.js';
import { toHex } from '../src/util/bytes.js';

/**
 * Issue 17 #5/#6 benchmarks on a real chain: `buildChain` makes a one-validator chain of N blocks
 * in-process (the production ledger node: mempool, block building and execution, SQLite commit; each
 * commit signed by the validator key as consensus would, without the consensus timers, so 10,000
 * blocks take minutes, not hours), each block with `txsPerBlock` registry admissions. `auditRun`
 * audits it from genesis; `indexerRun` serves it with a real node and indexes it into PostgreSQL.
 */

export async function buildChain(blocks: number, txsPerBlock: number): Promise<{ home: string; seconds: number; txs: number }> {
  const home = join(mkdtempSync(join(tmpdir(), 'gridledger-bench-chain-')), 'home');
  initHome(home, { chainId: 'bench-chain', keyringBackend: 'test', apiPort: 0 });
  const genesis = loadGenesis(home);
  const keyring = openKeyring(home, 'test');
  const validator = keyring.signer('validator');
  const admin = keyring.signer('admin');
  const adminAddress = keyring.show('admin').address;
  const validatorAddress = keyring.show('validator').address;
  const node = new LedgerNode({ config: loadConfig(home), genesis, dbPath: paths(home).db, validatorSigner: validator, modules: MODULE_CORES, logger: pino({ level: 'silent' }), verifyWorkers: 0 });
  const started = performance.now();
  let lastCommit: Commit | null = null;
  let nonce = 0;
  let txs = 0;
  for (let h = 1; h <= blocks; h++) {
    for (let i = 0; i < txsPerBlock; i++) {
      const who = toHex(new Uint8Array(Buffer.from(`bench-${h}-${i}`.padEnd(32, '.')).subarray(0, 32)));
      const tx = signTx({ chainId: genesis.chainId, sender: adminAddress, nonce: nonce++, expiresAtHeight: h + 100, msgs: [{ type: 'registry/admit', value: { address: benchAddress(who), roles: ['consumer'] } }], memo: '' }, admin);
      node.submitTx(tx);
      txs++;
    }
    const time = genesis.genesisTime + h * 1000;
    const executed = node.buildExecutedBlock({ time, proposer: validatorAddress, lastCommit, evidence: [] });
    const unsigned = { chainId: genesis.chainId, type: 'precommit' as const, height: h, round: 0, blockHash: executed.hash, timestamp: time + 500, validator: validatorAddress };
    const commit: Commit = { height: h, round: 0, blockHash: executed.hash, signatures: [{ validator: validatorAddress, timestamp: unsigned.timestamp, signature: toHex(validator.sign(voteSignBytes(unsigned))) }] };
    node.commitBlock(executed, commit);
    lastCommit = commit;
    if (h % 1000 === 0) process.stderr.write(`built ${h} blocks\n`);
  }
  node.close();
  return { home, seconds: (performance.now() - started) / 1000, txs };
}

/** A fresh account address per admission (a key from a fixed seed). */
function benchAddress(seedHex: string): string {
  return addressFromPublicKey(keyPairFromSeed(Buffer.from(seedHex, 'hex')).publicKey);
}

export async function auditRun(home: string): Promise<{ blocks: number; txs: number; seconds: number; blocksPerSecond: number; ok: boolean }> {
  const started = performance.now();
  const report = await auditChain({ home, modules: MODULE_CORES, restart: true, onProgress: (h) => h % 1000 === 0 && process.stderr.write(`audited ${h}\n`) });
  const seconds = (performance.now() - started) / 1000;
  if (!report.ok) throw new Error(`audit failed: ${report.divergence?.message}`);
  return { blocks: report.blocks, txs: report.txs, seconds: Number(seconds.toFixed(1)), blocksPerSecond: Math.round(report.blocks / seconds), ok: report.ok && report.stateCompared };
}

export async function indexerRun(home: string, postgresUrl: string, untilHeight: number): Promise<{ blocks: number; rows: number; seconds: number; rowsPerSecond: number }> {
  const running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
  try {
    const started = performance.now();
    const run = await runIndexer({ nodeUrl: running.url, postgresUrl, trusted: trustFromGenesis(loadGenesis(home)), untilHeight });
    const seconds = (performance.now() - started) / 1000;
    return { blocks: run.blocks, rows: run.rows, seconds: Number(seconds.toFixed(1)), rowsPerSecond: Math.round(run.rows / seconds) };
  } finally {
    await running.stop();
  }
}

export function removeChain(home: string): void {
  rmSync(join(home, '..'), { recursive: true, force: true });
}
