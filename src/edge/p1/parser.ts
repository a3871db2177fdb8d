import { EDGE_ERRORS as E } from '../errors.js';
import { parseScaledDecimal } from '../decimal.js';
import { crc16Arc, crcHex } from './crc16.js';
import { parseDsmrTime } from './timestamp.js';

/**
 * DSMR P1 telegram parser (DSMR 2.2, 3.0, 4.x, 5.0.x; Belgian e-MUCS headers parse the same way).
 *
 * Our own parser: there is no maintained TypeScript/JavaScript DSMR parser that checks the CRC strictly,
 * keeps values exact (the existing npm packages turn registers into floats) and reports why a telegram
 * was refused, so this one is written from the P1 Companion Standard (DSMR 5.0.2 §6). See docs/edge.md.
 *
 * A telegram is
 *   /XXX5identification CR LF
 *   CR LF
 *   a-b:c.d.e(value)(value)… CR LF        one COSEM object per line; a DSMR 2.2 gas reading continues
 *   …                                     on the next line, which starts with "("
 *   !CRC CR LF                            CRC-16/ARC of every byte from "/" through "!" (DSMR 4+ only)
 *
 * Checks run from the outside in (size, header, end, CRC, line endings, characters, objects), so a
 * corrupted telegram is refused with the most basic reason that applies. Everything the parser does not
 * know is kept: unknown objects and unparseable lines are returned raw with a warning, never fatal.
 */

export const MAX_TELEGRAM_BYTES = 8192;

const SLASH = 0x2f;
const BANG = 0x21;
const CR = 0x0d;
const LF = 0x0a;

export type P1WarningCode =
  | 'NO_BLANK_LINE'
  | 'EMPTY_LINE'
  | 'UNPARSEABLE_LINE'
  | 'UNKNOWN_OBIS'
  | 'MALFORMED_OPTIONAL'
  | 'DUPLICATE_OBJECT'
  | 'MBUS_TIME_WITHOUT_DST'
  | 'MBUS_UNKNOWN_UNIT';

export interface P1Warning {
  code: P1WarningCode;
  message: string;
}

/** One COSEM object as sent: its OBIS reference, the texts between the parentheses, and its raw line(s). */
export interface P1Object {
  obis: string;
  values: string[];
  raw: string;
}

export interface PhaseValues {
  importW?: number;
  exportW?: number;
  /** Voltage in millivolt (exact: "0230.0*V" → 230 000). */
  voltageMv?: number;
  /** Current in milliampere (exact: "0.48*A" → 480, "006*A" → 6 000). */
  currentMa?: number;
}

export type MbusKind = 'electricity' | 'gas' | 'heat' | 'warm-water' | 'water' | 'cooling' | 'heat-cooling' | 'other';

export interface MbusReading {
  /** The register in integer units: m3 → dm3, kWh → Wh, GJ → MJ (all exact, ×1000). */
  value: number;
  unit: 'dm3' | 'Wh' | 'MJ';
  /** When the device captured the value; undefined for a DSMR 2.2/3.0 time without the S/W flag. */
  timestampMs?: number;
  /** The capture time as written, without flag ("YYMMDDhhmmss"). */
  localTime: string;
}

export interface MbusChannel {
  /** Channel n of the 0-n:24.x objects (1–4 in DSMR). */
  channel: number;
  /** M-Bus device type (EN 13757-3): 3 gas, 7 water, 4 heat, … */
  deviceType?: number;
  kind?: MbusKind;
  equipmentId?: string;
  reading?: MbusReading;
}

