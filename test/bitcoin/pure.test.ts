import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { merkleRoot } from '../../src/crypto/hash.js';
import {
  bitcoinMerkleRoot,
  bitsToTarget,
  blockHash,
  buildBitcoinMerkleBranch,
  chainIdHash,
  checkpointDigest,
  checkpointPayload,
  decodeCheckpointPayload,
  decodeCompact,
  EMPTY_INTERVAL_ROOT,
  encodeCheckpointPayload,
  extractAnchorPayload,
  findOpReturnPayload,
  inclusionPath,
  intervalRoot,
  merkleRootFromBranch,
  opReturnData,
  parseBitcoinTx,
  parseBlockHeader,
  rootFromInclusionPath,
  verifyBitcoinMerkleBranch,
  verifyBlockHeaderPow,
  verifyCheckpointPayload,
  verifyCoverage,
  verifyInclusion,
  type Checkpoint,
} from '../../src/bitcoin/index.js';
import { toHex } from '../../src/util/bytes.js';
import { BIP143_P2WPKH, BLOCK_100000, BLOCK_125552, GENESIS } from './fixtures.js';

const h = (seed: string) => createHash('sha256').update(seed).digest('hex');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `untyped: ${(err as Error).message}`;
  }
  return 'no error';
};

const checkpoint: Checkpoint = { chainId: 'gridledger-devnet', height: 3600, blockHash: h('block'), stateRoot: h('state'), intervalRoot: h('intervals') };

describe('checkpoint digest and payload', () => {
  it('follows the documented byte layout (re-implemented here from docs/anchor.md)', () => {
    const height = Buffer.alloc(8);
    height.writeBigUInt64BE(3600n);
    const preimage = Buffer.concat([
      Buffer.from('GRIDLEDGER/ANCHOR-CHECKPOINT/V1\0', 'latin1'),
      createHash('sha256').update('gridledger-devnet', 'utf8').digest(),
      height,
      Buffer.from(checkpoint.blockHash, 'hex'),
      Buffer.from(checkpoint.stateRoot, 'hex'),
      Buffer.from(checkpoint.intervalRoot, 'hex'),
    ]);
    expect(preimage.length).toBe(32 + 137 - 1);
    const digest = createHash('sha256').update(preimage).digest('hex');
    expect(checkpointDigest(checkpoint)).toBe(digest);
    const payload = checkpointPayload(checkpoint);
    expect(toHex(payload)).toBe(`4752444c01${height.toString('hex')}${digest}`);
    expect(payload.length).toBe(45);
  });

  it('matches the example vector printed in docs/anchor.md', () => {
    const doc = readFileSync(new URL('../../docs/anchor.md', import.meta.url), 'utf8');
    const field = (name: string) => new RegExp(`^${name} +([0-9a-z-]+)`, 'm').exec(doc)![1]!;
    const example: Checkpoint = { chainId: field('chain id'), height: Number(field('height')), blockHash: field('block hash'), stateRoot: field('state root'), intervalRoot: field('interval root') };
    expect(example.height).toBe(3600);
    expect(chainIdHash(example.chainId)).toBe(field('chain id hash'));
    expect(checkpointDigest(example)).toBe(field('digest'));
    expect(toHex(checkpointPayload(example))).toBe(field('payload'));
  });

  it('changes with every field', () => {
    const base = checkpointDigest(checkpoint);
    const variants: Checkpoint[] = [
      { ...checkpoint, chainId: 'gridledger-other' },
      { ...checkpoint, height: 3601 },
      { ...checkpoint, blockHash: h('block2') },
      { ...checkpoint, stateRoot: h('state2') },
      { ...checkpoint, intervalRoot: EMPTY_INTERVAL_ROOT },
    ];
    const digests = new Set(variants.map(checkpointDigest));
    expect(digests.size).toBe(variants.length);
    expect(digests.has(base)).toBe(false);
  });

  it('round-trips and decodes strictly', () => {
    const payload = checkpointPayload(checkpoint);
    expect(decodeCheckpointPayload(payload)).toEqual({ version: 1, height: 3600, digest: checkpointDigest(checkpoint) });
    expect(decodeCheckpointPayload(encodeCheckpointPayload({ height: Number.MAX_SAFE_INTEGER, digest: h('x') })).height).toBe(Number.MAX_SAFE_INTEGER);
    const mutate = (i: number, v: number) => Uint8Array.from(payload, (b, j) => (j === i ? v : b));
    expect(code(() => decodeCheckpointPayload(payload.subarray(0, 44)))).toBe('ANCHOR_PAYLOAD_MALFORMED');
    expect(code(() => decodeCheckpointPayload(Uint8Array.from([...payload, 0])))).toBe('ANCHOR_PAYLOAD_MALFORMED');
    expect(code(() => decodeCheckpointPayload(mutate(0, 0x67)))).toBe('ANCHOR_PAYLOAD_MALFORMED');
    expect(code(() => decodeCheckpointPayload(mutate(4, 2)))).toBe('ANCHOR_PAYLOAD_VERSION_UNSUPPORTED');
    expect(code(() => decodeCheckpointPayload(mutate(5, 0x00 + 1)))).toBe('ANCHOR_PAYLOAD_MALFORMED'); // height ≥ 2^56
    expect(code(() => decodeCheckpointPayload(new Uint8Array(0)))).toBe('ANCHOR_PAYLOAD_MALFORMED');
    expect(code(() => encodeCheckpointPayload({ height: -1, digest: h('x') }))).toBe('ANCHOR_CHECKPOINT_INVALID');
    expect(code(() => encodeCheckpointPayload({ height: 1.5, digest: h('x') }))).toBe('ANCHOR_CHECKPOINT_INVALID');
    expect(code(() => checkpointDigest({ ...checkpoint, stateRoot: h('x').toUpperCase() }))).toBe('ANCHOR_CHECKPOINT_INVALID');
    expect(code(() => checkpointDigest({ ...checkpoint, chainId: '' }))).toBe('ANCHOR_CHECKPOINT_INVALID');
  });

  it('verifyCheckpointPayload names what differs', () => {
    const payload = checkpointPayload(checkpoint);
    expect(verifyCheckpointPayload(payload, checkpoint).height).toBe(3600);
    expect(code(() => verifyCheckpointPayload(payload, { ...checkpoint, height: 7200 }))).toBe('ANCHOR_PAYLOAD_MISMATCH');
    expect(code(() => verifyCheckpointPayload(payload, { ...checkpoint, stateRoot: h('tampered') }))).toBe('ANCHOR_PAYLOAD_MISMATCH');
  });

  it('chain id hash is SHA-256 of the UTF-8 chain id', () => {
    expect(chainIdHash('gridledger-devnet')).toBe(createHash('sha256').update('gridledger-devnet').digest('hex'));
  });
});

