import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { addressFromPublicKey } from '../crypto/address.js';
import { type Signer, verifySignature } from '../crypto/ed25519.js';
import { DOMAIN, domainBytes, sha256 } from '../crypto/hash.js';
import { bytesEqual, concatBytes, utf8 } from '../util/bytes.js';
import { LedgerError } from '../util/errors.js';
import { CONTROL_CHANNEL, Control } from './channels.js';
import { AEAD_TAG_BYTES, DirectionalCipher, open, seal } from './cipher.js';
import type { FramedSocket } from './framed-socket.js';
import { FrameError } from './frames.js';

/*
 * SIGMA-I style handshake (like Noise XX with Ed25519 signatures instead of static DH keys):
 *
 *   I → R  msg1 = "GLP2" | version | chainTag(8) | eI            (cleartext hello)
 *   R → I  msg2 = eR | AEAD(kR, h2, pubR | sigR)                  sigR = Sign(skR, D("R" | h2 | pubR))
 *   I → R  msg3 = AEAD(kI, h3, pubI | sigI)                       sigI = Sign(skI, D("I" | h3 | pubI))
 *   R → I  ack  = first session frame (control channel), key confirmation + "you are accepted"
 *
 * h0 = H(D(version | chainId)), h1 = H(h0 | msg1), h2 = H(h1 | eR), h3 = H(h2 | enc2), h4 = H(h3 | enc3);
 * D = domainBytes(DOMAIN.p2pHandshake, ·). kR, kI = HKDF(X25519(eI, eR), salt h2); session keys =
 * HKDF(X25519(eI, eR), salt h4), one per direction. Each signature covers both fresh ephemeral keys
 * and the chain id (via h0), so it cannot be replayed into another session or chain, and the role
 * label stops reflection. Identities travel encrypted; the initiator reveals its own only after it
 * has authenticated the responder. The cleartext chain tag only makes a wrong-chain refusal cheap
 * and explicit; the signatures are what enforce it.
 */

/**
 * 2 (2026-12-02): relayed transactions are announced by hash and fetched on request (runtime/reactors/mempool.ts).
 * 3 (2026-12-03): proposals carry their transactions as hashes, filled on request (runtime/reactors/compact-blocks.ts).
 */
export const PROTOCOL_VERSION = 3;
const MAGIC = utf8('GLP2');
const CHAIN_TAG_BYTES = 8;
const X25519_KEY_BYTES = 32;
const ED25519_PUBLIC_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const IDENTITY_BYTES = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES;
const MSG1_BYTES = MAGIC.length + 1 + CHAIN_TAG_BYTES + X25519_KEY_BYTES;
const SEALED_IDENTITY_BYTES = IDENTITY_BYTES + AEAD_TAG_BYTES;
const MSG2_BYTES = X25519_KEY_BYTES + SEALED_IDENTITY_BYTES;
/** Largest frame accepted while handshaking: anything bigger is garbage. */
export const HANDSHAKE_MAX_FRAME_BYTES = 256;
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ACK_PLAINTEXT = new Uint8Array([CONTROL_CHANNEL, Control.ack]);

export type HandshakeFailure =
  | 'timeout'
  | 'closed'
  | 'bad-hello'
  | 'chain-mismatch'
  | 'bad-message'
  | 'auth-failed'
  | 'oversize-frame'
  | 'malformed-frame'
  | 'buffer-overflow'
  /** The authorize callback refused the authenticated peer; its reason follows the colon. */
  | `refused:${string}`;

export class HandshakeError extends LedgerError {
  readonly reason: HandshakeFailure;
  /** Set once the peer's identity has been authenticated (e.g. for refusals). */
  readonly peerId: string | undefined;
  constructor(reason: HandshakeFailure, peerId?: string) {
    super('P2P_HANDSHAKE_FAILED', `p2p handshake failed: ${reason}`);
    this.reason = reason;
    this.peerId = peerId;
  }
}

export interface HandshakeOptions {
  role: 'initiator' | 'responder';
  chainId: string;
  signer: Signer;
  timeoutMs: number;
  /**
   * Called once the peer's identity is authenticated; return a reason to refuse it
   * (not allowed, banned, duplicate connection, self, ...), or undefined to accept.
   */
  authorize: (peerId: string, peerPublicKey: Uint8Array) => string | undefined;
}

