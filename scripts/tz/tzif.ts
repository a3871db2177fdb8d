/**
 * Reader for compiled time-zone files (TZif, RFC 8536), versions 2 and later: the 64-bit data block
 * and the POSIX TZ footer. Only what the table compiler needs; leap-second files (right/) are refused.
 */

export interface TzifType {
  /** Seconds east of UTC. */
  utoff: number;
  isDst: boolean;
  abbreviation: string;
}

export interface Tzif {
  version: number;
  /** Transition instants, UTC seconds (bigint: zic may write "big bang" times far outside 2^53). */
  times: bigint[];
  /** Index into `types` of the type that starts at each transition. */
  typeIndex: number[];
  /** Local time types; type 0 applies before the first transition (RFC 8536 §3.2). */
  types: TzifType[];
  /** POSIX TZ string for instants after the last transition; '' if none. */
  footer: string;
}

interface Header {
  version: number;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

const HEADER_BYTES = 44;

function readHeader(view: DataView, offset: number): Header {
  const magic = String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
  if (magic !== 'TZif') throw new Error('not a TZif file');
  const v = view.getUint8(offset + 4);
  const version = v === 0 ? 1 : Number(String.fromCharCode(v));
  const count = (i: number) => view.getUint32(offset + 20 + 4 * i);
  return { version, isutcnt: count(0), isstdcnt: count(1), leapcnt: count(2), timecnt: count(3), typecnt: count(4), charcnt: count(5) };
}

function dataBytes(h: Header, timeBytes: number): number {
  return h.timecnt * timeBytes + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeBytes + 4) + h.isstdcnt + h.isutcnt;
}

function abbreviationAt(bytes: Uint8Array, start: number, end: number, index: number): string {
  let stop = start + index;
  while (stop < end && bytes[stop] !== 0) stop++;
  return new TextDecoder('ascii').decode(bytes.subarray(start + index, stop));
}

export function parseTzif(bytes: Uint8Array): Tzif {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v1 = readHeader(view, 0);
  if (v1.version < 2) throw new Error(`TZif version ${v1.version}: version 2 or later (64-bit data and footer) required`);
  const h = readHeader(view, HEADER_BYTES + dataBytes(v1, 4));
  if (h.leapcnt !== 0) throw new Error('TZif file with leap seconds (right/ tree): not civil time');
  let p = HEADER_BYTES + dataBytes(v1, 4) + HEADER_BYTES;
  const times: bigint[] = [];
  for (let i = 0; i < h.timecnt; i++, p += 8) times.push(view.getBigInt64(p));
  const typeIndex: number[] = [];
  for (let i = 0; i < h.timecnt; i++, p++) typeIndex.push(view.getUint8(p));
  const charsStart = p + h.typecnt * 6;
  const types: TzifType[] = [];
  for (let i = 0; i < h.typecnt; i++, p += 6) {
    types.push({ utoff: view.getInt32(p), isDst: view.getUint8(p + 4) !== 0, abbreviation: abbreviationAt(bytes, charsStart, charsStart + h.charcnt, view.getUint8(p + 5)) });
  }
  p = HEADER_BYTES + dataBytes(v1, 4) + HEADER_BYTES + dataBytes(h, 8);
  if (bytes[p] !== 0x0a) throw new Error('TZif footer must start with a newline');
  const end = bytes.indexOf(0x0a, p + 1);
  if (end < 0) throw new Error('TZif footer must end with a newline');
  const footer = new TextDecoder('ascii').decode(bytes.subarray(p + 1, end));
  for (const i of typeIndex) if (i >= types.length) throw new Error(`TZif transition names type ${i} of ${types.length}`);
  return { version: h.version, times, typeIndex, types, footer };
}
