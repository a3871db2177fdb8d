import { z } from 'zod';
import { addressFromPublicKey, isAddress } from '../crypto/address.js';
import { verifySignature, type Signer } from '../crypto/ed25519.js';
import { DOMAIN, domainText, sha256Hex } from '../crypto/hash.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { canonicalJson } from '../util/canonical.js';
import { TX_ERRORS } from './errors.js';

/** Transactions: `{body, pubKey, signature}`; the signature and the hash cover the canonical body only. */

export const MAX_TX_BYTES = 64 * 1024;
export const MAX_MSGS_PER_TX = 64;
export const MAX_MEMO_CHARS = 256;

export const addressSchema = z.string().refine(isAddress, { message: 'not a grid1… bech32m address' });
export const hexSchema = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { message: `expected ${bytes} bytes as lowercase hex` });
/** Shared field schemas: one definition each, used by the codec, the API and the modules. */
export const safeUintSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A 15-minute settlement slot index: floor(unixSeconds / 900). */
export const slotSchema = safeUintSchema;
export const hashSchema = z.string().regex(/^[0-9a-f]{64}$/, { message: 'expected a 32-byte hash as 64 lowercase hex digits' });
const safeUint = safeUintSchema;

export const msgSchema = z.object({ type: z.string().min(1).max(64), value: z.unknown() }).strict();

export const txBodySchema = z
  .object({
    chainId: z.string().min(1).max(64),
    sender: addressSchema,
    nonce: safeUint,
    expiresAtHeight: safeUint.min(1),
    msgs: z.array(msgSchema).min(1).max(MAX_MSGS_PER_TX),
    memo: z.string().max(MAX_MEMO_CHARS),
  })
  .strict();

export const signedTxSchema = z.object({ body: txBodySchema, pubKey: hexSchema(32), signature: hexSchema(64) }).strict();

export type Msg = z.infer<typeof msgSchema>;
export type TxBody = z.infer<typeof txBodySchema>;
export type SignedTx = z.infer<typeof signedTxSchema>;

interface BodyEncoding {
  json: string;
  signBytes: Uint8Array;
  hash: string;
}

/**
 * Encodings of a body, computed once per body object: a transaction is hashed at admission, checked
 * again when its block is built or validated, and put in the tx root; encoding it each time was a
 * large share of the node's CPU. Bodies are treated as immutable once encoded.
 */
const bodyEncodings = new WeakMap<TxBody, BodyEncoding>();

function encodingOf(body: TxBody): BodyEncoding {
  let e = bodyEncodings.get(body);
  if (!e) {
    const json = canonicalJson(body);
    const signBytes = domainText(DOMAIN.tx, json);
    e = { json, signBytes, hash: sha256Hex(signBytes) };
    bodyEncodings.set(body, e);
  }
  return e;
}

/** The bytes that are signed, and whose SHA-256 is the transaction hash. */
export function txSignBytes(body: TxBody): Uint8Array {
  return encodingOf(body).signBytes;
}

export function txHash(body: TxBody): string {
  return encodingOf(body).hash;
}

/** Canonical JSON of a signed transaction (keys body, pubKey, signature in order), reusing the body's. */
export function signedTxJson(tx: SignedTx): string {
  return `{"body":${encodingOf(tx.body).json},"pubKey":${JSON.stringify(tx.pubKey)},"signature":${JSON.stringify(tx.signature)}}`;
}

export function signTx(body: TxBody, signer: Signer): SignedTx {
  return { body, pubKey: toHex(signer.publicKey), signature: toHex(signer.sign(txSignBytes(body))) };
}

/** Parses untrusted JSON-decoded input into a SignedTx, with the rejection codes of the API. */
export function decodeTx(input: unknown): SignedTx {
  const parsed = signedTxSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'transaction';
    throw TX_ERRORS.TX_MALFORMED(`${where}: ${issue?.message ?? 'invalid transaction'}`);
  }
  return parsed.data;
}

/** The public key must be the sender's: address = bech32m over SHA-256(pubKey)[0..20]. */
const addressCache = new Map<string, string>();

function addressOfKeyHex(pubKey: string): string {
  let address = addressCache.get(pubKey);
  if (address === undefined) {
    address = addressFromPublicKey(fromHexStrict(pubKey, 32)!);
    if (addressCache.size >= 100_000) addressCache.clear();
    addressCache.set(pubKey, address);
  }
  return address;
}

export function checkSenderKey(tx: SignedTx): void {
  if (addressOfKeyHex(tx.pubKey) !== tx.body.sender) {
    throw TX_ERRORS.TX_SENDER_KEY_MISMATCH('pubKey does not belong to the sender address');
  }
}

export const badSignature = () => TX_ERRORS.TX_BAD_SIGNATURE('signature is not valid for this transaction');

/** Stateless checks: key ↔ sender binding and the signature. Returns the tx hash. */
export function verifyTxSignature(tx: SignedTx): string {
  checkSenderKey(tx);
  if (!verifySignature(fromHexStrict(tx.pubKey, 32)!, txSignBytes(tx.body), fromHexStrict(tx.signature, 64)!)) throw badSignature();
  return txHash(tx.body);
}
