import { concatBytes, toHex } from '../util/bytes.js';
import { ANCHOR_ERRORS as E } from './errors.js';
import { fromDisplayHex, hash32, sha256d, toDisplayHex } from './bytes.js';
import { bitsToTarget, blockHash } from './header.js';
import { bitcoinMerkleRoot } from './merkle.js';

/**
 * A synthetic regtest block around given transactions, for dry runs of the anchoring walk-through
 * without a bitcoind (`gridledger anchor regtest-block`, docs/anchor.md §10). Regtest's target
 * (bits 0x207fffff) is met by about every second hash, so the nonce is ground here in a few tries.
 * The block is what `bitcoin-cli getblock HASH 1` and `getblockheader HASH false` would print for a
 * block holding a coinbase and the transactions, with a real Merkle root and real proof of work;
 * only its place in a chain is made up (no bitcoind ever saw it). A mainnet or testnet verifier
 * refuses it (`ANCHOR_BTC_BITS_INVALID`: the target is above their proof-of-work limit).
 */

export const REGTEST_BITS = 0x207fffff;
const VERSION = 0x20000000;
const DRY_RUN_TAG = new TextEncoder().encode('gridledger regtest dry run');

export interface RegtestBlock {
  hash: string;
  height: number;
  version: number;
  merkleroot: string;
  time: number;
  bits: string;
  nonce: number;
  previousblockhash: string;
  nTx: number;
  /** Coinbase first, then the given txids in order (display hex, as bitcoind lists them). */
  tx: string[];
  /** The 80-byte header as hex (what `getblockheader HASH false` prints). */
  header: string;
  /** The coinbase stand-in's raw transaction. */
  coinbaseHex: string;
}

const u32le = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

/** BIP34's height push: the height as a minimal little-endian script number. */
function heightPush(height: number): Uint8Array {
  const bytes: number[] = [];
  for (let h = height; h > 0; h = Math.floor(h / 256)) bytes.push(h % 256);
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0);
  return Uint8Array.from([bytes.length, ...bytes]);
}

/** A legacy coinbase: the null prevout, BIP34 height and a tag in its script, one output of 0 sat to OP_TRUE. */
function coinbase(height: number): Uint8Array {
  const script = concatBytes(heightPush(height), Uint8Array.from([DRY_RUN_TAG.length]), DRY_RUN_TAG);
  return concatBytes(
    u32le(2),
    Uint8Array.from([1]),
    new Uint8Array(32),
    u32le(0xffffffff),
    Uint8Array.from([script.length]),
    script,
    u32le(0xffffffff),
    Uint8Array.from([1]),
    new Uint8Array(8),
    Uint8Array.from([1, 0x51]),
    u32le(0),
  );
}

function headerBytes(prev: Uint8Array, merkleRoot: Uint8Array, time: number, nonce: number): Uint8Array {
  return concatBytes(u32le(VERSION), prev, merkleRoot, u32le(time), u32le(REGTEST_BITS), u32le(nonce));
}

export function mineRegtestBlock(o: { txids: readonly string[]; height: number; time: number; prevBlockHash?: string }): RegtestBlock {
  if (o.txids.length === 0) throw E.ANCHOR_BTC_TXIDS_INVALID('a regtest block needs at least one transaction besides its coinbase');
  for (const txid of o.txids) hash32(txid, E.ANCHOR_BTC_TXIDS_INVALID, 'txid');
  if (!Number.isSafeInteger(o.height) || o.height < 1) throw E.ANCHOR_BTC_HEADER_MALFORMED(`block height must be a positive integer, got ${o.height}`);
  if (!Number.isInteger(o.time) || o.time < 0 || o.time > 0xffffffff) throw E.ANCHOR_BTC_HEADER_MALFORMED(`block time must be unsigned 32-bit seconds, got ${o.time}`);
  const prevBlockHash = o.prevBlockHash ?? '00'.repeat(32);
  const prev = fromDisplayHex(prevBlockHash, E.ANCHOR_BTC_HEADER_MALFORMED, 'previous block hash');
  const cb = coinbase(o.height);
  const tx = [toDisplayHex(sha256d(cb)), ...o.txids];
  const { root, mutated } = bitcoinMerkleRoot(tx);
  if (mutated) throw E.ANCHOR_BTC_TXIDS_INVALID('the txid list repeats a transaction');
  const target = bitsToTarget(REGTEST_BITS);
  const merkleRoot = fromDisplayHex(root, E.ANCHOR_BTC_HEADER_MALFORMED, 'Merkle root');
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    const header = headerBytes(prev, merkleRoot, o.time, nonce);
    const hash = blockHash(header);
    if (BigInt(`0x${hash}`) > target) continue;
    return { hash, height: o.height, version: VERSION, merkleroot: root, time: o.time, bits: REGTEST_BITS.toString(16), nonce, previousblockhash: prevBlockHash, nTx: tx.length, tx, header: toHex(header), coinbaseHex: toHex(cb) };
  }
  throw E.ANCHOR_BTC_POW_INVALID('no nonce meets the regtest target (the time must change)');
}
