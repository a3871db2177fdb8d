import { fromHexStrict, toHex } from '../util/bytes.js';
import { bigFloorDiv } from '../util/int.js';
import { reversed, sha256d, toDisplayHex } from './bytes.js';
import { ANCHOR_ERRORS as E } from './errors.js';
import { isBitcoinNetwork, POW_LIMIT, type BitcoinNetwork } from './network.js';

/**
 * Bitcoin block headers (80 bytes): parsing, hashing, the compact target ("bits") and the
 * proof-of-work check, all in bigint. Pure.
 *
 * What the check shows: that someone did the work the header's bits claim. It does not show that the
 * block is in the best chain or that bits is the difficulty the chain required at that height; a
 * verifier who needs that compares the block hash with its own node or several explorers, or passes
 * `maxTarget` (e.g. the target of a recent block it trusts) so that a cheap low-difficulty header is refused.
 */

export const BLOCK_HEADER_BYTES = 80;

export interface BitcoinBlockHeader {
  version: number;
  /** Display-order hex of the previous block's hash. */
  prevBlockHash: string;
  /** Display-order hex, as shown by bitcoind and explorers. */
  merkleRoot: string;
  /** Unix seconds, as chosen by the miner (within Bitcoin's median-time rules). */
  time: number;
  bits: number;
  nonce: number;
  /** Display-order block hash. */
  hash: string;
}

function headerBytes(header: Uint8Array | string): Uint8Array {
  const bytes = typeof header === 'string' ? fromHexStrict(header) : header;
  if (!(bytes instanceof Uint8Array) || bytes.length !== BLOCK_HEADER_BYTES) {
    throw E.ANCHOR_BTC_HEADER_MALFORMED(`a block header is exactly ${BLOCK_HEADER_BYTES} bytes (160 lowercase hex digits)`);
  }
  return bytes;
}

/** Display-order hash of an 80-byte header. */
export function blockHash(header: Uint8Array | string): string {
  return toDisplayHex(sha256d(headerBytes(header)));
}

export function parseBlockHeader(header: Uint8Array | string): BitcoinBlockHeader {
  const bytes = headerBytes(header);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getInt32(0, true),
    prevBlockHash: toHex(reversed(bytes.subarray(4, 36))),
    merkleRoot: toHex(reversed(bytes.subarray(36, 68))),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(76, true),
    hash: blockHash(bytes),
  };
}

export interface CompactTarget {
  target: bigint;
  negative: boolean;
  overflow: boolean;
}

/**
 * Decodes the compact format exactly like Bitcoin Core's arith_uint256::SetCompact: exponent = bits >> 24
 * (bytes), mantissa = bits & 0x007fffff, sign bit 0x00800000; target = mantissa × 256^(exponent − 3).
 */
export function decodeCompact(bits: number): CompactTarget {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw E.ANCHOR_BTC_BITS_INVALID(`bits must be an unsigned 32-bit integer, got ${bits}`);
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3));
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/** The target `bits` encodes; refuses negative, zero and overflowing targets, and (given a network) one above its proof-of-work limit. */
export function bitsToTarget(bits: number, network?: BitcoinNetwork): bigint {
  const { target, negative, overflow } = decodeCompact(bits);
  const hexBits = `0x${bits.toString(16).padStart(8, '0')}`;
  if (negative) throw E.ANCHOR_BTC_BITS_INVALID(`bits ${hexBits} encode a negative target`);
  if (overflow) throw E.ANCHOR_BTC_BITS_INVALID(`bits ${hexBits} encode a target above 2^256`);
  if (target === 0n) throw E.ANCHOR_BTC_BITS_INVALID(`bits ${hexBits} encode a zero target`);
  if (network !== undefined) {
    if (!isBitcoinNetwork(network)) throw E.ANCHOR_BTC_BITS_INVALID(`unknown network ${String(network)}`);
    if (target > POW_LIMIT[network]) throw E.ANCHOR_BTC_BITS_INVALID(`bits ${hexBits} encode a target above the ${network} proof-of-work limit`);
  }
  return target;
}

/** Expected number of hashes to find a header meeting `target`: 2^256 / (target + 1), as Bitcoin Core's GetBlockProof. */
export function workForTarget(target: bigint): bigint {
  return bigFloorDiv(1n << 256n, target + 1n);
}

export interface PowCheckOptions {
  /** Refuse targets above this network's proof-of-work limit. */
  network?: BitcoinNetwork;
  /** Refuse headers whose target is easier than this (a verifier's floor on the work it accepts). */
  maxTarget?: bigint;
}

/** Parses the header and checks hash ≤ target(bits); returns the parsed header with its target and work. */
export function verifyBlockHeaderPow(header: Uint8Array | string, opts: PowCheckOptions = {}): BitcoinBlockHeader & { target: bigint; work: bigint } {
  const parsed = parseBlockHeader(header);
  const target = bitsToTarget(parsed.bits, opts.network);
  if (opts.maxTarget !== undefined && target > opts.maxTarget) {
    throw E.ANCHOR_BTC_BITS_INVALID(`header target 0x${target.toString(16)} is easier than the accepted maximum 0x${opts.maxTarget.toString(16)}`);
  }
  // The display-order hex is the hash read as a big-endian number, which is how Bitcoin compares it.
  if (BigInt(`0x${parsed.hash}`) > target) throw E.ANCHOR_BTC_POW_INVALID(`block hash ${parsed.hash} is above the target 0x${target.toString(16).padStart(64, '0')}`);
  return { ...parsed, target, work: workForTarget(target) };
}
