import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildBitcoinMerkleBranch, checkpointPayload, verifyAnchor, verifyAnchorInclusion, verifyAnchorTx, type AnchorEvidence, type Checkpoint } from '../../src/bitcoin/index.js';
import { AnchorWallet, buildAnchorTx } from '../../src/bitcoin/service.js';
import { FakeChain } from './fake-bitcoin.js';

/** verifyAnchor on one anchor mined into a regtest-difficulty block, and each way the evidence can be wrong. */

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `untyped: ${(err as Error).message}`;
  }
  return 'no error';
};

const wallet = AnchorWallet.fromSeed({ seed: new Uint8Array(32).fill(5), network: 'regtest' });
const chain = new FakeChain();
const funding = chain.fund(wallet.address(0).address, 30_000n);
const checkpoint: Checkpoint = { chainId: 'gridledger-verify', height: 7200, blockHash: h('b'), stateRoot: h('s'), intervalRoot: h('i') };
const tx = buildAnchorTx({ wallet, sequence: 0, utxos: [{ txid: funding, vout: 0, value: 30_000n }], payload: checkpointPayload(checkpoint), feeRate: 1 });
chain.accept(tx.rawHex);
const block = chain.mine();
const evidence: AnchorEvidence = { checkpoint, rawTx: tx.rawHex, txid: tx.txid, blockHeader: block.header, blockHash: block.hash, branch: buildBitcoinMerkleBranch(block.txids, block.txids.indexOf(tx.txid)) };
const other = buildAnchorTx({ wallet, sequence: 0, utxos: [{ txid: funding, vout: 0, value: 30_000n }], payload: checkpointPayload({ ...checkpoint, height: 10800 }), feeRate: 1 });

describe('verifyAnchor', () => {
  it('accepts the real evidence and reports what it checked', () => {
    const v = verifyAnchor(evidence, { network: 'regtest' });
    expect(v).toMatchObject({ outputIndex: 0, payload: { version: 1, height: 7200 } });
    expect(v.tx.txid).toBe(tx.txid);
    expect(v.header.hash).toBe(block.hash);
    expect(v.header.time).toBe(block.time);
    expect(verifyAnchorTx(tx.rawHex, tx.txid, checkpoint).payload.height).toBe(7200);
    expect(verifyAnchorInclusion(tx.txid, evidence).hash).toBe(block.hash);
  });

  it('names each kind of wrong evidence', () => {
    const run = (patch: Partial<AnchorEvidence>, network: 'regtest' | 'mainnet' = 'regtest') => code(() => verifyAnchor({ ...evidence, ...patch }, { network }));
    // A tampered ledger value: the recomputed checkpoint no longer matches the payload.
    expect(run({ checkpoint: { ...checkpoint, stateRoot: h('tampered') } })).toBe('ANCHOR_PAYLOAD_MISMATCH');
    expect(run({ checkpoint: { ...checkpoint, height: 7201 } })).toBe('ANCHOR_PAYLOAD_MISMATCH');
    // A wrong transaction: recorded under another txid, or a valid anchor of another checkpoint.
    expect(run({ txid: other.txid })).toBe('ANCHOR_BTC_TXID_MISMATCH');
    expect(run({ rawTx: other.rawHex, txid: other.txid })).toBe('ANCHOR_PAYLOAD_MISMATCH');
    expect(run({ rawTx: `${tx.rawHex}00` })).toBe('ANCHOR_BTC_TX_MALFORMED');
    // Wrong block data.
    expect(run({ blockHash: h('another block') })).toBe('ANCHOR_BTC_BLOCK_HASH_MISMATCH');
    expect(run({ branch: { ...evidence.branch, index: evidence.branch.index ^ 1 } })).toBe('ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
    expect(run({ branch: { ...evidence.branch, siblings: evidence.branch.siblings.slice(1) } })).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    // The correct regtest header is far too easy for mainnet's proof-of-work limit.
    expect(run({}, 'mainnet')).toBe('ANCHOR_BTC_BITS_INVALID');
  });

  it('refuses a header that does not meet its own target', () => {
    // Same block with another nonce whose hash is above the regtest target (searched deterministically).
    const bytes = Buffer.from(block.header, 'hex');
    for (let nonce = 0; ; nonce++) {
      bytes.writeUInt32LE(nonce, 76);
      const hash = Buffer.from(createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest()).reverse().toString('hex');
      if (BigInt(`0x${hash}`) > BigInt('0x7fffff0000000000000000000000000000000000000000000000000000000000')) {
        expect(code(() => verifyAnchor({ ...evidence, blockHeader: bytes.toString('hex'), blockHash: hash }, { network: 'regtest' }))).toBe('ANCHOR_BTC_POW_INVALID');
        return;
      }
    }
  });
});
