import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { bitcoinMerkleRoot, checkpointPayload, intervalRoot, verifyAnchor, type AnchorEvidence, type BitcoinMerkleBranch, type Checkpoint } from '../src/bitcoin/index.js';
import { AnchorWallet, buildAnchorTx, type SignedAnchorTx } from '../src/bitcoin/service.js';
import { chainIdHash, checkpointDigest } from '../src/bitcoin/index.js';
import type { AnchorRecord, CheckpointRecord } from '../src/modules/anchor/state.js';
import { verifyCheckpointAnchor } from '../src/modules/anchor/verify.js';

/**
 * Bitcoin anchoring benchmark: (1) checkpoint digest + payload, (2) anchor transaction build and sign
 * (two P2WPKH inputs, sweep), and (3) verification of each anchor as `verify anchor` does it: raw tx
 * parse, txid, the single OP_RETURN against the recomputed checkpoint, the Merkle branch in a block of
 * `blockTxs` transactions, the header's hash and its proof of work (regtest difficulty); (4) the same
 * through the anchor module's verification report (`verifyCheckpointAnchor`, what `gridledger verify
 * anchor` and GET /v1/anchor/checkpoints/{height}/verification run: it also compares the recorded
 * checkpoint with the recomputed one); (5) the interval root a checkpoint computes over `intervalItems`
 * fingerprints (an hour of a 1,000-meter community reporting every 15 minutes = 4,000).
 * Every time also comes as a rate (…PerSec), which `npm run bench -- --only bitcoin` relates to the
 * Ed25519 verify rate calibrated in the same run. Run alone: `node bin/run-ts.mjs bench/bitcoin.ts [anchors]`.
 */

