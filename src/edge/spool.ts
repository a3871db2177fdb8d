import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../util/canonical.js';
import { EDGE_ERRORS as E } from './errors.js';
import { openEdgeDatabase } from './store.js';

/**
 * On-disk queue of signed readings waiting for the node, keyed by (meter, slot, seq). Every change is
 * one SQLite transaction (WAL, synchronous=FULL), so after a crash the queue is what it was after the
 * last completed call: nothing lost, nothing duplicated.
 *
 * - A reading leaves the queue only through confirm(): the node committed it, or answered that it is a
 *   duplicate (already committed, e.g. before a crash). Its key then stays as "delivered", so the same
 *   reading derived again after a restart is not queued a second time.
 * - A failed attempt (node unreachable, timeout) schedules the next one with exponential backoff:
 *   next = now + min(maxMs, baseMs × 2^(attempts − 1)). Time is data here: the caller passes its clock.
 * - A reading the node refused for good (a rule violation) is parked: kept, never retried automatically.
 * - One reading per meter and slot, one per meter and seq: a different reading under either is SPOOL_CONFLICT.
 */

export interface SpoolKey {
  meterId: string;
  slot: number;
  seq: number;
}

export type SpoolState = 'pending' | 'parked';

/** Reason prefix of a reading parked unsent because its slot is private (a flex commitment covers it). */
export const PRIVATE_PARK_REASON = 'FLEX_SLOT_PRIVATE:';

export interface SpoolEntry extends SpoolKey {
  /** The signed reading, opaque JSON. */
  payload: unknown;
  state: SpoolState;
  attempts: number;
  nextAttemptMs: number;
  enqueuedAtMs: number;
  lastError?: string;
}

export type EnqueueOutcome = 'queued' | 'already-queued' | 'already-delivered';
export type DeliveryOutcome = 'committed' | 'duplicate';

export interface SpoolOptions {
  /** Delay after the first failure (default 1 s). */
  backoffBaseMs?: number;
  /** Longest delay (default 10 minutes). */
  backoffMaxMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS edge_spool (
  meter TEXT NOT NULL,
  slot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'parked')),
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  enqueued_at_ms INTEGER NOT NULL,
  last_error TEXT,
  PRIMARY KEY (meter, slot)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS edge_spool_by_seq ON edge_spool (meter, seq);
