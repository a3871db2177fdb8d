import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveInterval, type IntervalReading } from '../../src/edge/interval.js';
import { parseTelegram } from '../../src/edge/p1/parser.js';
import { replayTelegrams } from '../../src/edge/p1/replay.js';
import { sampleFromTelegram, type MeterSample } from '../../src/edge/sample.js';
import { SampleStore } from '../../src/edge/store.js';
import { bytes, codeOf, tempDir } from './helpers.js';
import { S0, SLOT, sample } from './fixtures.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function openStore(): SampleStore {
  const t = tempDir('edge-interval');
  const store = new SampleStore(join(t.dir, 'edge.db'));
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return store;
}

/** Monday 2026-06-01 00:00 CEST, a slot boundary. */
const DAY_START = Date.UTC(2026, 4, 31, 22, 0, 0);
const FIRST_SLOT = DAY_START / SLOT;
const END = DAY_START + 86_400_000;

/** The replayed day as samples, through the real parser. */
function replayDay(skip: (ms: number) => boolean = () => false): MeterSample[] {
  const out: MeterSample[] = [];
  for (const t of replayTelegrams({ startMs: DAY_START, seed: 11 })) {
    if (skip(t.state.timestampMs)) continue;
    const raw = bytes(t.text);
    out.push(sampleFromTelegram(parseTelegram(raw).telegram, raw, { meterId: 'E1' }));
  }
  return out;
}
const total = (s: MeterSample, dir: 'import' | 'export') => (dir === 'import' ? s.importT1Wh + s.importT2Wh : s.exportT1Wh + s.exportT2Wh);

function deriveDay(store: SampleStore, maxGapMs?: number): Array<IntervalReading | undefined> {
  return Array.from({ length: 96 }, (_, i) => deriveInterval(store, 'E1', FIRST_SLOT + i, { nowMs: END, ...(maxGapMs !== undefined ? { maxGapMs } : {}) }));
}

