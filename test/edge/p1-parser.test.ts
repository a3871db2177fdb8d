import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_ERRORS } from '../../src/edge/errors.js';
import { crc16Arc, crcHex } from '../../src/edge/p1/crc16.js';
import { parseTelegram } from '../../src/edge/p1/parser.js';
import { sampleFromTelegram } from '../../src/edge/sample.js';
import { CATALOGUE, LedgerError } from '../../src/util/errors.js';
import { ISKRA, KAIFA, bytes, codeOf, latin1 } from './helpers.js';

const EDGE_CODES = new Set(EDGE_ERRORS[CATALOGUE].entries.map((e) => e.code));

/** The telegram text with its CRC recomputed after an edit (what a meter would send with that content). */
function withCrc(text: string): string {
  const body = text.slice(0, text.indexOf('\r\n!') + 3);
  return `${body}${crcHex(crc16Arc(bytes(body)))}\r\n`;
}
const iskra = latin1(ISKRA);
const kaifa = latin1(KAIFA);
const edited = (from: string, to: string, base = iskra) => {
  if (!base.includes(from)) throw new Error(`test setup: ${from} not in telegram`);
  return withCrc(base.replace(from, to));
};

describe('CRC-16/ARC', () => {
  it('has the catalogue check value and matches both real meters', () => {
    expect(crc16Arc(bytes('123456789'))).toBe(0xbb3d);
    expect(crcHex(crc16Arc(ISKRA, 0, iskra.indexOf('!') + 1))).toBe('6EEE');
    expect(crcHex(crc16Arc(KAIFA, 0, kaifa.indexOf('!') + 1))).toBe('6796');
  });
});

describe('real telegrams', () => {
  it('Iskra AM550 (DSMR 5.0) gives the exact registers, power, phases and gas', () => {
    const { telegram: t, warnings } = parseTelegram(ISKRA);
    expect(warnings).toEqual([]);
    expect(t).toMatchObject({
      header: 'ISk5\\2MT382-1000', manufacturer: 'ISk', version: '50', crc: 0x6eee,
      timestampMs: Date.UTC(2017, 0, 2, 18, 20, 2), // 19:20:02 W = UTC+01:00
      equipmentId: '4B384547303034303436333935353037', equipmentIdText: 'K8EG004046395507',
      importT1Wh: 4426, importT2Wh: 2399, exportT1Wh: 2444, exportT2Wh: 0, tariff: 2, importPowerW: 244, exportPowerW: 0,
    });
    expect(t.phases).toEqual({
      l1: { importW: 70, exportW: 0, voltageMv: 230_000, currentMa: 480 },
      l2: { importW: 32, exportW: 0, voltageMv: 230_000, currentMa: 440 },
      l3: { importW: 142, exportW: 0, voltageMv: 229_000, currentMa: 860 },
    });
    expect(t.mbus).toEqual([
      { channel: 1, deviceType: 3, kind: 'gas', equipmentId: '3232323241424344313233343536373839', reading: { value: 107, unit: 'dm3', localTime: '170102161005', timestampMs: Date.UTC(2017, 0, 2, 15, 10, 5) } },
      { channel: 2, deviceType: 3, kind: 'gas' },
    ]);
    expect(t.objects).toHaveLength(37);
    expect(t.unknown).toEqual([]);
  });

  it('Kaifa (DSMR 4.2) gives the exact registers, power and gas', () => {
    const { telegram: t, warnings } = parseTelegram(KAIFA);
    expect(warnings).toEqual([]);
    expect(t).toMatchObject({
      version: '42', crc: 0x6796, timestampMs: Date.UTC(2016, 10, 13, 19, 57, 57),
      importT1Wh: 1_581_123, importT2Wh: 1_435_706, exportT1Wh: 0, exportT2Wh: 0, tariff: 2, importPowerW: 2027, exportPowerW: 0,
      equipmentId: '3960221976967177082151037881335713',
    });
    expect(t.phases.l2).toEqual({ importW: 1247, exportW: 0, currentMa: 6000 });
    expect(t.mbus).toEqual([{ channel: 1, deviceType: 3, kind: 'gas', equipmentId: '4819243993373755377509728609491464', reading: { value: 981_443, unit: 'dm3', localTime: '161129200000', timestampMs: Date.UTC(2016, 10, 29, 19, 0, 0) } }]);
  });

  it('becomes a sample with the telegram hash', () => {
    const { telegram } = parseTelegram(ISKRA);
    const s = sampleFromTelegram(telegram, ISKRA);
    expect(s).toEqual({
      meterId: '4B384547303034303436333935353037', timestampMs: Date.UTC(2017, 0, 2, 18, 20, 2),
      importT1Wh: 4426, importT2Wh: 2399, exportT1Wh: 2444, exportT2Wh: 0, importPowerW: 244, exportPowerW: 0, tariff: 2,
      rawHash: createHash('sha256').update(ISKRA).digest('hex'),
    });
    expect(sampleFromTelegram(telegram, ISKRA, { meterId: 'E0001' }).meterId).toBe('E0001');
    expect(sampleFromTelegram(telegram, ISKRA).rawHash).not.toBe(sampleFromTelegram(telegram, KAIFA).rawHash);
  });
});

