import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LedgerError } from '../../util/errors.js';
import { EDGE_ERRORS as E } from '../errors.js';
import { Spool } from '../spool.js';
import { SampleStore, openEdgeDatabase } from '../store.js';
import type { AgentConfig } from './config.js';
import { FlexAutomation } from './flex.js';
import { Ingestor, type Incoming, type OfferOutcome } from './ingest.js';
import { isTransient, LedgerLink } from './ledger.js';
import { ReasonLog } from './reasons.js';
import { Sealer } from './readings.js';
import { startAgentServers } from './server.js';
import { createSource, type Source, type SourceSink } from './sources.js';
import { AgentState } from './state.js';
import { Submitter, type MeterSigner } from './submitter.js';

/**
 * The edge agent: one process per meter or building, with its own SQLite file. Sources hand samples
 * to the ingestor, which writes them to the sample store in batches; closed slots are sealed into
 * readings in the spool; the submitter signs them with the meter's key and delivers them to the node,
 * retrying with backoff while the node is away. Everything the agent must not lose or repeat is in the
 * SQLite file, written before it acts on it, so a crash (even SIGKILL) at any point loses nothing and
 * submits nothing twice: the same samples give the same readings with the same sequence numbers.
 */

export interface AgentDeps {
  /** Signing key per configured meter id. */
  signers: ReadonlyMap<string, MeterSigner>;
  logger: Logger;
  /** The agent's clock (Unix ms); tests may pass their own. */
  now?: () => number;
}

export interface AgentSummary {
  delivered: number;
  /** Every parked reading: those the ledger refused and those kept private (`keptPrivate`). */
  parked: number;
  /** Parked unsent on purpose: their slots belong to a flex event (docs/flex.md), not a failure. */
  keptPrivate: number;
  pending: number;
}

const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Samples waiting in memory beyond this are written at once (a fast replay would otherwise pile up). */
const MAX_BATCH = 2_000;
/** Delivered keys kept for the status page: 35 days of slots. */
const DELIVERED_RETENTION_SLOTS = 35 * 96;

export class EdgeAgent {
  readonly db: Database.Database;
  readonly store: SampleStore;
  readonly spool: Spool;
  readonly state: AgentState;
  readonly ledger: LedgerLink;
  readonly reasons: ReasonLog;
  readonly ingestor: Ingestor;
  readonly sealer: Sealer;
  readonly submitter: Submitter;
  /** Commitments and proofs of demand-response events (undefined when config.flex.enabled is false). */
  readonly flex: FlexAutomation | undefined;
  readonly sources: Source[] = [];
  readonly startedAtMs: number;
  readonly version = AGENT_VERSION;
  /** Per meter: why it cannot submit yet (not registered, key mismatch, node unreachable at bootstrap). */
  readonly problems = new Map<string, LedgerError>();
  statusUrl: string | undefined;
  intakeUrl: string | undefined;
  private servers: FastifyInstance[] = [];
  private readonly now: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private running = true;
  private lastPruneMs = 0;
  private nextFlexMs = 0;
  private lastSummary: AgentSummary | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly replayMeters = new Map<string, Source[]>();
  private resolveDone!: (summary: AgentSummary) => void;
  /** With exitWhenDone: resolves when every replay ended and every reading is delivered or parked. */
  readonly done = new Promise<AgentSummary>((r) => (this.resolveDone = r));

