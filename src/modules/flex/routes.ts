import { timedTxRefSchema } from '../../app/tx-ref.js';
import { z } from 'zod';
import { defineRoute, pageLimit } from '../../api/route.js';
import { addressSchema } from '../../codec/tx.js';
import { meterIdSchema } from '../metering/keeper.js';
import { eventIdSchema, keyIdSchema, programIdSchema } from './messages.js';

/**
 * Public routes of the flex module. Everything here is ledger state: requested profiles,
 * commitments, sample fingerprints, proved deviations, penalties and escrow movements. The measured
 * values are not on the ledger, so no route can return them; the prosumer's own view of them is
 * `gridledger flex private` (src/edge/flex.ts), which reads its edge store locally.
 */

const amount = z.string();
const txRef = timedTxRefSchema;
const g1 = z.tuple([z.string(), z.string()]);
const g2 = z.tuple([g1, g1]);

export const keySchema = z.object({
  id: z.string(),
  circuit: z.string(),
  key: z.object({ protocol: z.literal('groth16'), curve: z.literal('bn254'), alpha: g1, beta: g2, gamma: g2, delta: g2, ic: z.array(g1) }),
  registeredBy: z.string(),
  at: txRef,
});

export const programSchema = z.object({
  id: z.string(),
  name: z.string(),
  aggregator: z.string(),
  intervalMinutes: z.number(),
  asset: z.string(),
  rewardPerInterval: amount,
  penaltyPerWh: amount,
  proofSystem: z.string(),
  verifyingKey: z.string(),
  createdAt: txRef,
});

/** OpenADR 3 shapes: an interval period, payload descriptors and payload values. */
const intervalPeriod = z.object({ start: z.number(), duration: z.string() });
const payload = z.object({ type: z.string(), values: z.array(z.number()) });

export const eventSchema = z.object({
  id: z.string(),
  programID: z.string(),
  eventName: z.string().optional(),
  aggregator: z.string(),
  prosumer: z.string(),
  meterId: z.string().optional(),
  status: z.enum(['offered', 'active', 'completed', 'forfeited', 'withdrawn', 'expired']),
  payloadDescriptors: z.array(z.object({ payloadType: z.string(), units: z.literal('WH') })),
  intervalPeriod,
  intervalCount: z.number(),
  asset: z.string(),
  rewardPerInterval: amount,
  penaltyPerWh: amount,
  verifyingKey: z.string(),
  escrow: z.string(),
  deposit: amount,
  paidToAggregator: amount,
  paidToProsumer: amount,
  /** Computed: deposit − paid out. */
  remaining: amount,
  settled: z.number(),
  createdAt: txRef,
  enrolledAt: txRef.optional(),
  closedAt: txRef.optional(),
});

export const intervalSchema = z.object({
  id: z.number(),
  intervalPeriod,
  payloads: z.array(payload),
  status: z.enum(['pending', 'committed', 'proved', 'missed', 'invalid-proof', 'forfeited', 'withdrawn']),
  /** Block time after which the interval is missed. */
  deadline: z.number(),
  commitment: z.string().optional(),
  fingerprints: z.array(z.object({ slot: z.number(), fingerprint: z.string(), sampleCount: z.number() })).optional(),
  committedAt: txRef.optional(),
  /** The proved deviation |requested − measured| (or, for invalid-proof, the claimed one). */
  deviationWh: z.number().optional(),
  toAggregator: amount.optional(),
  settledAt: txRef.extend({ msgIndex: z.number() }).optional(),
});

/** The escrow's balance over the event: one entry per movement, in ledger order. */
export const escrowStepSchema = z.object({
  kind: z.enum(['deposit', 'penalty', 'missed', 'forfeit', 'payout', 'withdrawn', 'expired']),
  interval: z.number().optional(),
  height: z.number(),
  time: z.number(),
  txHash: z.string(),
  toAggregator: amount,
  toProsumer: amount,
  /** In escrow after this step. */
  remaining: amount,
});

const limit = pageLimit(1000, 100);

export const flexRoutes = {
  keys: defineRoute({
    name: 'flexKeys',
    method: 'GET',
    path: '/v1/flex/keys',
    summary: 'Registered Groth16 verifying keys (by id) that programs reference',
    tags: ['flex'],
    response: z.object({ keys: z.array(keySchema) }),
  }),
  key: defineRoute({
    name: 'flexKey',
    method: 'GET',
    path: '/v1/flex/keys/:id',
    summary: 'One registered verifying key',
    tags: ['flex'],
    params: z.object({ id: keyIdSchema }),
    response: z.object({ key: keySchema }),
  }),
  programs: defineRoute({
    name: 'flexPrograms',
    method: 'GET',
    path: '/v1/flex/programs',
    summary: 'Demand-response programs, newest first',
    tags: ['flex'],
    query: z.object({ limit }),
    response: z.object({ programs: z.array(programSchema) }),
  }),
  program: defineRoute({
    name: 'flexProgram',
    method: 'GET',
    path: '/v1/flex/programs/:id',
    summary: 'One program: interval length, reward and penalty rates, proof system and verifying key',
    tags: ['flex'],
    params: z.object({ id: programIdSchema }),
    response: z.object({ program: programSchema }),
  }),
  events: defineRoute({
    name: 'flexEvents',
    method: 'GET',
    path: '/v1/flex/events',
    summary: 'Events, newest first: all, of a party (aggregator or prosumer) or of an enrolled meter; by status. All events come a page at a time: `next` continues with after=. A status is read through the node index (full pages); with prove=true, or for every status, a request reads at most 10,000 events, so a page can be short and still have a next',
    tags: ['flex'],
    query: z.object({
      party: addressSchema.optional(),
      meter: meterIdSchema.optional(),
      status: z.enum(['offered', 'active', 'completed', 'forfeited', 'withdrawn', 'expired', 'open', 'closed', 'all']).default('all'),
      after: z.string().regex(/^\d{16}$/, 'the next of a previous answer').optional(),
      limit,
    }),
    response: z.object({ events: z.array(eventSchema), next: z.string().optional() }),
  }),
  event: defineRoute({
    name: 'flexEvent',
    method: 'GET',
    path: '/v1/flex/events/:id',
    summary: 'One event with its intervals (requested, commitment, fingerprints, proved deviation, penalty) and the escrow balance over the event',
    tags: ['flex'],
    params: z.object({ id: eventIdSchema }),
    response: z.object({ event: eventSchema, intervals: z.array(intervalSchema), escrow: z.array(escrowStepSchema) }),
  }),
};
