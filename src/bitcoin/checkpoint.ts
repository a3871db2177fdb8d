import { domainBytes, sha256 } from '../crypto/hash.js';
import { bytesEqual, concatBytes, toHex, utf8 } from '../util/bytes.js';
import { hash32 } from './bytes.js';
import { ANCHOR_ERRORS as E } from './errors.js';

/**
 * Checkpoints: what GridLedger writes into Bitcoin. Pure and deterministic (the state machine computes
 * the same digest on every node). Format, byte by byte, in docs/anchor.md.
 *
 *   digest  = SHA-256( "GRIDLEDGER/ANCHOR-CHECKPOINT/V1" || 0x00 ||
 *                      chainIdHash(32) || height(u64 BE) || blockHash(32) || stateRoot(32) || intervalRoot(32) )
 *   payload = "GRDL" || version 0x01 || height(u64 BE) || digest(32)          — 45 bytes, OP_RETURN data
 *
 * Every field has a fixed width, so the preimage cannot be read two ways. The height is in the payload
 * in clear so that anyone who finds the transaction knows which ledger block to recompute.
 */

export const CHECKPOINT_DOMAIN = 'GRIDLEDGER/ANCHOR-CHECKPOINT/V1';
/** "GRDL" in ASCII: lets anyone scanning OP_RETURN outputs recognise a GridLedger checkpoint. */
export const CHECKPOINT_PREFIX = utf8('GRDL');
export const CHECKPOINT_PAYLOAD_VERSION = 1;
export const CHECKPOINT_PAYLOAD_LENGTH = 45;
/** The interval root when no interval fingerprint was committed since the previous checkpoint. */
export const EMPTY_INTERVAL_ROOT = '00'.repeat(32);

export interface Checkpoint {
  /** The ledger's chain id as in genesis.json; the digest commits to SHA-256(utf8(chainId)). */
  chainId: string;
  /** Height of the checkpointed GridLedger block. */
  height: number;
  /** Hash of that block (64 lowercase hex digits). */
  blockHash: string;
  /** State root after that block. */
  stateRoot: string;
  /** Merkle root of the interval fingerprints committed since the previous checkpoint (`intervalRoot()`), or EMPTY_INTERVAL_ROOT. */
  intervalRoot: string;
}

export interface CheckpointPayload {
  version: number;
  height: number;
  /** Checkpoint digest, 64 lowercase hex digits. */
  digest: string;
}

/** SHA-256 of the chain id's UTF-8 bytes: a fixed-width stand-in for a variable-length string. */
export function chainIdHash(chainId: string): string {
  if (typeof chainId !== 'string' || chainId.length === 0) throw E.ANCHOR_CHECKPOINT_INVALID('chain id must be a non-empty string');
  return toHex(sha256(utf8(chainId)));
}

/** Big-endian unsigned 64-bit encoding of a safe non-negative integer. */
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function checkHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw E.ANCHOR_CHECKPOINT_INVALID(`height must be a safe non-negative integer, got ${String(height)}`);
}

/** The 136 bytes hashed (after the domain) into the checkpoint digest. */
export function checkpointPreimage(c: Checkpoint): Uint8Array {
  checkHeight(c.height);
  const field = (hex: string, what: string) => hash32(hex, E.ANCHOR_CHECKPOINT_INVALID, what);
  return concatBytes(
    field(chainIdHash(c.chainId), 'chain id hash'),
    u64be(c.height),
    field(c.blockHash, 'block hash'),
    field(c.stateRoot, 'state root'),
    field(c.intervalRoot, 'interval root'),
  );
}

/** The checkpoint digest (64 lowercase hex digits). */
export function checkpointDigest(c: Checkpoint): string {
  return toHex(sha256(domainBytes(CHECKPOINT_DOMAIN, checkpointPreimage(c))));
}

export function encodeCheckpointPayload(p: { height: number; digest: string }): Uint8Array {
  checkHeight(p.height);
  const digest = hash32(p.digest, E.ANCHOR_CHECKPOINT_INVALID, 'digest');
  return concatBytes(CHECKPOINT_PREFIX, new Uint8Array([CHECKPOINT_PAYLOAD_VERSION]), u64be(p.height), digest);
}

/** The OP_RETURN payload for a checkpoint. */
export function checkpointPayload(c: Checkpoint): Uint8Array {
  return encodeCheckpointPayload({ height: c.height, digest: checkpointDigest(c) });
}

/**
 * Strict decoding: exactly 45 bytes, the prefix, a known version, a height that is a safe integer.
 * Anything else is a typed error (never a partial result).
 */
export function decodeCheckpointPayload(bytes: Uint8Array): CheckpointPayload {
  if (!(bytes instanceof Uint8Array)) throw E.ANCHOR_PAYLOAD_MALFORMED('payload must be bytes');
  if (bytes.length < CHECKPOINT_PREFIX.length + 1 || !bytesEqual(bytes.subarray(0, 4), CHECKPOINT_PREFIX)) {
    throw E.ANCHOR_PAYLOAD_MALFORMED('payload does not start with "GRDL" and a version byte');
  }
  const version = bytes[4]!;
  if (version !== CHECKPOINT_PAYLOAD_VERSION) throw E.ANCHOR_PAYLOAD_VERSION_UNSUPPORTED(`payload version ${version} is not supported (this node knows version ${CHECKPOINT_PAYLOAD_VERSION})`);
  if (bytes.length !== CHECKPOINT_PAYLOAD_LENGTH) throw E.ANCHOR_PAYLOAD_MALFORMED(`a version ${version} payload has ${CHECKPOINT_PAYLOAD_LENGTH} bytes, got ${bytes.length}`);
  const height = new DataView(bytes.buffer, bytes.byteOffset + 5, 8).getBigUint64(0);
  if (height > BigInt(Number.MAX_SAFE_INTEGER)) throw E.ANCHOR_PAYLOAD_MALFORMED(`payload height ${height} is beyond the safe integer range`);
  return { version, height: Number(height), digest: toHex(bytes.subarray(13, 45)) };
}

/** Checks that a payload found in Bitcoin is exactly the checkpoint the ledger computes; throws ANCHOR_PAYLOAD_MISMATCH otherwise. */
export function verifyCheckpointPayload(payload: Uint8Array, c: Checkpoint): CheckpointPayload {
  const decoded = decodeCheckpointPayload(payload);
  if (decoded.height !== c.height) throw E.ANCHOR_PAYLOAD_MISMATCH(`payload is for height ${decoded.height}, the checkpoint is at height ${c.height}`);
  const expected = checkpointDigest(c);
  if (decoded.digest !== expected) throw E.ANCHOR_PAYLOAD_MISMATCH(`payload digest ${decoded.digest} differs from the recomputed checkpoint digest ${expected}`);
  return decoded;
}
