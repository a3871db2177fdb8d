import { z } from 'zod';
import { addressSchema } from '../../codec/tx.js';

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

export type RegisterKeyMsg = z.infer<typeof registerKeyMsg>;
export type RegisterMsg = z.infer<typeof registerMsg>;
export type RevokeMemberMsg = z.infer<typeof revokeMemberMsg>;
export type AdmitMsg = z.infer<typeof admitMsg>;

export const MSG = {
  registerKey: 'anon/register-key',
  register: 'anon/register',
  revokeMember: 'anon/revoke-member',
  admit: 'anon/admit',
} as const;
