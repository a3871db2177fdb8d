import { ed25519 } from '@noble/curves/ed25519.js';
import { authSignBytes } from '../../../src/crypto/hash.js';
import { txSignBytes, type SignedTx, type TxBody } from '../../../src/codec/tx.js';
import { toHex } from '../../../src/util/bytes.js';

/**
 * Signing in the page: the CLI's sign bytes (src/codec/tx.ts, src/crypto/hash.ts) and @noble/curves'
 * Ed25519. Ed25519 is deterministic (RFC 8032), so for the same key and body this is byte for byte
 * the CLI's signature (test/web/signing.test.ts checks it against node:crypto).
 */
export function signBody(body: TxBody, secretKey: Uint8Array, publicKey: Uint8Array): SignedTx {
  return { body, pubKey: toHex(publicKey), signature: toHex(ed25519.sign(txSignBytes(body), secretKey)) };
}

/** The login signature over a node's challenge (domain GRIDLEDGER/AUTH/V1). */
export function signChallenge(challenge: { chainId: string; address: string; nonce: string }, secretKey: Uint8Array): string {
  return toHex(ed25519.sign(authSignBytes(challenge), secretKey));
}