export interface BitcoinBenchResult {
  anchors: number;
  blockTxs: number;
  checkpointUsPerAnchor: number;
  /** Rates of the same figures: `npm run bench` adds each one's ratio to the in-run Ed25519 calibration (…RatioToVerify1Core). */
  checkpointsPerSec: number;
  buildMsPerAnchor: number;
  buildsPerSec: number;
  verifyMsPerAnchor: number;
  verifyAnchorsPerSec: number;
  buildTotalMs: number;
  verifyTotalMs: number;
  reportMsPerAnchor: number;
  reportsPerSec: number;
  reportTotalMs: number;
  intervalItems: number;
  intervalRootMs: number;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sha256d = (b: Uint8Array): Uint8Array => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const rev = (hex: string) => Buffer.from(hex, 'hex').reverse().toString('hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString('hex');
};

/** All branches of one block at once (setup only; verification uses the library). */
function allBranches(txids: string[]): BitcoinMerkleBranch[] {
  const levels: Uint8Array[][] = [txids.map((t) => Buffer.from(rev(t), 'hex'))];
  while (levels[levels.length - 1]!.length > 1) {
    const cur = levels[levels.length - 1]!;
    const next: Uint8Array[] = [];
    for (let i = 0; i < cur.length; i += 2) next.push(sha256d(Buffer.concat([cur[i]!, cur[i + 1] ?? cur[i]!])));
    levels.push(next);
  }
  return txids.map((_, index) => ({
    index,
    txCount: txids.length,
    siblings: levels.slice(0, -1).map((level, depth) => {
      const i = index >> depth;
      return rev(Buffer.from(level[i ^ 1] ?? level[i]!).toString('hex'));
    }),
  }));
}

function mineRegtestHeader(merkleRoot: string, prev: string, time: number): string {
  const target = BigInt('0x7fffff0000000000000000000000000000000000000000000000000000000000');
  for (let nonce = 0; ; nonce++) {
    const header = `20000000${rev(prev)}${rev(merkleRoot)}${u32(time)}${u32(0x207fffff)}${u32(nonce)}`;
    if (BigInt(`0x${rev(Buffer.from(sha256d(Buffer.from(header, 'hex'))).toString('hex'))}`) <= target) return header;
  }
}

export async function benchBitcoin(opts: { anchors?: number; blockTxs?: number; anchorsPerBlock?: number; intervalItems?: number } = {}): Promise<BitcoinBenchResult> {
  const intervalItems = opts.intervalItems ?? 4000;
  const anchors = opts.anchors ?? 1000;
  const blockTxs = opts.blockTxs ?? 2000;
  const perBlock = Math.min(opts.anchorsPerBlock ?? 100, blockTxs);
  const wallet = AnchorWallet.fromSeed({ seed: new Uint8Array(32).fill(1), network: 'regtest' });
  const checkpoints: Checkpoint[] = Array.from({ length: anchors }, (_, n) => ({
    chainId: 'gridledger-bench',
    height: 3600 * (n + 1),
    blockHash: sha(`block-${n}`),
    stateRoot: sha(`state-${n}`),
    intervalRoot: intervalRoot([sha(`fp-${n}-a`), sha(`fp-${n}-b`), sha(`fp-${n}-c`)]),
  }));

  let t = performance.now();
  const payloads = checkpoints.map(checkpointPayload);
  const checkpointMs = performance.now() - t;

  t = performance.now();
  const txs: SignedAnchorTx[] = payloads.map((payload, n) =>
    buildAnchorTx({ wallet, sequence: n, utxos: [{ txid: sha(`utxo-${n}-a`), vout: 0, value: 80_000n }, { txid: sha(`utxo-${n}-b`), vout: 1, value: 5_000n }], payload, feeRate: 2 }),
  );
  const buildTotalMs = performance.now() - t + checkpointMs;

  // Blocks of `blockTxs` transactions carrying `perBlock` anchors each (setup, not timed).
  const evidence: AnchorEvidence[] = [];
  for (let first = 0; first < anchors; first += perBlock) {
    const mine = txs.slice(first, first + perBlock);
    const txids = Array.from({ length: blockTxs }, (_, i) => sha(`filler-${first}-${i}`));
    mine.forEach((tx, k) => (txids[1 + k * Math.floor((blockTxs - 1) / perBlock)] = tx.txid));
    const branches = allBranches(txids);
    const header = mineRegtestHeader(bitcoinMerkleRoot(txids).root, sha(`prev-${first}`), 1_700_000_000 + first);
    const hash = rev(Buffer.from(sha256d(Buffer.from(header, 'hex'))).toString('hex'));
    mine.forEach((tx, k) => evidence.push({ checkpoint: checkpoints[first + k]!, rawTx: tx.rawHex, txid: tx.txid, blockHeader: header, blockHash: hash, branch: branches[txids.indexOf(tx.txid)]! }));
  }

  t = performance.now();
  for (const e of evidence) verifyAnchor(e, { network: 'regtest' });
  const verifyTotalMs = performance.now() - t;

  // The module's report over the same evidence, as recorded on a ledger (setup not timed).
  const records = evidence.map((e, n) => {
    const recorded: CheckpointRecord = { ...e.checkpoint, chainIdHash: chainIdHash(e.checkpoint.chainId), digest: checkpointDigest(e.checkpoint), fromHeight: e.checkpoint.height - 3599, itemCount: 3, takenAt: e.checkpoint.height + 1 };
    const anchor: AnchorRecord = {
      height: e.checkpoint.height,
      txid: e.txid,
      wtxid: txs[n]!.wtxid,
      rawTx: e.rawTx as string,
      outputIndex: 0,
      sequence: n,
      recordedBy: 'grid1bench',
      recordedAt: { height: e.checkpoint.height + 2, txHash: sha(`record-${n}`) },
      confirmation: { blockHash: e.blockHash, blockHeight: 800_000 + n, blockTime: 1_700_000_000, blockHeader: e.blockHeader as string, merkleRoot: '', branch: e.branch, confirmedBy: 'grid1bench', confirmedAt: { height: e.checkpoint.height + 9, txHash: sha(`confirm-${n}`) } },
    };
    return { ledger: e.checkpoint, recorded, anchor };
  });
  t = performance.now();
  for (const r of records) {
    const report = verifyCheckpointAnchor({ ...r, network: 'regtest' });
    if (!report.ok) throw new Error(`bench evidence did not verify: ${report.failure?.code}`);
  }
  const reportTotalMs = performance.now() - t;

  const items = Array.from({ length: intervalItems }, (_, i) => sha(`interval-item-${i}`));
  t = performance.now();
  intervalRoot(items);
  const intervalRootMs = performance.now() - t;

  const round = (x: number, digits = 3) => Number(x.toFixed(digits));
  return {
    anchors,
    blockTxs,
    checkpointUsPerAnchor: round((checkpointMs * 1000) / anchors, 1),
    checkpointsPerSec: Math.round((anchors * 1000) / checkpointMs),
    buildMsPerAnchor: round(buildTotalMs / anchors),
    buildsPerSec: round((anchors * 1000) / buildTotalMs, 1),
    verifyMsPerAnchor: round(verifyTotalMs / anchors),
    verifyAnchorsPerSec: Math.round((anchors * 1000) / verifyTotalMs),
    buildTotalMs: Math.round(buildTotalMs),
    verifyTotalMs: Math.round(verifyTotalMs),
    reportMsPerAnchor: round(reportTotalMs / anchors),
    reportsPerSec: Math.round((anchors * 1000) / reportTotalMs),
    reportTotalMs: Math.round(reportTotalMs),
    intervalItems,
    intervalRootMs: round(intervalRootMs, 1),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const anchors = Number(process.argv[2] ?? 1000);
  console.log(JSON.stringify(await benchBitcoin({ anchors }), null, 2));
}
