import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_ERRORS, bearerToken } from '../../api/auth.js';
import { buildServer, type BoundRoute } from '../../api/server.js';
import type { RouteOutput } from '../../api/route.js';
import { API_ERRORS } from '../../api/errors.js';
import { dayOfSlot, localDay, requireTimeZone } from '../../util/localtime.js';
import { LedgerError } from '../../util/errors.js';
import { SLOT_MS, parseSlot, slotIso } from '../../util/slots.js';
import { EDGE_ERRORS as E } from '../errors.js';
import { decodeDsmrReaderJson } from '../mqtt/dsmr-reader.js';
import { P1Framer } from '../p1/framer.js';
import { sampleFromTelegram } from '../sample.js';
import type { EdgeAgent } from './agent.js';
import type { Incoming } from './ingest.js';
import { minuteSeries } from './minutes.js';
import { edgeRoutes } from './routes.js';
import { STATUS_PAGE } from './status-page.js';
import { verifyAgainstLedger } from './verification.js';

/**
 * The agent's HTTP servers, built from the route definitions in routes.ts with the node's server
 * builder (zod-checked input, JSON errors): the status API and page, and the sample intake of HTTP
 * POST sources. Both may share one listener.
 */

type Out<K extends keyof typeof edgeRoutes> = RouteOutput<(typeof edgeRoutes)[K]>;

export function agentStatus(agent: EdgeAgent): Out<'edgeStatus'> {
  const now = Date.now();
  const inflight = agent.state.allInflight();
  const meters = agent.config.meters.map((m) => {
    const state = agent.state.meter(m.id);
    const latest = agent.ingestor.latest.get(m.id);
    const last = agent.sealer.lastInterval.get(m.id);
    const delivered = agent.spool.lastDelivered(m.id);
    const problem = agent.problems.get(m.id);
    return {
      meterId: m.id,
      address: agent.addressOf(m.id),
      production: m.production,
      ready: agent.ready(m.id),
      ...(problem ? { problem: { code: problem.code, message: problem.message } } : {}),
      samples: agent.store.sampleCount(m.id),
      ...(latest
        ? {
            latest: {
              receivedAtMs: latest.receivedAtMs,
              source: latest.source,
              timestampMs: latest.sample.timestampMs,
              importPowerW: latest.sample.importPowerW,
              exportPowerW: latest.sample.exportPowerW,
              importT1Wh: latest.sample.importT1Wh,
              importT2Wh: latest.sample.importT2Wh,
              exportT1Wh: latest.sample.exportT1Wh,
              exportT2Wh: latest.sample.exportT2Wh,
              ...(latest.sample.tariff !== undefined ? { tariff: latest.sample.tariff } : {}),
              ...(latest.raw !== undefined ? { telegram: latest.raw } : {}),
            },
          }
        : {}),
      ...(state && state.sealedThrough >= 0 ? { sealedThrough: state.sealedThrough } : {}),
      ...(last
        ? {
            lastInterval: {
              slot: last.slot,
              slotIso: slotIso(last.slot),
              importWh: last.importWh,
              exportWh: last.exportWh,
              sampleCount: last.sampleCount,
              complete: last.complete,
              gaps: last.gaps,
              unattributedImportWh: last.unattributedImportWh,
              unattributedExportWh: last.unattributedExportWh,
              registerResets: last.registerResets,
            },
          }
        : {}),
      ...(delivered ? { lastDelivered: { ...delivered, slotIso: slotIso(delivered.slot) } } : {}),
      delivered: agent.spool.deliveredCount(m.id),
      ...(state?.offsets ? { registerOffsets: state.offsets } : {}),
    };
  });
  const depth = agent.spool.depth();
  return {
    agent: { version: agent.version, startedAtMs: agent.startedAtMs, nowMs: now, node: agent.config.node, db: agent.config.db, timezone: agent.config.timezone },
    meters,
    spool: { pending: depth.pending, parked: depth.parked, inflight: inflight.length },
    parked: agent.spool
      .entries()
      .filter((e) => e.state === 'parked')
      .slice(0, 100)
      .map((e) => ({ meterId: e.meterId, slot: e.slot, seq: e.seq, reason: e.lastError ?? '' })),
    ingest: { ...agent.ingestor.counters() },
    refusals: agent.reasons.counts(),
    sealing: { ...agent.sealer.counters() },
    submission: { ...agent.submitter.counters() },
    sources: agent.sources.map((s) => s.status()),
  };
}

function requireMeter(agent: EdgeAgent, meterId: string) {
  const meter = agent.config.meters.find((m) => m.id === meterId);
  if (!meter) throw E.SAMPLE_UNKNOWN_METER(`this agent does not serve meter ${meterId}`);
  return meter;
}

