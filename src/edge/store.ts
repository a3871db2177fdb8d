import Database from 'better-sqlite3';
import { toHex } from '../util/bytes.js';
import { EDGE_ERRORS as E, type EdgeErrorCode } from './errors.js';
import { ZERO_FINGERPRINT, chainEmptySlots, nextLink, slotOfTimestamp, slotStart, type ChainedSample } from './fingerprint.js';
import { validateSample, type MeterSample } from './sample.js';

/**
 * The agent's off-chain sample store: one SQLite file (WAL, synchronous=FULL) for all meters of an
 * agent. Samples are append-only (triggers refuse UPDATE and DELETE, so a bug cannot rewrite history;
 * an attacker with the file can drop them, which is what the fingerprints on the ledger are for).
 *
 * Each sample gets the meter's next sequence number (1, 2, …), its slot floor(unixSeconds/900), its
 * register epoch and its chain link (see fingerprint.ts). The last link of a slot is the slot's
 * fingerprint.
 *
 * Refused (and counted, never stored): a second sample with a meter time already stored
 * (SAMPLE_DUPLICATE), a meter time before the latest one (SAMPLE_CLOCK_BACKWARDS), a jump forward
 * beyond `maxForwardJumpMs` (SAMPLE_CLOCK_JUMP), a meter time ahead of the caller's receive time by
 * more than `maxFutureSkewMs` (SAMPLE_IN_FUTURE). A register lower than in the previous sample is a
 * meter swap (or reset): the sample is stored and starts a new register epoch (docs/edge.md).
 */

export interface StoredSample extends ChainedSample {
  seq: number;
  slot: number;
  /** Chain link after this sample, 64 hex digits. */
  link: string;
}

export type RefusalCode = Extract<EdgeErrorCode, 'SAMPLE_DUPLICATE' | 'SAMPLE_CLOCK_BACKWARDS' | 'SAMPLE_CLOCK_JUMP' | 'SAMPLE_IN_FUTURE'>;

export type AppendOutcome =
  | { accepted: true; sample: StoredSample; epochStarted: boolean }
  | { accepted: false; code: RefusalCode; message: string };

export interface StoreCounters {
  appended: number;
  duplicates: number;
  clockBackwards: number;
  clockJumps: number;
  inFuture: number;
  /** New register epochs (meter swaps / register resets). */
  registerResets: number;
}

export interface StoreOptions {
  /** Largest accepted step forward of a meter's clock between two samples (default 400 days). */
  maxForwardJumpMs?: number;
  /** How far a meter time may be ahead of the receive time passed to append (default 5 minutes). */
  maxFutureSkewMs?: number;
}

export interface AppendOptions {
  /** The agent's clock when the sample arrived; enables the SAMPLE_IN_FUTURE check. */
  receivedAtMs?: number;
  /**
   * Samples (by index in the batch) that start a new register epoch even though no register went
   * down: the agent's register guard confirmed an impossible jump up (a swap to a meter with higher
   * registers). The jump then counts 0 Wh, like a swap downwards.
   */
  startsEpoch?: (index: number) => boolean;
}

