import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveInterval } from '../src/edge/interval.js';
import { P1Framer } from '../src/edge/p1/framer.js';
import { parseTelegram } from '../src/edge/p1/parser.js';
import { replayTelegrams } from '../src/edge/p1/replay.js';
import { sha256Hex, type MeterSample } from '../src/edge/sample.js';
import { SampleStore } from '../src/edge/store.js';
import { verifySamples } from '../src/edge/verify.js';
import type { OnChainFingerprint } from '../src/edge/verify.js';

/**
 * Meter edge benchmark (one process, one core): P1 parsing, sample ingestion into the SQLite store
 * (WAL, synchronous=FULL, so every transaction is an fsync) and fingerprint verification.
 *
 * - telegramsParsedPerSec: parseTelegram on replayed DSMR 5 telegrams (≈ 890 bytes each).
 * - framedTelegramsPerSec / framerMBPerSec: the same bytes through the stream framer (framing + parsing).
 * - samplesPerSecBatched: an agent with `meters` meters at 1 telegram/s/meter writes each second's
 *   samples in one transaction; samplesPerSecUnbatched: one transaction (one fsync) per sample.
 * - metersPerCoreAt1Hz: meters one core keeps up with at 1 telegram/s each (parse + batched ingest).
 * - intervalsVerifiedPerSec: verifySamples over `verifySlots` slots of `samplesPerInterval` samples.
 */

export interface EdgeBenchOptions {
  telegrams?: number;
  meters?: number;
  /** Seconds of 1 Hz telegrams per meter for the batched ingestion. */
  seconds?: number;
  unbatchedSamples?: number;
  verifySlots?: number;
  samplesPerInterval?: number;
}

const SLOT_MS = 900_000;
const START = Date.UTC(2026, 5, 1, 0, 0, 0);

function rate(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

function timed<T>(fn: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = fn();
  return { result, ms: performance.now() - t0 };
}

function syntheticSample(meter: number, second: number): MeterSample {
  const wh = 1_000_000 + second * (meter % 7);
  return {
    meterId: `M${meter}`,
    timestampMs: START + second * 1000,
    importT1Wh: wh,
    importT2Wh: 2 * wh,
    exportT1Wh: second,
    exportT2Wh: 0,
    importPowerW: 400 + (meter % 13),
    exportPowerW: 0,
    tariff: 2,
    rawHash: sha256Hex(Buffer.from(`${meter}/${second}`)),
  };
}

export async function benchEdge(options: EdgeBenchOptions = {}): Promise<Record<string, number>> {
  const o = { telegrams: 20_000, meters: 200, seconds: 60, unbatchedSamples: 1000, verifySlots: 480, samplesPerInterval: 90, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-edge-'));
  try {
    // Parsing
    const raw: Buffer[] = [];
    for (const t of replayTelegrams({ startMs: START, intervalMs: 1000, durationMs: o.telegrams * 1000, seed: 1 })) raw.push(Buffer.from(t.text, 'latin1'));
    const parse = timed(() => {
      let wh = 0;
      for (const b of raw) wh += parseTelegram(b).telegram.importT1Wh;
      return wh;
    });
    const stream = Buffer.concat(raw);
    const framed = timed(() => {
      const framer = new P1Framer();
      let ok = 0;
      for (let i = 0; i < stream.length; i += 4096) for (const f of framer.push(stream.subarray(i, i + 4096))) if (f.ok) ok++;
      return ok;
    });
    if (framed.result !== raw.length) throw new Error(`framer found ${framed.result} of ${raw.length} telegrams`);

    // Ingestion: one transaction per second of all meters, and one per sample.
    const batches = Array.from({ length: o.seconds }, (_, s) => Array.from({ length: o.meters }, (_, m) => syntheticSample(m, s)));
    const batchedStore = new SampleStore(join(dir, 'batched.db'));
    const batched = timed(() => {
      for (const b of batches) batchedStore.appendBatch(b);
    });
    batchedStore.close();
    const single = new SampleStore(join(dir, 'single.db'));
    const singles = Array.from({ length: o.unbatchedSamples }, (_, s) => syntheticSample(0, s));
    const unbatched = timed(() => {
      for (const s of singles) single.append(s);
    });
    single.close();

    // Verification: a store of verifySlots × samplesPerInterval samples and the fingerprints of every slot.
    const verifyStore = new SampleStore(join(dir, 'verify.db'));
    const step = Math.floor(SLOT_MS / o.samplesPerInterval);
    const firstSlot = START / SLOT_MS;
    const all: MeterSample[] = [];
    for (let i = 0; i < o.verifySlots * o.samplesPerInterval; i++) {
      const s = syntheticSample(1, i);
      all.push({ ...s, timestampMs: START + i * step });
    }
    for (let i = 0; i < all.length; i += 10_000) verifyStore.appendBatch(all.slice(i, i + 10_000));
    const lastSlot = firstSlot + o.verifySlots - 1;
    const ledger = new Map<number, OnChainFingerprint>();
    for (let s = firstSlot; s <= lastSlot; s++) {
      const r = deriveInterval(verifyStore, 'M1', s, { nowMs: (lastSlot + 1) * SLOT_MS })!;
      ledger.set(s, { fingerprint: r.fingerprint, sampleCount: r.sampleCount });
    }
    const verify = timed(() => verifySamples(verifyStore, 'M1', firstSlot, lastSlot, (s) => ledger.get(s)));
    if (!verify.result.every((r) => r.status === 'intact')) throw new Error('verification found a broken slot in an untouched store');
    verifyStore.close();

    const telegramsParsedPerSec = rate(raw.length, parse.ms);
    const samplesPerSecBatched = rate(o.meters * o.seconds, batched.ms);
    return {
      telegramsParsedPerSec,
      framedTelegramsPerSec: rate(raw.length, framed.ms),
      framerMBPerSec: Math.round((stream.length / 1e6 / (framed.ms / 1000)) * 10) / 10,
      meters: o.meters,
      samplesPerSecBatched,
      samplesPerSecUnbatched: rate(o.unbatchedSamples, unbatched.ms),
      metersPerCoreAt1Hz: Math.floor(1 / (1 / telegramsParsedPerSec + 1 / samplesPerSecBatched)),
      samplesPerInterval: o.samplesPerInterval,
      intervalsVerifiedPerSec: rate(o.verifySlots, verify.ms),
      samplesVerifiedPerSec: rate(o.verifySlots * o.samplesPerInterval, verify.ms),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