function minutes(agent: EdgeAgent, meterId: string, q: { day?: string; timezone?: string }): Out<'edgeMinutes'> {
  const meter = requireMeter(agent, meterId);
  const timezone = q.timezone ?? agent.config.timezone;
  requireTimeZone(timezone);
  const day = q.day ?? dayOfSlot(timezone, Math.floor(Date.now() / SLOT_MS));
  const d = localDay(timezone, day);
  const fromMs = d.firstSlot * SLOT_MS;
  const toMs = (d.firstSlot + d.slots) * SLOT_MS;
  const series = minuteSeries(agent.store, meterId, fromMs, toMs);
  const totals = { importWh: 0, exportWh: 0, samples: 0 };
  for (const m of series) {
    totals.importWh += m.importWh;
    totals.exportWh += m.exportWh;
    totals.samples += m.samples;
  }
  return {
    meterId,
    day,
    timezone,
    fromMs,
    toMs,
    production: meter.production,
    minutes: series.map((m) => (meter.production ? { ...m, productionWh: m.exportWh } : m)),
    totals,
  };
}

/**
 * Who reads the fingerprints for a verify request. A web page (its request carries an Origin) must
 * send its own bearer token of the agent's node, and the agent reads the fingerprints with it: the
 * node's read policy decides, exactly as for `verify samples --as KEY` (the meter's account, the
 * traders it is linked to, their communities' owners, grid operators, auditors), and its refusal
 * (AUTH_REQUIRED, READ_FORBIDDEN, …) is the answer. A local program (no Origin: curl, the status
 * page's own same-origin reads) reads as the meter's key, as before.
 */
function verifyCaller(request: Pick<FastifyRequest, 'headers'>): { token: string } | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = bearerToken(Array.isArray(header) ? header[0] : header);
    if (token === undefined) throw AUTH_ERRORS.AUTH_TOKEN_INVALID('send the token as Authorization: Bearer <token>');
    return { token };
  }
  if (request.headers.origin !== undefined) throw AUTH_ERRORS.AUTH_REQUIRED("a page's verification read is private: sign in on the dashboard (its node token is sent along)");
  return undefined;
}

async function verify(agent: EdgeAgent, meterId: string, q: { fromSlot?: string; toSlot?: string }, caller: { token: string } | undefined): Promise<Out<'edgeVerify'>> {
  requireMeter(agent, meterId);
  const toSlot = q.toSlot !== undefined ? parseSlot(q.toSlot, { round: true }) : Math.floor(Date.now() / SLOT_MS);
  const fromSlot = q.fromSlot !== undefined ? parseSlot(q.fromSlot, { round: true }) : toSlot - 96;
  return verifyAgainstLedger(agent.store, agent.ledger, meterId, fromSlot, toSlot, caller);
}

/**
 * CORS for the dashboard: pages of the configured origins may read the status API with a bearer
 * token (a preflighted GET); a page of any other origin is refused before any route runs, so a
 * foreign page cannot even trigger a read. Requests without an Origin (local programs) and the
 * agent's own page pass.
 */
async function dashboardCors(allowed: ReadonlySet<string>, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const origin = request.headers.origin;
  // The agent's own status page needs no CORS (a browser may still name its origin, e.g. on a POST).
  if (origin === undefined || origin === `http://${request.headers.host}`) return;
  if (!allowed.has(origin)) {
    const e = E.EDGE_ORIGIN_NOT_ALLOWED(`${origin} is not among the agent's dashboard origins (${[...allowed].join(', ')}); see --dashboard-origin`);
    await reply.code(e.status).send({ error: { code: e.code, message: e.message } });
    return;
  }
  void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  if (request.method === 'OPTIONS') {
    await reply.code(204).header('access-control-allow-methods', 'GET').header('access-control-allow-headers', 'authorization').header('access-control-max-age', '600').send();
  }
}