export interface HandshakeResult {
  peerId: string;
  peerPublicKey: Uint8Array;
  /** Cipher for frames we send. */
  send: DirectionalCipher;
  /** Cipher for frames we receive. */
  receive: DirectionalCipher;
}

/** Runs the handshake on a fresh framed socket; on failure the socket is destroyed. */
export async function performHandshake(link: FramedSocket, options: HandshakeOptions): Promise<HandshakeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandshakeError('timeout')), options.timeoutMs);
  });
  const run = options.role === 'initiator' ? runInitiator(link, options) : runResponder(link, options);
  try {
    return await Promise.race([run, timeout]);
  } catch (err) {
    link.destroy();
    run.catch(() => undefined); // the losing branch rejects once the socket is gone
    throw toHandshakeError(err);
  } finally {
    clearTimeout(timer);
  }
}

function toHandshakeError(err: unknown): HandshakeError {
  if (err instanceof HandshakeError) return err;
  if (err instanceof FrameError) return new HandshakeError(err.reason);
  return new HandshakeError('closed');
}

export function chainTag(chainId: string): Uint8Array {
  return sha256(domainBytes(DOMAIN.p2pHandshake, concatBytes(utf8('chain-tag|'), utf8(chainId)))).subarray(0, CHAIN_TAG_BYTES);
}

function initialHash(chainId: string): Uint8Array {
  const id = utf8(chainId);
  const header = new Uint8Array(3);
  header[0] = PROTOCOL_VERSION;
  new DataView(header.buffer).setUint16(1, id.length, false);
  return sha256(domainBytes(DOMAIN.p2pHandshake, concatBytes(header, id)));
}

function signedIdentityPayload(role: 'I' | 'R', transcript: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return domainBytes(DOMAIN.p2pHandshake, concatBytes(utf8(role), transcript, publicKey));
}

interface Ephemeral {
  privateKey: KeyObject;
  publicKey: Uint8Array;
}

function newEphemeral(): Ephemeral {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(der.subarray(X25519_SPKI_PREFIX.length)) };
}

/** X25519; a small-order peer key gives an all-zero secret, which OpenSSL refuses — so do we. */
function sharedSecret(own: Ephemeral, peerPublic: Uint8Array): Uint8Array {
  let secret: Buffer;
  try {
    const key = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerPublic]), format: 'der', type: 'spki' });
    secret = diffieHellman({ privateKey: own.privateKey, publicKey: key });
  } catch {
    throw new HandshakeError('auth-failed');
  }
  if (secret.every((b) => b === 0)) throw new HandshakeError('auth-failed');
  return new Uint8Array(secret);
}

function deriveKeyPair(secret: Uint8Array, salt: Uint8Array, info: string): { initiator: Uint8Array; responder: Uint8Array } {
  const okm = new Uint8Array(hkdfSync('sha256', secret, salt, utf8(info), 64));
  return { initiator: okm.slice(0, 32), responder: okm.slice(32, 64) };
}

function sealIdentity(signer: Signer, role: 'I' | 'R', key: Uint8Array, transcript: Uint8Array): Uint8Array {
  const signature = signer.sign(signedIdentityPayload(role, transcript, signer.publicKey));
  return seal(key, 0, concatBytes(signer.publicKey, signature), transcript);
}

/** Decrypts and checks the peer's identity block; returns its public key. */
function openIdentity(role: 'I' | 'R', key: Uint8Array, transcript: Uint8Array, sealed: Uint8Array): Uint8Array {
  let plain: Uint8Array;
  try {
    plain = open(key, 0, sealed, transcript);
  } catch {
    throw new HandshakeError('auth-failed');
  }
  const publicKey = plain.slice(0, ED25519_PUBLIC_KEY_BYTES);
  const signature = plain.slice(ED25519_PUBLIC_KEY_BYTES, IDENTITY_BYTES);
  if (!verifySignature(publicKey, signedIdentityPayload(role, transcript, publicKey), signature)) {
    throw new HandshakeError('auth-failed');
  }
  return publicKey;
}

function authorizeOrThrow(options: HandshakeOptions, publicKey: Uint8Array): string {
  const peerId = addressFromPublicKey(publicKey);
  const refusal = options.authorize(peerId, publicKey);
  if (refusal !== undefined) throw new HandshakeError(`refused:${refusal}`, peerId);
  return peerId;
}