describe('inclusion paths to the interval root', () => {
  it('root equals src/crypto merkleRoot; every item of trees of 1..33 items has a verifying path', () => {
    for (let n = 1; n <= 33; n++) {
      const items = Array.from({ length: n }, (_, i) => h(`fp-${n}-${i}`));
      const root = intervalRoot(items);
      expect(root).toBe(toHex(merkleRoot(items.map((x) => Buffer.from(x, 'hex')))));
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(items, i);
        expect(rootFromInclusionPath(items[i]!, path)).toBe(root);
      }
    }
    expect(intervalRoot([])).toBe(EMPTY_INTERVAL_ROOT);
  });

  it('refuses a wrong item, index, leaf count, sibling or extra sibling', () => {
    const items = Array.from({ length: 7 }, (_, i) => h(`fp-${i}`));
    const root = intervalRoot(items);
    const path = inclusionPath(items, 3);
    verifyInclusion(items[3]!, path, root);
    expect(code(() => verifyInclusion(items[4]!, path, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    expect(code(() => verifyInclusion(items[3]!, { ...path, index: 2 }, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    // The promoted last item needs no sibling at level 0 in a tree of 7, but one in a tree of 8.
    expect(code(() => verifyInclusion(items[6]!, { ...inclusionPath(items, 6), leafCount: 8 }, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    expect(code(() => verifyInclusion(items[3]!, { ...path, siblings: [h('x'), ...path.siblings.slice(1)] }, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    expect(code(() => verifyInclusion(items[3]!, { ...path, siblings: [...path.siblings, h('x')] }, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    expect(code(() => verifyInclusion(items[3]!, { ...path, index: 7 }, root))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
    // The promoted last item of an odd level takes no sibling at that level.
    expect(inclusionPath(items, 6).siblings.length).toBe(2);
  });

  it('a coverage proof leads from a fingerprint to the checkpoint digest', () => {
    const items = Array.from({ length: 5 }, (_, i) => h(`fp-${i}`));
    const cp = { ...checkpoint, intervalRoot: intervalRoot(items) };
    expect(verifyCoverage(items[2]!, { checkpoint: cp, path: inclusionPath(items, 2) })).toBe(checkpointDigest(cp));
    expect(code(() => verifyCoverage(h('not committed'), { checkpoint: cp, path: inclusionPath(items, 2) }))).toBe('ANCHOR_INCLUSION_PATH_INVALID');
  });
});

describe('raw Bitcoin transactions', () => {
  it('parses the genesis coinbase (legacy) and computes its txid', () => {
    const tx = parseBitcoinTx(GENESIS.coinbase);
    expect(tx.txid).toBe(GENESIS.merkleRoot);
    expect(tx.wtxid).toBe(tx.txid);
    expect(tx.hasWitness).toBe(false);
    expect(tx.outputs[0]!.value).toBe(5_000_000_000n);
    expect(code(() => findOpReturnPayload(tx))).toBe('ANCHOR_BTC_NO_OP_RETURN');
  });

  it('parses BIP143 SegWit example: txid without witness, wtxid with, sizes', () => {
    const tx = parseBitcoinTx(BIP143_P2WPKH.raw);
    // Ids as python-bitcoinlib computes them (builder.test.ts runs that comparison live).
    expect(tx.hasWitness).toBe(true);
    expect(tx.txid).toBe('e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609');
    expect(tx.wtxid).toBe('c36c38370907df2324d9ce9d149d191192f338b37665a82e78e76a12c909b762');
    expect(tx.inputs[0]!.txid).toBe('9f96ade4b41d5433f4eda31e1738ec2b36f6e7d1420d94a6af99801a88f7f7ff');
    expect(tx.inputs[0]!.sequence).toBe(0xffffffee);
    expect(tx.inputs[1]!.witness).toHaveLength(2);
    expect(tx.weight).toBe(3 * tx.strippedSize + tx.totalSize);
    expect(tx.lockTime).toBe(17);
  });

  it('refuses trailing bytes, truncation, hex in capitals, and a SegWit marker with empty witnesses', () => {
    expect(code(() => parseBitcoinTx(`${GENESIS.coinbase}00`))).toBe('ANCHOR_BTC_TX_MALFORMED');
    expect(code(() => parseBitcoinTx(GENESIS.coinbase.slice(0, -2)))).toBe('ANCHOR_BTC_TX_MALFORMED');
    expect(code(() => parseBitcoinTx(GENESIS.coinbase.toUpperCase()))).toBe('ANCHOR_BTC_TX_MALFORMED');
    // version | 00 01 marker | the coinbase's input and output | one empty witness | locktime
    const legacy = GENESIS.coinbase;
    const superfluous = `${legacy.slice(0, 8)}0001${legacy.slice(8, -8)}00${legacy.slice(-8)}`;
    expect(code(() => parseBitcoinTx(superfluous))).toBe('ANCHOR_BTC_TX_MALFORMED');
    expect(code(() => parseBitcoinTx(new Uint8Array(400_001)))).toBe('ANCHOR_BTC_TX_TOO_LARGE');
  });

  it('OP_RETURN data must be one minimal push', () => {
    const data = (hex: string) => toHex(opReturnData(Buffer.from(hex, 'hex')));
    expect(data(`6a2d${'11'.repeat(45)}`)).toBe('11'.repeat(45));
    expect(data(`6a4c50${'22'.repeat(80)}`)).toBe('22'.repeat(80));
    for (const bad of ['6a', '6a00', '6a51', `6a4c2d${'11'.repeat(45)}`, `6a2d${'11'.repeat(44)}`, `6a2d${'11'.repeat(45)}00`, `6a01ff01ff`, `6a4d2d00${'11'.repeat(45)}`]) {
      expect(code(() => opReturnData(Buffer.from(bad, 'hex'))), bad).toBe('ANCHOR_BTC_OP_RETURN_MALFORMED');
    }
  });
});

describe('Bitcoin Merkle branches', () => {
  it('block 100000: the four txids give the header\'s Merkle root; each branch verifies; a wrong one fails', () => {
    expect(bitcoinMerkleRoot(BLOCK_100000.txids)).toEqual({ root: BLOCK_100000.merkleRoot, mutated: false });
    expect(parseBlockHeader(BLOCK_100000.header).merkleRoot).toBe(BLOCK_100000.merkleRoot);
    for (let i = 0; i < 4; i++) {
      const branch = buildBitcoinMerkleBranch(BLOCK_100000.txids, i);
      expect(branch.siblings).toHaveLength(2);
      verifyBitcoinMerkleBranch(BLOCK_100000.txids[i]!, branch, BLOCK_100000.merkleRoot);
      expect(code(() => verifyBitcoinMerkleBranch(h('another transaction'), branch, BLOCK_100000.merkleRoot))).toBe('ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
      // A txid equal to its own sibling is the duplicated-pair shape, refused before hashing.
      expect(code(() => verifyBitcoinMerkleBranch(BLOCK_100000.txids[i ^ 1]!, branch, BLOCK_100000.merkleRoot))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
      expect(code(() => verifyBitcoinMerkleBranch(BLOCK_100000.txids[i]!, { ...branch, index: i ^ 1 }, BLOCK_100000.merkleRoot))).toBe('ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
    }
  });

  it('genesis: one transaction, empty branch, root = coinbase txid', () => {
    const branch = buildBitcoinMerkleBranch([GENESIS.merkleRoot], 0);
    expect(branch).toEqual({ index: 0, txCount: 1, siblings: [] });
    verifyBitcoinMerkleBranch(GENESIS.merkleRoot, branch, parseBlockHeader(GENESIS.header).merkleRoot);
  });

  it('CVE-2012-2459: [a,b,c] and [a,b,c,c] share a root; the duplicate list is flagged and its branches refused', () => {
    const three = BLOCK_100000.txids.slice(0, 3);
    const mutatedList = [...three, three[2]!];
    const honest = bitcoinMerkleRoot(three);
    const mutated = bitcoinMerkleRoot(mutatedList);
    expect(mutated.root).toBe(honest.root);
    expect(honest.mutated).toBe(false);
    expect(mutated.mutated).toBe(true);
    expect(code(() => buildBitcoinMerkleBranch(mutatedList, 3))).toBe('ANCHOR_BTC_TXIDS_INVALID');
    // The honest branch of c (last of an odd level: its sibling is itself) verifies with txCount 3 …
    const branch = buildBitcoinMerkleBranch(three, 2);
    expect(branch.siblings[0]).toBe(three[2]);
    verifyBitcoinMerkleBranch(three[2]!, branch, honest.root);
    // … but the same siblings claimed for position 3 of 4 (c paired with a copy of itself) are refused,
    expect(code(() => merkleRootFromBranch(three[2]!, { index: 3, txCount: 4, siblings: branch.siblings }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    expect(code(() => merkleRootFromBranch(three[2]!, { index: 2, txCount: 4, siblings: branch.siblings }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    // and so is a last-of-odd-level node whose "sibling" is not itself.
    expect(code(() => merkleRootFromBranch(three[2]!, { index: 2, txCount: 3, siblings: [three[1]!, branch.siblings[1]!] }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
  });

  it('refuses a branch whose length does not match the transaction count', () => {
    const branch = buildBitcoinMerkleBranch(BLOCK_100000.txids, 1);
    expect(code(() => merkleRootFromBranch(BLOCK_100000.txids[1]!, { ...branch, txCount: 5 }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    expect(code(() => merkleRootFromBranch(BLOCK_100000.txids[1]!, { ...branch, txCount: 2 }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    expect(code(() => merkleRootFromBranch(BLOCK_100000.txids[1]!, { ...branch, index: 4 }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    expect(code(() => merkleRootFromBranch(BLOCK_100000.txids[1]!, { ...branch, txCount: 0 }))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
  });

  it('branches of every position in trees of 1..40 transactions verify', () => {
    for (let n = 1; n <= 40; n++) {
      const txids = Array.from({ length: n }, (_, i) => h(`tx-${n}-${i}`));
      const { root } = bitcoinMerkleRoot(txids);
      for (let i = 0; i < n; i++) verifyBitcoinMerkleBranch(txids[i]!, buildBitcoinMerkleBranch(txids, i), root);
    }
  });
});

describe('Bitcoin block headers', () => {
  for (const [name, block] of [['genesis', GENESIS], ['125552', BLOCK_125552], ['100000', BLOCK_100000]] as const) {
    it(`block ${name}: known hash, proof of work holds, and any one-byte change breaks it`, () => {
      const verified = verifyBlockHeaderPow(block.header, { network: 'mainnet' });
      expect(verified.hash).toBe(block.hash);
      expect(BigInt(`0x${verified.hash}`) <= verified.target).toBe(true);
      const bytes = Buffer.from(block.header, 'hex');
      for (let i = 0; i < 80; i++) {
        const changed = Uint8Array.from(bytes);
        changed[i] = changed[i]! ^ 0x01;
        expect(['ANCHOR_BTC_POW_INVALID', 'ANCHOR_BTC_BITS_INVALID'], `byte ${i}`).toContain(code(() => verifyBlockHeaderPow(changed, { network: 'mainnet' })));
      }
    });
  }

  it('parses block 125552\'s fields', () => {
    const p = parseBlockHeader(BLOCK_125552.header);
    expect(p).toMatchObject({ version: 1, prevBlockHash: BLOCK_125552.prevBlockHash, merkleRoot: BLOCK_125552.merkleRoot, time: BLOCK_125552.time, bits: BLOCK_125552.bits, nonce: BLOCK_125552.nonce });
    expect(blockHash(Buffer.from(BLOCK_125552.header, 'hex'))).toBe(BLOCK_125552.hash);
    expect(code(() => parseBlockHeader(BLOCK_125552.header.slice(2)))).toBe('ANCHOR_BTC_HEADER_MALFORMED');
  });

  it('decodes compact targets like Bitcoin Core (arith_uint256 SetCompact vectors)', () => {
    const vectors: [number, bigint, boolean, boolean][] = [
      [0x00000000, 0n, false, false],
      [0x00123456, 0n, false, false],
      [0x01003456, 0n, false, false],
      [0x02000056, 0n, false, false],
      [0x03000000, 0n, false, false],
      [0x04000000, 0n, false, false],
      [0x00923456, 0n, false, false],
      [0x01803456, 0n, false, false],
      [0x02800056, 0n, false, false],
      [0x03800000, 0n, false, false],
      [0x04800000, 0n, false, false],
      [0x01123456, 0x12n, false, false],
      [0x01fedcba, 0x7en, true, false],
      [0x02123456, 0x1234n, false, false],
      [0x03123456, 0x123456n, false, false],
      [0x04123456, 0x12345600n, false, false],
      [0x04923456, 0x12345600n, true, false],
      [0x05009234, 0x92340000n, false, false],
      [0x20123456, BigInt('0x1234560000000000000000000000000000000000000000000000000000000000'), false, false],
    ];
    for (const [bits, target, negative, overflow] of vectors) expect(decodeCompact(bits), bits.toString(16)).toEqual({ target, negative, overflow });
    expect(decodeCompact(0xff123456).overflow).toBe(true);
    expect(code(() => bitsToTarget(0x04923456))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(code(() => bitsToTarget(0xff123456))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(code(() => bitsToTarget(0x01003456))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(bitsToTarget(0x1d00ffff, 'mainnet')).toBe(BigInt('0x00000000ffff0000000000000000000000000000000000000000000000000000'));
    expect(code(() => bitsToTarget(0x207fffff, 'mainnet'))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(bitsToTarget(0x207fffff, 'regtest')).toBe(BigInt('0x7fffff0000000000000000000000000000000000000000000000000000000000'));
  });

  it('maxTarget lets a verifier refuse a cheap header', () => {
    expect(code(() => verifyBlockHeaderPow(GENESIS.header, { network: 'mainnet', maxTarget: bitsToTarget(BLOCK_125552.bits) }))).toBe('ANCHOR_BTC_BITS_INVALID');
    expect(verifyBlockHeaderPow(BLOCK_125552.header, { network: 'mainnet', maxTarget: bitsToTarget(BLOCK_125552.bits) }).hash).toBe(BLOCK_125552.hash);
  });
});

describe('extractAnchorPayload', () => {
  it('refuses a transaction with two OP_RETURN outputs', () => {
    // Re-use the genesis coinbase's input, two OP_RETURN outputs.
    const g = GENESIS.coinbase;
    const input = g.slice(8, g.indexOf('ffffffff0100f2052a') + 8);
    const out = (byte: string) => `0000000000000000${'2f6a2d'}${byte.repeat(45)}`;
    const two = `01000000${input}02${out('11')}${out('22')}00000000`;
    const one = `01000000${input}01${out('11')}00000000`;
    expect(toHex(extractAnchorPayload(one).payload)).toBe('11'.repeat(45));
    expect(code(() => extractAnchorPayload(two))).toBe('ANCHOR_BTC_MULTIPLE_OP_RETURN');
  });
});
