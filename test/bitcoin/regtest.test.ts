import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildBitcoinMerkleBranch, checkpointPayload, parseBlockHeader, verifyAnchor, type Checkpoint } from '../../src/bitcoin/index.js';
import { mineRegtestBlock } from '../../src/bitcoin/regtest.js';
import { AnchorWallet, buildAnchorTx } from '../../src/bitcoin/service.js';
import { merkleRoot } from './fake-bitcoin.js';

/** `gridledger anchor regtest-block`: a synthetic regtest block that verifyAnchor accepts on regtest only. */

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const sha256d = (hex: string) => createHash('sha256').update(createHash('sha256').update(Buffer.from(hex, 'hex')).digest()).digest();
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `untyped: ${(err as Error).message}`;
  }
  return 'no error';
};

const wallet = AnchorWallet.fromSeed({ seed: new Uint8Array(32).fill(7), network: 'regtest' });
const checkpoint: Checkpoint = { chainId: 'gridledger-regtest-block', height: 12, blockHash: h('b'), stateRoot: h('s'), intervalRoot: h('i') };
const tx = buildAnchorTx({ wallet, sequence: 0, utxos: [{ txid: h('funding'), vout: 0, value: 100_000n }], payload: checkpointPayload(checkpoint), feeRate: 2 });
const TIME = 1_796_000_000;

describe('mineRegtestBlock', () => {
  it('puts a coinbase and the transactions under a header that meets the regtest target', () => {
    const block = mineRegtestBlock({ txids: [tx.txid, h('another tx')], height: 101, time: TIME, prevBlockHash: h('previous') });
    expect(block.tx).toEqual([Buffer.from(sha256d(block.coinbaseHex)).reverse().toString('hex'), tx.txid, h('another tx')]);
    // The Merkle root by the test's own code (test/bitcoin/fake-bitcoin.ts), not the library's.
    expect(block.merkleroot).toBe(merkleRoot(block.tx));
    expect(parseBlockHeader(block.header)).toMatchObject({ version: 0x20000000, prevBlockHash: h('previous'), merkleRoot: block.merkleroot, time: TIME, bits: 0x207fffff, nonce: block.nonce, hash: block.hash });
    expect(BigInt(`0x${block.hash}`) <= 0x7fffffn << 232n).toBe(true);
    expect(block).toMatchObject({ height: 101, nTx: 3, bits: '207fffff', previousblockhash: h('previous') });
    // BIP34: the coinbase's script (after version, input count, null prevout, length) starts with the
    // height as a minimal script number: 101 = one byte 0x65; 128 needs a sign byte: 80 00.
    expect(block.coinbaseHex.slice(8, 82)).toBe(`01${'00'.repeat(32)}ffffffff`);
    expect(block.coinbaseHex.slice(84, 88)).toBe('0165');
    expect(mineRegtestBlock({ txids: [tx.txid], height: 128, time: TIME }).coinbaseHex.slice(84, 90)).toBe('028000');
    expect(mineRegtestBlock({ txids: [tx.txid, h('another tx')], height: 101, time: TIME, prevBlockHash: h('previous') })).toEqual(block);
  });

  it('gives evidence verifyAnchor accepts on regtest and refuses on mainnet', () => {
    const block = mineRegtestBlock({ txids: [tx.txid], height: 101, time: TIME });
    const evidence = { checkpoint, rawTx: tx.rawHex, txid: tx.txid, blockHeader: block.header, blockHash: block.hash, branch: buildBitcoinMerkleBranch(block.tx, 1) };
    expect(verifyAnchor(evidence, { network: 'regtest' }).header.hash).toBe(block.hash);
    expect(code(() => verifyAnchor(evidence, { network: 'mainnet' }))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(code(() => verifyAnchor(evidence, { network: 'signet' }))).toBe('ANCHOR_BTC_BITS_INVALID');
  });

  it('refuses what no block holds', () => {
    expect(code(() => mineRegtestBlock({ txids: [], height: 101, time: TIME }))).toBe('ANCHOR_BTC_TXIDS_INVALID');
    expect(code(() => mineRegtestBlock({ txids: ['zz'], height: 101, time: TIME }))).toBe('ANCHOR_BTC_TXIDS_INVALID');
    expect(code(() => mineRegtestBlock({ txids: [h('a'), h('b'), h('b')], height: 101, time: TIME }))).toBe('ANCHOR_BTC_TXIDS_INVALID');
    expect(code(() => mineRegtestBlock({ txids: [h('a')], height: 0, time: TIME }))).toBe('ANCHOR_BTC_HEADER_MALFORMED');
  });
});
