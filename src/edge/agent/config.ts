import { z } from 'zod';
import { communityRefSchema, meterIdSchema } from '../../modules/metering/messages.js';
import { isValidTimeZone } from '../../util/localtime.js';
import { EDGE_ERRORS as E } from '../errors.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, DSMR_READER_FIELDS } from '../mqtt/dsmr-reader.js';

/**
 * The edge agent's configuration: the meters it signs for and where their samples come from. The
 * command line builds one for a single meter; a JSON or YAML file (`--config`) describes a building
 * with several meters and sources. Everything is checked here, before the agent opens anything.
 */

const port = z.number().int().min(0).max(65535);
const hostPort = z.object({ host: z.string().min(1), port });

export const meterConfigSchema = z
  .object({
    /** The ledger's meter id (as registered). */
    id: meterIdSchema,
    /** Name of the meter's key in the home's keyring. */
    key: z.string().min(1).max(64),
    /** Assert this community in every reading (the ledger refuses it if the meter is not linked there). */
    community: communityRefSchema.optional(),
    /** Rating used by the register guard before the ledger told the agent (default: the ledger's). */
    maxPowerW: z.number().int().min(1).optional(),
    /** A production meter (e.g. a PV inverter's): its export is shown as production on the status page. */
    production: z.boolean().default(false),
  })
  .strict();

const p1Common = { meter: meterIdSchema, maxTelegramBytes: z.number().int().min(16).max(1 << 20).optional() };

export const sourceConfigSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('serial'),
      ...p1Common,
      path: z.string().min(1),
      baudRate: z.number().int().min(300).max(4_000_000).default(115_200),
      dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
      parity: z.enum(['none', 'even', 'odd']).default('none'),
      stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    })
    .strict(),
  z.object({ kind: z.literal('tcp'), ...p1Common, host: z.string().min(1), port: port.min(1) }).strict(),
  z
    .object({
      kind: z.literal('file'),
      ...p1Common,
      /** A P1 capture; "-" reads standard input. */
      path: z.string().min(1),
      /** Replay speed relative to the telegrams' own timestamps; "max" = as fast as the store takes them. */
      speed: z.union([z.literal('max'), z.number().positive()]).default('max'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('mqtt'),
      url: z.string().regex(/^(mqtts?|wss?|tcp):\/\//, { message: 'an mqtt://, mqtts://, ws:// or wss:// URL' }),
      topics: z.array(z.object({ topic: z.string().min(1).max(256).regex(/^[^#+]*$/, { message: 'an exact topic (no wildcards): one topic per meter' }), meter: meterIdSchema }).strict()).min(1),
      clientId: z.string().min(1).max(64).optional(),
      username: z.string().optional(),
      /** Name of the environment variable holding the password (never the password itself in a file). */
      passwordEnv: z.string().optional(),
      maxPayloadBytes: z.number().int().min(64).max(1 << 20).default(DEFAULT_MAX_PAYLOAD_BYTES),
      fieldNames: z.record(z.enum(DSMR_READER_FIELDS), z.string()).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('http'), ...hostPort.shape, maxBodyBytes: z.number().int().min(256).max(1 << 20).default(65_536) }).strict(),
]);

export const agentConfigSchema = z
  .object({
    /** The agent's SQLite file: samples, spool and agent state. */
    db: z.string().min(1),
    /** The node's API. */
    node: z.url({ protocol: /^https?$/ }),
    meters: z.array(meterConfigSchema).min(1),
    sources: z.array(sourceConfigSchema).min(1),
    /** Local status page and JSON API; null = none. */
    status: hostPort.nullable().default({ host: '127.0.0.1', port: 26680 }),
    /**
     * Web origins (scheme://host:port) whose pages may call the status API from a browser (CORS): the
     * dashboard's prosumer page asks the verify route for tampered intervals. Default: the origin of
     * `node`, which serves the dashboard. Pages from any other origin are refused.
     */
    dashboardOrigins: z.array(z.url({ protocol: /^https?$/ }).transform((u) => new URL(u).origin)).max(16).optional(),
    /** Time zone of the status page's day. */
    timezone: z.string().default('Europe/Amsterdam'),
    /** A slot closes when a later sample arrives, or when the meter has been silent this long after the slot's end. */
    closeAfterMs: z.number().int().min(0).default(60_000),
    /** Longest span without a sample that is not reported as a gap. */
    maxGapMs: z.number().int().min(0).default(30_000),
    /** How often in-flight readings are checked and due ones retried. */
    pollMs: z.number().int().min(10).default(1_000),
    /** How long samples may wait in memory before they are written (one transaction for all of them). */
    flushMs: z.number().int().min(1).default(200),
    expiresInBlocks: z.number().int().min(2).default(100),
    backoffBaseMs: z.number().int().min(1).default(1_000),
    backoffMaxMs: z.number().int().min(1).default(600_000),
    /**
     * Demand-response events (docs/flex.md): commit the ended intervals of every active event a meter is
     * enrolled in and prove their deviations, signed with the meter key. Checked every pollMs.
     */
    flex: z
      .object({
        enabled: z.boolean().default(true),
        pollMs: z.number().int().min(10).default(30_000),
        maxProofsPerRound: z.number().int().min(1).max(64).default(4),
        retryAfterMs: z.number().int().min(10).default(60_000),
      })
      .strict()
      .default({ enabled: true, pollMs: 30_000, maxProofsPerRound: 4, retryAfterMs: 60_000 }),
    /** Stop when every file source has ended and every reading is delivered or parked (replays, tests). */
    exitWhenDone: z.boolean().default(false),
  })
  .strict();

export type AgentConfig = z.output<typeof agentConfigSchema> & { dashboardOrigins: string[] };
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
export type MeterConfig = z.output<typeof meterConfigSchema>;
export type SourceConfig = z.output<typeof sourceConfigSchema>;

/** Parses and cross-checks a configuration; throws EDGE_CONFIG_INVALID naming the first problem. */
export function parseAgentConfig(input: unknown): AgentConfig {
  const parsed = agentConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw E.EDGE_CONFIG_INVALID(`${issue && issue.path.length > 0 ? issue.path.join('.') : 'config'}: ${issue?.message ?? 'invalid'}`);
  }
  const config = { ...parsed.data, dashboardOrigins: parsed.data.dashboardOrigins ?? [new URL(parsed.data.node).origin] };
  const ids = new Set<string>();
  for (const m of config.meters) {
    if (ids.has(m.id)) throw E.EDGE_CONFIG_INVALID(`meter ${m.id} is configured twice`);
    ids.add(m.id);
  }
  const keys = new Set(config.meters.map((m) => m.key));
  if (keys.size !== config.meters.length) throw E.EDGE_CONFIG_INVALID('every meter needs its own key (meter keys are separate)');
  for (const s of config.sources) {
    const meters = s.kind === 'mqtt' ? s.topics.map((t) => t.meter) : s.kind === 'http' ? [] : [s.meter];
    for (const m of meters) if (!ids.has(m)) throw E.EDGE_CONFIG_INVALID(`source ${s.kind} names meter ${m}, which is not configured`);
  }
  if (config.sources.filter((s) => s.kind === 'file' && s.path === '-').length > 1) throw E.EDGE_CONFIG_INVALID('standard input can feed one source only');
  if (config.backoffMaxMs < config.backoffBaseMs) throw E.EDGE_CONFIG_INVALID('backoffMaxMs must be at least backoffBaseMs');
  if (!isValidTimeZone(config.timezone)) throw E.EDGE_CONFIG_INVALID(`timezone ${JSON.stringify(config.timezone)} is not an IANA zone`);
  return config;
}
