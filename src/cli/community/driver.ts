import { coreRoutes } from '../../api/routes.js';
import type { Msg, SignedTx } from '../../codec/tx.js';
import { wholeCommunity } from '../../modules/energy/routes.js';
import { meteringRoutes } from '../../modules/metering/routes.js';
import { communityRefSchema, meterIdSchema } from '../../modules/metering/keeper.js';
import { registryRoutes } from '../../modules/registry/routes.js';
import { LedgerError } from '../../util/errors.js';
import { slotOfMs, slotStartMs } from '../../util/slots.js';
import { CommunitySimulation, type Scenario, type SlotResult } from '../../../sim/community/index.js';
import { loginWith } from '../session.js';
import { SIMULATE_ERRORS as E } from './errors.js';
import { membersOf, SOLAR_LABEL, type SimAccount, type SimMember } from './identities.js';
import { Submitter, type TxOutcome } from './submitter.js';

/**
 * The driver behind `gridledger simulate`: puts a scenario's community on a running ledger through
 * its HTTP API (create what is missing, then per slot: each meter signs its reading, sellers
 * transfer the energy the simulation moved inside the community), backfilling the days asked for
 * within the reading window and then, with `follow`, each slot as it ends. The models are the pure
 * ones of sim/community; everything submitted is integer Wh.
 */

export const SLOTS_PER_DAY = 96;
/** Slots per backfill step: one transaction of readings per meter and step (≤ 64 messages each). */
export const DEFAULT_CHUNK_SLOTS = 32;
/** A slot is read this long after it ended, so the block that carries the reading is surely later. */
const READ_DELAY_MS = 10_000;
/** Slots kept clear of the reading window's oldest edge, so a long backfill does not fall out of it. */
const WINDOW_MARGIN_SLOTS = 8;
const DEFAULT_READING_WINDOW = 672;
/** Setup queries in flight at once (a community of 1,000 asks about 3,000 of them). */
const QUERY_CONCURRENCY = 16;

/** Runs `fn` over the items with at most `limit` at a time; results in item order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface SimulateOptions {
  url: string;
  scenario: Scenario;
  /** Signs the setup (admissions, community, traders, meters) and owns the community: an operator key. */
  operator: SimAccount;
  /** Secret the member keys are derived from (identities.ts). */
  secret: Uint8Array;
  /** Days of past slots to backfill, counted back from the last ended slot. */
  days: number;
  follow?: boolean;
  chunkSlots?: number;
  signal?: AbortSignal;
  now?: () => number;
  onProgress?: (p: SimulateProgress) => void;
  /** How long a submitted transaction may take to commit. */
  commitDeadlineMs?: number;
}

export interface SimulateProgress {
  phase: 'setup' | 'backfill' | 'follow';
  slotsDone: number;
  slotsTotal: number;
  lastSlot: number | null;
  readingsAccepted: number;
  transfersAccepted: number;
}

export interface SimulateSummary {
  community: string;
  members: Array<{ id: string; kind: 'household' | 'plant'; trader: string; meter: string; meterId: string }>;
  created: { accounts: number; community: boolean; traders: number; meters: number };
  fromSlot: number | null;
  toSlot: number | null;
  slots: number;
  readings: { submitted: number; accepted: number };
  transfers: { submitted: number; accepted: number };
  /** Transactions submitted (setup excluded). */
  transactions: number;
  wh: { import: number; export: number; internal: number };
  rejected: Record<string, number>;
  firstRejections: string[];
  seconds: number;
  readingsPerSecond: number;
}

interface MeterCursor {
  /** Last slot the ledger has a reading for (readings up to it are skipped). */
  lastSlot: number | null;
  importRegisterWh: number;
  exportRegisterWh: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

function msg(type: string, value: unknown): Msg {
  return { type, value };
}

/** The scenario's ids must also be ledger ids: a lowercase community id and meter ids of ≤ 64 characters. */
export function checkLedgerIds(scenario: Scenario, members: SimMember[]): void {
  if (!communityRefSchema.safeParse(scenario.community.id).success) {
    throw E.SIMULATE_SCENARIO_UNFIT(`community id ${JSON.stringify(scenario.community.id)} is not a ledger community id (1–32 of a–z 0–9 -, starting with a letter or digit)`);
  }
  for (const m of members) {
    if (!meterIdSchema.safeParse(m.meterId).success) throw E.SIMULATE_SCENARIO_UNFIT(`meter id ${m.meterId} (community id + "." + member id) is longer than 64 characters or not a meter id`);
  }
}

export class CommunityDriver {
  readonly members: SimMember[];
  readonly #byId = new Map<string, SimMember>();
  readonly #api: Submitter;
  readonly #cursors = new Map<string, MeterCursor>();
  readonly #summary: SimulateSummary;
  readonly #community: string;
  readonly #started = Date.now();
  /** One simulation for the whole run: batteries carry their charge from one range to the next. */
  readonly #sim: CommunitySimulation;
  #phase: SimulateProgress['phase'] = 'setup';
  /** Called once the backfill is done (before following), with the summary so far. */
  onBackfilled?: (summary: SimulateSummary) => void;
  #slotsDone = 0;
  #slotsTotal = 0;

