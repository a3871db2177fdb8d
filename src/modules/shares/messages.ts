import { z } from 'zod';
import { addressSchema, slotSchema } from '../../codec/tx.js';

/** Plant ids are short and contain no "/" so they can be part of state keys. */
export const plantIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: 'plant id: 1–64 of A–Z a–z 0–9 . _ - (starting alphanumeric)' });
export const meterIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, { message: 'meter id: 1–128 of A–Z a–z 0–9 . _ : -' });
/** Slot indexes: non-negative safe integers. Ordering rules (empty, reversed) are checked by the rules with their own codes. */
export { slotSchema };
/** ppm values are any integers here; zero and negative values are rejected by the rules with SHARES_INVALID_PPM. */
const ppmSchema = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const MAX_PARTICIPANTS = 256;

export const participantSchema = z
  .object({
    address: addressSchema,
    /** The utility that bills this participant (an admitted account with role utility). */
    utility: addressSchema,
    ppm: ppmSchema,
    /** The participant's consumption meter (metering module id), used by billing from ledger data. */
    meter: meterIdSchema.optional(),
  })
  .strict();

export const registerPlantMsg = z
  .object({
    plant: plantIdSchema,
    name: z.string().min(1).max(128),
    peakPowerW: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    timezone: z.string().min(1).max(64),
    productionMeter: meterIdSchema,
    participants: z.array(participantSchema).min(1).max(MAX_PARTICIPANTS),
  })
  .strict();

export const setKeyMsg = z
  .object({
    plant: plantIdSchema,
    /** First local calendar day (plant timezone) on which the new key applies; must not have begun. */
    fromDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'day: YYYY-MM-DD' }),
    participants: z.array(participantSchema).min(1).max(MAX_PARTICIPANTS),
  })
  .strict();

export const transferMsg = z
  .object({
    plant: plantIdSchema,
    to: addressSchema,
    ppm: ppmSchema,
    /** First slot of the range (inclusive). */
    fromSlot: slotSchema,
    /** End of the range (exclusive). */
    toSlot: slotSchema,
  })
  .strict();

export type ParticipantInput = z.infer<typeof participantSchema>;
export type RegisterPlantMsg = z.infer<typeof registerPlantMsg>;
export type SetKeyMsg = z.infer<typeof setKeyMsg>;
export type TransferMsg = z.infer<typeof transferMsg>;

export const MSG = { registerPlant: 'shares/register-plant', setKey: 'shares/set-key', transfer: 'shares/transfer' } as const;