export interface P1Telegram {
  /** The header line without "/", e.g. "ISk5\2MT382-1000". */
  header: string;
  manufacturer: string;
  identification: string;
  /** DSMR version (1-3:0.2.8, "42", "50") or Belgian e-MUCS version (0-0:96.1.4); undefined for DSMR 2.2/3.0. */
  version?: string;
  /** The CRC that was checked; undefined when the telegram carries none (DSMR 2.2/3.0). */
  crc?: number;
  /** Meter time 0-0:1.0.0 in Unix ms (required from DSMR 4 on; absent in 2.2/3.0). */
  timestampMs?: number;
  /** Equipment identifier 0-0:96.1.1 as sent (DSMR 4+: hex of ASCII). */
  equipmentId?: string;
  /** The equipment identifier decoded when it is hex of printable ASCII. */
  equipmentIdText?: string;
  /** Tariff indicator 0-0:96.14.0 (1 = low, 2 = normal in NL). */
  tariff?: number;
  /** Cumulative registers 1-0:1.8.1/1.8.2 (delivered to the client) and 1-0:2.8.1/2.8.2 (delivered by the client). */
  importT1Wh: number;
  importT2Wh: number;
  exportT1Wh: number;
  exportT2Wh: number;
  /** Instantaneous power 1-0:1.7.0 / 1-0:2.7.0 (required from DSMR 4 on). */
  importPowerW?: number;
  exportPowerW?: number;
  phases: { l1: PhaseValues; l2: PhaseValues; l3: PhaseValues };
  /** M-Bus channels, ascending by channel. */
  mbus: MbusChannel[];
  /** Every object in telegram order, known or not. */
  objects: P1Object[];
  /** Raw text of every object or line the parser does not interpret. */
  unknown: string[];
}

export interface P1ParseResult {
  telegram: P1Telegram;
  warnings: P1Warning[];
}

export interface ParseOptions {
  /** Cap on the whole telegram in bytes (default 8 KiB). */
  maxBytes?: number;
}

/** Parses exactly one telegram ("/" … "!CRC" CR LF). Throws a LedgerError of the `edge` catalogue when it is refused. */
export function parseTelegram(input: Uint8Array | string, options: ParseOptions = {}): P1ParseResult {
  const bytes = toBytes(input);
  const maxBytes = options.maxBytes ?? MAX_TELEGRAM_BYTES;
  if (bytes.length > maxBytes) throw E.P1_OVERSIZED(`telegram of ${bytes.length} bytes exceeds the cap of ${maxBytes}`);
  if (bytes.length === 0 || bytes[0] !== SLASH) throw E.P1_MISSING_HEADER('a telegram starts with "/"');
  const bang = findEndMarker(bytes);
  if (bang < 0) {
    if (bytes[bytes.length - 1] === LF) throw E.P1_MISSING_END('no line "!" ends the telegram');
    throw E.P1_TRUNCATED('the telegram ends in the middle of a line, before "!"');
  }
  const end = readEndLine(bytes, bang);
  if (end.crc !== undefined) verifyCrc(bytes, bang, end.crc);
  requireCrLf(bytes, bang, end.crlf);
  requirePrintable(bytes, bang);
  // Bytes are printable ASCII now; the text ends with CR LF before "!".
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bang - 2).toString('latin1').split('\r\n');
  const warnings: P1Warning[] = [];
  const telegram = interpret(lines, end.crc, warnings);
  return { telegram, warnings };
}

function toBytes(input: Uint8Array | string): Uint8Array {
  if (typeof input !== 'string') return input;
  if (/[^\x00-\xff]/.test(input)) throw E.P1_BAD_CHARACTER('a telegram is ASCII; the text holds characters beyond one byte');
  return new Uint8Array(Buffer.from(input, 'latin1'));
}

/** Index of the "!" that starts a line, or -1. */
function findEndMarker(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(BANG, 1); i >= 0; i = bytes.indexOf(BANG, i + 1)) {
    if (bytes[i - 1] === LF) return i;
  }
  return -1;
}

/** The end line "!" [CRC] CR LF; returns the CRC (if any) and whether the line ends in CR LF. */
function readEndLine(bytes: Uint8Array, bang: number): { crc: number | undefined; crlf: boolean } {
  const lf = bytes.indexOf(LF, bang);
  if (lf < 0) throw E.P1_TRUNCATED('the telegram ends after "!" before the end of its line');
  if (lf !== bytes.length - 1) throw E.P1_TRAILING_DATA(`${bytes.length - 1 - lf} bytes follow the end line`);
  const crlf = bytes[lf - 1] === CR && lf - 1 > bang;
  const field = Buffer.from(bytes.buffer, bytes.byteOffset + bang + 1, (crlf ? lf - 1 : lf) - bang - 1).toString('latin1');
  if (field === '') return { crc: undefined, crlf };
  if (!/^[0-9A-F]{4}$/.test(field)) throw E.P1_BAD_CRC(`the CRC field ${JSON.stringify(field)} is not 4 upper-case hex digits`);
  return { crc: parseInt(field, 16), crlf };
}

