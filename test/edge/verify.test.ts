import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextLink } from '../../src/edge/fingerprint.js';
import { deriveInterval } from '../../src/edge/interval.js';
import { parseTelegram } from '../../src/edge/p1/parser.js';
import { replayTelegrams } from '../../src/edge/p1/replay.js';
import { sampleFromTelegram } from '../../src/edge/sample.js';
import { SampleStore, type StoredSample } from '../../src/edge/store.js';
import { verifySamples, type OnChainFingerprint, type SlotVerification } from '../../src/edge/verify.js';
import { bytes, codeOf, tempDir } from './helpers.js';
import { SLOT } from './fixtures.js';

const START = Date.UTC(2026, 5, 1, 6, 0, 0);
const FIRST = START / SLOT;
const SLOTS = 24;
const LAST = FIRST + SLOTS - 1;
const PER_SLOT = 30; // one telegram per 30 s

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

interface Fixture {
  path: string;
  /** The fingerprints and counts the agent put on the ledger, by slot. */
  ledger: Map<number, OnChainFingerprint>;
}

/** Six hours of replayed telegrams in a store file, and the ledger's view of every slot. */
function fixture(): Fixture {
  const t = tempDir('edge-verify');
  cleanups.push(t.cleanup);
  const path = join(t.dir, 'edge.db');
  const store = new SampleStore(path);
  const samples = [];
  for (const tg of replayTelegrams({ startMs: START, intervalMs: 30_000, durationMs: SLOTS * SLOT, seed: 5 })) {
    const raw = bytes(tg.text);
    samples.push(sampleFromTelegram(parseTelegram(raw).telegram, raw, { meterId: 'E1' }));
  }
  store.appendBatch(samples);
  const ledger = new Map<number, OnChainFingerprint>();
  for (let s = FIRST; s <= LAST; s++) {
    const r = deriveInterval(store, 'E1', s, { nowMs: (LAST + 1) * SLOT })!;
    ledger.set(s, { fingerprint: r.fingerprint, sampleCount: r.sampleCount });
  }
  store.close();
  return { path, ledger };
}

/** What an attacker with the file does: drop the append-only triggers and edit rows with SQL. */
function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path);
  db.exec('DROP TRIGGER edge_samples_no_update; DROP TRIGGER edge_samples_no_delete;');
  edit(db);
  db.close();
}
const seqOf = (slotIndex: number, i: number) => slotIndex * PER_SLOT + i + 1;

function verify(f: Fixture, ledger = f.ledger): SlotVerification[] {
  const store = new SampleStore(f.path);
  cleanups.push(() => store.close());
  return verifySamples(store, 'E1', FIRST, LAST, (slot) => ledger.get(slot));
}
/** Slot index → [status, firstDifferingSeq] of every slot that is not intact. */
function broken(results: SlotVerification[]): Record<number, [string, number | undefined]> {
  expect(results.map((r) => r.slot)).toEqual(Array.from({ length: SLOTS }, (_, i) => FIRST + i));
  const out: Record<number, [string, number | undefined]> = {};
  for (const r of results) if (r.status !== 'intact') out[r.slot - FIRST] = [r.status, r.firstDifferingSeq];
  return out;
}

function renumberFrom(db: Database.Database, firstSeq: number, by: number): void {
  db.prepare("UPDATE edge_samples SET seq = -(seq + ?) WHERE meter = 'E1' AND seq >= ?").run(by, firstSeq);
  db.prepare("UPDATE edge_samples SET seq = -seq WHERE meter = 'E1' AND seq < 0").run();
}
function insertAfter(db: Database.Database, seq: number, link: Buffer = randomBytes(32)): number {
  const row = db.prepare("SELECT * FROM edge_samples WHERE meter = 'E1' AND seq = ?").get(seq) as Record<string, unknown>;
  renumberFrom(db, seq + 1, 1);
  db.prepare('INSERT INTO edge_samples (meter, seq, ts_ms, slot, epoch, import_t1_wh, import_t2_wh, export_t1_wh, export_t2_wh, import_w, export_w, tariff, raw_hash, link) VALUES (@meter, @seq, @ts_ms, @slot, @epoch, @import_t1_wh, @import_t2_wh, @export_t1_wh, @export_t2_wh, @import_w, @export_w, @tariff, @raw_hash, @link)')
    .run({ ...row, seq: seq + 1, ts_ms: (row.ts_ms as number) + 5_000, import_t2_wh: (row.import_t2_wh as number) + 1, raw_hash: randomBytes(32), link });
  return seq + 1;
}