describe('corrupted telegrams are refused with their reason', () => {
  const variants: Array<[string, string | Uint8Array, string]> = [
    ['a flipped digit in a register', iskra.replace('000004.426', '000004.427'), 'P1_BAD_CRC'],
    ['a flipped bit in the header', iskra.replace('ISk5', 'ISj5'), 'P1_BAD_CRC'],
    ['a wrong CRC', iskra.replace('!6EEE', '!6EEF'), 'P1_BAD_CRC'],
    ['a CRC that is not hex', iskra.replace('!6EEE', '!6EEG'), 'P1_BAD_CRC'],
    ['a lower-case CRC (no meter writes one)', iskra.replace('!6EEE', '!6eee'), 'P1_BAD_CRC'],
    ['a short CRC', iskra.replace('!6EEE', '!6EE'), 'P1_BAD_CRC'],
    ['the "!" removed', iskra.replace('!6EEE', '6EEE'), 'P1_MISSING_END'],
    ['the end line removed', iskra.slice(0, iskra.indexOf('!')), 'P1_MISSING_END'],
    ['truncated in the middle of a line', iskra.slice(0, iskra.indexOf('1-0:2.8.1') + 14), 'P1_TRUNCATED'],
    ['truncated inside the CRC', iskra.slice(0, iskra.indexOf('!') + 3), 'P1_TRUNCATED'],
    ['truncated before the final CR LF', iskra.slice(0, -2), 'P1_TRUNCATED'],
    ['CR LF converted to LF', iskra.replaceAll('\r\n', '\n'), 'P1_LINE_ENDINGS'],
    ['one line ending converted to LF', iskra.replace('(50)\r\n', '(50)\n'), 'P1_LINE_ENDINGS'],
    ['no header', iskra.slice(1), 'P1_MISSING_HEADER'],
    ['garbage before the header', `xx${iskra}`, 'P1_MISSING_HEADER'],
    ['a malformed header', edited('/ISk5\\2MT382-1000', '/IS5\\2MT382-1000'), 'P1_MISSING_HEADER'],
    ['bytes after the end line', `${iskra}/`, 'P1_TRAILING_DATA'],
    ['no CRC in a DSMR 5 telegram', iskra.replace('!6EEE', '!'), 'P1_CRC_MISSING'],
    ['a control byte (CRC recomputed)', edited('0-0:96.13.0()', '0-0:96.13.0(\x07)'), 'P1_BAD_CHARACTER'],
    ['a byte above ASCII (CRC recomputed)', edited('0-0:96.13.0()', '0-0:96.13.0(\xe9)'), 'P1_BAD_CHARACTER'],
    ['a register below Wh resolution', edited('000004.426*kWh', '000004.4261*kWh'), 'P1_MALFORMED_LINE'],
    ['a register in MWh', edited('000004.426*kWh', '000004.426*MWh'), 'P1_MALFORMED_LINE'],
    ['a register with a sign', edited('000004.426*kWh', '-00004.426*kWh'), 'P1_MALFORMED_LINE'],
    ['a register with two values', edited('(000004.426*kWh)', '(000004.426*kWh)(1)'), 'P1_MALFORMED_LINE'],
    ['power without unit', edited('00.244*kW', '00.244'), 'P1_MALFORMED_LINE'],
    ['a register missing', edited('1-0:2.8.2(000000.000*kWh)\r\n', ''), 'P1_MISSING_FIELD'],
    ['the timestamp missing in DSMR 5', edited('0-0:1.0.0(170102192002W)\r\n', ''), 'P1_MISSING_FIELD'],
    ['power missing in DSMR 5', edited('1-0:1.7.0(00.244*kW)\r\n', ''), 'P1_MISSING_FIELD'],
    ['a register twice', edited('1-0:1.8.2(', '1-0:1.8.1(000004.426*kWh)\r\n1-0:1.8.2('), 'P1_DUPLICATE_FIELD'],
    ['30 February', edited('170102192002W', '170230192002W'), 'P1_BAD_TIMESTAMP'],
    ['hour 24', edited('170102192002W', '170102242002W'), 'P1_BAD_TIMESTAMP'],
    ['no S/W flag', edited('170102192002W', '170102192002'), 'P1_BAD_TIMESTAMP'],
    ['an unknown flag', edited('170102192002W', '170102192002X'), 'P1_BAD_TIMESTAMP'],
    ['a malformed version', edited('1-3:0.2.8(50)', '1-3:0.2.8(5.0)'), 'P1_MALFORMED_LINE'],
    ['more than 8 KiB', edited('0-0:96.13.0()', `0-0:96.13.0(${'41'.repeat(4200)})`), 'P1_OVERSIZED'],
    ['nothing at all', '', 'P1_MISSING_HEADER'],
  ];
  it.each(variants)('%s', (_name, input, code) => {
    expect(codeOf(() => parseTelegram(input))).toBe(code);
  });

  it('the same corruptions of the Kaifa telegram', () => {
    expect(codeOf(() => parseTelegram(kaifa.replace('001581.123', '001581.124')))).toBe('P1_BAD_CRC');
    expect(codeOf(() => parseTelegram(kaifa.replace('!6796', '6796')))).toBe('P1_MISSING_END');
    expect(codeOf(() => parseTelegram(kaifa.replace('!6796', '!6797')))).toBe('P1_BAD_CRC');
    expect(codeOf(() => parseTelegram(kaifa.slice(0, 200)))).toBe('P1_TRUNCATED');
    expect(codeOf(() => parseTelegram(kaifa.replaceAll('\r\n', '\n')))).toBe('P1_LINE_ENDINGS');
  });

  it('a text with characters beyond one byte is refused, not truncated to bytes', () => {
    expect(codeOf(() => parseTelegram(iskra.replace('0-0:96.13.0()', '0-0:96.13.0(\u0141)')))).toBe('P1_BAD_CHARACTER');
  });

  it('the size cap is configurable', () => {
    expect(codeOf(() => parseTelegram(ISKRA, { maxBytes: 512 }))).toBe('P1_OVERSIZED');
    expect(parseTelegram(ISKRA, { maxBytes: ISKRA.length }).telegram.importT1Wh).toBe(4426);
  });
});