function verifyCrc(bytes: Uint8Array, bang: number, expected: number): void {
  const actual = crc16Arc(bytes, 0, bang + 1);
  if (actual === expected) return;
  if (hasBareLf(bytes, bang) && crcWithCrLf(bytes, bang) === expected) {
    throw E.P1_LINE_ENDINGS('line endings were converted from CR LF to LF in transit (the CRC matches the CR LF form)');
  }
  throw E.P1_BAD_CRC(`CRC ${crcHex(expected)} does not match the telegram (computed ${crcHex(actual)})`);
}

function hasBareLf(bytes: Uint8Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (bytes[i] === LF && bytes[i - 1] !== CR) return true;
  return false;
}

/** CRC of bytes[0..bang] as if every bare LF had been CR LF. */
function crcWithCrLf(bytes: Uint8Array, bang: number): number {
  const restored = Buffer.from(bytes.buffer, bytes.byteOffset, bang + 1).toString('latin1').replace(/(?<!\r)\n/g, '\r\n');
  const b = Buffer.from(restored, 'latin1');
  return crc16Arc(b, 0, b.length);
}

function requireCrLf(bytes: Uint8Array, bang: number, endLineCrLf: boolean): void {
  for (let i = 0; i < bang; i++) {
    const b = bytes[i];
    if ((b === LF && bytes[i - 1] !== CR) || (b === CR && bytes[i + 1] !== LF)) {
      throw E.P1_LINE_ENDINGS(`line ${lineNumber(bytes, i)} does not end in CR LF`);
    }
  }
  if (!endLineCrLf) throw E.P1_LINE_ENDINGS('the end line "!" does not end in CR LF');
}

function requirePrintable(bytes: Uint8Array, bang: number): void {
  for (let i = 0; i < bang; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 || b > 0x7e) && b !== CR && b !== LF) {
      throw E.P1_BAD_CHARACTER(`byte 0x${b.toString(16).padStart(2, '0')} on line ${lineNumber(bytes, i)} is not printable ASCII`);
    }
  }
}

function lineNumber(bytes: Uint8Array, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (bytes[i] === LF) n++;
  return n;
}

const HEADER_RE = /^\/([A-Za-z]{3})([\x21-\x7e])([\x20-\x7e]+)$/;
const OBJECT_RE = /^(\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3})((?:\([^()]*\))+)$/;
const CONTINUATION_RE = /^(?:\([^()]*\))+$/;
const GROUP_RE = /\(([^()]*)\)/g;

function groups(text: string): string[] {
  return [...text.matchAll(GROUP_RE)].map((m) => m[1]!);
}

