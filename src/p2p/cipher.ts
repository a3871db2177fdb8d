import { createCipheriv, createDecipheriv } from 'node:crypto';
import { LedgerError } from '../util/errors.js';
import { P2P_ERRORS } from './errors.js';

export const AEAD_ALGORITHM = 'chacha20-poly1305';
export const AEAD_KEY_BYTES = 32;
export const AEAD_TAG_BYTES = 16;
const NONCE_BYTES = 12;

export class DecryptError extends LedgerError {
  constructor() {
    super('P2P_DECRYPT_FAILED', 'frame failed authentication');
  }
}

/** 96-bit nonce: 4 zero bytes || u64 big-endian counter (RFC 8439 style). */
function counterNonce(counter: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(counter), 4);
  return nonce;
}

export function seal(key: Uint8Array, counter: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv(AEAD_ALGORITHM, key, counterNonce(counter), { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** Throws DecryptError for any tampered, truncated, replayed or reordered ciphertext. */
export function open(key: Uint8Array, counter: number, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  if (sealed.length < AEAD_TAG_BYTES) throw new DecryptError();
  const split = sealed.length - AEAD_TAG_BYTES;
  try {
    const decipher = createDecipheriv(AEAD_ALGORITHM, key, counterNonce(counter), { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(aad, { plaintextLength: split });
    decipher.setAuthTag(sealed.subarray(split));
    const out = Buffer.concat([decipher.update(sealed.subarray(0, split)), decipher.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    throw new DecryptError();
  }
}

/**
 * One direction of an established session. The nonce is an implicit per-direction counter that is
 * never sent: a replayed, dropped, reordered or modified frame is decrypted under the wrong nonce
 * (or fails its tag) and is rejected, which kills the connection.
 */
export class DirectionalCipher {
  readonly #key: Uint8Array;
  #counter = 0;

  constructor(key: Uint8Array) {
    if (key.length !== AEAD_KEY_BYTES) throw new Error('AEAD key must be 32 bytes');
    this.#key = Uint8Array.from(key);
  }

  get counter(): number {
    return this.#counter;
  }

  seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    const out = seal(this.#key, this.#advance(), plaintext, aad);
    return out;
  }

  open(sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return open(this.#key, this.#advance(), sealed, aad);
  }

  #advance(): number {
    // 2^53 frames will never be reached; refusing beats silently reusing a nonce.
    if (this.#counter >= Number.MAX_SAFE_INTEGER) throw P2P_ERRORS.P2P_NONCE_EXHAUSTED('nonce counter exhausted');
    return this.#counter++;
  }
}

const EMPTY = new Uint8Array(0);
