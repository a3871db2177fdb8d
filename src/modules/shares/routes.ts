import { txRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { meterIdSchema, plantIdSchema } from './messages.js';

const txRef = txRefSchema;
export const participantOut = z.object({ address: z.string(), utility: z.string(), ppm: z.number(), meter: z.string().optional() });
export const plantOut = z.object({
  id: z.string(),
  name: z.string(),
  peakPowerW: z.number(),
  timezone: z.string(),
  productionMeter: z.string(),
  operator: z.string(),
  registeredAt: txRef.extend({ time: z.number() }),
  keys: z.array(z.object({ fromSlot: z.number(), fromDay: z.string().nullable(), participants: z.array(participantOut), setAt: txRef })),
});
export const segmentOut = z.object({ fromSlot: z.number(), toSlot: z.number(), ppm: z.number() });
const slotQuery = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const limit = pageLimit();
const logEntryOut = z.object({
  seq: z.number(),
  kind: z.enum(['register', 'key', 'transfer']),
  by: z.string(),
  height: z.number(),
  txHash: z.string(),
  time: z.number(),
  from: z.string().optional(),
  to: z.string().optional(),
  ppm: z.number().optional(),
  fromSlot: z.number().optional(),
  toSlot: z.number().optional(),
  fromDay: z.string().optional(),
});

/** Longest range the holdings routes answer in one call (100 days of 96 slots). */
export const MAX_QUERY_SLOTS = 9600;

export const sharesRoutes = {
  getPlant: defineRoute({
    name: 'getPlant',
    method: 'GET',
    path: '/v1/shares/plants/:plant',
    summary: 'A shared PV plant: metadata and every version of its distribution key',
    tags: ['shares'],
    params: z.object({ plant: plantIdSchema }),
    response: plantOut,
  }),
  listPlants: defineRoute({
    name: 'listPlants',
    method: 'GET',
    path: '/v1/shares/plants',
    summary: 'Shared PV plants in id order (paginate with after=); utility= lists the plants where it bills someone; meter= the plants whose record names the meter (production or participant meter), with next= when more may follow',
    tags: ['shares'],
    query: z.object({ after: plantIdSchema.optional(), limit, utility: addressSchema.optional(), meter: meterIdSchema.optional() }),
    response: z.object({ plants: z.array(plantOut), next: z.string().optional() }),
  }),
  plantHoldings: defineRoute({
    name: 'plantHoldings',
    method: 'GET',
    path: '/v1/shares/plants/:plant/holdings',
    summary: "Holdings table of a plant for a local day: every slot with its start time and every participant's ppm",
    tags: ['shares'],
    params: z.object({ plant: plantIdSchema }),
    query: z.object({ day: z.string() }),
    response: z.object({
      plant: z.string(),
      timezone: z.string(),
      day: z.string(),
      firstSlot: z.number(),
      slots: z.number(),
      participants: z.array(z.string()),
      rows: z.array(z.object({ slot: z.number(), start: z.string(), local: z.string(), ppm: z.array(z.number()), total: z.number() })),
    }),
  }),
  participantHoldings: defineRoute({
    name: 'participantHoldings',
    method: 'GET',
    path: '/v1/shares/plants/:plant/participants/:address',
    summary: "One participant's holdings over a slot range [fromSlot, toSlot): runs of equal ppm and every slot",
    tags: ['shares'],
    params: z.object({ plant: plantIdSchema, address: addressSchema }),
    query: z.object({ fromSlot: slotQuery, toSlot: slotQuery }),
    response: z.object({
      plant: z.string(),
      address: z.string(),
      fromSlot: z.number(),
      toSlot: z.number(),
      segments: z.array(segmentOut),
      slots: z.array(z.object({ slot: z.number(), start: z.string(), local: z.string(), ppm: z.number() })),
    }),
  }),
  plantSegments: defineRoute({
    name: 'plantSegments',
    method: 'GET',
    path: '/v1/shares/plants/:plant/segments',
    summary: 'Holdings of every participant over [fromSlot, toSlot) as runs of equal ppm (input for billing)',
    tags: ['shares'],
    params: z.object({ plant: plantIdSchema }),
    query: z.object({ fromSlot: slotQuery, toSlot: slotQuery }),
    response: z.object({ plant: plantOut, fromSlot: z.number(), toSlot: z.number(), holdings: z.record(z.string(), z.array(segmentOut)) }),
  }),
  plantTransfers: defineRoute({
    name: 'plantTransfers',
    method: 'GET',
    path: '/v1/shares/plants/:plant/transfers',
    summary: 'History of a plant (registration, key changes, transfers), newest first; address= filters',
    tags: ['shares'],
    params: z.object({ plant: plantIdSchema }),
    query: z.object({ address: addressSchema.optional(), beforeSeq: z.coerce.number().int().min(1).optional(), limit }),
    response: z.object({ entries: z.array(logEntryOut) }),
  }),
};
