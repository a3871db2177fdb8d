import { z } from 'zod';
import { defineRoute } from '../../api/route.js';
import { meterIdSchema } from '../../modules/metering/messages.js';

/**
 * Routes of the edge agent's own HTTP servers: the local status API (127.0.0.1 by default; the status
 * page and the dashboard read it) and the sample intake for HTTP POST sources. Defined once, like the
 * node's routes, so the typed client (src/api/client.ts) works against an agent too.
 */

const slotParam = z.string().max(40).optional();

const latestSchema = z.object({
  receivedAtMs: z.number(),
  source: z.string(),
  timestampMs: z.number(),
  importPowerW: z.number(),
  exportPowerW: z.number(),
  importT1Wh: z.number(),
  importT2Wh: z.number(),
  exportT1Wh: z.number(),
  exportT2Wh: z.number(),
  tariff: z.number().optional(),
  /** The raw P1 telegram text, when the sample came from one. */
  telegram: z.string().optional(),
});

const intervalSchema = z.object({
  slot: z.number(),
  slotIso: z.string(),
  importWh: z.number(),
  exportWh: z.number(),
  sampleCount: z.number(),
  complete: z.boolean(),
  gaps: z.array(z.object({ fromMs: z.number(), toMs: z.number() })),
  unattributedImportWh: z.number(),
  unattributedExportWh: z.number(),
  registerResets: z.number(),
});

export const meterStatusSchema = z.object({
  meterId: z.string(),
  address: z.string(),
  production: z.boolean(),
  /** Bootstrapped and its key matches the ledger: readings are being submitted. */
  ready: z.boolean(),
  problem: z.object({ code: z.string(), message: z.string() }).optional(),
  samples: z.number(),
  latest: latestSchema.optional(),
  /** Readings derived (and queued) for every slot up to here. */
  sealedThrough: z.number().optional(),
  lastInterval: intervalSchema.optional(),
  /** The most recent slot whose reading the ledger confirmed. */
  lastDelivered: z.object({ slot: z.number(), slotIso: z.string(), seq: z.number(), outcome: z.string(), deliveredAtMs: z.number() }).optional(),
  delivered: z.number(),
  registerOffsets: z.object({ importWh: z.number(), exportWh: z.number() }).optional(),
});

const counters = z.record(z.string(), z.number());

export const statusSchema = z.object({
  agent: z.object({ version: z.string(), startedAtMs: z.number(), nowMs: z.number(), node: z.string(), db: z.string(), timezone: z.string() }),
  meters: z.array(meterStatusSchema),
  spool: z.object({ pending: z.number(), parked: z.number(), inflight: z.number() }),
  parked: z.array(z.object({ meterId: z.string(), slot: z.number(), seq: z.number(), reason: z.string() })),
  ingest: counters,
  refusals: counters,
  sealing: counters,
  submission: counters,
  sources: z.array(
    z.object({ name: z.string(), kind: z.string(), meters: z.array(z.string()), connected: z.boolean(), ended: z.boolean(), lastError: z.string().optional(), counters }),
  ),
});

export const edgeRoutes = {
  edgeStatus: defineRoute({
    name: 'edgeStatus',
    method: 'GET',
    path: '/v1/edge/status',
    summary: 'The agent: per meter the latest telegram, live power, last sealed and delivered slots; spool depth; counters of refused input by reason; sources',
    tags: ['edge'],
    response: statusSchema,
  }),
  edgeMinutes: defineRoute({
    name: 'edgeMinutes',
    method: 'GET',
    path: '/v1/edge/meters/:meterId/minutes',
    summary: "Per-minute import, export (and, for a production meter, production) of a local day from the agent's sample store",
    tags: ['edge'],
    params: z.object({ meterId: meterIdSchema }),
    query: z.object({ day: z.string().max(10).optional(), timezone: z.string().max(64).optional() }),
    response: z.object({
      meterId: z.string(),
      day: z.string(),
      timezone: z.string(),
      fromMs: z.number(),
      toMs: z.number(),
      production: z.boolean(),
      minutes: z.array(z.object({ startMs: z.number(), samples: z.number(), importWh: z.number(), exportWh: z.number(), productionWh: z.number().optional(), maxImportW: z.number(), maxExportW: z.number() })),
      totals: z.object({ importWh: z.number(), exportWh: z.number(), samples: z.number() }),
    }),
  }),
  edgeVerify: defineRoute({
    name: 'edgeVerify',
    method: 'GET',
    path: '/v1/edge/meters/:meterId/verify',
    summary: "Recomputes the slot fingerprints from the agent's store and compares them with the ledger, fromSlot ≤ slot < toSlot (default: the last day): intact slots, and for each broken one what happened and the first differing sample",
    tags: ['edge'],
    params: z.object({ meterId: meterIdSchema }),
    query: z.object({ fromSlot: slotParam, toSlot: slotParam }),
    response: z.object({
      meterId: z.string(),
      fromSlot: z.number(),
      toSlot: z.number(),
      ok: z.boolean(),
      summary: counters,
      slots: z.array(
        z.object({
          slot: z.number(),
          slotIso: z.string(),
          status: z.enum(['intact', 'altered', 'inserted', 'deleted', 'reordered', 'missing-on-chain']),
          storedCount: z.number(),
          onChainCount: z.number().optional(),
          recomputed: z.string(),
          onChain: z.string().optional(),
          firstDifferingSeq: z.number().optional(),
        }),
      ),
    }),
  }),
  edgeSubmitSamples: defineRoute({
    name: 'edgeSubmitSamples',
    method: 'POST',
    path: '/v1/edge/samples',
    summary:
      'Hands samples to the agent: a dsmr-reader JSON telegram (or an array of them) as application/json, or P1 telegram text as text/plain. Answers per sample once it is stored: stored, held (registers to be confirmed by the next sample) or refused with its reason code',
    tags: ['edge'],
    query: z.object({ meter: meterIdSchema }),
    body: z.unknown(),
    response: z.object({
      results: z.array(z.object({ status: z.enum(['stored', 'held', 'refused']), code: z.string().optional(), message: z.string().optional(), timestampMs: z.number().optional() })),
    }),
  }),
};
