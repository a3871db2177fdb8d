import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SampleStore, type AppendOutcome } from '../../src/edge/store.js';
import type { MeterSample } from '../../src/edge/sample.js';
import { codeOf, tempDir } from './helpers.js';
import { S0, SLOT, sample, steadySamples } from './fixtures.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function openStore(options = {}): { store: SampleStore; path: string } {
  const t = tempDir('edge-store');
  const path = join(t.dir, 'edge.db');
  const store = new SampleStore(path, options);
  cleanups.push(() => {
    store.close();
    t.cleanup();
  });
  return { store, path };
}

// The fingerprint layout of docs/edge.md, written out independently of src/edge/fingerprint.ts.
const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
function docStart(meterId: string, slot: number, prev: Buffer): Buffer {
  return sha(Buffer.from('GRIDLEDGER/EDGE-SLOT/V1\0'), Buffer.from([meterId.length]), Buffer.from(meterId), u64(slot), prev);
}
function docLink(prev: Buffer, s: MeterSample, epoch: number): Buffer {
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(BigInt(s.timestampMs));
  const ep = Buffer.alloc(4);
  ep.writeUInt32BE(epoch);
  const tariff = Buffer.alloc(3);
  tariff.writeUInt8(s.tariff === undefined ? 0 : 1, 0);
  tariff.writeUInt16BE(s.tariff ?? 0, 1);
  const body = Buffer.concat([Buffer.from([1]), ts, ep, ...[s.importT1Wh, s.importT2Wh, s.exportT1Wh, s.exportT2Wh, s.importPowerW, s.exportPowerW].map(u64), tariff, Buffer.from(s.rawHash, 'hex')]);
  expect(body.length).toBe(96);
  return sha(Buffer.from('GRIDLEDGER/EDGE-SAMPLE/V1\0'), prev, body);
}
const accepted = (o: AppendOutcome) => {
  if (!o.accepted) throw new Error(`refused: ${o.code} ${o.message}`);
  return o.sample;
};