function sessionCiphers(secret: Uint8Array, h4: Uint8Array, role: 'initiator' | 'responder'): { send: DirectionalCipher; receive: DirectionalCipher } {
  const keys = deriveKeyPair(secret, h4, 'GRIDLEDGER/P2P/session-keys');
  const i2r = new DirectionalCipher(keys.initiator);
  const r2i = new DirectionalCipher(keys.responder);
  return role === 'initiator' ? { send: i2r, receive: r2i } : { send: r2i, receive: i2r };
}

async function runInitiator(link: FramedSocket, options: HandshakeOptions): Promise<HandshakeResult> {
  const eph = newEphemeral();
  const msg1 = concatBytes(MAGIC, new Uint8Array([PROTOCOL_VERSION]), chainTag(options.chainId), eph.publicKey);
  link.writeFrame(msg1);
  const h1 = sha256(initialHash(options.chainId), msg1);

  const msg2 = await link.readFrame();
  if (msg2.length !== MSG2_BYTES) throw new HandshakeError('bad-message');
  const peerEphemeral = msg2.subarray(0, X25519_KEY_BYTES);
  const enc2 = msg2.subarray(X25519_KEY_BYTES);
  const secret = sharedSecret(eph, peerEphemeral);
  const h2 = sha256(h1, peerEphemeral);
  const hsKeys = deriveKeyPair(secret, h2, 'GRIDLEDGER/P2P/handshake-keys');
  const peerPublicKey = openIdentity('R', hsKeys.responder, h2, enc2);
  const peerId = authorizeOrThrow(options, peerPublicKey);

  const h3 = sha256(h2, enc2);
  const enc3 = sealIdentity(options.signer, 'I', hsKeys.initiator, h3);
  link.writeFrame(enc3);
  const ciphers = sessionCiphers(secret, sha256(h3, enc3), 'initiator');

  await expectAck(link, ciphers.receive, peerId);
  return { peerId, peerPublicKey, ...ciphers };
}

async function expectAck(link: FramedSocket, receive: DirectionalCipher, peerId: string): Promise<void> {
  let ack: Uint8Array;
  try {
    ack = receive.open(await link.readFrame());
  } catch (err) {
    // The responder closes without an ack when it refuses us; report that as a refusal we cannot see.
    if (err instanceof FrameError) throw new HandshakeError(err.reason, peerId);
    if (link.closed || !(err instanceof LedgerError)) throw new HandshakeError('closed', peerId);
    throw new HandshakeError('auth-failed', peerId);
  }
  if (!bytesEqual(ack, ACK_PLAINTEXT)) throw new HandshakeError('bad-message', peerId);
}

async function runResponder(link: FramedSocket, options: HandshakeOptions): Promise<HandshakeResult> {
  const msg1 = await link.readFrame();
  checkHello(msg1, options.chainId);
  const h1 = sha256(initialHash(options.chainId), msg1);
  const peerEphemeral = msg1.subarray(MSG1_BYTES - X25519_KEY_BYTES);

  const eph = newEphemeral();
  const secret = sharedSecret(eph, peerEphemeral);
  const h2 = sha256(h1, eph.publicKey);
  const hsKeys = deriveKeyPair(secret, h2, 'GRIDLEDGER/P2P/handshake-keys');
  const enc2 = sealIdentity(options.signer, 'R', hsKeys.responder, h2);
  link.writeFrame(concatBytes(eph.publicKey, enc2));

  const h3 = sha256(h2, enc2);
  const enc3 = await link.readFrame();
  if (enc3.length !== SEALED_IDENTITY_BYTES) throw new HandshakeError('bad-message');
  const peerPublicKey = openIdentity('I', hsKeys.initiator, h3, enc3);
  const peerId = authorizeOrThrow(options, peerPublicKey);

  const ciphers = sessionCiphers(secret, sha256(h3, enc3), 'responder');
  link.writeFrame(ciphers.send.seal(ACK_PLAINTEXT));
  return { peerId, peerPublicKey, ...ciphers };
}

function checkHello(msg1: Uint8Array, chainId: string): void {
  if (msg1.length !== MSG1_BYTES || !bytesEqual(msg1.subarray(0, MAGIC.length), MAGIC) || msg1[MAGIC.length] !== PROTOCOL_VERSION) {
    throw new HandshakeError('bad-hello');
  }
  const tag = msg1.subarray(MAGIC.length + 1, MAGIC.length + 1 + CHAIN_TAG_BYTES);
  if (!bytesEqual(tag, chainTag(chainId))) throw new HandshakeError('chain-mismatch');
}