  private constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.startedAtMs = this.now();
    mkdirSync(dirname(config.db), { recursive: true });
    this.db = openEdgeDatabase(config.db);
    this.store = new SampleStore(this.db);
    this.spool = new Spool(this.db, { backoffBaseMs: config.backoffBaseMs, backoffMaxMs: config.backoffMaxMs });
    this.state = new AgentState(this.db);
    this.ledger = new LedgerLink(config.node, (meterId) => deps.signers.get(meterId)?.signer);
    this.reasons = new ReasonLog(deps.logger);
    const meters = new Map(config.meters.map((m) => [m.id, m.maxPowerW !== undefined ? { maxPowerW: m.maxPowerW } : {}]));
    this.ingestor = new Ingestor({ store: this.store, state: this.state, reasons: this.reasons, logger: deps.logger, meters, onStored: (touched) => this.sealMeters(touched) });
    this.sealer = new Sealer({
      store: this.store,
      spool: this.spool,
      state: this.state,
      logger: deps.logger,
      maxGapMs: config.maxGapMs,
      closeAfterMs: config.closeAfterMs,
      communities: new Map(config.meters.map((m) => [m.id, m.community])),
    });
    this.submitter = new Submitter({
      spool: this.spool,
      state: this.state,
      ledger: this.ledger,
      logger: deps.logger,
      signers: deps.signers,
      ready: (meterId) => this.ready(meterId),
      expiresInBlocks: config.expiresInBlocks,
      pollMs: config.pollMs,
      privateSlot: (meterId, slot) => this.flex?.privateSlot(meterId, slot),
    });
    this.flex = config.flex.enabled
      ? new FlexAutomation({ node: config.node, store: this.store, signers: deps.signers, logger: deps.logger, closeAfterMs: config.closeAfterMs, sealedThrough: (meterId) => this.state.meter(meterId)?.sealedThrough ?? -1, expiresInBlocks: config.expiresInBlocks, maxProofsPerRound: config.flex.maxProofsPerRound, retryAfterMs: config.flex.retryAfterMs })
      : undefined;
  }

  /** Opens the store, starts the sources, the status server and the delivery loop. */
  static async start(config: AgentConfig, deps: AgentDeps): Promise<EdgeAgent> {
    for (const m of config.meters) if (!deps.signers.has(m.id)) throw E.EDGE_CONFIG_INVALID(`no signing key for meter ${m.id}`);
    if (config.exitWhenDone && config.sources.some((s) => s.kind !== 'file')) throw E.EDGE_CONFIG_INVALID('exitWhenDone needs every source to be a replay (file or stdin)');
    const agent = new EdgeAgent(config, deps);
    try {
      await agent.open();
    } catch (err) {
      await agent.stop();
      throw err;
    }
    return agent;
  }

  private async open(): Promise<void> {
    const servers = await startAgentServers(this);
    this.servers = servers.servers;
    this.statusUrl = servers.statusUrl;
    this.intakeUrl = servers.intakeUrl;
    const sink: SourceSink = {
      offer: (item) => this.offer(item),
      refuse: (code, message, nowMs, context) => this.ingestor.record(code, message, nowMs, context),
      now: this.now,
      logger: this.deps.logger,
    };
    this.config.sources.forEach((c, i) => {
      const source = createSource(c, i, sink);
      if (!source) return;
      this.sources.push(source);
      if (source.replay) {
        for (const m of source.meters) this.replayMeters.set(m, [...(this.replayMeters.get(m) ?? []), source]);
        void source.finished.then(() => this.replayEnded());
      }
    });
    this.timers.push(setInterval(() => this.safely('flush', () => this.ingestor.flush()), this.config.flushMs));
    this.timers.push(setInterval(() => this.safely('seal', () => this.sealAll()), Math.max(50, Math.min(1_000, Math.floor(this.config.closeAfterMs / 2)))));
    for (const t of this.timers) t.unref();
    this.loop = this.deliveryLoop();
    for (const s of this.sources) s.start();
    this.deps.logger.info({ meters: this.config.meters.map((m) => m.id), sources: this.sources.map((s) => s.name), status: this.statusUrl, intake: this.intakeUrl, node: this.config.node, db: this.config.db }, 'edge agent started');
  }

  /** Hands one sample to the ingestor (sources, HTTP intake). */
  offer(item: Incoming): OfferOutcome {
    const outcome = this.ingestor.offer(item);
    if (this.ingestor.queued >= MAX_BATCH) this.ingestor.flush();
    return outcome;
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  /** The address that signs the meter's readings. */
  addressOf(meterId: string): string {
    return this.deps.signers.get(meterId)?.address ?? '';
  }

  /** Whether the meter is bootstrapped and its key is the one the ledger expects. */
  ready(meterId: string): boolean {
    return this.state.meter(meterId) !== undefined && !this.problems.has(meterId);
  }

  private feedOf(meterId: string) {
    const replays = this.replayMeters.get(meterId);
    if (replays && replays.length > 0) return replays.every((s) => s.ended) ? ({ kind: 'ended' } as const) : ({ kind: 'replaying' } as const);
    // After a restart the silence is counted from the start, not from the last stored sample.
    return { kind: 'live', lastReceivedMs: this.ingestor.lastReceivedMs.get(meterId) ?? this.startedAtMs } as const;
  }

  private sealMeters(meters: Iterable<string>): void {
    const now = this.now();
    let queued = 0;
    for (const meterId of meters) {
      const meter = this.state.meter(meterId);
      if (!meter) continue; // bootstrapped later; its slots are sealed then
      const through = this.sealer.closedThrough(meterId, now, this.feedOf(meterId));
      if (through <= meter.sealedThrough) continue;
      this.ingestor.dropHeldUpTo(meterId, through, now);
      queued += this.sealer.seal(meterId, through, now).queued;
    }
    if (queued > 0) this.kick();
  }

  private sealAll(): void {
    this.ingestor.flush();
    this.sealMeters(this.config.meters.map((m) => m.id));
    this.pruneDelivered();
  }

  /**
   * Forgets delivered readings' keys long after their slots were sealed (sealed slots are never derived
   * again, so the keys only serve the status page): once an hour, everything older than 35 days.
   */
  private pruneDelivered(): void {
    const now = this.now();
    if (now - this.lastPruneMs < 3_600_000) return;
    this.lastPruneMs = now;
    for (const m of this.config.meters) {
      const sealed = this.state.meter(m.id)?.sealedThrough;
      if (sealed !== undefined && sealed >= 0) this.spool.pruneDelivered(m.id, sealed - DELIVERED_RETENTION_SLOTS);
    }
  }

  private replayEnded(): void {
    this.safely('seal', () => this.sealAll());
    this.kick();
  }

  /** Wakes the delivery loop (new readings queued). */
  private kick(): void {
    this.wake?.();
  }

  private async deliveryLoop(): Promise<void> {
    while (this.running) {
      await this.bootstrapMeters();
      // before readings go out: the flex round learns which slots must stay private
      await this.flexRound();
      let due = 0;
      try {
        due = await this.submitter.round(this.now());
      } catch (err) {
        this.deps.logger.error({ err: (err as Error).message }, 'delivery round failed');
      }
      if (this.checkDone()) return;
      if (!this.running) return;
      const next = this.spool.nextAttemptMs();
      const unready = this.config.meters.some((m) => !this.ready(m.id));
      const readingsWait = due > 0 || unready ? this.config.pollMs : next === undefined ? 60_000 : Math.max(0, Math.min(60_000, next - this.now()));
      const wait = this.flex ? Math.max(0, Math.min(readingsWait, this.nextFlexMs - this.now())) : readingsWait;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Every flex.pollMs: commitments and proofs of the ready meters' demand-response events (flex.ts). */
  private async flexRound(): Promise<void> {
    if (!this.flex || !this.running || this.now() < this.nextFlexMs) return;
    this.nextFlexMs = this.now() + this.config.flex.pollMs;
    try {
      await this.flex.round(this.config.meters.filter((m) => this.ready(m.id)).map((m) => m.id), this.now());
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'flex round failed; retried next round');
    }
  }

  /**
   * First contact with the ledger for each meter: registered? signed by our key? what does the ledger
   * already hold? (see readings.ts for what the agent does with it). Checked on every start; the record
   * is written once. Until a meter is ready its samples are stored and its slots wait unsealed.
   */
  private async bootstrapMeters(): Promise<void> {
    for (const m of this.config.meters) {
      const known = this.state.meter(m.id);
      if (known && !this.problems.has(m.id) && known.address === this.deps.signers.get(m.id)!.address) continue;
      try {
        await this.bootstrapMeter(m.id);
        if (this.problems.delete(m.id)) this.deps.logger.info({ meter: m.id }, 'meter ready: readings will be submitted');
        this.sealMeters([m.id]);
      } catch (err) {
        const e = err instanceof LedgerError ? err : E.EDGE_SUBMIT_FAILED(String(err));
        const before = this.problems.get(m.id);
        this.problems.set(m.id, e);
        if (before?.code !== e.code) this.deps.logger[isTransient(e) ? 'warn' : 'error']({ meter: m.id, code: e.code }, `meter not ready: ${e.message}`);
      }
    }
  }

  private async bootstrapMeter(meterId: string): Promise<void> {
    const signer = this.deps.signers.get(meterId)!;
    const onChain = await this.ledger.meter(meterId);
    if (!onChain) throw E.EDGE_METER_NOT_REGISTERED(`the ledger has no meter ${meterId}; register it (tx meter register, or tx community add-meter)`);
    if (onChain.address !== signer.address) throw E.EDGE_METER_KEY_MISMATCH(`meter ${meterId} signs with ${onChain.address} on the ledger, the configured key is ${signer.address}`);
    const known = this.state.meter(meterId);
    if (known) {
      if (known.address !== onChain.address) throw E.EDGE_METER_KEY_MISMATCH(`this store bootstrapped meter ${meterId} for ${known.address}, the ledger now says ${onChain.address}`);
      return;
    }
    const last = onChain.lastSlot !== undefined ? await this.ledger.readingAt(meterId, onChain.lastSlot) : undefined;
    const chainLast = last ? { slot: last.slot, seq: last.seq, importRegisterWh: last.importRegisterWh, exportRegisterWh: last.exportRegisterWh } : undefined;
    this.state.transaction(() =>
      this.state.bootstrap({
        meterId,
        address: onChain.address,
        maxPowerW: onChain.maxPowerW,
        ...(chainLast ? { chainLast } : {}),
        firstSlot: chainLast ? chainLast.slot + 1 : 0,
        seqBase: chainLast?.seq ?? 0,
        bootstrappedAtMs: this.now(),
      }),
    );
    this.deps.logger.info({ meter: meterId, chainLast: chainLast ?? null }, 'meter bootstrapped from the ledger');
  }

  private checkDone(): boolean {
    if (!this.config.exitWhenDone) return false;
    if (!this.sources.every((s) => s.ended)) return false;
    this.safely('seal', () => this.sealAll());
    if (this.ingestor.queued > 0) return false;
    for (const m of this.config.meters) {
      const state = this.state.meter(m.id);
      if (!state || this.problems.has(m.id)) return false;
      if (this.sealer.closedThrough(m.id, this.now(), { kind: 'ended' }) > state.sealedThrough) return false;
    }
    const depth = this.spool.depth();
    if (depth.pending > 0) return false;
    this.resolveDone(this.summary());
    return true;
  }

  /** Readings delivered, pending and parked (as of stop() once the agent stopped). */
  summary(): AgentSummary {
    if (!this.db.open) return this.lastSummary ?? { delivered: 0, parked: 0, keptPrivate: 0, pending: 0 };
    const depth = this.spool.depth();
    return { delivered: this.config.meters.reduce((n, m) => n + this.spool.deliveredCount(m.id), 0), parked: depth.parked, keptPrivate: this.spool.keptPrivateCount(), pending: depth.pending };
  }

  private safely(what: string, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      this.deps.logger.error({ err: (err as Error).message, stack: (err as Error).stack }, `${what} failed`);
    }
  }

  /** Stops the sources, writes what is queued, closes the servers and the store. */
  async stop(): Promise<void> {
    if (!this.running && this.db.open === false) return;
    this.running = false;
    this.kick();
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled(this.sources.map((s) => s.stop()));
    await this.loop?.catch(() => undefined);
    await Promise.allSettled(this.servers.map((s) => s.close()));
    if (this.db.open) {
      this.safely('flush', () => this.ingestor.flush());
      this.lastSummary = this.summary();
      this.db.close();
    }
  }
}
