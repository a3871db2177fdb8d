import { hash } from 'node:crypto';
import { concatBytes, utf8 } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  return sha256Parts(...parts);
}

/**
 * SHA-256 of the concatenation of `parts` (strings as UTF-8, numbers as u32be) with node:crypto's
 * one-shot hash. The parts are written into one reused buffer rather than concatenated or fed to a
 * Hash object: the state tree and the block's Merkle roots hash tens of thousands of small inputs
 * per block, and the copies and Hash objects cost more than the hashing. The result is a plain
 * 32-byte Uint8Array of its own (see digestBytes).
 */
let scratch = Buffer.allocUnsafe(1 << 12);
/**
 * `scratch.subarray(0, n)` by n, made once each for the small inputs (the state tree's, ≤ 4 KiB): a view
 * per hash was a tenth of its cost. Larger inputs (a whole transaction as a Merkle leaf) take a view each.
 */
let scratchViews: Buffer[] = [];
const CACHED_VIEW_BYTES = 4096;

function ensureRoom(at: number, more: number): void {
  if (at + more <= scratch.length) return;
  const grown = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + more));
  scratch.copy(grown, 0, 0, at);
  scratch = grown;
  scratchViews = [];
}

function scratchView(length: number): Buffer {
  if (length > CACHED_VIEW_BYTES) return scratch.subarray(0, length);
  return (scratchViews[length] ??= scratch.subarray(0, length));
}

export function sha256Parts(...parts: Array<Uint8Array | string | number>): Uint8Array {
  // One part needs no copy — and a large one (a WAL record of a whole block) must not grow the buffer for good.
  if (parts.length === 1 && typeof parts[0] !== 'number') return digestBytes(parts[0]!);
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'number') {
      ensureRoom(at, 4);
      at = scratch.writeUInt32BE(p, at);
    } else if (typeof p === 'string') {
      ensureRoom(at, p.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 code unit
      at += scratch.write(p, at, 'utf8');
    } else {
      ensureRoom(at, p.length);
      scratch.set(p, at);
      at += p.length;
    }
  }
  return digestBytes(scratchView(at));
}

/**
 * The digest as a 32-byte array on the JS heap. node:crypto's 'buffer' output gives each digest an
 * off-heap ArrayBuffer of its own, which took ~1.2 µs of the ~1.5 µs a small hash cost (measured on
 * the benchmark machine); the digest as a 'binary' (latin1) string, one char per byte, copied into a typed array
 * this small (V8 keeps arrays up to 64 bytes on its heap) takes ~0.3 µs. A block hashes ~25 times per
 * transaction (state tree, Merkle roots).
 */
function digestBytes(input: Uint8Array | string): Uint8Array {
  const digest = hash('sha256', input, 'binary');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = digest.charCodeAt(i);
  return out;
}

/**
 * Domain separation for everything that is signed or hashed with a meaning:
 * bytes = utf8(domain) || 0x00 || payload. Domains are fixed strings such as "GRIDLEDGER/TX/V1",
 * so a signature over one kind of object can never be replayed as another.
 */
export function domainBytes(domain: string, payload: Uint8Array): Uint8Array {
  const prefix = domainPrefix(domain);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix);
  out.set(payload, prefix.length);
  return out;
}

/**
 * `domainBytes(domain, utf8(text))` in one allocation: the text is encoded straight into the result.
 * Every transaction body is encoded this way once (its sign bytes): the three intermediate arrays and
 * copies of the general path cost ~10 µs per transaction, more than hashing it.
 */
export function domainText(domain: string, text: string): Uint8Array {
  const prefix = domainPrefix(domain);
  const out = new Uint8Array(prefix.length + Buffer.byteLength(text, 'utf8'));
  out.set(prefix);
  Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(text, prefix.length, 'utf8');
  return out;
}

/** utf8(domain) ‖ 0x00 of the fixed domain strings, made once each (a few dozen at most are kept). */
const domainPrefixes = new Map<string, Uint8Array>();

function domainPrefix(domain: string): Uint8Array {
  let prefix = domainPrefixes.get(domain);
  if (prefix === undefined) {
    prefix = concatBytes(utf8(domain), new Uint8Array([0]));
    if (domainPrefixes.size < 64) domainPrefixes.set(domain, prefix);
  }
  return prefix;
}

/** SHA-256 as 64 lowercase hex digits, straight from node:crypto (no intermediate byte arrays); a string as UTF-8. */
export function sha256Hex(input: Uint8Array | string): string {
  return hash('sha256', input, 'hex');
}

export const DOMAIN = {
  tx: 'GRIDLEDGER/TX/V1',
  blockHeader: 'GRIDLEDGER/BLOCK-HEADER/V1',
  vote: 'GRIDLEDGER/VOTE/V1',
  proposal: 'GRIDLEDGER/PROPOSAL/V1',
  merkleLeaf: 'GRIDLEDGER/MERKLE-LEAF/V1',
  merkleNode: 'GRIDLEDGER/MERKLE-NODE/V1',
  stateEntry: 'GRIDLEDGER/STATE-ENTRY/V1',
  validatorSet: 'GRIDLEDGER/VALIDATOR-SET/V1',
  p2pHandshake: 'GRIDLEDGER/P2P-HANDSHAKE/V1',
  meterReading: 'GRIDLEDGER/METER-READING/V1',
  statement: 'GRIDLEDGER/STATEMENT/V1',
  paymentVoucher: 'GRIDLEDGER/PAYMENT-VOUCHER/V1',
  auth: 'GRIDLEDGER/AUTH/V1',
} as const;

/** A node's login challenge: the account proves it holds its key by signing these fields. */
export interface AuthChallenge {
  chainId: string;
  address: string;
  nonce: string;
}

/**
 * Bytes an account signs to log in to a node's API: the auth domain and the canonical JSON of the
 * challenge. The domain keeps a login signature from ever passing as a transaction (and back); the
 * chain id and the one-use server nonce keep it from being replayed elsewhere or later.
 */
export function authSignBytes(challenge: AuthChallenge): Uint8Array {
  return domainBytes(DOMAIN.auth, canonicalBytes({ chainId: challenge.chainId, address: challenge.address, nonce: challenge.nonce }));
}

const MERKLE_LEAF_PREFIX = domainBytes(DOMAIN.merkleLeaf, new Uint8Array(0));
const MERKLE_NODE_PREFIX = domainBytes(DOMAIN.merkleNode, new Uint8Array(0));

/**
 * Binary Merkle root over leaf byte strings (domain-separated leaves and nodes; odd node promoted).
 * A leaf given as a string stands for its UTF-8 bytes (hashed without an intermediate copy).
 */
export function merkleRoot(leaves: ReadonlyArray<Uint8Array | string>): Uint8Array {
  if (leaves.length === 0) return sha256(MERKLE_LEAF_PREFIX);
  let level: Uint8Array[] = leaves.map((l) => sha256Parts(MERKLE_LEAF_PREFIX, l));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(right ? sha256Parts(MERKLE_NODE_PREFIX, left, right) : left);
    }
    level = next;
  }
  return new Uint8Array(level[0]!);
}
