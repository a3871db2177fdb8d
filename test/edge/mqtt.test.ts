import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_ERRORS } from '../../src/edge/errors.js';
import { decodeDsmrReaderJson } from '../../src/edge/mqtt/dsmr-reader.js';
import { CATALOGUE, LedgerError } from '../../src/util/errors.js';
import { codeOf } from './helpers.js';

const EDGE_CODES = new Set(EDGE_ERRORS[CATALOGUE].entries.map((e) => e.code));

/** A JSON telegram as dsmr-reader publishes it (Decimal fields as strings, current as an integer). */
const MESSAGE = {
  id: 4343119,
  timestamp: '2020-10-24T22:12:13.990Z',
  electricity_delivered_1: '12972.117',
  electricity_returned_1: '00746.379',
  electricity_delivered_2: '14730.900',
  electricity_returned_2: '01722.431',
  electricity_currently_delivered: '0000.43',
  electricity_currently_returned: '0000.00',
  phase_currently_delivered_l1: '0.210',
  phase_currently_delivered_l2: null,
  phase_currently_delivered_l3: '0.220',
  phase_currently_returned_l1: '0.000',
  phase_currently_returned_l2: null,
  phase_currently_returned_l3: '0.000',
  extra_device_timestamp: '2020-10-24T22:00:00Z',
  extra_device_delivered: '08950.179',
  phase_voltage_l1: '231.0',
  phase_voltage_l2: null,
  phase_voltage_l3: '229.5',
  phase_power_current_l1: 1,
  phase_power_current_l2: null,
  phase_power_current_l3: 2,
};
const decode = (doc: unknown, options = {}) => decodeDsmrReaderJson(JSON.stringify(doc), { meterId: 'E1', ...options });

