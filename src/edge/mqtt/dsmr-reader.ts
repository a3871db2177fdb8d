import { EDGE_ERRORS as E } from '../errors.js';
import { jsonNumberText, parseScaledDecimal } from '../decimal.js';
import type { PhaseValues } from '../p1/parser.js';
import { sha256Hex, validateSample, type MeterSample } from '../sample.js';
import { parseIsoMs } from '../time.js';

/**
 * Decodes the JSON telegram message that dsmr-reader (github.com/dsmrreader/dsmr-reader) publishes on
 * MQTT (default topic `dsmr/json`, "MQTT: Telegram (as JSON)"), e.g.
 *
 *   {"id": 4343119, "timestamp": "2017-04-15T00:00:00+02:00",
 *    "electricity_delivered_1": "2000.000", "electricity_returned_1": "0.000",
 *    "electricity_delivered_2": "3000.000", "electricity_returned_2": "0.000",
 *    "electricity_currently_delivered": "1.500", "electricity_currently_returned": "0.025",
 *    "phase_currently_delivered_l1": null, …, "phase_voltage_l1": "230.0", "phase_power_current_l1": 6,
 *    "extra_device_timestamp": "2017-04-15T00:00:00+02:00", "extra_device_delivered": "1234.567"}
 *
 * dsmr-reader serialises its Decimal fields as strings (Django's JSON encoder); numbers are accepted
 * too when they are exact (at most 15 significant digits, see decimal.ts). Units as dsmr-reader uses
 * them: kWh for registers, kW for power, V, A, m3 for the extra (gas) device. `delivered` is energy
 * delivered *to* the client (import), `returned` is export. The payload carries no meter id (`id` is
 * dsmr-reader's row number): the agent configures it per topic. Field names can be remapped as in
 * dsmr-reader's own "formatting" setting. The split-topic variant (`dsmr/reading/<field>`, one value
 * per message) is not decoded here: its messages arrive separately and cannot be joined into one
 * sample safely.
 */

export const DSMR_READER_FIELDS = [
  'timestamp',
  'electricity_delivered_1',
  'electricity_delivered_2',
  'electricity_returned_1',
  'electricity_returned_2',
  'electricity_currently_delivered',
  'electricity_currently_returned',
  'phase_currently_delivered_l1',
  'phase_currently_delivered_l2',
  'phase_currently_delivered_l3',
  'phase_currently_returned_l1',
  'phase_currently_returned_l2',
  'phase_currently_returned_l3',
  'phase_voltage_l1',
  'phase_voltage_l2',
  'phase_voltage_l3',
  'phase_power_current_l1',
  'phase_power_current_l2',
  'phase_power_current_l3',
  'extra_device_timestamp',
  'extra_device_delivered',
] as const;

export type DsmrReaderField = (typeof DSMR_READER_FIELDS)[number];

/** dsmr-reader's JSON telegrams are about 1 KiB; anything far larger is refused before parsing. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4096;

export interface DecodeOptions {
  /** The meter this topic belongs to. */
  meterId: string;
  maxBytes?: number;
  /** JSON names of the fields when the dsmr-reader mapping was changed (reading field → JSON field). */
  fieldNames?: Partial<Record<DsmrReaderField, string>>;
}