CREATE INDEX IF NOT EXISTS edge_spool_due ON edge_spool (state, next_attempt_ms, meter, slot);
CREATE TABLE IF NOT EXISTS edge_spool_delivered (
  meter TEXT NOT NULL,
  slot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  payload_hash TEXT NOT NULL,
  outcome TEXT NOT NULL,
  delivered_at_ms INTEGER NOT NULL,
  PRIMARY KEY (meter, slot)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS edge_spool_delivered_by_seq ON edge_spool_delivered (meter, seq);
`;

interface Row {
  meter: string;
  slot: number;
  seq: number;
  payload: string;
  state: SpoolState;
  attempts: number;
  next_attempt_ms: number;
  enqueued_at_ms: number;
  last_error: string | null;
}

function fromRow(r: Row): SpoolEntry {
  const e: SpoolEntry = {
    meterId: r.meter,
    slot: r.slot,
    seq: r.seq,
    payload: JSON.parse(r.payload),
    state: r.state,
    attempts: r.attempts,
    nextAttemptMs: r.next_attempt_ms,
    enqueuedAtMs: r.enqueued_at_ms,
  };
  if (r.last_error !== null) e.lastError = r.last_error;
  return e;
}

function requireKey(k: SpoolKey): void {
  if (typeof k.meterId !== 'string' || k.meterId === '' || !Number.isSafeInteger(k.slot) || k.slot < 0 || !Number.isSafeInteger(k.seq) || k.seq < 0) {
    throw E.EDGE_BAD_OPTION(`spool key ${JSON.stringify(k)} is not {meterId, slot ≥ 0, seq ≥ 0}`);
  }
}

function requireTime(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw E.EDGE_BAD_OPTION(`time ${ms} is not a non-negative safe integer (ms)`);
}

function sameKey(a: { meter: string; slot: number; seq: number }, k: SpoolKey): boolean {
  return a.meter === k.meterId && a.slot === k.slot && a.seq === k.seq;
}

export class Spool {
  readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly stmts;

  constructor(pathOrDb: string | Database.Database, options: SpoolOptions = {}) {
    this.ownsDb = typeof pathOrDb === 'string';
    this.db = typeof pathOrDb === 'string' ? openEdgeDatabase(pathOrDb) : pathOrDb;
    this.baseMs = options.backoffBaseMs ?? 1000;
    this.maxMs = options.backoffMaxMs ?? 600_000;
    if (!Number.isSafeInteger(this.baseMs) || this.baseMs < 1 || !Number.isSafeInteger(this.maxMs) || this.maxMs < this.baseMs) {
      throw E.EDGE_BAD_OPTION('backoff needs 1 ≤ backoffBaseMs ≤ backoffMaxMs (integers, ms)');
    }
    this.db.exec(SCHEMA);
    this.stmts = {
      get: this.db.prepare<[string, number], Row>('SELECT * FROM edge_spool WHERE meter = ? AND slot = ?'),
      getBySeq: this.db.prepare<[string, number], Row>('SELECT * FROM edge_spool WHERE meter = ? AND seq = ?'),
      delivered: this.db.prepare<[string, number], { meter: string; slot: number; seq: number; payload_hash: string }>('SELECT meter, slot, seq, payload_hash FROM edge_spool_delivered WHERE meter = ? AND slot = ?'),
      deliveredBySeq: this.db.prepare<[string, number], { meter: string; slot: number; seq: number; payload_hash: string }>('SELECT meter, slot, seq, payload_hash FROM edge_spool_delivered WHERE meter = ? AND seq = ?'),
      insert: this.db.prepare("INSERT INTO edge_spool (meter, slot, seq, payload, state, attempts, next_attempt_ms, enqueued_at_ms, last_error) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, NULL)"),
      due: this.db.prepare<[number, number], Row>("SELECT * FROM edge_spool WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, meter, slot LIMIT ?"),
      failure: this.db.prepare('UPDATE edge_spool SET attempts = ?, next_attempt_ms = ?, last_error = ? WHERE meter = ? AND slot = ?'),
      setState: this.db.prepare('UPDATE edge_spool SET state = ?, next_attempt_ms = ?, last_error = ? WHERE meter = ? AND slot = ?'),
      remove: this.db.prepare('DELETE FROM edge_spool WHERE meter = ? AND slot = ?'),
      markDelivered: this.db.prepare('INSERT INTO edge_spool_delivered (meter, slot, seq, payload_hash, outcome, delivered_at_ms) VALUES (?, ?, ?, ?, ?, ?)'),
      depth: this.db.prepare<[], { state: SpoolState; n: number }>('SELECT state, COUNT(*) AS n FROM edge_spool GROUP BY state ORDER BY state'),
      keptPrivate: this.db.prepare<[string, string], { n: number }>("SELECT COUNT(*) AS n FROM edge_spool WHERE state = 'parked' AND substr(last_error, 1, length(?)) = ?"),
      nextDue: this.db.prepare<[], { t: number | null }>("SELECT MIN(next_attempt_ms) AS t FROM edge_spool WHERE state = 'pending'"),
      all: this.db.prepare<[], Row>('SELECT * FROM edge_spool ORDER BY meter, slot'),
      prune: this.db.prepare('DELETE FROM edge_spool_delivered WHERE meter = ? AND slot < ?'),
      postpone: this.db.prepare('UPDATE edge_spool SET next_attempt_ms = ? WHERE meter = ? AND slot = ?'),
      lastDelivered: this.db.prepare<[string], { slot: number; seq: number; outcome: DeliveryOutcome; delivered_at_ms: number }>(
        'SELECT slot, seq, outcome, delivered_at_ms FROM edge_spool_delivered WHERE meter = ? ORDER BY slot DESC LIMIT 1',
      ),
      deliveredCount: this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM edge_spool_delivered WHERE meter = ?'),
    };
  }

  close(): void {
    if (this.ownsDb) this.db.close();
  }

  /**
   * Queues a reading, due at once. Idempotent: the same key with the same payload again is
   * 'already-queued' (or 'already-delivered' once confirmed); anything else under the same meter and
   * slot, or meter and seq, is SPOOL_CONFLICT.
   */
  enqueue(key: SpoolKey, payload: unknown, nowMs: number): EnqueueOutcome {
    requireKey(key);
    requireTime(nowMs);
    const text = canonicalJson(payload);
    return this.db.transaction((): EnqueueOutcome => {
      const delivered = this.stmts.delivered.get(key.meterId, key.slot) ?? this.stmts.deliveredBySeq.get(key.meterId, key.seq);
      if (delivered) {
        if (sameKey(delivered, key) && delivered.payload_hash === payloadHash(text)) return 'already-delivered';
        throw E.SPOOL_CONFLICT(`meter ${key.meterId} already delivered slot ${delivered.slot} with seq ${delivered.seq} and a ${delivered.payload_hash === payloadHash(text) ? 'same' : 'different'} reading`);
      }
      const queued = this.stmts.get.get(key.meterId, key.slot) ?? this.stmts.getBySeq.get(key.meterId, key.seq);
      if (queued) {
        if (sameKey(queued, key) && queued.payload === text) return 'already-queued';
        throw E.SPOOL_CONFLICT(`meter ${key.meterId} has slot ${queued.slot} with seq ${queued.seq} queued with ${queued.payload === text ? 'the same' : 'a different'} reading`);
      }
      this.stmts.insert.run(key.meterId, key.slot, key.seq, text, nowMs, nowMs);
      return 'queued';
    })();
  }

  /** Pending readings due at `nowMs`, earliest first (then by meter and slot), at most `limit`. */
  due(nowMs: number, limit = 100): SpoolEntry[] {
    requireTime(nowMs);
    return this.stmts.due.all(nowMs, limit).map(fromRow);
  }

  /** When the next pending reading is due (undefined when none is pending): the agent may sleep until then. */
  nextAttemptMs(): number | undefined {
    return this.stmts.nextDue.get()!.t ?? undefined;
  }

  /** Backoff after `attempts` failed attempts. */
  backoffMs(attempts: number): number {
    if (attempts <= 0) return 0;
    // Doubling is capped long before 2^53: from 2^31 × base on, max applies anyway.
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempts - 1, 31));
  }

  /** A failed attempt (unreachable, timeout, 5xx): counts it and schedules the next one. */
  recordFailure(key: SpoolKey, nowMs: number, error: string): SpoolEntry {
    requireTime(nowMs);
    return this.db.transaction(() => {
      const row = this.require(key);
      const attempts = row.attempts + 1;
      this.stmts.failure.run(attempts, nowMs + this.backoffMs(attempts), error, key.meterId, key.slot);
      return fromRow(this.stmts.get.get(key.meterId, key.slot)!);
    })();
  }

  /** Looks at the entry again at `untilMs` without counting a failure (e.g. its transaction is still pending). */
  postpone(key: SpoolKey, untilMs: number): void {
    requireTime(untilMs);
    this.db.transaction(() => {
      this.require(key);
      this.stmts.postpone.run(untilMs, key.meterId, key.slot);
    })();
  }

  /** The meter's delivered reading with the highest slot (as remembered; see pruneDelivered). */
  lastDelivered(meterId: string): { slot: number; seq: number; outcome: DeliveryOutcome; deliveredAtMs: number } | undefined {
    const r = this.stmts.lastDelivered.get(meterId);
    return r ? { slot: r.slot, seq: r.seq, outcome: r.outcome, deliveredAtMs: r.delivered_at_ms } : undefined;
  }

  /** How many readings of the meter were delivered (as remembered). */
  deliveredCount(meterId: string): number {
    return this.stmts.deliveredCount.get(meterId)!.n;
  }

  /** The node refused the reading for good (a rule, not the network): keep it, stop retrying. */
  park(key: SpoolKey, nowMs: number, reason: string): void {
    requireTime(nowMs);
    this.db.transaction(() => {
      this.require(key);
      this.stmts.setState.run('parked', nowMs, reason, key.meterId, key.slot);
    })();
  }

  /** Puts a parked reading back in the queue, due at once (after an operator fixed the cause). */
  unpark(key: SpoolKey, nowMs: number): void {
    requireTime(nowMs);
    this.db.transaction(() => {
      const row = this.require(key);
      this.stmts.setState.run('pending', nowMs, row.last_error, key.meterId, key.slot);
    })();
  }

  /** The node committed the reading, or answered that it already has it: remove it, remember the key. */
  confirm(key: SpoolKey, outcome: DeliveryOutcome, nowMs: number): void {
    requireTime(nowMs);
    this.db.transaction(() => {
      const row = this.require(key);
      this.stmts.remove.run(key.meterId, key.slot);
      this.stmts.markDelivered.run(key.meterId, key.slot, key.seq, payloadHash(row.payload), outcome, nowMs);
    })();
  }

  /** Entries by state (pending and parked). */
  depth(): { pending: number; parked: number } {
    const out = { pending: 0, parked: 0 };
    for (const r of this.stmts.depth.all()) out[r.state] = r.n;
    return out;
  }

  /** Parked readings that were kept private on purpose (park reason `PRIVATE_PARK_REASON: …`), not refused. */
  keptPrivateCount(): number {
    return this.stmts.keptPrivate.get(PRIVATE_PARK_REASON, PRIVATE_PARK_REASON)!.n;
  }

  /** Every queued entry, by meter and slot. */
  entries(): SpoolEntry[] {
    return this.stmts.all.all().map(fromRow);
  }

  /** Forgets delivered keys of slots before `beforeSlot` (older than any slot the agent may derive again). */
  pruneDelivered(meterId: string, beforeSlot: number): number {
    return this.stmts.prune.run(meterId, beforeSlot).changes;
  }

  private require(key: SpoolKey): Row {
    requireKey(key);
    const row = this.stmts.get.get(key.meterId, key.slot);
    if (!row || row.seq !== key.seq) throw E.SPOOL_NOT_FOUND(`no spooled reading of meter ${key.meterId} for slot ${key.slot} with seq ${key.seq}`);
    return row;
  }
}

function payloadHash(canonicalText: string): string {
  return createHash('sha256').update(canonicalText).digest('hex');
}