describe('sample store', () => {
  it('numbers, slots and chains samples exactly as documented, across empty slots', () => {
    const { store } = openStore();
    const a = sample('M1', S0 * SLOT + 5_000, [10, 20, 0, 0]);
    const b = sample('M1', S0 * SLOT + 15_000, [10, 21, 0, 0], [50, 0], undefined);
    const c = sample('M1', (S0 + 3) * SLOT + 1_000, [12, 21, 3, 0]);
    const [sa, sb, sc] = [a, b, c].map((s) => accepted(store.append(s)));
    expect([sa!.seq, sb!.seq, sc!.seq]).toEqual([1, 2, 3]);
    expect([sa!.slot, sb!.slot, sc!.slot]).toEqual([S0, S0, S0 + 3]);
    const zero = Buffer.alloc(32);
    const linkA = docLink(docStart('M1', S0, zero), a, 0);
    const linkB = docLink(linkA, b, 0);
    // Slots S0+1 and S0+2 hold no samples: their fingerprints are their start links.
    const f1 = docStart('M1', S0 + 1, linkB);
    const f2 = docStart('M1', S0 + 2, f1);
    const linkC = docLink(docStart('M1', S0 + 3, f2), c, 0);
    expect([sa!.link, sb!.link, sc!.link]).toEqual([linkA, linkB, linkC].map((l) => l.toString('hex')));
    expect(store.samplesInSlot('M1', S0)).toEqual([sa, sb]);
    expect(store.lastSampleBefore('M1', S0 + 3)).toEqual(sb);
    expect(store.slotsWithSamples('M1', S0 - 5, S0 + 5)).toEqual([S0, S0 + 3]);
    expect(store.latest('M1')).toEqual(sc);
  });

  it('refuses and counts duplicates, clocks going backwards, jumps and samples from the future', () => {
    const { store } = openStore({ maxForwardJumpMs: 3_600_000, maxFutureSkewMs: 60_000 });
    const t = S0 * SLOT;
    accepted(store.append(sample('M1', t, [1, 1, 0, 0])));
    accepted(store.append(sample('M1', t + 10_000, [1, 2, 0, 0])));
    const refused = (s: MeterSample, receivedAtMs?: number) => {
      const o = store.append(s, receivedAtMs === undefined ? {} : { receivedAtMs });
      return o.accepted ? 'accepted' : o.code;
    };
    expect(refused(sample('M1', t + 10_000, [1, 2, 0, 0]))).toBe('SAMPLE_DUPLICATE');
    expect(refused(sample('M1', t + 10_000, [9, 9, 9, 9]))).toBe('SAMPLE_DUPLICATE');
    expect(refused(sample('M1', t, [1, 1, 0, 0]))).toBe('SAMPLE_DUPLICATE'); // an older one re-delivered
    expect(refused(sample('M1', t + 5_000, [1, 1, 0, 0]))).toBe('SAMPLE_CLOCK_BACKWARDS');
    expect(refused(sample('M1', t + 10_000 + 3_600_001, [1, 3, 0, 0]))).toBe('SAMPLE_CLOCK_JUMP');
    expect(refused(sample('M1', t + 200_000, [1, 3, 0, 0]), t + 100_000)).toBe('SAMPLE_IN_FUTURE');
    expect(refused(sample('M1', t + 160_000, [1, 3, 0, 0]), t + 100_000)).toBe('accepted');
    expect(store.counters()).toEqual({ appended: 3, duplicates: 3, clockBackwards: 1, clockJumps: 1, inFuture: 1, registerResets: 0 });
    expect(store.sampleCount('M1')).toBe(3);
  });

  it('a register going backwards starts a new epoch whose offsets continue the registers', () => {
    const { store } = openStore();
    const t = S0 * SLOT;
    accepted(store.append(sample('M1', t, [5000, 7000, 100, 200])));
    const swap = store.append(sample('M1', t + 10_000, [0, 3, 0, 500]));
    expect(swap).toMatchObject({ accepted: true, epochStarted: true, sample: { epoch: 1, seq: 2 } });
    const after = store.append(sample('M1', t + 20_000, [0, 9, 1, 500]));
    expect(after).toMatchObject({ accepted: true, epochStarted: false, sample: { epoch: 1 } });
    expect(store.epochOffsets('M1', 0)).toEqual({ importOffsetWh: 0, exportOffsetWh: 0 });
    // import: 12 000 (old) = 3 + offset; export: 300 = 500 + offset (a new meter may start higher on one register)
    expect(store.epochOffsets('M1', 1)).toEqual({ importOffsetWh: 11_997, exportOffsetWh: -200 });
    expect(store.counters().registerResets).toBe(1);
  });

  it('is append-only: the triggers refuse UPDATE and DELETE', () => {
    const { store } = openStore();
    accepted(store.append(sample('M1', S0 * SLOT, [1, 1, 0, 0])));
    expect(() => store.db.prepare('UPDATE edge_samples SET import_t1_wh = 2').run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM edge_samples').run()).toThrow(/append-only/);
    expect(store.sampleCount('M1')).toBe(1);
  });

  it('continues the same chain after a reopen, and a batch equals single appends', () => {
    const samples = [...steadySamples('M1', S0 * SLOT, 10_000, 150), ...steadySamples('M2', S0 * SLOT + 3_000, 7_000, 100)];
    samples.sort((x, y) => x.timestampMs - y.timestampMs);
    const { store: one } = openStore();
    for (const s of samples) accepted(one.append(s));
    const { store: twice, path } = openStore();
    for (const s of samples.slice(0, 120)) accepted(twice.append(s));
    twice.close();
    const reopened = new SampleStore(path);
    cleanups.push(() => reopened.close());
    for (const s of samples.slice(120)) accepted(reopened.append(s));
    const { store: batched } = openStore();
    const outcomes = batched.appendBatch([...samples, samples[5]!]);
    expect(outcomes.slice(0, -1).every((o) => o.accepted)).toBe(true);
    expect(outcomes[outcomes.length - 1]).toMatchObject({ accepted: false, code: 'SAMPLE_DUPLICATE' });
    for (const meter of ['M1', 'M2']) {
      expect(reopened.latest(meter)).toEqual(one.latest(meter));
      expect(batched.latest(meter)).toEqual(one.latest(meter));
    }
    expect(batched.meters()).toEqual(['M1', 'M2']);
    expect(batched.counters()).toMatchObject({ appended: 250, duplicates: 1 });
  });

  it('throws SAMPLE_INVALID for malformed samples and writes nothing of the batch', () => {
    const { store } = openStore();
    const good = sample('M1', S0 * SLOT, [1, 1, 0, 0]);
    const bad: Array<Partial<MeterSample>> = [
      { meterId: '' }, { meterId: 'bad id' }, { meterId: 'x'.repeat(65) }, { importT1Wh: -1 }, { exportT2Wh: 1.5 },
      { importPowerW: Number.MAX_SAFE_INTEGER + 1 }, { timestampMs: -1 }, { tariff: 70_000 }, { rawHash: 'AB'.repeat(32) }, { rawHash: 'ab' },
    ];
    for (const b of bad) {
      expect(codeOf(() => store.appendBatch([good, { ...good, timestampMs: good.timestampMs + 1, ...b }]))).toBe('SAMPLE_INVALID');
    }
    expect(store.sampleCount('M1')).toBe(0);
  });

  it('keeps the file consistent with its in-memory head when a transaction fails', () => {
    const { store, path } = openStore();
    accepted(store.append(sample('M1', S0 * SLOT, [1, 1, 0, 0])));
    // Another connection takes the write lock: the next append fails inside its transaction.
    const other = new Database(path, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    (store.db as unknown as { pragma: (s: string) => void }).pragma('busy_timeout = 0');
    expect(() => store.append(sample('M1', S0 * SLOT + 10_000, [1, 2, 0, 0]))).toThrow(/locked|busy/i);
    other.exec('ROLLBACK');
    other.close();
    const next = accepted(store.append(sample('M1', S0 * SLOT + 10_000, [1, 2, 0, 0])));
    expect(next.seq).toBe(2);
    expect(store.counters().appended).toBe(2);
  });
});
