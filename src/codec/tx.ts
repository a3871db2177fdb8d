import { z } from 'zod';
import { addressFromPublicKey, isAddress } from '../crypto/address.js';
import { verifySignature, type Signer } from '../crypto/ed25519.js';
import { DOMAIN, domainBytes, sha256 } from '../crypto/hash.js';
import { fromHexStrict, toHex } from '../util/bytes.js';
import { canonicalBytes } from '../util/canonical.js';
import { LedgerError } from '../util/errors.js';

/** Transactions: `{body, pubKey, signature}`; the signature and the hash cover the canonical body only. */

export const MAX_TX_BYTES = 64 * 1024;
export const MAX_MSGS_PER_TX = 64;
export const MAX_MEMO_CHARS = 256;

export const addressSchema = z.string().refine(isAddress, { message: 'not a grid1… bech32m address' });
export const hexSchema = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { message: `expected ${bytes} bytes as lowercase hex` });
const safeUint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

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

/** The bytes that are signed, and whose SHA-256 is the transaction hash. */
export function txSignBytes(body: TxBody): Uint8Array {
  return domainBytes(DOMAIN.tx, canonicalBytes(body));
}

export function txHash(body: TxBody): string {
  return toHex(sha256(txSignBytes(body)));
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
    throw new LedgerError('TX_MALFORMED', `${where}: ${issue?.message ?? 'invalid transaction'}`);
  }
  return parsed.data;
}

/** Stateless checks: key ↔ sender binding and the signature. Returns the tx hash. */
export function verifyTxSignature(tx: SignedTx): string {
  const pubKey = fromHexStrict(tx.pubKey, 32)!;
  if (addressFromPublicKey(pubKey) !== tx.body.sender) {
    throw new LedgerError('TX_SENDER_KEY_MISMATCH', 'pubKey does not belong to the sender address');
  }
  const bytes = txSignBytes(tx.body);
  if (!verifySignature(pubKey, bytes, fromHexStrict(tx.signature, 64)!)) {
    throw new LedgerError('TX_BAD_SIGNATURE', 'signature is not valid for this transaction');
  }
  return toHex(sha256(bytes));
}