describe('tolerated content', () => {
  it('keeps unknown objects and unparseable lines raw, with warnings', () => {
    const text = edited('0-0:96.13.0()', '0-0:96.13.0()\r\n1-0:99.1.0(1)(2*kWh)\r\nhello meter\r\n0-7:24.9.9(x)');
    const { telegram, warnings } = parseTelegram(text);
    expect(telegram.importT1Wh).toBe(4426);
    expect(telegram.unknown).toEqual(['hello meter', '1-0:99.1.0(1)(2*kWh)', '0-7:24.9.9(x)']);
    expect(warnings.map((w) => w.code).sort()).toEqual(['UNKNOWN_OBIS', 'UNKNOWN_OBIS', 'UNPARSEABLE_LINE']);
    expect(telegram.objects.find((o) => o.obis === '1-0:99.1.0')).toEqual({ obis: '1-0:99.1.0', values: ['1', '2*kWh'], raw: '1-0:99.1.0(1)(2*kWh)' });
  });

  it('warns about malformed optional objects and leaves them out', () => {
    const text = edited('1-0:32.7.0(0230.0*V)', '1-0:32.7.0(0230.0*kV)');
    const { telegram, warnings } = parseTelegram(edited('0-0:96.14.0(0002)', '0-0:96.14.0(high)', text));
    expect(telegram.phases.l1.voltageMv).toBeUndefined();
    expect(telegram.tariff).toBeUndefined();
    expect(warnings.map((w) => w.code)).toEqual(['MALFORMED_OPTIONAL', 'MALFORMED_OPTIONAL']);
  });

  it('a missing blank line after the header is a warning', () => {
    const { warnings } = parseTelegram(edited('/ISk5\\2MT382-1000\r\n\r\n', '/ISk5\\2MT382-1000\r\n'));
    expect(warnings.map((w) => w.code)).toEqual(['NO_BLANK_LINE']);
  });

  it('reads summer time (S = UTC+02:00) and tells the two 02:30 of the autumn change apart', () => {
    const ts = (flagged: string) => parseTelegram(edited('170102192002W', flagged)).telegram.timestampMs;
    expect(ts('170702192002S')).toBe(Date.UTC(2017, 6, 2, 17, 20, 2));
    expect(ts('161030023000S')).toBe(Date.UTC(2016, 9, 30, 0, 30, 0));
    expect(ts('161030023000W')).toBe(Date.UTC(2016, 9, 30, 1, 30, 0));
    expect(ts('160229235959W')).toBe(Date.UTC(2016, 1, 29, 22, 59, 59));
    expect(codeOf(() => ts('170229000000W'))).toBe('P1_BAD_TIMESTAMP');
  });

  it('parses registers exactly at the top of their range (no float rounding)', () => {
    const { telegram } = parseTelegram(edited('000004.426*kWh', '999999.999*kWh'));
    expect(telegram.importT1Wh).toBe(999_999_999);
    expect(parseTelegram(edited('000004.426*kWh', '123456789012.345*kWh')).telegram.importT1Wh).toBe(123_456_789_012_345);
    expect(codeOf(() => parseTelegram(edited('000004.426*kWh', '1234567890123.456*kWh')))).toBe('P1_MALFORMED_LINE');
  });
});