/** Offsets that make an epoch's registers continue where the previous epoch ended (see docs/edge.md). */
export interface EpochOffsets {
  importOffsetWh: number;
  exportOffsetWh: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS edge_samples (
  meter TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  import_t1_wh INTEGER NOT NULL,
  import_t2_wh INTEGER NOT NULL,
  export_t1_wh INTEGER NOT NULL,
  export_t2_wh INTEGER NOT NULL,
  import_w INTEGER NOT NULL,
  export_w INTEGER NOT NULL,
  tariff INTEGER,
  raw_hash BLOB NOT NULL,
  link BLOB NOT NULL,
  PRIMARY KEY (meter, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS edge_samples_by_time ON edge_samples (meter, ts_ms);
CREATE INDEX IF NOT EXISTS edge_samples_by_slot ON edge_samples (meter, slot, seq);
CREATE TABLE IF NOT EXISTS edge_epochs (
  meter TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  import_offset_wh INTEGER NOT NULL,
  export_offset_wh INTEGER NOT NULL,
  PRIMARY KEY (meter, epoch)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS edge_samples_no_update BEFORE UPDATE ON edge_samples BEGIN SELECT RAISE(ABORT, 'edge samples are append-only'); END;
CREATE TRIGGER IF NOT EXISTS edge_samples_no_delete BEFORE DELETE ON edge_samples BEGIN SELECT RAISE(ABORT, 'edge samples are append-only'); END;
`;

interface SampleRow {
  meter: string;
  seq: number;
  ts_ms: number;
  slot: number;
  epoch: number;
  import_t1_wh: number;
  import_t2_wh: number;
  export_t1_wh: number;
  export_t2_wh: number;
  import_w: number;
  export_w: number;
  tariff: number | null;
  raw_hash: Buffer;
  link: Buffer;
}

const COLUMNS = 'meter, seq, ts_ms, slot, epoch, import_t1_wh, import_t2_wh, export_t1_wh, export_t2_wh, import_w, export_w, tariff, raw_hash, link';

function fromRow(r: SampleRow): StoredSample {
  const s: StoredSample = {
    meterId: r.meter,
    seq: r.seq,
    timestampMs: r.ts_ms,
    slot: r.slot,
    epoch: r.epoch,
    importT1Wh: r.import_t1_wh,
    importT2Wh: r.import_t2_wh,
    exportT1Wh: r.export_t1_wh,
    exportT2Wh: r.export_t2_wh,
    importPowerW: r.import_w,
    exportPowerW: r.export_w,
    rawHash: r.raw_hash.toString('hex'),
    link: r.link.toString('hex'),
  };
  if (r.tariff !== null) s.tariff = r.tariff;
  return s;
}

/** Opens a better-sqlite3 database at `path` with the durability the edge needs (WAL, synchronous=FULL). */
export function openEdgeDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

export const importTotalWh = (s: MeterSample): number => s.importT1Wh + s.importT2Wh;
export const exportTotalWh = (s: MeterSample): number => s.exportT1Wh + s.exportT2Wh;

function registersDecreased(prev: MeterSample, next: MeterSample): boolean {
  return next.importT1Wh < prev.importT1Wh || next.importT2Wh < prev.importT2Wh || next.exportT1Wh < prev.exportT1Wh || next.exportT2Wh < prev.exportT2Wh;
}

interface MeterHead {
  last: StoredSample;
  offsets: EpochOffsets;
}

export class SampleStore {
  readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly maxForwardJumpMs: number;
  private readonly maxFutureSkewMs: number;
  private readonly heads = new Map<string, MeterHead>();
  private readonly stats: StoreCounters = { appended: 0, duplicates: 0, clockBackwards: 0, clockJumps: 0, inFuture: 0, registerResets: 0 };
  private readonly stmts;

  /** Opens (creating if needed) the store in the file at `path`, or in an already opened database. */
  constructor(pathOrDb: string | Database.Database, options: StoreOptions = {}) {
    this.ownsDb = typeof pathOrDb === 'string';
    this.db = typeof pathOrDb === 'string' ? openEdgeDatabase(pathOrDb) : pathOrDb;
    this.maxForwardJumpMs = options.maxForwardJumpMs ?? 400 * 86_400_000;
    this.maxFutureSkewMs = options.maxFutureSkewMs ?? 300_000;
    for (const [name, v] of [['maxForwardJumpMs', this.maxForwardJumpMs], ['maxFutureSkewMs', this.maxFutureSkewMs]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw E.EDGE_BAD_OPTION(`${name} must be a non-negative safe integer`);
    }
    this.db.exec(SCHEMA);
    this.stmts = {
      insert: this.db.prepare(`INSERT INTO edge_samples (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertEpoch: this.db.prepare('INSERT INTO edge_epochs (meter, epoch, first_seq, import_offset_wh, export_offset_wh) VALUES (?, ?, ?, ?, ?)'),
      last: this.db.prepare<[string], SampleRow>(`SELECT ${COLUMNS} FROM edge_samples WHERE meter = ? ORDER BY seq DESC LIMIT 1`),
      bySeq: this.db.prepare<[string, number], SampleRow>(`SELECT ${COLUMNS} FROM edge_samples WHERE meter = ? AND seq = ?`),
      byTime: this.db.prepare<[string, number], { seq: number }>('SELECT seq FROM edge_samples WHERE meter = ? AND ts_ms = ?'),
      // INDEXED BY: without statistics SQLite would scan the meter's whole primary key to return rows in seq order.
      inSlots: this.db.prepare<[string, number, number], SampleRow>(`SELECT ${COLUMNS} FROM edge_samples INDEXED BY edge_samples_by_slot WHERE meter = ? AND slot >= ? AND slot <= ? ORDER BY slot, seq`),
      before: this.db.prepare<[string, number], SampleRow>(`SELECT ${COLUMNS} FROM edge_samples INDEXED BY edge_samples_by_slot WHERE meter = ? AND slot < ? ORDER BY slot DESC, seq DESC LIMIT 1`),
      slots: this.db.prepare<[string, number, number], { slot: number }>('SELECT DISTINCT slot FROM edge_samples WHERE meter = ? AND slot >= ? AND slot <= ? ORDER BY slot'),
      epoch: this.db.prepare<[string, number], { import_offset_wh: number; export_offset_wh: number }>('SELECT import_offset_wh, export_offset_wh FROM edge_epochs WHERE meter = ? AND epoch = ?'),
      meters: this.db.prepare<[], { meter: string }>('SELECT DISTINCT meter FROM edge_samples ORDER BY meter'),
      count: this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM edge_samples WHERE meter = ?'),
    };
  }

  close(): void {
    if (this.ownsDb) this.db.close();
  }

  counters(): StoreCounters {
    return { ...this.stats };
  }

  /** Appends one sample (one SQLite transaction, fsynced). */
  append(sample: MeterSample, options: AppendOptions = {}): AppendOutcome {
    return this.appendBatch([sample], options)[0]!;
  }

  /**
   * Appends samples in order in one SQLite transaction (one fsync for all): how an agent serving many
   * meters keeps up. Outcomes are per sample; a refused sample does not affect the others. Invalid
   * samples (SAMPLE_INVALID) throw before anything is written.
   */
  appendBatch(samples: MeterSample[], options: AppendOptions = {}): AppendOutcome[] {
    for (const s of samples) validateSample(s);
    const pending = new Map<string, MeterHead>();
    const delta: StoreCounters = { appended: 0, duplicates: 0, clockBackwards: 0, clockJumps: 0, inFuture: 0, registerResets: 0 };
    const outcomes = this.db.transaction(() => samples.map((s, i) => this.appendOne(s, options, options.startsEpoch?.(i) === true, pending, delta)))();
    // Only after the commit: the in-memory heads and counters never run ahead of the file.
    for (const [meter, head] of pending) this.heads.set(meter, head);
    for (const k of Object.keys(delta) as (keyof StoreCounters)[]) this.stats[k] += delta[k];
    return outcomes;
  }

  private appendOne(sample: MeterSample, options: AppendOptions, forceEpoch: boolean, pending: Map<string, MeterHead>, delta: StoreCounters): AppendOutcome {
    const head = pending.get(sample.meterId) ?? this.head(sample.meterId);
    const refusal = this.refusalAfter(sample, head?.last, options);
    if (refusal) {
      const counter = ({ SAMPLE_DUPLICATE: 'duplicates', SAMPLE_CLOCK_BACKWARDS: 'clockBackwards', SAMPLE_CLOCK_JUMP: 'clockJumps', SAMPLE_IN_FUTURE: 'inFuture' } as const)[refusal.code];
      delta[counter]++;
      return { accepted: false, ...refusal };
    }
    const slot = slotOfTimestamp(sample.timestampMs);
    const last = head?.last;
    const epochStarted = last !== undefined && (forceEpoch || registersDecreased(last, sample));
    const epoch = last === undefined ? 0 : last.epoch + (epochStarted ? 1 : 0);
    const seq = last === undefined ? 1 : last.seq + 1;
    let offsets = head?.offsets ?? { importOffsetWh: 0, exportOffsetWh: 0 };
    if (last === undefined || epochStarted) {
      offsets = last === undefined ? offsets : continuingOffsets(last, offsets, sample);
      this.stmts.insertEpoch.run(sample.meterId, epoch, seq, offsets.importOffsetWh, offsets.exportOffsetWh);
    }
    const chained: ChainedSample = { ...sample, epoch };
    const link = nextLink(this.previousLink(sample.meterId, slot, last), chained);
    const stored: StoredSample = { ...chained, seq, slot, link: toHex(link) };
    this.stmts.insert.run(
      sample.meterId, seq, sample.timestampMs, slot, epoch,
      sample.importT1Wh, sample.importT2Wh, sample.exportT1Wh, sample.exportT2Wh,
      sample.importPowerW, sample.exportPowerW, sample.tariff ?? null,
      Buffer.from(sample.rawHash, 'hex'), Buffer.from(link),
    );
    pending.set(sample.meterId, { last: stored, offsets });
    delta.appended++;
    if (epochStarted) delta.registerResets++;
    return { accepted: true, sample: stored, epochStarted };
  }

  /**
   * Why the store would refuse `sample` if `last` were the meter's latest sample (undefined: it would
   * accept it). The agent asks before it decides about samples still in its batch.
   */
  refusalAfter(sample: MeterSample, last: MeterSample | undefined, options: AppendOptions = {}): { code: RefusalCode; message: string } | undefined {
    const ts = sample.timestampMs;
    if (options.receivedAtMs !== undefined && ts > options.receivedAtMs + this.maxFutureSkewMs) {
      return { code: 'SAMPLE_IN_FUTURE', message: `meter time ${ts} is ${ts - options.receivedAtMs} ms ahead of the receive time` };
    }
    if (last === undefined) return undefined;
    if (ts === last.timestampMs || (ts < last.timestampMs && this.stmts.byTime.get(sample.meterId, ts))) {
      return { code: 'SAMPLE_DUPLICATE', message: `meter ${sample.meterId} already has a sample at ${ts}` };
    }
    if (ts < last.timestampMs) return { code: 'SAMPLE_CLOCK_BACKWARDS', message: `meter time ${ts} is before the latest sample's ${last.timestampMs}` };
    if (ts - last.timestampMs > this.maxForwardJumpMs) {
      return { code: 'SAMPLE_CLOCK_JUMP', message: `meter time ${ts} is ${ts - last.timestampMs} ms after the latest sample (limit ${this.maxForwardJumpMs})` };
    }
    return undefined;
  }

  /** The link a new sample in `slot` chains from: the previous sample's link, or the slot's start. */
  private previousLink(meterId: string, slot: number, last: StoredSample | undefined): Uint8Array {
    if (last === undefined) return slotStart(meterId, slot, ZERO_FINGERPRINT);
    const lastLink = Buffer.from(last.link, 'hex');
    if (slot === last.slot) return lastLink;
    return slotStart(meterId, slot, chainEmptySlots(meterId, lastLink, last.slot, slot));
  }

  private head(meterId: string): MeterHead | undefined {
    const cached = this.heads.get(meterId);
    if (cached) return cached;
    const row = this.stmts.last.get(meterId);
    if (!row) return undefined;
    const last = fromRow(row);
    const head = { last, offsets: this.epochOffsets(meterId, last.epoch) };
    this.heads.set(meterId, head);
    return head;
  }

  // ---- reads ----

  latest(meterId: string): StoredSample | undefined {
    const row = this.stmts.last.get(meterId);
    return row ? fromRow(row) : undefined;
  }

  sampleBySeq(meterId: string, seq: number): StoredSample | undefined {
    const row = this.stmts.bySeq.get(meterId, seq);
    return row ? fromRow(row) : undefined;
  }

  /** The samples of a slot in sequence order. */
  samplesInSlot(meterId: string, slot: number): StoredSample[] {
    return this.stmts.inSlots.all(meterId, slot, slot).map(fromRow);
  }

  /** The samples of slots fromSlot…toSlot, by slot and then sequence number. */
  samplesInSlots(meterId: string, fromSlot: number, toSlot: number): StoredSample[] {
    return this.stmts.inSlots.all(meterId, fromSlot, toSlot).map(fromRow);
  }

  /** The last sample of the meter in a slot before `slot` (the baseline of `slot`'s energy). */
  lastSampleBefore(meterId: string, slot: number): StoredSample | undefined {
    const row = this.stmts.before.get(meterId, slot);
    return row ? fromRow(row) : undefined;
  }

  /** Slots in [from, to] holding at least one sample of the meter, ascending. */
  slotsWithSamples(meterId: string, fromSlot: number, toSlot: number): number[] {
    return this.stmts.slots.all(meterId, fromSlot, toSlot).map((r) => r.slot);
  }

  epochOffsets(meterId: string, epoch: number): EpochOffsets {
    const row = this.stmts.epoch.get(meterId, epoch);
    return row ? { importOffsetWh: row.import_offset_wh, exportOffsetWh: row.export_offset_wh } : { importOffsetWh: 0, exportOffsetWh: 0 };
  }

  meters(): string[] {
    return this.stmts.meters.all().map((r) => r.meter);
  }

  sampleCount(meterId: string): number {
    return this.stmts.count.get(meterId)!.n;
  }
}

/**
 * Offsets of a new epoch: the continuous register (raw + offset) of its first sample equals the one of
 * the previous epoch's last sample, so the swap itself contributes 0 Wh and the continuous registers
 * never go backwards.
 */
function continuingOffsets(last: MeterSample, lastOffsets: EpochOffsets, first: MeterSample): EpochOffsets {
  return {
    importOffsetWh: importTotalWh(last) + lastOffsets.importOffsetWh - importTotalWh(first),
    exportOffsetWh: exportTotalWh(last) + lastOffsets.exportOffsetWh - exportTotalWh(first),
  };
}