/** Splits the lines into objects (joining DSMR 2.2 continuation lines) and reads the typed fields. */
function interpret(lines: string[], crc: number | undefined, warnings: P1Warning[]): P1Telegram {
  const header = HEADER_RE.exec(lines[0]!);
  if (!header) throw E.P1_MISSING_HEADER(`header line ${JSON.stringify(lines[0])} is not "/XXX5identification"`);
  let first = 1;
  if (lines[1] === '') first = 2;
  else warnings.push({ code: 'NO_BLANK_LINE', message: 'no empty line follows the header' });
  const { objects, unknown } = splitObjects(lines.slice(first), first + 1, warnings);
  const fields = new FieldReader(objects, warnings);
  const version = fields.version();
  if (version !== undefined && crc === undefined) throw E.P1_CRC_MISSING(`a DSMR ${version} telegram must carry a CRC after "!"`);
  const dsmr4 = version !== undefined;
  const telegram: P1Telegram = {
    header: lines[0]!.slice(1),
    manufacturer: header[1]!,
    identification: header[3]!,
    ...(version !== undefined ? { version } : {}),
    ...(crc !== undefined ? { crc } : {}),
    importT1Wh: fields.energy('1-0:1.8.1'),
    importT2Wh: fields.energy('1-0:1.8.2'),
    exportT1Wh: fields.energy('1-0:2.8.1'),
    exportT2Wh: fields.energy('1-0:2.8.2'),
    phases: { l1: fields.phase(21, 22, 32, 31), l2: fields.phase(41, 42, 52, 51), l3: fields.phase(61, 62, 72, 71) },
    mbus: fields.mbus(),
    objects,
    unknown,
  };
  const timestampMs = fields.timestamp(dsmr4);
  if (timestampMs !== undefined) telegram.timestampMs = timestampMs;
  const importPowerW = fields.power('1-0:1.7.0', dsmr4);
  if (importPowerW !== undefined) telegram.importPowerW = importPowerW;
  const exportPowerW = fields.power('1-0:2.7.0', dsmr4);
  if (exportPowerW !== undefined) telegram.exportPowerW = exportPowerW;
  const equipmentId = fields.text('0-0:96.1.1');
  if (equipmentId !== undefined && equipmentId !== '') {
    telegram.equipmentId = equipmentId;
    const decoded = hexText(equipmentId);
    if (decoded !== undefined) telegram.equipmentIdText = decoded;
  }
  const tariff = fields.tariff();
  if (tariff !== undefined) telegram.tariff = tariff;
  for (const o of objects) if (!fields.isKnown(o.obis)) {
    unknown.push(o.raw);
    warnings.push({ code: 'UNKNOWN_OBIS', message: `object ${o.obis} is not interpreted; kept raw` });
  }
  return telegram;
}

function splitObjects(lines: string[], firstLineNo: number, warnings: P1Warning[]): { objects: P1Object[]; unknown: string[] } {
  const objects: P1Object[] = [];
  const unknown: string[] = [];
  lines.forEach((line, i) => {
    const lineNo = firstLineNo + i;
    if (line === '') {
      warnings.push({ code: 'EMPTY_LINE', message: `line ${lineNo} is empty` });
      return;
    }
    const previous = objects[objects.length - 1];
    if (line.startsWith('(') && previous && CONTINUATION_RE.test(line)) {
      previous.values.push(...groups(line));
      previous.raw += `\r\n${line}`;
      return;
    }
    const m = OBJECT_RE.exec(line);
    if (!m) {
      unknown.push(line);
      warnings.push({ code: 'UNPARSEABLE_LINE', message: `line ${lineNo} is not an OBIS object; kept raw` });
      return;
    }
    objects.push({ obis: m[1]!, values: groups(m[2]!), raw: line });
  });
  return { objects, unknown };
}

/** Objects the parser knows but does not type (power failures, sags, swells, messages, …): not "unknown". */
const KNOWN_UNTYPED = new Set([
  '0-0:96.7.21', '0-0:96.7.9', '1-0:99.97.0', '1-0:32.32.0', '1-0:52.32.0', '1-0:72.32.0', '1-0:32.36.0', '1-0:52.36.0', '1-0:72.36.0',
  '0-0:96.13.0', '0-0:96.13.1', '0-0:17.0.0', '0-0:96.3.10', '0-0:96.50.68', '1-0:31.4.0',
]);
const MBUS_RE = /^0-([1-9]):(24\.1\.0|96\.1\.0|24\.2\.1|24\.2\.3|24\.3\.0|24\.4\.0)$/;
const MBUS_KINDS: Record<number, MbusKind> = { 2: 'electricity', 3: 'gas', 4: 'heat', 6: 'warm-water', 7: 'water', 10: 'cooling', 11: 'cooling', 12: 'heat', 13: 'heat-cooling' };
const MBUS_UNITS: Record<string, MbusReading['unit']> = { m3: 'dm3', kWh: 'Wh', GJ: 'MJ' };

/** Reads typed fields from the objects: required ones throw, optional malformed ones warn. */
class FieldReader {
  private readonly byObis = new Map<string, P1Object[]>();
  private readonly known = new Set<string>(KNOWN_UNTYPED);

  constructor(objects: P1Object[], private readonly warnings: P1Warning[]) {
    for (const o of objects) {
      const list = this.byObis.get(o.obis);
      if (list) list.push(o);
      else this.byObis.set(o.obis, [o]);
    }
  }