/** Decodes an HTTP body into samples: dsmr-reader JSON (object or array) or P1 telegram text. */
function decodeBody(agent: EdgeAgent, meterId: string, body: unknown, maxPayloadBytes: number): Array<{ item?: Incoming; error?: LedgerError }> {
  const now = Date.now();
  const source = `http:${meterId}`;
  if (typeof body === 'string') {
    const framer = new P1Framer();
    const framed = [...framer.push(new Uint8Array(Buffer.from(body, 'latin1'))), ...framer.end()];
    if (framed.length === 0) return [{ error: E.SAMPLE_NOT_DECODED('the text holds no P1 telegram (nothing starts with "/")') }];
    return framed.map((f) => {
      if (!f.ok) return { error: f.error };
      try {
        return { item: { sample: sampleFromTelegram(f.telegram, f.raw, { meterId, fallbackTimestampMs: now }), receivedAtMs: now, source, raw: Buffer.from(f.raw).toString('latin1') } };
      } catch (err) {
        return { error: err instanceof LedgerError ? err : E.SAMPLE_NOT_DECODED(String(err)) };
      }
    });
  }
  const docs = Array.isArray(body) ? body : [body];
  if (docs.length === 0) return [{ error: E.SAMPLE_NOT_DECODED('an empty array') }];
  return docs.map((doc) => {
    try {
      // The body arrives parsed: the sample's raw hash is over its JSON text as re-encoded here.
      const decoded = decodeDsmrReaderJson(JSON.stringify(doc), { meterId, maxBytes: maxPayloadBytes });
      return { item: { sample: decoded.sample, receivedAtMs: now, source } };
    } catch (err) {
      return { error: err instanceof LedgerError ? err : E.SAMPLE_NOT_DECODED(String(err)) };
    }
  });
}

function intake(agent: EdgeAgent, meterId: string, body: unknown): Out<'edgeSubmitSamples'> {
  requireMeter(agent, meterId);
  if (body === undefined || body === null) throw E.SAMPLE_NOT_DECODED('send a dsmr-reader JSON telegram (application/json) or P1 telegram text (text/plain)');
  const decoded = decodeBody(agent, meterId, body, 4096);
  const results: Out<'edgeSubmitSamples'>['results'] = decoded.map((d) => {
    if (d.error) {
      agent.ingestor.record(d.error.code, `http intake for ${meterId}: ${d.error.message}`, Date.now(), { meter: meterId, source: 'http' });
      return { status: 'refused' as const, code: d.error.code, message: d.error.message };
    }
    const o = agent.offer(d.item!);
    const timestampMs = d.item!.sample.timestampMs;
    if (o.status === 'refused') return { status: 'refused' as const, code: o.code, message: o.message, timestampMs };
    return { status: o.status === 'held' ? ('held' as const) : ('stored' as const), timestampMs };
  });
  // Answer only once the samples are in the store (one transaction for the request).
  agent.ingestor.flush();
  return { results };
}

export async function startAgentServers(agent: EdgeAgent): Promise<{ servers: FastifyInstance[]; statusUrl?: string; intakeUrl?: string }> {
  const logger = agent.logger;
  const statusRoutes: BoundRoute[] = [
    { route: edgeRoutes.edgeStatus, handler: () => agentStatus(agent) },
    { route: edgeRoutes.edgeMinutes, handler: ({ params, query }) => minutes(agent, params.meterId, query) },
    { route: edgeRoutes.edgeVerify, handler: ({ params, query }, request) => verify(agent, params.meterId, query, verifyCaller(request)) },
  ];
  const http = agent.config.sources.filter((s) => s.kind === 'http');
  const status = agent.config.status;
  const intakeRoute = (maxBodyBytes: number): BoundRoute => ({
    route: edgeRoutes.edgeSubmitSamples,
    handler: ({ query, body }, request) => {
      if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) throw API_ERRORS.BODY_TOO_LARGE(`at most ${maxBodyBytes} bytes`);
      return intake(agent, query.meter, body);
    },
  });
  const servers: FastifyInstance[] = [];
  const origins = new Set(agent.config.dashboardOrigins);
  const listen = async (routes: BoundRoute[], host: string, port: number, bodyLimitBytes: number, page: boolean): Promise<string> => {
    const app = buildServer(routes, {
      logger,
      bodyLimitBytes,
      rateLimitPerSecond: 1_000,
      version: agent.version,
      extend: page
        ? (a) => {
            a.addHook('onRequest', (request, reply) => dashboardCors(origins, request, reply));
            a.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(STATUS_PAGE));
          }
        : undefined,
    });
    servers.push(app);
    const address = await app.listen({ host, port });
    return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  };
  let statusUrl: string | undefined;
  let intakeUrl: string | undefined;
  const shared = http.find((h) => status && h.host === status.host && h.port === status.port);
  if (status) statusUrl = await listen([...statusRoutes, ...(shared ? [intakeRoute(shared.maxBodyBytes)] : [])], status.host, status.port, shared?.maxBodyBytes ?? 65_536, true);
  if (shared) intakeUrl = statusUrl;
  for (const h of http) {
    if (h === shared) continue;
    intakeUrl = await listen([intakeRoute(h.maxBodyBytes)], h.host, h.port, h.maxBodyBytes, false);
  }
  return { servers, ...(statusUrl ? { statusUrl } : {}), ...(intakeUrl ? { intakeUrl } : {}) };
}
