import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDeb, compileZone, readZoneIndex, verifyZone } from '../../scripts/tz/build.js';
import { PINNED_DEB } from '../../scripts/tz/source.js';
import { parseTzif } from '../../scripts/tz/tzif.js';
import { TZ_TABLE_URL, tzTable } from '../../src/util/tz/table.js';
import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../../src/util/tz/version.js';

/** The pinned, vendored Debian tzdata package, unpacked once for the reader tests. */
let unpacked = '';
let ZONEINFO = '';
beforeAll(() => {
  unpacked = mkdtempSync(join(tmpdir(), 'tz-test-'));
  execFileSync('dpkg-deb', ['-x', PINNED_DEB.file, unpacked]);
  ZONEINFO = join(unpacked, 'usr/share/zoneinfo');
});
afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

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

  it('is reproducible: the pinned package compiles to the committed table byte for byte', () => {
    const compiled = compileDeb(PINNED_DEB);
    expect(compiled.file.iana).toBe(TZ_TABLE_VERSION);
    expect(compiled.json).toBe(readFileSync(TZ_TABLE_URL, 'utf8'));
    expect(compiled.hash).toBe(TZ_TABLE_HASH);
    expect(compiled.versionTs).toBe(readFileSync(new URL('../../src/util/tz/version.ts', import.meta.url), 'utf8'));
    expect(tzTable().file.source).toContain(PINNED_DEB.sha256);
    expect(compiled.probes).toBeGreaterThan(100_000);
  });

  it('refuses a package whose SHA-256 is not the pinned one', () => {
    expect(() => compileDeb({ ...PINNED_DEB, sha256: '0'.repeat(64) })).toThrow(/pinned/);
  });
});
