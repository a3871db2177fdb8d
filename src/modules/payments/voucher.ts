import { z } from 'zod';
import { hexSchema, safeUintSchema } from '../../codec/tx.js';
import { addressFromPublicKey } from '../../crypto/address.js';
import { verifySignature } from '../../crypto/ed25519.js';
import { DOMAIN, domainBytes } from '../../crypto/hash.js';
import { fromHexStrict, toHex, utf8 } from '../../util/bytes.js';
import { canonicalJson } from '../../util/canonical.js';
import { amountSchema } from './amount.js';

/**
 * Payment-channel vouchers. Off the ledger, after each delivered kWh, the buyer signs a voucher
 * (chain id, channel id, cumulative amount, cumulative Wh, sequence) and hands it to the seller,
 * who closes the channel with the voucher of its choice. The signature is Ed25519 over
 *   "GRIDLEDGER/PAYMENT-VOUCHER/V1" || 0x00 || canonicalJson({amount, chainId, channel, seq, wh})
 * so it can never be replayed as a transaction, a vote or a voucher of another chain, and it is
 * checked with the ledger's one signature-validity rule (src/crypto/ed25519.ts).
 *
 * `signVoucher` and `verifyVoucher` are the only two functions that produce and check vouchers:
 * the CLI (`gridledger channel voucher`), the ledger rule (`payments/channel-close`), the edge
 * agent and the market all use them.
 */

export const channelIdSchema = z.string().regex(/^ch[1-9][0-9]{0,15}$/, { message: 'channel id: ch1, ch2, …' });

export const voucherBodySchema = z
  .object({
    chainId: z.string().min(1).max(64),
    channel: channelIdSchema,
    /** Cumulative micro-units owed to the seller. */
    amount: amountSchema,
    /** Cumulative energy delivered, Wh. */
    wh: safeUintSchema,
    /** The buyer's counter; the seller keeps the voucher it likes best (the latest pays most). */
    seq: safeUintSchema,
  })
  .strict();

export const voucherSchema = voucherBodySchema.extend({ pubKey: hexSchema(32), signature: hexSchema(64) }).strict();

export type VoucherBody = z.infer<typeof voucherBodySchema>;
export type Voucher = z.infer<typeof voucherSchema>;

/** What signs: a keyring signer or a `Signer` from src/crypto/ed25519.ts. */
export interface VoucherSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** The exact bytes under the signature. */
export function voucherSignBytes(body: VoucherBody): Uint8Array {
  const { chainId, channel, amount, wh, seq } = body;
  return domainBytes(DOMAIN.paymentVoucher, utf8(canonicalJson({ chainId, channel, amount, wh, seq })));
}

/** Signs a voucher (the body is checked against the schema first: a bad field throws a ZodError). */
export function signVoucher(signer: VoucherSigner, body: VoucherBody): Voucher {
  const checked = voucherBodySchema.parse(body);
  return { ...checked, pubKey: toHex(signer.publicKey), signature: toHex(signer.sign(voucherSignBytes(checked))) };
}

export type VoucherProblem = 'malformed' | 'wrong-chain' | 'wrong-channel' | 'wrong-signer' | 'bad-signature';
export type VoucherCheck = { ok: true; voucher: Voucher } | { ok: false; problem: VoucherProblem };

/**
 * Checks a voucher: its form, then (when given) the chain, the channel and the buyer's address the
 * key must belong to, then the signature. Never throws.
 */
export function verifyVoucher(value: unknown, expect: { chainId?: string; channel?: string; buyer?: string } = {}): VoucherCheck {
  const parsed = voucherSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: 'malformed' };
  const v = parsed.data;
  if (expect.chainId !== undefined && v.chainId !== expect.chainId) return { ok: false, problem: 'wrong-chain' };
  if (expect.channel !== undefined && v.channel !== expect.channel) return { ok: false, problem: 'wrong-channel' };
  const pubKey = fromHexStrict(v.pubKey, 32)!;
  if (expect.buyer !== undefined && addressFromPublicKey(pubKey) !== expect.buyer) return { ok: false, problem: 'wrong-signer' };
  const ok = verifySignature(pubKey, voucherSignBytes(v), fromHexStrict(v.signature, 64)!);
  return ok ? { ok: true, voucher: v } : { ok: false, problem: 'bad-signature' };
}