/** A DSMR 2.2 telegram in the layout of that generation (written for this test): no version, no timestamp, no CRC, gas value on a continuation line. */
const DSMR22 = [
  '/ISk5\\2ME382-1003',
  '',
  '0-0:96.1.1(4B414C37303035313135383230313132)',
  '1-0:1.8.1(00185.000*kWh)',
  '1-0:1.8.2(00084.000*kWh)',
  '1-0:2.8.1(00013.500*kWh)',
  '1-0:2.8.2(00019.028*kWh)',
  '0-0:96.14.0(0001)',
  '1-0:1.7.0(0000.98*kW)',
  '1-0:2.7.0(0000.00*kW)',
  '0-0:17.0.0(0999.00*kW)',
  '0-0:96.3.10(1)',
  '0-0:96.13.1()',
  '0-0:96.13.0()',
  '0-1:24.1.0(3)',
  '0-1:96.1.0(3238313031453631373038389930337131)',
  '0-1:24.3.0(120517020000)(08)(60)(1)(0-1:24.2.1)(m3)',
  '(00124.477)',
  '0-1:24.4.0(1)',
  '!',
  '',
].join('\r\n');

describe('DSMR 2.2', () => {
  it('parses without version, timestamp or CRC and joins the gas continuation line', () => {
    const { telegram: t, warnings } = parseTelegram(DSMR22);
    expect(t.version).toBeUndefined();
    expect(t.crc).toBeUndefined();
    expect(t.timestampMs).toBeUndefined();
    expect(t).toMatchObject({ importT1Wh: 185_000, importT2Wh: 84_000, exportT1Wh: 13_500, exportT2Wh: 19_028, importPowerW: 980, exportPowerW: 0, tariff: 1 });
    expect(t.mbus).toEqual([{ channel: 1, deviceType: 3, kind: 'gas', equipmentId: '3238313031453631373038389930337131', reading: { value: 124_477, unit: 'dm3', localTime: '120517020000' } }]);
    expect(t.objects.find((o) => o.obis === '0-1:24.3.0')?.raw).toBe('0-1:24.3.0(120517020000)(08)(60)(1)(0-1:24.2.1)(m3)\r\n(00124.477)');
    expect(warnings.map((w) => w.code)).toEqual(['MBUS_TIME_WITHOUT_DST']);
  });

  it('needs the agent\'s receive time to become a sample', () => {
    const { telegram } = parseTelegram(DSMR22);
    expect(codeOf(() => sampleFromTelegram(telegram, bytes(DSMR22)))).toBe('P1_MISSING_FIELD');
    expect(sampleFromTelegram(telegram, bytes(DSMR22), { fallbackTimestampMs: 1_337_220_000_000 }).timestampMs).toBe(1_337_220_000_000);
  });

  it('still requires CR LF and the end line', () => {
    expect(codeOf(() => parseTelegram(DSMR22.replaceAll('\r\n', '\n')))).toBe('P1_LINE_ENDINGS');
    expect(codeOf(() => parseTelegram(DSMR22.replace('!\r\n', '')))).toBe('P1_MISSING_END');
  });
});