  constructor(readonly options: SimulateOptions) {
    this.members = membersOf(options.scenario, options.secret);
    checkLedgerIds(options.scenario, this.members);
    for (const m of this.members) this.#byId.set(m.id, m);
    this.#api = new Submitter(options.url, options.commitDeadlineMs);
    this.#community = options.scenario.community.id;
    this.#sim = new CommunitySimulation(options.scenario);
    this.#summary = {
      community: this.#community,
      members: this.members.map((m) => ({ id: m.id, kind: m.kind, trader: m.trader.address, meter: m.meter.address, meterId: m.meterId })),
      created: { accounts: 0, community: false, traders: 0, meters: 0 },
      fromSlot: null,
      toSlot: null,
      slots: 0,
      readings: { submitted: 0, accepted: 0 },
      transfers: { submitted: 0, accepted: 0 },
      transactions: 0,
      wh: { import: 0, export: 0, internal: 0 },
      rejected: {},
      firstRejections: [],
      seconds: 0,
      readingsPerSecond: 0,
    };
  }

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Runs setup, the backfill and (with follow) real time until the signal aborts; answers the summary. */
  async run(): Promise<SimulateSummary> {
    await this.setup();
    const window = await this.#readingWindow();
    const range = this.#backfillRange(window);
    this.#phase = 'backfill';
    if (range) {
      this.#slotsTotal = range.to - range.from;
      this.#progress();
      await this.#simulate(range.from, range.to);
    }
    let next = range?.to ?? this.#lastEndedSlot() + 1;
    this.onBackfilled?.(this.summary());
    if (this.options.follow) {
      this.#phase = 'follow';
      while (!this.options.signal?.aborted) {
        const lastEnded = this.#lastEndedSlot();
        if (lastEnded >= next) {
          this.#slotsTotal += lastEnded + 1 - next;
          await this.#simulate(next, lastEnded + 1);
          next = lastEnded + 1;
          continue;
        }
        await sleep(slotStartMs(next + 1) + READ_DELAY_MS - this.#now(), this.options.signal);
      }
    }
    return this.summary();
  }

  summary(): SimulateSummary {
    const seconds = (Date.now() - this.#started) / 1000;
    return { ...this.#summary, seconds, readingsPerSecond: seconds > 0 ? this.#summary.readings.accepted / seconds : 0 };
  }

  #lastEndedSlot(): number {
    return slotOfMs(this.#now() - READ_DELAY_MS) - 1;
  }

  async #readingWindow(): Promise<number> {
    const { modules } = await this.#api.call(coreRoutes.modules, {});
    const params = modules.find((m) => m.name === 'metering')?.params as { readingWindowSlots?: number } | undefined;
    return params?.readingWindowSlots ?? DEFAULT_READING_WINDOW;
  }

  /** [from, to) of the backfill: the last `days` days of ended slots, inside the reading window, after the scenario start and what the ledger already has. */
  #backfillRange(window: number): { from: number; to: number } | null {
    const to = this.#lastEndedSlot() + 1;
    const wanted = to - Math.round(this.options.days * SLOTS_PER_DAY);
    const oldest = slotOfMs(this.#now()) - window + WINDOW_MARGIN_SLOTS;
    const origin = this.#sim.originSlot ?? 0;
    const requested = Math.max(wanted, oldest, origin);
    if (requested >= to && this.options.days > 0) {
      throw E.SIMULATE_NOTHING_TO_DO(`the last ${this.options.days} day(s) before slot ${to} lie outside the reading window (oldest slot ${oldest}) or before the scenario start (slot ${origin})`);
    }
    const cursors = [...this.#cursors.values()];
    const resume = cursors.every((c) => c.lastSlot !== null) ? Math.min(...cursors.map((c) => c.lastSlot!)) + 1 : 0;
    const from = Math.max(requested, resume);
    return from < to ? { from, to } : null;
  }

  // ── setup ──

  /** Creates whatever of the community is missing (idempotent) and reads where each meter's readings stand. */
  async setup(): Promise<void> {
    this.#progress();
    const { scenario, operator } = this.options;
    const msgs: Msg[] = [];
    const accounts = this.members.flatMap((m) => [{ account: m.trader, roles: m.traderRoles }, { account: m.meter, roles: ['meter'] }]);
    const states = await mapLimit(accounts, QUERY_CONCURRENCY, ({ account }) => this.#api.call(registryRoutes.getAccount, { params: { address: account.address } }));
    accounts.forEach(({ account, roles }, i) => {
      if (!states[i]!.admitted || states[i]!.revoked) {
        msgs.push(msg('registry/admit', { address: account.address, roles }));
        this.#summary.created.accounts++;
      }
    });
    const existing = await this.#community_();
    if (existing && (existing.community.owner !== operator.address || existing.community.timezone !== scenario.community.timezone)) {
      throw E.SIMULATE_COMMUNITY_NOT_OWNED(
        `community ${this.#community} exists with owner ${existing.community.owner} and time zone ${existing.community.timezone}; the simulation signs as ${operator.address} in ${scenario.community.timezone}`,
      );
    }
    if (!existing) {
      msgs.push(msg('energy/create-community', { id: this.#community, name: scenario.community.name.slice(0, 64), timezone: scenario.community.timezone }));
      this.#summary.created.community = true;
    }
    const traders = new Set(existing?.traders.filter((t) => t.status === 'active').map((t) => t.address) ?? []);
    const linked = new Set(existing?.meters.filter((m) => m.links.some((l) => l.community === this.#community && l.trader !== null)).map((m) => m.meterId) ?? []);
    for (const m of this.members) {
      if (!traders.has(m.trader.address)) {
        msgs.push(msg('energy/add-trader', { community: this.#community, address: m.trader.address }));
        this.#summary.created.traders++;
      }
    }
    for (const m of this.members) {
      if (linked.has(m.meterId)) continue;
      msgs.push(
        msg('energy/add-meter', {
          community: this.#community,
          meterId: m.meterId,
          kind: m.meterKind,
          trader: m.trader.address,
          ...(m.labels.length > 0 ? { labels: m.labels } : {}),
          address: m.meter.address,
          maxPowerW: m.maxPowerW,
        }),
      );
      this.#summary.created.meters++;
    }
    if (msgs.length > 0) {
      const outcomes = await this.#api.submitAndWait(await this.#api.sign(operator, msgs));
      const failed = outcomes.find((o) => o.code !== 'OK');
      if (failed) throw E.SIMULATE_SETUP_FAILED(`setting up community ${this.#community} failed: ${failed.code}: ${failed.message}`);
    }
    await this.#readCursors();
  }

  async #community_() {
    try {
      return await wholeCommunity((route, input) => this.#api.call(route, input), this.#community);
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'ENERGY_COMMUNITY_NOT_FOUND') return null;
      throw err;
    }
  }

  /** Each meter's last reading on the ledger (its registers continue from there), read as the meter itself. */
  async #readCursors(): Promise<void> {
    await mapLimit(this.members, QUERY_CONCURRENCY, async (m) => {
      const { meter } = await this.#api.call(meteringRoutes.getMeter, { params: { meterId: m.meterId } });
      const cursor: MeterCursor = { lastSlot: meter.lastSlot ?? null, importRegisterWh: 0, exportRegisterWh: 0 };
      if (meter.lastSlot !== undefined) {
        const { token } = await loginWith(this.options.url, m.meter.signer);
        const { readings } = await this.#api.call(meteringRoutes.listReadings, { params: { meterId: m.meterId }, query: { slot: String(meter.lastSlot) } }, token);
        const last = readings.at(-1);
        if (last) Object.assign(cursor, { importRegisterWh: last.importRegisterWh, exportRegisterWh: last.exportRegisterWh });
      }
      this.#cursors.set(m.id, cursor);
    });
  }

  // ── slots ──

  /** Simulates [from, to) chunk by chunk: a chunk's readings go with the previous chunk's transfers. */
  async #simulate(from: number, to: number): Promise<void> {
    this.#summary.fromSlot ??= from;
    const chunk = this.options.chunkSlots ?? DEFAULT_CHUNK_SLOTS;
    let transfers: SlotResult[] = [];
    for (let a = from; a < to; a += chunk) {
      if (this.options.signal?.aborted && this.#phase === 'follow') break;
      const results = [...this.#sim.run(a, Math.min(to, a + chunk))];
      const txs = [...(await this.#transferTxs(transfers)), ...(await this.#readingTxs(results))];
      this.#account(await this.#api.submitAndWait(txs));
      transfers = results;
      this.#summary.slots += results.length;
      this.#summary.toSlot = results.at(-1)!.slot + 1;
      this.#slotsDone += results.length;
      this.#progress();
    }
    this.#account(await this.#api.submitAndWait(await this.#transferTxs(transfers)));
    this.#progress();
  }

  async #readingTxs(results: SlotResult[]): Promise<SignedTx[]> {
    const perMeter = new Map<string, Msg[]>();
    for (const r of results) {
      r.meters.forEach((view) => {
        const m = this.#byId.get(view.member)!;
        const cursor = this.#cursors.get(m.id)!;
        if (cursor.lastSlot !== null && r.slot <= cursor.lastSlot) return;
        cursor.importRegisterWh += view.importWh;
        cursor.exportRegisterWh += view.exportWh;
        cursor.lastSlot = r.slot;
        const list = perMeter.get(m.id) ?? [];
        list.push(
          msg('metering/reading', {
            meterId: m.meterId,
            community: this.#community,
            slot: r.slot,
            importWh: view.importWh,
            exportWh: view.exportWh,
            importRegisterWh: cursor.importRegisterWh,
            exportRegisterWh: cursor.exportRegisterWh,
            // The slot is a sequence number that rises with the slot and survives restarts.
            seq: r.slot,
          }),
        );
        perMeter.set(m.id, list);
      });
    }
    const txs: SignedTx[] = [];
    for (const [id, msgs] of perMeter) txs.push(...(await this.#api.sign(this.#byId.get(id)!.meter, msgs)));
    return txs;
  }

  async #transferTxs(results: SlotResult[]): Promise<SignedTx[]> {
    const perSeller = new Map<string, Msg[]>();
    for (const r of results) {
      for (const t of r.trades) {
        if (t.wh <= 0) continue;
        const list = perSeller.get(t.from) ?? [];
        list.push(msg('energy/transfer', { community: this.#community, to: this.#byId.get(t.to)!.trader.address, slot: r.slot, labels: [SOLAR_LABEL], wh: t.wh }));
        perSeller.set(t.from, list);
      }
    }
    const txs: SignedTx[] = [];
    for (const [id, msgs] of perSeller) txs.push(...(await this.#api.sign(this.#byId.get(id)!.trader, msgs)));
    return txs;
  }

  #account(outcomes: TxOutcome[]): void {
    const s = this.#summary;
    s.transactions += outcomes.length;
    for (const o of outcomes) {
      for (const m of o.msgs) {
        const v = m.value as { importWh?: number; exportWh?: number; wh?: number };
        const reading = m.type === 'metering/reading';
        (reading ? s.readings : s.transfers).submitted++;
        if (o.code === 'OK') {
          (reading ? s.readings : s.transfers).accepted++;
          if (reading) {
            s.wh.import += v.importWh!;
            s.wh.export += v.exportWh!;
          } else s.wh.internal += v.wh!;
        } else {
          s.rejected[o.code] = (s.rejected[o.code] ?? 0) + 1;
        }
      }
      if (o.code !== 'OK' && s.firstRejections.length < 5) s.firstRejections.push(`${o.code}: ${o.message}`);
    }
  }

  #progress(): void {
    this.options.onProgress?.({
      phase: this.#phase,
      slotsDone: this.#slotsDone,
      slotsTotal: this.#slotsTotal,
      lastSlot: this.#summary.toSlot === null ? null : this.#summary.toSlot - 1,
      readingsAccepted: this.#summary.readings.accepted,
      transfersAccepted: this.#summary.transfers.accepted,
    });
  }
}

/** `gridledger simulate` in one call. */
export function simulateCommunity(options: SimulateOptions): Promise<SimulateSummary> {
  return new CommunityDriver(options).run();
}
