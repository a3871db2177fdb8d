import { z } from 'zod';
import { addressSchema, hexSchema, safeUintSchema, slotSchema } from '../../codec/tx.js';

/** Meter and device ids: DSMR equipment identifiers, EANs, serial numbers. */
export const meterIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, { message: 'meter id: 1–64 of A–Z a–z 0–9 . _ : - (starting with a letter or digit)' });
export const communityRefSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'community id: 1–32 of a–z 0–9 - (starting with a letter or digit)' });

/** Largest accepted device rating: 1 GW. */
export const MAX_POWER_W = 1_000_000_000;
const wh = safeUintSchema;
const slot = slotSchema;

export const registerMeterMsg = z
  .object({
    meterId: meterIdSchema,
    deviceId: meterIdSchema.optional(),
    address: addressSchema,
    pubKey: hexSchema(32).optional(),
    maxPowerW: z.number().int().min(1).max(MAX_POWER_W),
  })
  .strict();

export const readingMsg = z
  .object({
    meterId: meterIdSchema,
    /** When given, the meter asserts it reports to this community (checked against its link). */
    community: communityRefSchema.optional(),
    slot,
    importWh: wh,
    exportWh: wh,
    importRegisterWh: wh,
    exportRegisterWh: wh,
    seq: safeUintSchema,
    /**
     * Fingerprint of the slot's off-chain samples (the edge agent's hash chain head, docs/edge.md) and
     * how many samples it covers. Optional (readings typed by hand have none); given together or not at all.
     */
    fingerprint: hexSchema(32).optional(),
    sampleCount: safeUintSchema.optional(),
  })
  .strict();

export const officialMsg = z
  .object({
    meterId: meterIdSchema,
    slot,
    importWh: wh,
    exportWh: wh,
  })
  .strict();

/** The meter signs with a new key from now on (a compromised or renewed gateway key); the device stays. */
export const rotateKeyMsg = z.object({ meterId: meterIdSchema, address: addressSchema, pubKey: hexSchema(32).optional() }).strict();

/**
 * A new physical device at the same metering point: from `fromSlot` on (a future slot; default the next
 * one) its readings start a new register and sequence series; readings of earlier slots remain the old
 * device's. A new device usually brings its own key (address, pubKey) and may have another rating.
 */
export const replaceDeviceMsg = z
  .object({
    meterId: meterIdSchema,
    deviceId: meterIdSchema,
    address: addressSchema.optional(),
    pubKey: hexSchema(32).optional(),
    maxPowerW: z.number().int().min(1).max(MAX_POWER_W).optional(),
    fromSlot: slot.optional(),
  })
  .strict();

export type RotateKeyMsg = z.infer<typeof rotateKeyMsg>;
export type ReplaceDeviceMsg = z.infer<typeof replaceDeviceMsg>;
export type RegisterMeterMsg = z.infer<typeof registerMeterMsg>;
export type ReadingMsg = z.infer<typeof readingMsg>;
export type OfficialMsg = z.infer<typeof officialMsg>;

export const MSG = {
  register: 'metering/register',
  reading: 'metering/reading',
  official: 'metering/official',
  rotateKey: 'metering/rotate-key',
  replaceDevice: 'metering/replace-device',
} as const;