describe('fuzz', () => {
  const rejectsTyped = (input: Uint8Array | string) => {
    try {
      const { telegram } = parseTelegram(input);
      for (const v of [telegram.importT1Wh, telegram.importT2Wh, telegram.exportT1Wh, telegram.exportT2Wh]) expect(Number.isSafeInteger(v)).toBe(true);
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(LedgerError);
      expect(EDGE_CODES.has((err as LedgerError).code)).toBe(true);
      return (err as LedgerError).code;
    }
  };

  it('never throws anything but a typed edge error on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => void rejectsTyped(b)), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void rejectsTyped(new Uint8Array([0x2f, ...b, 0x0d, 0x0a, 0x21, 0x0d, 0x0a]))), { numRuns: 2000 });
  });

  it('refuses every single-byte change of a real telegram', () => {
    for (const original of [ISKRA, KAIFA]) {
      fc.assert(
        fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (pos, delta) => {
          const b = original.slice();
          b[pos] = (b[pos]! + delta) & 0xff;
          expect(rejectsTyped(b)).not.toBe('ok');
        }),
        { numRuns: 3000 },
      );
    }
  });

  it('never throws untyped errors on edited lines with a valid CRC', () => {
    const lines = iskra.slice(0, iskra.indexOf('\r\n!')).split('\r\n');
    const piece = fc.oneof(fc.constantFrom('(', ')', '*', '.', ':', '-', '0', '9', 'kWh', 'S', 'W', '1-0:1.8.1', '0-1:24.2.1', ''), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.nat(lines.length - 1), fc.array(piece, { maxLength: 8 }), fc.boolean(), (i, parts, replace) => {
        const copy = [...lines];
        copy[i] = replace ? parts.join('') : copy[i] + parts.join('');
        rejectsTyped(withCrc(`${copy.join('\r\n')}\r\n!\r\n`));
      }),
      { numRuns: 3000 },
    );
  });
});
