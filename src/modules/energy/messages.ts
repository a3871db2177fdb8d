import { z } from 'zod';
import { addressSchema, hexSchema, slotSchema } from '../../codec/tx.js';
import { communityRefSchema, MAX_POWER_W, meterIdSchema } from '../metering/keeper.js';

export const communityIdSchema = communityRefSchema;
export const labelSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'label: 1–32 of a–z 0–9 - (starting with a letter or digit)' });
export const MAX_LABELS = 8;
export const labelsSchema = z
  .array(labelSchema)
  .max(MAX_LABELS)
  .refine((l) => new Set(l).size === l.length, { message: 'labels must not repeat' });

/** Largest amount in one message: 1 TWh (keeps every sum far inside the safe-integer range). */
export const MAX_MSG_WH = 1_000_000_000_000;
/** Any whole Wh amount; the rules check the sign with their own codes. */
const amount = z.number().int().min(-MAX_MSG_WH).max(MAX_MSG_WH);
const slot = slotSchema;

export const createCommunityMsg = z
  .object({
    /** Chosen id; when absent the ledger assigns c1, c2, … (see the energy.community_created event). */
    id: communityIdSchema.optional(),
    name: z.string().min(1).max(64),
    timezone: z.string().min(1).max(64),
    parent: communityIdSchema.optional(),
  })
  .strict();

export const traderMsg = z.object({ community: communityIdSchema, address: addressSchema }).strict();

export const addMeterMsg = z
  .object({
    community: communityIdSchema,
    meterId: meterIdSchema,
    kind: z.enum(['producer', 'consumer']),
    trader: addressSchema,
    labels: labelsSchema.optional(),
    /** Device details: required when the meter is not registered yet, else must match. */
    deviceId: meterIdSchema.optional(),
    address: addressSchema.optional(),
    pubKey: hexSchema(32).optional(),
    maxPowerW: z.number().int().min(1).max(MAX_POWER_W).optional(),
    /**
     * First slot of the link; must be a future slot. Default: the next slot when the meter was linked
     * before, the current slot when it never was, every slot when this message registers it.
     */
    fromSlot: slot.optional(),
  })
  .strict();

/** The meter's custodian lets the owner of `community` link it there (see docs/energy.md, "Who may link a meter"). */
export const releaseMeterMsg = z.object({ meterId: meterIdSchema, community: communityIdSchema }).strict();

export const removeMeterMsg = z.object({ community: communityIdSchema, meterId: meterIdSchema, fromSlot: slot.optional() }).strict();

export const transferMsg = z
  .object({ community: communityIdSchema, to: addressSchema, slot, labels: labelsSchema, wh: amount, /** Optional note kept in both traders' history (HanzeNet's Transfer). */ description: z.string().max(256).optional() })
  .strict();

export const reduceMsg = z.object({ community: communityIdSchema, slot, labels: labelsSchema, remove: labelsSchema, wh: amount }).strict();

export const mutateMsg = z
  .object({ community: communityIdSchema, trader: addressSchema, slot, labels: labelsSchema.optional(), wh: amount, description: z.string().max(256) })
  .strict();

export const settleMsg = z.object({ community: communityIdSchema, slot }).strict();

export type CreateCommunityMsg = z.infer<typeof createCommunityMsg>;
export type TraderMsg = z.infer<typeof traderMsg>;
export type AddMeterMsg = z.infer<typeof addMeterMsg>;
export type RemoveMeterMsg = z.infer<typeof removeMeterMsg>;
export type ReleaseMeterMsg = z.infer<typeof releaseMeterMsg>;
export type TransferMsg = z.infer<typeof transferMsg>;
export type ReduceMsg = z.infer<typeof reduceMsg>;
export type MutateMsg = z.infer<typeof mutateMsg>;
export type SettleMsg = z.infer<typeof settleMsg>;

export const MSG = {
  createCommunity: 'energy/create-community',
  addTrader: 'energy/add-trader',
  removeTrader: 'energy/remove-trader',
  addMeter: 'energy/add-meter',
  removeMeter: 'energy/remove-meter',
  releaseMeter: 'energy/release-meter',
  transfer: 'energy/transfer',
  reduce: 'energy/reduce',
  mutate: 'energy/mutate',
  settleToParent: 'energy/settle-to-parent',
} as const;