describe('verifySamples', () => {
  it('an untouched store: every slot intact, recomputed = on-chain', () => {
    const f = fixture();
    const results = verify(f);
    expect(broken(results)).toEqual({});
    for (const r of results) expect(r).toMatchObject({ storedCount: PER_SLOT, onChainCount: PER_SLOT, recomputed: f.ledger.get(r.slot)!.fingerprint });
  });

  it('altered, inserted and deleted samples: exactly those slots and samples are named, all others intact', () => {
    const f = fixture();
    tamper(f.path, (db) => {
      db.prepare("UPDATE edge_samples SET import_t2_wh = import_t2_wh + 100 WHERE meter = 'E1' AND seq = ?").run(seqOf(3, 7));
      db.prepare("DELETE FROM edge_samples WHERE meter = 'E1' AND seq = ?").run(seqOf(10, 12));
      // An insertion renumbers the rows after it (sequence numbers are unique), as a careful attacker would.
      insertAfter(db, seqOf(17, 20));
    });
    expect(broken(verify(f))).toEqual({
      3: ['altered', seqOf(3, 7)],
      10: ['deleted', seqOf(10, 12)],
      17: ['inserted', seqOf(17, 21)],
    });
  });

  it('each kind alone, at slot edges too', () => {
    const cases: Array<[string, (db: Database.Database) => void, Record<number, [string, number | undefined]>]> = [
      ['first sample of a slot altered', (db) => void db.prepare("UPDATE edge_samples SET export_w = export_w + 1 WHERE seq = ?").run(seqOf(5, 0)), { 5: ['altered', seqOf(5, 0)] }],
      ['last sample of a slot altered (its meter time)', (db) => void db.prepare('UPDATE edge_samples SET ts_ms = ts_ms + 1 WHERE seq = ?').run(seqOf(5, 29)), { 5: ['altered', seqOf(5, 29)] }],
      ['raw hash altered', (db) => void db.prepare('UPDATE edge_samples SET raw_hash = ? WHERE seq = ?').run(randomBytes(32), seqOf(0, 0)), { 0: ['altered', seqOf(0, 0)] }],
      ['first sample of a slot deleted', (db) => void db.prepare('DELETE FROM edge_samples WHERE seq = ?').run(seqOf(8, 0)), { 8: ['deleted', seqOf(8, 0)] }],
      ['last sample of a slot deleted', (db) => void db.prepare('DELETE FROM edge_samples WHERE seq = ?').run(seqOf(8, 29)), { 8: ['deleted', seqOf(8, 29)] }],
      ['last sample of the range deleted', (db) => void db.prepare('DELETE FROM edge_samples WHERE seq = ?').run(seqOf(23, 29)), { 23: ['deleted', seqOf(23, 29)] }],
      ['a whole slot deleted', (db) => void db.prepare('DELETE FROM edge_samples WHERE slot = ?').run(FIRST + 12), { 12: ['deleted', seqOf(12, 0)] }],
      ['deleted and the rest renumbered to hide it', (db) => {
        db.prepare('DELETE FROM edge_samples WHERE seq = ?').run(seqOf(14, 3));
        renumberFrom(db, seqOf(14, 4), -1);
      }, { 14: ['deleted', seqOf(14, 3)] }],
      ['inserted at the end of a slot with the next free number', (db) => {
        const max = (db.prepare('SELECT MAX(seq) AS m FROM edge_samples').get() as { m: number }).m;
        const last = db.prepare('SELECT * FROM edge_samples WHERE seq = ?').get(seqOf(6, 29)) as Record<string, unknown>;
        db.prepare('INSERT INTO edge_samples SELECT meter, ?, ts_ms + 1000, slot, epoch, import_t1_wh, import_t2_wh, export_t1_wh, export_t2_wh, import_w, export_w, tariff, raw_hash, link FROM edge_samples WHERE seq = ?').run(max + 1, last.seq);
      }, { 6: ['inserted', seqOf(23, 29) + 1] }],
      ['two samples swapped', (db) => {
        const [a, b] = [seqOf(9, 4), seqOf(9, 5)];
        db.prepare('UPDATE edge_samples SET seq = -1 WHERE seq = ?').run(a);
        db.prepare('UPDATE edge_samples SET seq = ? WHERE seq = ?').run(a, b);
        db.prepare('UPDATE edge_samples SET seq = ? WHERE seq = -1').run(b);
      }, { 9: ['reordered', seqOf(9, 4)] }],
    ];
    for (const [name, edit, expected] of cases) {
      const f = fixture();
      tamper(f.path, edit);
      expect(broken(verify(f)), name).toEqual(expected);
    }
  });

  it('an attacker who also rewrites the stored links is still caught by the ledger, without localisation', () => {
    const f = fixture();
    const target = seqOf(4, 10);
    const reader = new SampleStore(f.path);
    const rows: StoredSample[] = reader.samplesInSlot('E1', FIRST + 4).map((r) => (r.seq === target ? { ...r, importT2Wh: r.importT2Wh - 5 } : r));
    reader.close();
    // Recompute the links of the rest of the slot so that every stored link follows from its predecessor.
    const links: Array<[number, Buffer]> = [];
    let prev = Buffer.from(rows[9]!.link, 'hex');
    for (const r of rows.slice(10)) {
      prev = Buffer.from(nextLink(prev, r));
      links.push([r.seq, prev]);
    }
    tamper(f.path, (db) => {
      db.prepare('UPDATE edge_samples SET import_t2_wh = import_t2_wh - 5 WHERE seq = ?').run(target);
      for (const [seq, link] of links) db.prepare('UPDATE edge_samples SET link = ? WHERE seq = ?').run(link, seq);
    });
    const results = verify(f);
    expect(broken(results)).toEqual({ 4: ['altered', undefined] });
    expect(results[4]!.recomputed).not.toBe(results[4]!.onChain);
  });

  it('slots the ledger does not hold are reported missing-on-chain; their neighbours stay intact', () => {
    const f = fixture();
    const ledger = new Map(f.ledger);
    ledger.delete(FIRST + 7);
    ledger.delete(FIRST + 8);
    expect(broken(verify(f, ledger))).toEqual({ 7: ['missing-on-chain', undefined], 8: ['missing-on-chain', undefined] });
    // An on-chain slot with no stored samples at all (everything deleted) is still listed.
    const extra = new Map(f.ledger);
    extra.set(FIRST - 1, { fingerprint: 'ab'.repeat(32), sampleCount: 3 });
    const store = new SampleStore(f.path);
    cleanups.push(() => store.close());
    const results = verifySamples(store, 'E1', FIRST - 1, FIRST + 1, (s) => extra.get(s));
    // The next slot is anchored on that (claimed) fingerprint, so its recomputation breaks at its first sample.
    expect(results.map((r) => [r.slot - FIRST, r.status, r.storedCount, r.firstDifferingSeq])).toEqual([[-1, 'deleted', 0, 1], [0, 'altered', PER_SLOT, 1], [1, 'intact', PER_SLOT, undefined]]);
  });

  it('verifies a sub-range by anchoring on the ledger (or the store) before it', () => {
    const f = fixture();
    tamper(f.path, (db) => void db.prepare("UPDATE edge_samples SET import_w = import_w + 1 WHERE seq = ?").run(seqOf(15, 2)));
    const store = new SampleStore(f.path);
    cleanups.push(() => store.close());
    const mid = verifySamples(store, 'E1', FIRST + 14, FIRST + 16, (s) => f.ledger.get(s));
    expect(mid.map((r) => r.status)).toEqual(['intact', 'altered', 'intact']);
    // Without the ledger's anchor the store's last link before the range is used: the same verdicts.
    const partial = verifySamples(store, 'E1', FIRST + 14, FIRST + 16, (s) => (s >= FIRST + 14 ? f.ledger.get(s) : undefined));
    expect(partial.map((r) => r.status)).toEqual(['intact', 'altered', 'intact']);
    // A range that starts long before the meter's first sample: the chain starts at the first slot, from 0.
    const early = verifySamples(store, 'E1', FIRST - 200, FIRST + 3, (s) => f.ledger.get(s));
    expect(early.map((r) => [r.slot - FIRST, r.status])).toEqual([[0, 'intact'], [1, 'intact'], [2, 'intact'], [3, 'intact']]);
    expect(codeOf(() => verifySamples(store, 'E1', FIRST + 2, FIRST + 1, () => undefined))).toBe('EDGE_BAD_OPTION');
    expect(codeOf(() => verifySamples(store, 'E1', FIRST, FIRST, () => ({ fingerprint: 'xyz', sampleCount: 1 })))).toBe('EDGE_BAD_OPTION');
  });
});
