import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { meterIdSchema } from './messages.js';

const txRef = txRefSchema;
export const meterSchema = z.object({
  meterId: z.string(),
  deviceId: z.string(),
  address: z.string(),
  pubKey: z.string().optional(),
  maxPowerW: z.number(),
  registeredBy: z.string(),
  registeredAt: txRef,
  readings: z.number(),
  lastSlot: z.number().optional(),
  deviceEpochs: z.array(z.number()).optional(),
  history: z
    .array(z.object({ kind: z.enum(['key', 'device']), deviceId: z.string(), address: z.string(), untilSlot: z.number().optional(), height: z.number(), txHash: z.string() }))
    .optional(),
});
export const readingSchema = z.object({
  meterId: z.string(),
  slot: z.number(),
  slotIso: z.string(),
  importWh: z.number(),
  exportWh: z.number(),
  importRegisterWh: z.number(),
  exportRegisterWh: z.number(),
  seq: z.number(),
  fingerprint: z.string().optional(),
  sampleCount: z.number().optional(),
  height: z.number(),
  txHash: z.string(),
});
export const fingerprintSchema = z.object({
  slot: z.number(),
  slotIso: z.string(),
  fingerprint: z.string(),
  sampleCount: z.number(),
  seq: z.number(),
  height: z.number(),
  txHash: z.string(),
});
export const differenceSchema = z.object({
  meterId: z.string(),
  slot: z.number(),
  slotIso: z.string(),
  officialImportWh: z.number(),
  officialExportWh: z.number(),
  reportedImportWh: z.number().nullable(),
  reportedExportWh: z.number().nullable(),
  importDiffWh: z.number(),
  exportDiffWh: z.number(),
  height: z.number(),
  txHash: z.string(),
});
/** Slots in queries: an index or an ISO time; parsed by the handler (SLOT_INVALID on bad input). */
const slotParam = z.string().max(40).optional();

/** The path parameter of every route about one meter. */
export const meterParams = z.object({ meterId: meterIdSchema });

export const meteringRoutes = {
  getMeter: defineRoute({
    name: 'getMeter',
    method: 'GET',
    path: '/v1/metering/meters/:meterId',
    summary: 'A registered meter device: device id, signing account, maximum power, reading count',
    tags: ['metering'],
    params: meterParams,
    response: z.object({ meter: meterSchema }),
  }),
  meterByAddress: defineRoute({
    name: 'meterByAddress',
    method: 'GET',
    path: '/v1/metering/by-address/:address',
    summary: 'The meter whose readings the account signs',
    tags: ['metering'],
    params: z.object({ address: addressSchema }),
    response: z.object({ meter: meterSchema }),
  }),
  listMeters: defineRoute({
    name: 'listMeters',
    method: 'GET',
    path: '/v1/metering/meters',
    summary: 'Registered meters in id order (paginate with after=)',
    tags: ['metering'],
    query: z.object({ after: meterIdSchema.optional(), limit: pageLimit() }),
    response: z.object({ meters: z.array(meterSchema) }),
  }),
  listReadings: defineRoute({
    name: 'listReadings',
    method: 'GET',
    path: '/v1/metering/meters/:meterId/readings',
    summary: 'Signed interval readings of a meter in slot order, fromSlot ≤ slot < toSlot (index or ISO time)',
    tags: ['metering'],
    params: meterParams,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, limit: pageLimit(5000, 1000) }),
    response: z.object({ meterId: z.string(), readings: z.array(readingSchema) }),
  }),
  listFingerprints: defineRoute({
    name: 'listFingerprints',
    method: 'GET',
    path: '/v1/metering/meters/:meterId/fingerprints',
    summary:
      "Fingerprints of a meter's off-chain samples carried by its readings, fromSlot ≤ slot < toSlot, in slot order (readings without one are skipped). At most `limit` readings are scanned; when more remain, `nextSlot` is where to continue",
    tags: ['metering'],
    params: meterParams,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, limit: pageLimit(5000, 5000) }),
    response: z.object({ meterId: z.string(), fingerprints: z.array(fingerprintSchema), nextSlot: z.number().optional() }),
  }),
  missingReadings: defineRoute({
    name: 'missingReadings',
    method: 'GET',
    path: '/v1/metering/missing',
    summary:
      'Meters without a reading for some slot of one slot (slot=) or one local day (day=YYYY-MM-DD, timezone= IANA zone, default UTC), in meter id order. Scans at most `limit` meters per call; continue with after=next. Slots that have not ended are not counted',
    tags: ['metering'],
    query: z.object({
      slot: slotParam,
      day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'day: YYYY-MM-DD' }).optional(),
      timezone: z.string().min(1).max(64).optional(),
      after: meterIdSchema.optional(),
      limit: pageLimit(),
    }),
    response: z.object({
      fromSlot: z.number(),
      toSlot: z.number(),
      /** Slots of the range that had ended at the latest block (only those count as missing). */
      endedSlots: z.number(),
      scanned: z.number(),
      meters: z.array(z.object({ meterId: z.string(), address: z.string(), missing: z.number(), missingSlots: z.array(z.number()) })),
      next: z.string().optional(),
    }),
  }),
  listDifferences: defineRoute({
    name: 'listDifferences',
    method: 'GET',
    path: '/v1/metering/meters/:meterId/differences',
    summary: "Per-slot differences between the grid operator's official values and the meter's own readings, in slot order, at most `limit` (totals of those); when more remain, `nextSlot` is where to continue",
    tags: ['metering'],
    params: meterParams,
    query: z.object({ slot: slotParam, fromSlot: slotParam, toSlot: slotParam, limit: pageLimit(5000, 5000) }),
    response: z.object({ meterId: z.string(), differences: z.array(differenceSchema), totals: z.object({ importDiffWh: z.number(), exportDiffWh: z.number() }), nextSlot: z.number().optional() }),
  }),
};
