import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileZone, compileZoneinfo, readZoneIndex, verifyZone } from '../../scripts/tz/build.js';
import { parseTzif } from '../../scripts/tz/tzif.js';
import { TZ_TABLE_URL, tzTable } from '../../src/util/tz/table.js';
import { TZ_TABLE_VERSION } from '../../src/util/tz/version.js';

/** The compiler reads the Debian tzdata package's TZif files, present on every machine of this project. */
const ZONEINFO = '/usr/share/zoneinfo';
const tzif = (name: string) => parseTzif(readFileSync(`${ZONEINFO}/${name}`));

describe('TZif reader', () => {
  it('reads the 64-bit data and the footer of a version 2+ file', () => {
    const vienna = tzif('Europe/Vienna');
    expect(vienna.version).toBeGreaterThanOrEqual(2);
    expect(vienna.footer).toBe('CET-1CEST,M3.5.0,M10.5.0/3');
    expect(vienna.types[0]).toEqual({ utoff: 3921, isDst: false, abbreviation: 'LMT' });
    expect(vienna.times.length).toBe(vienna.typeIndex.length);
  });

  it('refuses leap-second (right/) files and files that are not TZif', () => {
    expect(() => parseTzif(readFileSync(`${ZONEINFO}/right/Europe/Vienna`))).toThrow(/leap seconds/);
    expect(() => parseTzif(readFileSync(`${ZONEINFO}/zone.tab`))).toThrow(/not a TZif file/);
  });

  it('reads the zone and link index with its IANA version', () => {
    const index = readZoneIndex('# version 2099z\n# comment\nZ Europe/Vienna 1:5:21 - LMT 1893 Ap\nL Europe/Vienna Europe/Wien\nR x 1 2 - Mar lastSu 2 1 S\n');
    expect(index).toEqual({ version: '2099z', zones: ['Europe/Vienna'], links: [['Europe/Wien', 'Europe/Vienna']] });
    expect(() => readZoneIndex('Z a 0 - X\n')).toThrow(/version/);
  });
});

describe('table compiler', () => {
  it("keeps the explicit history and leaves the regular tail to the footer, exactly reproducing zic's fat output", () => {
    const raw = tzif('Europe/Vienna');
    const data = compileZone('Europe/Vienna', raw);
    expect(data.trans.length).toBeLessThan(raw.times.length);
    expect(new Date(data.trans[data.trans.length - 1]![0] * 1000).getUTCFullYear()).toBeLessThan(1997); // EU rules since 1996
    expect(verifyZone('Europe/Vienna', data, raw)).toBeGreaterThan(1000);
  });

  it('catches a compiled zone that deviates from its TZif file', () => {
    const raw = tzif('Europe/Vienna');
    const data = compileZone('Europe/Vienna', raw);
    expect(() => verifyZone('Europe/Vienna', { ...data, footer: 'CET-1CEST,M3.4.0,M10.5.0/3' }, raw)).toThrow(/Europe\/Vienna at/);
    expect(() => verifyZone('Europe/Vienna', { ...data, trans: data.trans.slice(0, -1) }, raw)).toThrow(/Europe\/Vienna at/);
  });

  it('is reproducible: the system tzdata compiles to the committed table byte for byte', () => {
    const compiled = compileZoneinfo(ZONEINFO, tzTable().file.source);
    if (compiled.file.iana === TZ_TABLE_VERSION) {
      expect(compiled.json).toBe(readFileSync(TZ_TABLE_URL, 'utf8'));
      expect(compiled.hash).toBe(tzTable().hash);
    } else {
      // A machine with newer Debian tzdata compiles a newer table; the committed one changes only by upgrade.
      expect(compiled.file.iana > TZ_TABLE_VERSION).toBe(true);
    }
    expect(compiled.probes).toBeGreaterThan(100_000);
  });
});
