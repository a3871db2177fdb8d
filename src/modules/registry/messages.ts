import { z } from 'zod';
import { addressSchema } from '../../codec/tx.js';
import { ROLES } from './state.js';

export const roleSchema = z.enum(ROLES);

const rolesSchema = z.array(roleSchema).min(1).max(ROLES.length).refine((r) => new Set(r).size === r.length, { message: 'roles must not repeat' });

export const admitMsg = z.object({ address: addressSchema, roles: rolesSchema }).strict();

/** Replaces an admitted account's roles (governed like admission: an operator does it). */
export const setRolesMsg = z.object({ address: addressSchema, roles: rolesSchema, reason: z.string().max(256).optional() }).strict();

export const revokeMsg = z.object({ address: addressSchema, reason: z.string().max(256).optional() }).strict();

export type AdmitMsg = z.infer<typeof admitMsg>;
export type RevokeMsg = z.infer<typeof revokeMsg>;
export type SetRolesMsg = z.infer<typeof setRolesMsg>;

export const MSG = { admit: 'registry/admit', revoke: 'registry/revoke', setRoles: 'registry/set-roles', propose: 'registry/propose', approve: 'registry/approve' } as const;