describe('interval derivation', () => {
  it('a replayed day: 96 complete slots whose energies add up exactly to the register difference', () => {
    const store = openStore();
    const samples = replayDay();
    store.appendBatch(samples);
    const slots = deriveDay(store).map((r) => r!);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    for (const dir of ['import', 'export'] as const) {
      const sum = slots.reduce((n, r) => n + (dir === 'import' ? r.importWh : r.exportWh), 0);
      expect(sum).toBe(total(last, dir) - total(first, dir));
    }
    expect(slots.reduce((n, r) => n + r.importT1Wh, 0)).toBe(last.importT1Wh - first.importT1Wh);
    expect(slots.reduce((n, r) => n + r.exportT2Wh, 0)).toBe(last.exportT2Wh - first.exportT2Wh);
    slots.forEach((r, i) => {
      expect(r).toMatchObject({ slot: FIRST_SLOT + i, sampleCount: 90, firstSeq: i * 90 + 1, lastSeq: i * 90 + 90, gaps: [], complete: true, registerResets: 0 });
      const lastOfSlot = samples[i * 90 + 89]!;
      expect(r.importRegisterWh).toBe(total(lastOfSlot, 'import'));
      expect(r.fingerprint).toBe(store.sampleBySeq('E1', r.lastSeq)!.link);
      // The ledger's adjacency rule: a slot starts where the previous one ended.
      const startWh = i === 0 ? total(first, 'import') : slots[i - 1]!.importRegisterWh;
      expect(r.importRegisterWh - r.importWh).toBe(startWh);
      expect(r.exportRegisterWh - r.exportWh).toBe(i === 0 ? total(first, 'export') : slots[i - 1]!.exportRegisterWh);
    });
    // Midday exports, night imports.
    expect(slots[48]!.exportWh).toBeGreaterThan(0);
    expect(slots[8]!.exportWh).toBe(0);
    expect(slots[8]!.importWh).toBeGreaterThan(0);
  });

  it('reports gaps (inside a slot, a whole missing slot) and never fills them in', () => {
    const store = openStore();
    const inside = (ms: number) => ms >= DAY_START + 40 * SLOT + 180_000 && ms < DAY_START + 40 * SLOT + 420_000;
    const wholeSlot = (ms: number) => ms >= DAY_START + 60 * SLOT - 30_000 && ms < DAY_START + 61 * SLOT;
    const samples = replayDay((ms) => inside(ms) || wholeSlot(ms));
    store.appendBatch(samples);
    const slots = deriveDay(store);
    expect(slots[40]!.gaps).toEqual([{ fromMs: DAY_START + 40 * SLOT + 170_000, toMs: DAY_START + 40 * SLOT + 420_000 }]);
    expect(slots[40]!.complete).toBe(false);
    expect(slots[59]!.gaps).toEqual([{ fromMs: DAY_START + 60 * SLOT - 40_000, toMs: DAY_START + 60 * SLOT }]);
    expect(slots[60]).toBeUndefined();
    // Slot 61 reports the missing span as a gap starting in slot 59; the energy over it cannot be
    // placed in a slot: slot 61 starts at its own first sample and the span's increase is unattributed.
    expect(slots[61]!.gaps).toEqual([{ fromMs: DAY_START + 60 * SLOT - 40_000, toMs: DAY_START + 61 * SLOT }]);
    const lastOf59 = samples.filter((x) => x.timestampMs < DAY_START + 60 * SLOT).at(-1)!;
    const firstOf61 = samples.find((x) => x.timestampMs >= DAY_START + 61 * SLOT)!;
    const lastOf61 = samples.filter((x) => x.timestampMs < DAY_START + 62 * SLOT).at(-1)!;
    expect(slots[61]!.unattributedImportWh).toBe(total(firstOf61, 'import') - total(lastOf59, 'import'));
    expect(slots[61]!.unattributedExportWh).toBe(total(firstOf61, 'export') - total(lastOf59, 'export'));
    expect(slots[61]!.importWh).toBe(total(lastOf61, 'import') - total(firstOf61, 'import'));
    expect(slots[61]!.importRegisterWh - slots[61]!.importWh).toBe(total(firstOf61, 'import'));
    expect(slots[61]!.unattributedImportWh + slots[61]!.unattributedExportWh).toBeGreaterThan(0);
    const present = slots.filter((r): r is IntervalReading => r !== undefined);
    expect(present).toHaveLength(95);
    expect(present.filter((r) => !r.complete).map((r) => r.slot - FIRST_SLOT)).toEqual([40, 59, 61]);
    expect(present.filter((r) => r.slot - FIRST_SLOT !== 61).every((r) => r.unattributedImportWh === 0 && r.unattributedExportWh === 0)).toBe(true);
    // Nothing is lost: the slots plus the unattributed span add up to the register difference.
    const sum = present.reduce((n, r) => n + r.importWh + r.unattributedImportWh, 0);
    expect(sum).toBe(total(samples[samples.length - 1]!, 'import') - total(samples[0]!, 'import'));
    // A tighter tolerance finds more gaps; the derivation itself does not change.
    expect(deriveInterval(store, 'E1', FIRST_SLOT + 3, { nowMs: END, maxGapMs: 5_000 })!.gaps).toHaveLength(91);
  });

  it('a meter swap starts a new epoch: the slot counts no energy across it, never negative, registers continue', () => {
    const store = openStore();
    const t = S0 * SLOT;
    const s = [
      sample('E1', t - 10_000, [1000, 5000, 0, 300]),
      sample('E1', t + 10_000, [1000, 5010, 0, 300]),
      sample('E1', t + 20_000, [1000, 5020, 0, 300]), // old meter's last reading
      sample('E1', t + 30_000, [0, 2, 0, 0]), // new meter
      sample('E1', t + 40_000, [0, 9, 0, 1]),
      sample('E1', (S0 + 1) * SLOT + 5_000, [0, 19, 0, 1]),
    ];
    for (const x of s) store.append(x);
    const nowMs = (S0 + 2) * SLOT;
    const r = deriveInterval(store, 'E1', S0, { nowMs, maxGapMs: 900_000 })!;
    expect(r).toMatchObject({ importWh: 20 + 7, exportWh: 1, registerResets: 1, complete: false, sampleCount: 4 });
    // Continuous registers: old 6020 Wh import, the new meter's 9 Wh counted on from 6020 − 2.
    expect(r.importRegisterWh).toBe(6000 + 20 + 7);
    expect(r.exportRegisterWh).toBe(301);
    const next = deriveInterval(store, 'E1', S0 + 1, { nowMs, maxGapMs: 900_000 })!;
    expect(next).toMatchObject({ importWh: 10, registerResets: 0, complete: true });
    expect(next.importRegisterWh - next.importWh).toBe(r.importRegisterWh);
    const before = deriveInterval(store, 'E1', S0 - 1, { nowMs, maxGapMs: 900_000 })!;
    expect(r.importRegisterWh - r.importWh).toBe(before.importRegisterWh);
  });

  it('the first slot of a meter starts at its first sample and reports the unobserved start', () => {
    const store = openStore();
    for (let i = 0; i < 60; i++) store.append(sample('E1', S0 * SLOT + 300_000 + i * 10_000, [0, 100 + i, 0, 0]));
    const r = deriveInterval(store, 'E1', S0, { nowMs: (S0 + 1) * SLOT })!;
    expect(r).toMatchObject({ importWh: 59, sampleCount: 60, gaps: [{ fromMs: S0 * SLOT, toMs: S0 * SLOT + 300_000 }] });
  });

  it('refuses a slot that has not ended at the caller\'s clock, and has nothing for an empty slot', () => {
    const store = openStore();
    store.append(sample('E1', S0 * SLOT + 1_000, [0, 1, 0, 0]));
    expect(codeOf(() => deriveInterval(store, 'E1', S0, { nowMs: (S0 + 1) * SLOT - 1 }))).toBe('INTERVAL_NOT_ENDED');
    expect(deriveInterval(store, 'E1', S0, { nowMs: (S0 + 1) * SLOT })).toBeDefined();
    expect(deriveInterval(store, 'E1', S0 - 1, { nowMs: (S0 + 1) * SLOT })).toBeUndefined();
    expect(deriveInterval(store, 'other', S0, { nowMs: (S0 + 1) * SLOT })).toBeUndefined();
  });
});