  isKnown(obis: string): boolean {
    return this.known.has(obis) || MBUS_RE.test(obis);
  }

  private required(obis: string): P1Object | undefined {
    this.known.add(obis);
    const list = this.byObis.get(obis);
    if (list && list.length > 1) throw E.P1_DUPLICATE_FIELD(`object ${obis} appears ${list.length} times`);
    return list?.[0];
  }

  private optional(obis: string): P1Object | undefined {
    this.known.add(obis);
    const list = this.byObis.get(obis);
    if (list && list.length > 1) this.warn('DUPLICATE_OBJECT', `object ${obis} appears ${list.length} times; the first is used`);
    return list?.[0];
  }

  private warn(code: P1WarningCode, message: string): void {
    this.warnings.push({ code, message });
  }

  version(): string | undefined {
    const o = this.required('1-3:0.2.8') ?? this.required('0-0:96.1.4');
    if (!o) return undefined;
    if (o.values.length !== 1 || !/^\d{1,5}$/.test(o.values[0]!)) throw E.P1_MALFORMED_LINE(`version ${o.raw} is not (digits)`);
    return o.values[0]!;
  }

  energy(obis: string): number {
    const o = this.required(obis);
    if (!o) throw E.P1_MISSING_FIELD(`register ${obis} is missing`);
    const wh = o.values.length === 1 ? scaledWithUnit(o.values[0]!, { kWh: 3, Wh: 0 }) : undefined;
    if (wh === undefined) throw E.P1_MALFORMED_LINE(`register ${o.raw} is not (digits.digits*kWh) with at most Wh resolution`);
    return wh;
  }

  timestamp(required: boolean): number | undefined {
    const o = this.required('0-0:1.0.0');
    if (!o) {
      if (required) throw E.P1_MISSING_FIELD('timestamp 0-0:1.0.0 is missing');
      return undefined;
    }
    const t = o.values.length === 1 ? parseDsmrTime(o.values[0]!) : undefined;
    if (t?.ms === undefined) throw E.P1_BAD_TIMESTAMP(`timestamp ${o.raw} is not (YYMMDDhhmmssS|W) naming a real time`);
    return t.ms;
  }

  power(obis: string, required: boolean): number | undefined {
    const o = this.required(obis);
    if (!o) {
      if (required) throw E.P1_MISSING_FIELD(`power ${obis} is missing`);
      return undefined;
    }
    const w = o.values.length === 1 ? scaledWithUnit(o.values[0]!, { kW: 3, W: 0 }) : undefined;
    if (w === undefined) throw E.P1_MALFORMED_LINE(`power ${o.raw} is not (digits.digits*kW) with at most W resolution`);
    return w;
  }

  text(obis: string): string | undefined {
    const o = this.optional(obis);
    if (!o) return undefined;
    if (o.values.length !== 1) {
      this.warn('MALFORMED_OPTIONAL', `object ${o.raw} should hold one value; ignored`);
      return undefined;
    }
    return o.values[0]!;
  }

  tariff(): number | undefined {
    const text = this.text('0-0:96.14.0');
    if (text === undefined) return undefined;
    if (!/^\d{1,4}$/.test(text)) {
      this.warn('MALFORMED_OPTIONAL', `tariff indicator (${text}) is not 1–4 digits; ignored`);
      return undefined;
    }
    return Number(text);
  }

  /** Optional decimal object in `units` (unit → decimals to shift); malformed values warn and are left out. */
  private scaled(obis: string, units: Record<string, number>): number | undefined {
    const o = this.optional(obis);
    if (!o) return undefined;
    const v = o.values.length === 1 ? scaledWithUnit(o.values[0]!, units) : undefined;
    if (v === undefined) this.warn('MALFORMED_OPTIONAL', `object ${o.raw} has no exact value in ${Object.keys(units).join('/')}; ignored`);
    return v;
  }