export interface DecodedMqttSample {
  sample: MeterSample;
  phases: { l1: PhaseValues; l2: PhaseValues; l3: PhaseValues };
  /** The extra M-Bus device (gas) when present: register in dm3 and its capture time. */
  gas?: { valueDm3: number; timestampMs: number };
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeDsmrReaderJson(payload: Uint8Array | string, options: DecodeOptions): DecodedMqttSample {
  const bytes = typeof payload === 'string' ? new Uint8Array(Buffer.from(payload, 'utf8')) : payload;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (bytes.length > maxBytes) throw E.MQTT_PAYLOAD_TOO_LARGE(`payload of ${bytes.length} bytes exceeds the cap of ${maxBytes}`);
  const doc = parseObject(bytes);
  const f = new Fields(doc, options.fieldNames ?? {});
  const sample: MeterSample = {
    meterId: options.meterId,
    timestampMs: f.time('timestamp', true)!,
    importT1Wh: f.decimal('electricity_delivered_1', 'kWh', true)!,
    importT2Wh: f.decimal('electricity_delivered_2', 'kWh', true)!,
    exportT1Wh: f.decimal('electricity_returned_1', 'kWh', true)!,
    exportT2Wh: f.decimal('electricity_returned_2', 'kWh', true)!,
    importPowerW: f.decimal('electricity_currently_delivered', 'kW', true)!,
    exportPowerW: f.decimal('electricity_currently_returned', 'kW', true)!,
    rawHash: sha256Hex(bytes),
  };
  const out: DecodedMqttSample = { sample: validateSample(sample), phases: { l1: f.phase(1), l2: f.phase(2), l3: f.phase(3) } };
  const gasDm3 = f.decimal('extra_device_delivered', 'm3', false);
  const gasTime = f.time('extra_device_timestamp', false);
  if (gasDm3 !== undefined && gasTime !== undefined) out.gas = { valueDm3: gasDm3, timestampMs: gasTime };
  return out;
}

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(fatalUtf8.decode(bytes));
  } catch {
    throw E.MQTT_PAYLOAD_NOT_JSON('the payload is not UTF-8 JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw E.MQTT_PAYLOAD_NOT_JSON('the payload is JSON but not an object');
  return doc as Record<string, unknown>;
}

/** Unit → decimals moved to reach the integer unit (kWh → Wh, kW → W, V → mV, A → mA, m3 → dm3). */
const SCALE = { kWh: 3, kW: 3, V: 3, A: 3, m3: 3 } as const;

class Fields {
  constructor(private readonly doc: Record<string, unknown>, private readonly names: Partial<Record<DsmrReaderField, string>>) {}

  /** The value, or undefined when absent or null (then a required field throws MQTT_FIELD_MISSING). */
  private value(field: DsmrReaderField, required: boolean): { name: string; value: unknown } | undefined {
    const name = this.names[field] ?? field;
    const value = Object.hasOwn(this.doc, name) ? this.doc[name] : undefined;
    if (value === undefined || value === null) {
      if (required) throw E.MQTT_FIELD_MISSING(`field ${name} is missing`);
      return undefined;
    }
    return { name, value };
  }

  decimal(field: DsmrReaderField, unit: keyof typeof SCALE, required: boolean): number | undefined {
    const v = this.value(field, required);
    if (!v) return undefined;
    const text = typeof v.value === 'string' ? v.value : typeof v.value === 'number' ? jsonNumberText(v.value) : undefined;
    const scaled = text === undefined ? undefined : parseScaledDecimal(text, SCALE[unit]);
    if (scaled === undefined) {
      throw E.MQTT_FIELD_INVALID(`field ${v.name} = ${JSON.stringify(v.value)} is not an exact non-negative decimal in ${unit} (at most 3 decimals)`);
    }
    return scaled;
  }

  time(field: DsmrReaderField, required: boolean): number | undefined {
    const v = this.value(field, required);
    if (!v) return undefined;
    const ms = typeof v.value === 'string' ? parseIsoMs(v.value) : undefined;
    if (ms === undefined) throw E.MQTT_BAD_TIMESTAMP(`field ${v.name} = ${JSON.stringify(v.value)} is not an ISO 8601 time with Z or an offset`);
    return ms;
  }

  phase(n: 1 | 2 | 3): PhaseValues {
    const out: PhaseValues = {};
    const importW = this.decimal(`phase_currently_delivered_l${n}`, 'kW', false);
    if (importW !== undefined) out.importW = importW;
    const exportW = this.decimal(`phase_currently_returned_l${n}`, 'kW', false);
    if (exportW !== undefined) out.exportW = exportW;
    const voltageMv = this.decimal(`phase_voltage_l${n}`, 'V', false);
    if (voltageMv !== undefined) out.voltageMv = voltageMv;
    const currentMa = this.decimal(`phase_power_current_l${n}`, 'A', false);
    if (currentMa !== undefined) out.currentMa = currentMa;
    return out;
  }
}
