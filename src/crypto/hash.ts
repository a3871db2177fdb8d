import { createHash } from 'node:crypto';
import { concatBytes, utf8 } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * Domain separation for everything that is signed or hashed with a meaning:
 * bytes = utf8(domain) || 0x00 || payload. Domains are fixed strings such as "GRIDLEDGER/TX/V1",
 * so a signature over one kind of object can never be replayed as another.
 */
export function domainBytes(domain: string, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8(domain), new Uint8Array([0]), payload);
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

/** Binary Merkle root over leaf byte strings (domain-separated leaves and nodes; odd node promoted). */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(domainBytes(DOMAIN.merkleLeaf, new Uint8Array(0)));
  let level = leaves.map((l) => sha256(domainBytes(DOMAIN.merkleLeaf, l)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      next.push(right ? sha256(domainBytes(DOMAIN.merkleNode, concatBytes(left, right))) : left);
    }
    level = next;
  }
  return level[0]!;
}
