import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkpointPayload,
  decodeCheckpointPayload,
  extractAnchorPayload,
  merkleRootFromBranch,
  opReturnData,
  parseBitcoinTx,
  rootFromInclusionPath,
  verifyAnchor,
  verifyBlockHeaderPow,
} from '../../src/bitcoin/index.js';
import { AnchorWallet, buildAnchorTx } from '../../src/bitcoin/service.js';
import { LedgerError } from '../../src/util/errors.js';
import { BIP143_P2WPKH, BLOCK_100000, BLOCK_125552, GENESIS } from './fixtures.js';

/** Runs `fn`; anything thrown must be a typed anchor error (never a TypeError, RangeError or library exception). */
function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof LedgerError) || !err.code.startsWith('ANCHOR_')) throw new Error(`untyped failure: ${(err as Error)?.stack ?? String(err)}`);
  }
}

const wallet = AnchorWallet.fromSeed({ seed: new Uint8Array(32).fill(3), network: 'regtest' });
const built = buildAnchorTx({
  wallet,
  sequence: 0,
  utxos: [{ txid: 'ab'.repeat(32), vout: 1, value: 40_000n }, { txid: 'cd'.repeat(32), vout: 0, value: 9_000n }],
  payload: checkpointPayload({ chainId: 'fuzz', height: 42, blockHash: '11'.repeat(32), stateRoot: '22'.repeat(32), intervalRoot: '33'.repeat(32) }),
  feeRate: 3,
});
const seeds = [built.rawHex, BIP143_P2WPKH.raw, GENESIS.coinbase].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

/** A valid input with a few bytes overwritten, inserted or removed: reaches deep into the decoders. */
const mutated = (bases: Uint8Array[]) =>
  fc.tuple(fc.constantFrom(...bases), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 })).map(([base, edits]) => {
    const bytes = [...base];
    for (const [pos, value, kind] of edits) {
      const i = pos % (bytes.length + 1);
      if (kind === 'set' && i < bytes.length) bytes[i] = value;
      else if (kind === 'insert') bytes.splice(i, 0, value);
      else bytes.splice(i, 1);
    }
    return Uint8Array.from(bytes);
  });

const runs = { numRuns: 1500 };

describe('decoders only fail with typed errors (fast-check)', () => {
  it('raw transactions: random bytes and mutations of real ones', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => onlyTypedErrors(() => extractAnchorPayload(bytes))), runs);
    fc.assert(
      fc.property(mutated(seeds), (bytes) =>
        onlyTypedErrors(() => {
          const tx = parseBitcoinTx(bytes);
          // Whatever parses must re-serialise exactly (parseBitcoinTx checks) and have sane sizes.
          expect(tx.totalSize).toBe(bytes.length);
          expect(tx.weight).toBe(3 * tx.strippedSize + tx.totalSize);
          extractAnchorPayload(bytes);
        }),
      ),
      runs,
    );
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => onlyTypedErrors(() => parseBitcoinTx(text))), { numRuns: 300 });
  });

  it('block headers: random lengths, random 80-byte headers, mutations of real ones', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => onlyTypedErrors(() => verifyBlockHeaderPow(bytes, { network: 'mainnet' }))), runs);
    fc.assert(fc.property(fc.uint8Array({ minLength: 80, maxLength: 80 }), (bytes) => onlyTypedErrors(() => verifyBlockHeaderPow(bytes))), runs);
    const headers = [GENESIS.header, BLOCK_125552.header, BLOCK_100000.header].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    fc.assert(fc.property(mutated(headers), (bytes) => onlyTypedErrors(() => verifyBlockHeaderPow(bytes, { network: 'regtest' }))), runs);
  });

  it('checkpoint payloads and OP_RETURN scripts', () => {
    const payload = extractAnchorPayload(built.rawHex).payload;
    fc.assert(fc.property(fc.uint8Array({ maxLength: 90 }), (bytes) => onlyTypedErrors(() => decodeCheckpointPayload(bytes))), runs);
    fc.assert(fc.property(mutated([payload]), (bytes) => onlyTypedErrors(() => decodeCheckpointPayload(bytes))), runs);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 90 }), (bytes) => onlyTypedErrors(() => opReturnData(Uint8Array.from([0x6a, ...bytes])))), runs);
  });

  it('Merkle branches and inclusion paths with arbitrary shapes', () => {
    const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
    const anyJson = fc.oneof(hash, fc.string(), fc.integer(), fc.constant(null));
    fc.assert(
      fc.property(anyJson, fc.integer({ min: -2, max: 200_000 }), fc.integer({ min: -2, max: 200_000 }), fc.array(anyJson, { maxLength: 20 }), (txid, index, txCount, siblings) =>
        onlyTypedErrors(() => merkleRootFromBranch(txid as string, { index, txCount, siblings: siblings as string[] })),
      ),
      runs,
    );
    fc.assert(
      fc.property(anyJson, fc.integer({ min: -2, max: 2 ** 33 }), fc.integer({ min: -2, max: 2 ** 33 }), fc.array(anyJson, { maxLength: 40 }), (item, index, leafCount, siblings) =>
        onlyTypedErrors(() => rootFromInclusionPath(item as string, { index, leafCount, siblings: siblings as string[] })),
      ),
      runs,
    );
  });

  it('full anchor verification on mutated evidence', () => {
    const checkpoint = { chainId: 'fuzz', height: 42, blockHash: '11'.repeat(32), stateRoot: '22'.repeat(32), intervalRoot: '33'.repeat(32) };
    fc.assert(
      fc.property(mutated([Uint8Array.from(Buffer.from(built.rawHex, 'hex'))]), mutated([Uint8Array.from(Buffer.from(BLOCK_125552.header, 'hex'))]), (raw, header) =>
        onlyTypedErrors(() => verifyAnchor({ checkpoint, rawTx: raw, txid: built.txid, blockHeader: header, blockHash: BLOCK_125552.hash, branch: { index: 0, txCount: 1, siblings: [] } }, { network: 'mainnet' })),
      ),
      { numRuns: 500 },
    );
  });
});