  phase(importC: number, exportC: number, voltageC: number, currentC: number): PhaseValues {
    const out: PhaseValues = {};
    const importW = this.scaled(`1-0:${importC}.7.0`, { kW: 3, W: 0 });
    if (importW !== undefined) out.importW = importW;
    const exportW = this.scaled(`1-0:${exportC}.7.0`, { kW: 3, W: 0 });
    if (exportW !== undefined) out.exportW = exportW;
    const voltageMv = this.scaled(`1-0:${voltageC}.7.0`, { V: 3 });
    if (voltageMv !== undefined) out.voltageMv = voltageMv;
    const currentMa = this.scaled(`1-0:${currentC}.7.0`, { A: 3 });
    if (currentMa !== undefined) out.currentMa = currentMa;
    return out;
  }

  mbus(): MbusChannel[] {
    const channels = new Map<number, MbusChannel>();
    const channel = (n: number) => {
      let c = channels.get(n);
      if (!c) channels.set(n, (c = { channel: n }));
      return c;
    };
    for (const obis of [...this.byObis.keys()].sort()) {
      const m = MBUS_RE.exec(obis);
      if (!m) continue;
      const o = this.optional(obis)!;
      const c = channel(Number(m[1]));
      switch (m[2]) {
        case '24.1.0':
          this.mbusType(c, o);
          break;
        case '96.1.0':
          if (o.values.length === 1 && o.values[0] !== '') c.equipmentId = o.values[0]!;
          break;
        case '24.2.1':
        case '24.2.3':
          this.mbusReading(c, o, o.values[0], o.values[1], undefined);
          break;
        case '24.3.0':
          // DSMR 2.2/3.0: (time)(status)(period)(count)(obis)(unit) with the value on the next line.
          this.mbusReading(c, o, o.values[0], o.values[6], o.values[5]);
          break;
      }
    }
    return [...channels.values()].sort((a, b) => a.channel - b.channel);
  }

  private mbusType(c: MbusChannel, o: P1Object): void {
    if (o.values.length !== 1 || !/^\d{1,3}$/.test(o.values[0]!)) {
      this.warn('MALFORMED_OPTIONAL', `M-Bus device type ${o.raw} is not (digits); ignored`);
      return;
    }
    c.deviceType = Number(o.values[0]);
    c.kind = own(MBUS_KINDS, String(c.deviceType)) ?? 'other';
  }

  private mbusReading(c: MbusChannel, o: P1Object, timeText: string | undefined, valueText: string | undefined, separateUnit: string | undefined): void {
    const time = timeText === undefined ? undefined : parseDsmrTime(timeText, separateUnit !== undefined);
    const [number, unitText] = separateUnit !== undefined ? [valueText, separateUnit] : (valueText ?? '').split('*');
    const unit = unitText === undefined ? undefined : own(MBUS_UNITS, unitText);
    if (!time || number === undefined) {
      this.warn('MALFORMED_OPTIONAL', `M-Bus reading ${o.raw} is not (time)(value*unit); ignored`);
      return;
    }
    if (unit === undefined) {
      this.warn('MBUS_UNKNOWN_UNIT', `M-Bus reading ${o.raw} has unit ${JSON.stringify(unitText)}, not m3, kWh or GJ; ignored`);
      return;
    }
    const value = parseScaledDecimal(number, 3);
    if (value === undefined) {
      this.warn('MALFORMED_OPTIONAL', `M-Bus reading ${o.raw} has no exact value; ignored`);
      return;
    }
    c.reading = { value, unit, localTime: time.local, ...(time.ms !== undefined ? { timestampMs: time.ms } : {}) };
    if (time.ms === undefined) this.warn('MBUS_TIME_WITHOUT_DST', `M-Bus reading time ${time.local} carries no S/W flag; its UTC instant is unknown`);
  }
}

/** "001581.123*kWh" with units {kWh: 3} → 1 581 123; undefined when the unit is not listed or the number is not exact. */
function scaledWithUnit(text: string, units: Record<string, number>): number | undefined {
  const star = text.indexOf('*');
  if (star < 0) return undefined;
  const scale = own(units, text.slice(star + 1));
  if (scale === undefined) return undefined;
  return parseScaledDecimal(text.slice(0, star), scale);
}

/** record[key] for the record's own keys only (a unit text such as "constructor" must not find Object's). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** "4B38…" → "K8…" when the text is hex of printable ASCII, else undefined. */
function hexText(hex: string): string | undefined {
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) return undefined;
  const text = Buffer.from(hex, 'hex').toString('latin1');
  return /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}
