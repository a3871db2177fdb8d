import { z } from 'zod';
import { addressSchema, hexSchema } from '../../codec/tx.js';

/**
 * Messages of the anon module (issue 16 #2): members register identity commitments, a fresh key
 * admits itself as a trader-anon account with a membership proof, operators revoke members.
 */

/** A BN254 scalar field element as a canonical decimal string (range checked by the rule). */
export const fieldElementSchema = z.string().regex(/^(0|[1-9][0-9]{0,76})$/, { message: 'field element: canonical decimal string' });

/** The circuit whose key the module verifies against (zk/circuits/membership.circom). */
export const MEMBERSHIP_CIRCUIT = 'membership';

export const registerKeyMsg = z
  .object({
    circuit: z.literal(MEMBERSHIP_CIRCUIT),
    /** The registered form (src/zk/encoding.ts Groth16VerifyingKey); checked in full by the rule. */
    key: z.unknown(),
  })
  .strict();

export const registerMsg = z.object({ commitment: fieldElementSchema }).strict();

export const revokeMemberMsg = z.object({ member: addressSchema, reason: z.string().max(256).optional() }).strict();

export const admitMsg = z
  .object({
    /** The members' root the proof is against: the current one or a recent one. */
    root: fieldElementSchema,
    /** Poseidon(secret, Poseidon(epochField, slot)): unique per member, epoch and slot. */
    nullifier: fieldElementSchema,
    /** The epoch number: floor(height / epochBlocks) of the block that admits. */
    epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** Groth16 proof (src/zk/encoding.ts Groth16Proof); checked by the verifier. */
    proof: z.unknown(),
  })
  .strict();

/** Amounts are whole micro-units as decimal strings (the payments module's form). */
export const amountSchema = z.string().regex(/^[1-9][0-9]{0,23}$/, { message: 'amount: positive whole micro-units as a decimal string (at most 24 digits)' });
export const assetIdSchema = z.string().regex(/^[A-Z][A-Z0-9]{2,7}(@[a-z0-9][a-z0-9-]{0,31})?$/, { message: 'asset: CODE or CODE@scope, e.g. NOK@microgrid' });
export const offerIdSchema = z.string().regex(/^o[1-9][0-9]{0,15}$/, { message: 'offer id: o1, o2, …' });
export const escrowIdSchema = z.string().regex(/^e[1-9][0-9]{0,15}$/, { message: 'escrow id: e1, e2, … (a payments escrow opened by message)' });

/** An anonymous sell offer: energy delivered in [deliveryStart, deliveryEnd) for `amount` of `asset`. */
export const offerMsg = z
  .object({
    energyWh: z.number().int().min(1).max(2 ** 40 - 1),
    amount: amountSchema,
    asset: assetIdSchema,
    /** ms since the epoch; the grid operator confirms delivery over this window from its metering. */
    deliveryStart: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    deliveryEnd: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    memo: z.string().max(256).optional(),
    /**
     * The seller's per-trade messaging public key (X25519, 32 bytes hex) for negotiation over the
     * encrypted messaging layer (issue 16 #1): a buyer encrypts its counter-offer to it. A fresh key
     * per offer, so messages of two trades are not linked either.
     */
    messagingKey: hexSchema(32).optional(),
  })
  .strict();

/** The taker names the 2-of-3 payments escrow it opened for the offer (payer taker, payee seller, mediator a grid operator). */
export const takeMsg = z.object({ offer: offerIdSchema, escrow: escrowIdSchema }).strict();
export const withdrawOfferMsg = z.object({ offer: offerIdSchema }).strict();

export type OfferMsg = z.infer<typeof offerMsg>;
export type TakeMsg = z.infer<typeof takeMsg>;
export type WithdrawOfferMsg = z.infer<typeof withdrawOfferMsg>;
export type RegisterKeyMsg = z.infer<typeof registerKeyMsg>;
export type RegisterMsg = z.infer<typeof registerMsg>;
export type RevokeMemberMsg = z.infer<typeof revokeMemberMsg>;
export type AdmitMsg = z.infer<typeof admitMsg>;

export const MSG = {
  registerKey: 'anon/register-key',
  register: 'anon/register',
  revokeMember: 'anon/revoke-member',
  admit: 'anon/admit',
  offer: 'anon/offer',
  take: 'anon/take',
  withdrawOffer: 'anon/withdraw-offer',
} as const;
