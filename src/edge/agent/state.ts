import type Database from 'better-sqlite3';

/**
 * The agent's own bookkeeping, in the same SQLite file as the samples and the spool (so one
 * transaction can seal a slot and queue its reading):
 *
 *   edge_agent_meters    per meter: what the ledger held when the agent first met it (bootstrap),
 *                        the register offsets and sequence base fixed by the first reading, and the
 *                        last sealed slot (readings derived up to here; later samples for it are refused).
 *   edge_agent_inflight  per queued reading: the transaction last sent for it (hash, nonce, expiry),
 *                        written before it is sent, so after a crash the agent asks the node about it
 *                        instead of guessing.
 */

export interface MeterState {
  meterId: string;
  address: string;
  maxPowerW: number;
  /** The ledger's latest reading of the meter when the agent bootstrapped (none for a new meter). */
  chainLast?: { slot: number; seq: number; importRegisterWh: number; exportRegisterWh: number };
  /** Readings are derived for slots ≥ firstSlot only (the ledger already covers the ones before). */
  firstSlot: number;
  /** Reading seq = seqBase + the store's sequence number of the slot's last sample. */
  seqBase: number;
  /** Ledger register = store's continuous register + offset; fixed by the agent's first reading. */
  offsets?: { importWh: number; exportWh: number };
  /** Highest slot whose reading was derived (−1: none). */
  sealedThrough: number;
  bootstrappedAtMs: number;
}

