import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_ERRORS } from '../../src/edge/errors.js';
import { P1Framer, type FramedTelegram } from '../../src/edge/p1/framer.js';
import { CATALOGUE } from '../../src/util/errors.js';
import { ISKRA, KAIFA, bytes, latin1 } from './helpers.js';

const EDGE_CODES = new Set(EDGE_ERRORS[CATALOGUE].entries.map((e) => e.code));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Feeds `stream` cut at the given points (any order, any duplicates) and collects the output. */
function frame(stream: Uint8Array, cuts: number[] = [], framer = new P1Framer()): { out: FramedTelegram[]; framer: P1Framer } {
  const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  const out: FramedTelegram[] = [];
  for (let i = 1; i < points.length; i++) out.push(...framer.push(stream.subarray(points[i - 1], points[i])));
  out.push(...framer.end());
  return { out, framer };
}
const okRaw = (out: FramedTelegram[]) => out.filter((o) => o.ok).map((o) => latin1(o.raw));
const codes = (out: FramedTelegram[]) => out.map((o) => (o.ok ? 'ok' : o.error.code));

describe('P1 stream framer', () => {
  it('finds telegrams between garbage and counts the dropped bytes', () => {
    const garbage1 = bytes('\x00\xff noise \r\n');
    const garbage2 = bytes('!6EEE\r\n'); // e.g. the tail of a telegram after a reconnect
    const { out, framer } = frame(concat(garbage1, ISKRA, garbage2, KAIFA, ISKRA));
    expect(codes(out)).toEqual(['ok', 'ok', 'ok']);
    expect(okRaw(out)).toEqual([latin1(ISKRA), latin1(KAIFA), latin1(ISKRA)]);
    expect(out[1]!.ok && out[1]!.telegram.importT1Wh).toBe(1_581_123);
    expect(framer.counters()).toEqual({
      bytesIn: garbage1.length + garbage2.length + 2 * ISKRA.length + KAIFA.length,
      bytesDropped: garbage1.length + garbage2.length,
      telegramsOk: 3, telegramsRejected: 0, crcFailures: 0, rejectedByReason: {},
    });
  });

  it('starting in the middle of a telegram drops its tail and resynchronises on "/"', () => {
    const tail = ISKRA.subarray(400);
    const { out, framer } = frame(concat(tail, KAIFA));
    expect(okRaw(out)).toEqual([latin1(KAIFA)]);
    expect(framer.counters().bytesDropped).toBe(tail.length);
  });

  it('an interrupted telegram is refused as truncated and the next one is read', () => {
    const { out } = frame(concat(ISKRA.subarray(0, 300), KAIFA));
    expect(codes(out)).toEqual(['P1_TRUNCATED', 'ok']);
    expect(latin1((out[0] as { raw: Uint8Array }).raw)).toBe(latin1(ISKRA.subarray(0, 300)));
  });

  it('counts CRC failures and other rejections by reason', () => {
    const bad = bytes(latin1(ISKRA).replace('000004.426', '000004.427'));
    const lf = bytes(latin1(KAIFA).replaceAll('\r\n', '\n'));
    const { out, framer } = frame(concat(bad, ISKRA, bad, lf, KAIFA));
    expect(codes(out)).toEqual(['P1_BAD_CRC', 'ok', 'P1_BAD_CRC', 'P1_LINE_ENDINGS', 'ok']);
    expect(framer.counters()).toMatchObject({ telegramsOk: 2, telegramsRejected: 3, crcFailures: 2, rejectedByReason: { P1_BAD_CRC: 2, P1_LINE_ENDINGS: 1 } });
  });

  it('refuses an oversized telegram, drops the rest of it and recovers', () => {
    const huge = concat(bytes('/XXX5 endless\r\n'), new Uint8Array(20_000).fill(0x41));
    const { out, framer } = frame(concat(huge, ISKRA));
    expect(codes(out)).toEqual(['P1_OVERSIZED', 'ok']);
    expect((out[0] as { raw: Uint8Array }).raw.length).toBe(8192);
    expect(framer.counters().bytesDropped).toBe(huge.length - 8192);
  });

  it('an end line that does not end within "!" + CRC + CR LF is cut there and refused', () => {
    const text = latin1(ISKRA);
    const broken = bytes(`${text.slice(0, text.indexOf('!'))}!6EEE${'x'.repeat(50)}`);
    const { out, framer } = frame(concat(broken, KAIFA));
    expect(codes(out)).toEqual(['P1_TRUNCATED', 'ok']);
    expect(latin1((out[0] as { raw: Uint8Array }).raw).endsWith('!6EEExx')).toBe(true);
    expect(framer.counters().bytesDropped).toBe(48);
  });

  it('a telegram still open at the end of the stream is truncated', () => {
    const { out } = frame(ISKRA.subarray(0, ISKRA.length - 1));
    expect(codes(out)).toEqual(['P1_TRUNCATED']);
    expect(new P1Framer().end()).toEqual([]);
  });

  it('keeps memory bounded: a fixed buffer, whatever the stream', () => {
    const framer = new P1Framer({ maxTelegramBytes: 1024 });
    const buffer = (framer as unknown as { buf: Uint8Array }).buf;
    const chunk = new Uint8Array(64 * 1024).fill(0x31);
    chunk[0] = 0x2f; // one "/" per chunk: an endless telegram each time
    let rejected = 0;
    for (let i = 0; i < 160; i++) {
      for (const o of framer.push(chunk)) {
        expect(o.raw.length).toBeLessThanOrEqual(1024);
        rejected++;
      }
    }
    expect((framer as unknown as { buf: Uint8Array }).buf).toBe(buffer);
    expect(buffer.length).toBe(1024);
    expect(rejected).toBe(160);
    expect(framer.counters()).toMatchObject({ bytesIn: 160 * 65536, bytesDropped: 160 * (65536 - 1024), rejectedByReason: { P1_OVERSIZED: 160 } });
    expect(() => new P1Framer({ maxTelegramBytes: 8 })).toThrow(/maxTelegramBytes/);
  });

  it('fuzz: any chunking of telegrams between "/"-free garbage gives exactly the telegrams', () => {
    const noSlash = fc.uint8Array({ maxLength: 200 }).map((b) => b.map((x) => (x === 0x2f ? 0x30 : x)));
    fc.assert(
      fc.property(fc.array(fc.tuple(noSlash, fc.constantFrom(ISKRA, KAIFA)), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 30 }), (parts, cuts) => {
        const stream = concat(...parts.flatMap(([g, t]) => [g, t]));
        const { out, framer } = frame(stream, cuts);
        expect(okRaw(out)).toEqual(parts.map(([, t]) => latin1(t)));
        expect(framer.counters().bytesDropped).toBe(parts.reduce((n, [g]) => n + g.length, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: arbitrary bytes never make it throw; every output is a typed result within the cap', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(ISKRA, KAIFA, bytes('/'), bytes('\r\n!'))), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cuts) => {
        const stream = concat(...parts);
        const { out, framer } = frame(stream, cuts, new P1Framer({ maxTelegramBytes: 1500 }));
        for (const o of out) {
          expect(o.raw.length).toBeLessThanOrEqual(1500);
          if (!o.ok) expect(EDGE_CODES.has(o.error.code)).toBe(true);
        }
        const c = framer.counters();
        expect(c.telegramsOk + c.telegramsRejected).toBe(out.length);
        expect(c.bytesIn).toBe(stream.length);
      }),
      { numRuns: 500 },
    );
  });
});
