import { sha256Hex } from '../crypto/hash.js';
import { meterIdSchema } from '../modules/metering/messages.js';
import { EDGE_ERRORS as E } from './errors.js';
import type { P1Telegram } from './p1/parser.js';

/**
 * One meter sample, whatever its source (P1 telegram, MQTT JSON): the meter's clock and cumulative
 * registers in integers, plus the SHA-256 of the raw input it came from (the raw bytes stay with the
 * source; the hash lets anyone holding them prove which telegram a sample was).
 */
export interface MeterSample {
  meterId: string;
  /** Meter time (Unix ms). */
  timestampMs: number;
  importT1Wh: number;
  importT2Wh: number;
  exportT1Wh: number;
  exportT2Wh: number;
  importPowerW: number;
  exportPowerW: number;
  /** Tariff indicator when the source reports one (0–65535). */
  tariff?: number;
  /** SHA-256 of the raw telegram or payload, 64 lowercase hex digits. */
  rawHash: string;
}

/** The raw payload's hash (the one definition in crypto/hash.ts), exported for the edge's users. */
export { sha256Hex };

export interface FromTelegramOptions {
  /** The meter id the agent uses; default: the telegram's equipment identifier as sent. */
  meterId?: string;
  /** Time to use when the telegram has none (DSMR 2.2/3.0): the agent's receive time. */
  fallbackTimestampMs?: number;
}

/** The sample of a parsed telegram; `raw` is the exact telegram bytes (hashed). */
export function sampleFromTelegram(telegram: P1Telegram, raw: Uint8Array, options: FromTelegramOptions = {}): MeterSample {
  const meterId = options.meterId ?? telegram.equipmentId;
  if (meterId === undefined) throw E.P1_MISSING_FIELD('the telegram has no equipment identifier 0-0:96.1.1 and no meter id was configured');
  const timestampMs = telegram.timestampMs ?? options.fallbackTimestampMs;
  if (timestampMs === undefined) throw E.P1_MISSING_FIELD('the telegram has no timestamp 0-0:1.0.0 and no receive time was given');
  if (telegram.importPowerW === undefined || telegram.exportPowerW === undefined) throw E.P1_MISSING_FIELD('the telegram has no power 1-0:1.7.0 / 1-0:2.7.0');
  const sample: MeterSample = {
    meterId,
    timestampMs,
    importT1Wh: telegram.importT1Wh,
    importT2Wh: telegram.importT2Wh,
    exportT1Wh: telegram.exportT1Wh,
    exportT2Wh: telegram.exportT2Wh,
    importPowerW: telegram.importPowerW,
    exportPowerW: telegram.exportPowerW,
    rawHash: sha256Hex(raw),
  };
  if (telegram.tariff !== undefined) sample.tariff = telegram.tariff;
  return validateSample(sample);
}

const UINT_FIELDS = ['importT1Wh', 'importT2Wh', 'exportT1Wh', 'exportT2Wh', 'importPowerW', 'exportPowerW'] as const;

/** Checks what the store relies on; throws SAMPLE_INVALID naming the field. */
export function validateSample(s: MeterSample): MeterSample {
  if (!meterIdSchema.safeParse(s.meterId).success) throw E.SAMPLE_INVALID(`meter id ${JSON.stringify(s.meterId)}: 1–64 of A–Z a–z 0–9 . _ : - (starting with a letter or digit)`);
  if (!Number.isSafeInteger(s.timestampMs) || s.timestampMs < 0) throw E.SAMPLE_INVALID(`timestampMs ${s.timestampMs} is not a non-negative safe integer`);
  for (const f of UINT_FIELDS) if (!Number.isSafeInteger(s[f]) || s[f] < 0) throw E.SAMPLE_INVALID(`${f} ${s[f]} is not a non-negative safe integer`);
  if (s.tariff !== undefined && (!Number.isSafeInteger(s.tariff) || s.tariff < 0 || s.tariff > 0xffff)) throw E.SAMPLE_INVALID(`tariff ${s.tariff} is not in 0..65535`);
  if (typeof s.rawHash !== 'string' || !/^[0-9a-f]{64}$/.test(s.rawHash)) throw E.SAMPLE_INVALID('rawHash is not 64 lowercase hex digits');
  return s;
}
