import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCsv, progressBar, resultCsv } from '../../src/modules/metering/cli/bulk.js';

/** Issue 19 #17: the pieces of the bulk CSV commands that need no node (the node scenario is bulk-cli.e2e.test.ts). */

describe('bulk CSV parsing', () => {
  const cols = ['meter', 'slot', 'import_wh'] as const;
  it('reads a header and rows, skipping blank and # lines, case-insensitive header', () => {
    const t = parseCsv('# comment\nMeter,SLOT,import_wh\n\nM1,5,10\r\nM2,6,11\n', cols, ['seq']);
    expect(t.header).toEqual(['meter', 'slot', 'import_wh']);
    expect(t.rows).toEqual([
      { line: 4, cells: { meter: 'M1', slot: '5', import_wh: '10' } },
      { line: 5, cells: { meter: 'M2', slot: '6', import_wh: '11' } },
    ]);
  });
  it.each([
    ['', /empty/],
    ['meter,slot\nM1,5\n', /lacks import_wh/],
    ['meter,slot,import_wh,colour\nM1,5,1,red\n', /unknown CSV column colour/],
    ['meter,slot,import_wh\nM1,5\n', /line 2: 2 fields/],
    ['meter,slot,import_wh\n"M1",5,1\n', /quoted/],
    ['meter,slot,import_wh\n', /no rows/],
  ])('refuses %j', (text, message) => {
    expect(() => parseCsv(text, cols, [])).toThrow(expect.objectContaining({ code: 'CLI_INVALID_OPTION', message: expect.stringMatching(message) }));
  });
});

describe('bulk results and progress', () => {
  it('writes one result line per row, quoting the message', () => {
    const text = resultCsv([
      { line: 2, meterId: 'M1', slot: 7, hash: 'ab', admission: 'OK', result: 'METER_READING_DUPLICATE', message: 'meter M1 already reported slot 7, "seq" 1\nagain' },
      { line: 3, meterId: 'M9', slot: 7, hash: null, admission: 'METER_NOT_FOUND', result: '', message: '' },
    ]);
    expect(text).toBe('line,meter,slot,hash,admission,result,message\n2,M1,7,ab,OK,METER_READING_DUPLICATE,"meter M1 already reported slot 7, ""seq"" 1 again"\n3,M9,7,,METER_NOT_FOUND,,""\n');
  });

  it('draws a bar on a terminal and nothing elsewhere', () => {
    const capture = (tty: boolean) => {
      const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 }) as unknown as NodeJS.WriteStream;
      let out = '';
      (stream as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
      const bar = progressBar(4, stream);
      bar.tick(3);
      bar.tick();
      bar.stop();
      return out;
    };
    expect(capture(true)).toMatch(/rows \[.*\] 4\/4/);
    expect(capture(false)).toBe('');
  });
});