export interface InflightTx {
  meterId: string;
  slot: number;
  seq: number;
  txHash: string;
  nonce: number;
  expiresAtHeight: number;
  submittedAtMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS edge_agent_meters (
  meter TEXT PRIMARY KEY,
  address TEXT NOT NULL,
  max_power_w INTEGER NOT NULL,
  chain_last_slot INTEGER,
  chain_last_seq INTEGER,
  chain_import_wh INTEGER,
  chain_export_wh INTEGER,
  first_slot INTEGER NOT NULL,
  seq_base INTEGER NOT NULL,
  import_offset_wh INTEGER,
  export_offset_wh INTEGER,
  sealed_through INTEGER NOT NULL,
  bootstrapped_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edge_agent_inflight (
  meter TEXT NOT NULL,
  slot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  expires_at_height INTEGER NOT NULL,
  submitted_at_ms INTEGER NOT NULL,
  PRIMARY KEY (meter, slot)
) WITHOUT ROWID;
`;

interface MeterRow {
  meter: string;
  address: string;
  max_power_w: number;
  chain_last_slot: number | null;
  chain_last_seq: number | null;
  chain_import_wh: number | null;
  chain_export_wh: number | null;
  first_slot: number;
  seq_base: number;
  import_offset_wh: number | null;
  export_offset_wh: number | null;
  sealed_through: number;
  bootstrapped_at_ms: number;
}

interface InflightRow {
  meter: string;
  slot: number;
  seq: number;
  tx_hash: string;
  nonce: number;
  expires_at_height: number;
  submitted_at_ms: number;
}

function meterFromRow(r: MeterRow): MeterState {
  const m: MeterState = { meterId: r.meter, address: r.address, maxPowerW: r.max_power_w, firstSlot: r.first_slot, seqBase: r.seq_base, sealedThrough: r.sealed_through, bootstrappedAtMs: r.bootstrapped_at_ms };
  if (r.chain_last_slot !== null) m.chainLast = { slot: r.chain_last_slot, seq: r.chain_last_seq!, importRegisterWh: r.chain_import_wh!, exportRegisterWh: r.chain_export_wh! };
  if (r.import_offset_wh !== null) m.offsets = { importWh: r.import_offset_wh, exportWh: r.export_offset_wh! };
  return m;
}

const inflightFromRow = (r: InflightRow): InflightTx => ({ meterId: r.meter, slot: r.slot, seq: r.seq, txHash: r.tx_hash, nonce: r.nonce, expiresAtHeight: r.expires_at_height, submittedAtMs: r.submitted_at_ms });

export class AgentState {
  private readonly stmts;
  /** Meter states are read on every sample (sealing check): kept in memory, written through. */
  private readonly meters = new Map<string, MeterState>();

  constructor(readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.stmts = {
      meters: db.prepare<[], MeterRow>('SELECT * FROM edge_agent_meters ORDER BY meter'),
      insertMeter: db.prepare(
        'INSERT INTO edge_agent_meters (meter, address, max_power_w, chain_last_slot, chain_last_seq, chain_import_wh, chain_export_wh, first_slot, seq_base, import_offset_wh, export_offset_wh, sealed_through, bootstrapped_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, -1, ?)',
      ),
      setOffsets: db.prepare('UPDATE edge_agent_meters SET import_offset_wh = ?, export_offset_wh = ? WHERE meter = ?'),
      setSealed: db.prepare('UPDATE edge_agent_meters SET sealed_through = ? WHERE meter = ?'),
      inflight: db.prepare<[string, number], InflightRow>('SELECT * FROM edge_agent_inflight WHERE meter = ? AND slot = ?'),
      allInflight: db.prepare<[], InflightRow>('SELECT * FROM edge_agent_inflight ORDER BY meter, slot'),
      putInflight: db.prepare('INSERT OR REPLACE INTO edge_agent_inflight (meter, slot, seq, tx_hash, nonce, expires_at_height, submitted_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      dropInflight: db.prepare('DELETE FROM edge_agent_inflight WHERE meter = ? AND slot = ?'),
    };
    for (const r of this.stmts.meters.all()) this.meters.set(r.meter, meterFromRow(r));
  }

  meter(meterId: string): MeterState | undefined {
    return this.meters.get(meterId);
  }

  /** Records what the ledger held for a meter the agent meets for the first time. */
  bootstrap(m: Omit<MeterState, 'offsets' | 'sealedThrough'>): MeterState {
    const c = m.chainLast;
    this.stmts.insertMeter.run(m.meterId, m.address, m.maxPowerW, c?.slot ?? null, c?.seq ?? null, c?.importRegisterWh ?? null, c?.exportRegisterWh ?? null, m.firstSlot, m.seqBase, m.bootstrappedAtMs);
    const state: MeterState = { ...m, sealedThrough: -1 };
    this.meters.set(m.meterId, state);
    return state;
  }

  /** Fixes the register offsets (call inside the transaction that queues the first reading). */
  fixOffsets(meterId: string, offsets: { importWh: number; exportWh: number }): void {
    this.stmts.setOffsets.run(offsets.importWh, offsets.exportWh, meterId);
    this.update(meterId, { offsets });
  }

  /** Call inside the transaction that queues the sealed slots' readings. */
  seal(meterId: string, throughSlot: number): void {
    this.stmts.setSealed.run(throughSlot, meterId);
    this.update(meterId, { sealedThrough: throughSlot });
  }

  inflight(meterId: string, slot: number): InflightTx | undefined {
    const r = this.stmts.inflight.get(meterId, slot);
    return r ? inflightFromRow(r) : undefined;
  }

  allInflight(): InflightTx[] {
    return this.stmts.allInflight.all().map(inflightFromRow);
  }

  putInflight(t: InflightTx): void {
    this.stmts.putInflight.run(t.meterId, t.slot, t.seq, t.txHash, t.nonce, t.expiresAtHeight, t.submittedAtMs);
  }

  dropInflight(meterId: string, slot: number): void {
    this.stmts.dropInflight.run(meterId, slot);
  }

  /**
   * In-memory copies change only after the SQLite transaction around the write committed: a rolled
   * back transaction must not leave the cache ahead of the file.
   */
  private update(meterId: string, patch: Partial<MeterState>): void {
    const apply = () => {
      // Read at apply time: several patches of one transaction apply in order.
      const current = this.meters.get(meterId);
      if (current) this.meters.set(meterId, { ...current, ...patch });
    };
    if (this.db.inTransaction) pendingAfterCommit(this.db).push(apply);
    else apply();
  }

  /** Runs `fn` in one SQLite transaction; cache updates made inside apply only if it commits. */
  transaction<T>(fn: () => T): T {
    const queue = pendingAfterCommit(this.db);
    const mark = queue.length;
    try {
      const out = this.db.transaction(fn)();
      if (!this.db.inTransaction) for (const f of queue.splice(0)) f();
      return out;
    } catch (err) {
      queue.splice(mark);
      throw err;
    }
  }
}

const afterCommit = new WeakMap<Database.Database, Array<() => void>>();
function pendingAfterCommit(db: Database.Database): Array<() => void> {
  let q = afterCommit.get(db);
  if (!q) afterCommit.set(db, (q = []));
  return q;
}