describe('dsmr-reader JSON telegram', () => {
  it('decodes into an exact sample with phases and gas', () => {
    const payload = JSON.stringify(MESSAGE);
    const d = decodeDsmrReaderJson(payload, { meterId: 'E1' });
    expect(d.sample).toEqual({
      meterId: 'E1', timestampMs: Date.UTC(2020, 9, 24, 22, 12, 13, 990),
      importT1Wh: 12_972_117, importT2Wh: 14_730_900, exportT1Wh: 746_379, exportT2Wh: 1_722_431,
      importPowerW: 430, exportPowerW: 0,
      rawHash: createHash('sha256').update(payload).digest('hex'),
    });
    expect(d.phases).toEqual({ l1: { importW: 210, exportW: 0, voltageMv: 231_000, currentMa: 1000 }, l2: {}, l3: { importW: 220, exportW: 0, voltageMv: 229_500, currentMa: 2000 } });
    expect(d.gas).toEqual({ valueDm3: 8_950_179, timestampMs: Date.UTC(2020, 9, 24, 22, 0, 0) });
  });

  it('accepts exact JSON numbers and a local-time offset', () => {
    const d = decode({ ...MESSAGE, timestamp: '2018-01-01T01:00:00+01:00', electricity_delivered_1: 2000.5, electricity_currently_returned: 0.025, extra_device_delivered: null });
    expect(d.sample).toMatchObject({ timestampMs: Date.UTC(2018, 0, 1), importT1Wh: 2_000_500, exportPowerW: 25 });
    expect(d.gas).toBeUndefined();
  });

  it('follows a remapped field name', () => {
    const { electricity_delivered_1: v, ...rest } = MESSAGE;
    expect(decode({ ...rest, low_in: v }, { fieldNames: { electricity_delivered_1: 'low_in' } }).sample.importT1Wh).toBe(12_972_117);
  });

  it('gives every bad field a typed reason', () => {
    const bad: Array<[string, unknown, string]> = [
      ['electricity_delivered_1', undefined, 'MQTT_FIELD_MISSING'],
      ['electricity_returned_2', null, 'MQTT_FIELD_MISSING'],
      ['timestamp', undefined, 'MQTT_FIELD_MISSING'],
      ['electricity_delivered_1', '12972.1171', 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', '-1.000', 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', '1e3', 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', 'abc', 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', 1e21, 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', 0.1 + 0.2, 'MQTT_FIELD_INVALID'],
      ['electricity_delivered_1', true, 'MQTT_FIELD_INVALID'],
      ['electricity_currently_delivered', [1], 'MQTT_FIELD_INVALID'],
      ['phase_voltage_l2', '230.0001', 'MQTT_FIELD_INVALID'],
      ['extra_device_delivered', '1.2.3', 'MQTT_FIELD_INVALID'],
      ['timestamp', '2020-10-24 22:12:13', 'MQTT_BAD_TIMESTAMP'],
      ['timestamp', '2020-10-24T22:12:13', 'MQTT_BAD_TIMESTAMP'],
      ['timestamp', 1603577533, 'MQTT_BAD_TIMESTAMP'],
      ['extra_device_timestamp', '2020-13-01T00:00:00Z', 'MQTT_BAD_TIMESTAMP'],
    ];
    for (const [field, value, code] of bad) {
      const doc: Record<string, unknown> = { ...MESSAGE };
      if (value === undefined) delete doc[field];
      else doc[field] = value;
      expect(codeOf(() => decode(doc)), `${field} = ${JSON.stringify(value)}`).toBe(code);
    }
  });

  it('refuses payloads that are too large, not JSON or not an object', () => {
    expect(codeOf(() => decode({ ...MESSAGE, pad: 'x'.repeat(5000) }))).toBe('MQTT_PAYLOAD_TOO_LARGE');
    expect(decode({ ...MESSAGE, pad: 'x'.repeat(5000) }, { maxBytes: 8192 }).sample.importT1Wh).toBe(12_972_117);
    expect(codeOf(() => decodeDsmrReaderJson('{"timestamp":', { meterId: 'E1' }))).toBe('MQTT_PAYLOAD_NOT_JSON');
    expect(codeOf(() => decodeDsmrReaderJson(new Uint8Array([0x7b, 0xff, 0x7d]), { meterId: 'E1' }))).toBe('MQTT_PAYLOAD_NOT_JSON');
    expect(codeOf(() => decodeDsmrReaderJson('[1,2]', { meterId: 'E1' }))).toBe('MQTT_PAYLOAD_NOT_JSON');
    expect(codeOf(() => decodeDsmrReaderJson('null', { meterId: 'E1' }))).toBe('MQTT_PAYLOAD_NOT_JSON');
    expect(codeOf(() => decodeDsmrReaderJson('{"__proto__": {"timestamp": "2020-10-24T22:12:13Z"}}', { meterId: 'E1' }))).toBe('MQTT_FIELD_MISSING');
    expect(codeOf(() => decode(MESSAGE, { meterId: 'not a meter id' }))).toBe('SAMPLE_INVALID');
  });

  it('fuzz: never throws anything but a typed edge error', () => {
    const value = fc.oneof(fc.string(), fc.double(), fc.integer(), fc.constant(null), fc.boolean(), fc.constantFrom('1.000', '2020-01-01T00:00:00Z', '-0', '00.0'));
    const doc = fc.dictionary(fc.constantFrom(...Object.keys(MESSAGE), 'other'), value);
    const check = (payload: string | Uint8Array) => {
      try {
        decodeDsmrReaderJson(payload, { meterId: 'E1' });
      } catch (err) {
        expect(err).toBeInstanceOf(LedgerError);
        expect(EDGE_CODES.has((err as LedgerError).code)).toBe(true);
      }
    };
    fc.assert(fc.property(doc, (d) => check(JSON.stringify({ ...MESSAGE, ...d }))), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => check(b)), { numRuns: 1000 });
    fc.assert(fc.property(fc.json(), (j) => check(j)), { numRuns: 1000 });
  });
});
