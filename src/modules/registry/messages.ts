import { z } from 'zod';
import { addressSchema } from '../../codec/tx.js';
import { ROLES } from './state.js';

export const roleSchema = z.enum(ROLES);

export const admitMsg = z
  .object({
    address: addressSchema,
    roles: z.array(roleSchema).min(1).max(ROLES.length).refine((r) => new Set(r).size === r.length, { message: 'roles must not repeat' }),
  })
  .strict();

export const revokeMsg = z.object({ address: addressSchema, reason: z.string().max(256).optional() }).strict();

export type AdmitMsg = z.infer<typeof admitMsg>;
export type RevokeMsg = z.infer<typeof revokeMsg>;

export const MSG = { admit: 'registry/admit', revoke: 'registry/revoke', propose: 'registry/propose', approve: 'registry/approve' } as const;
