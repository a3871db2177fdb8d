import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localDay, requireTimeZone, TIME_ERRORS, timeZoneError } from '../../src/util/localtime.js';
import { CATALOGUE } from '../../src/util/errors.js';
import { parseTzTable, TZ_TABLE_URL, tzTable } from '../../src/util/tz/table.js';
import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../../src/util/tz/version.js';

const bytes = readFileSync(TZ_TABLE_URL);

describe('the shipped time-zone table', () => {
  it('hashes to TZ_TABLE_HASH (the value recorded in genesis) and is IANA TZ_TABLE_VERSION', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(TZ_TABLE_HASH);
    expect(TZ_TABLE_HASH).toMatch(/^[0-9a-f]{64}$/);
    expect(tzTable().hash).toBe(TZ_TABLE_HASH);
    expect(tzTable().version).toBe(TZ_TABLE_VERSION);
    expect(TZ_TABLE_VERSION).toMatch(/^\d{4}[a-z]$/);
  });

  it('refuses bytes that differ from the pinned hash, even by one changed offset', () => {
    const tampered = Buffer.from(bytes.toString('utf8').replace('"Europe/Vienna":{"types":[[3921,0],[3600,0],[7200,1]]', '"Europe/Vienna":{"types":[[3921,0],[3600,0],[3600,1]]'));
    expect(tampered.equals(bytes)).toBe(false);
    expect(() => parseTzTable(tampered, TZ_TABLE_HASH)).toThrow(/expected/);
    expect(parseTzTable(bytes, TZ_TABLE_HASH).hash).toBe(TZ_TABLE_HASH);
  });

  it('holds canonical zones and links, without posixrules, right/, posix/ or Factory', () => {
    const zones = tzTable().zoneNames();
    const links = tzTable().linkNames();
    expect(zones.length).toBeGreaterThan(300);
    expect(links.length).toBeGreaterThan(100);
    for (const name of [...zones, ...links]) expect(name).not.toMatch(/^(posixrules|right\/|posix\/|Factory$|localtime$)/);
    expect(zones).toContain('Europe/Vienna');
    expect(tzTable().canonicalName('Asia/Calcutta')).toBe('Asia/Kolkata');
    expect(tzTable().canonicalName('UTC')).toBe('Etc/UTC');
    for (const alias of links) expect(zones).toContain(tzTable().canonicalName(alias));
  });

  it('every zone parses (transitions increasing, footer valid) and gives a local day', () => {
    for (const name of tzTable().zoneNames()) {
      expect(tzTable().zone(name)!.name).toBe(name);
      if (/^Etc\/GMT[+-]/.test(name)) continue; // refused as offset zones (below)
      expect(localDay(name, '2026-06-01').slots).toBeGreaterThan(0);
    }
  });
});

describe('zone names', () => {
  it('accepts zones and links of the table, including UTC', () => {
    for (const tz of ['Europe/Vienna', 'Europe/Amsterdam', 'UTC', 'Etc/UTC', 'GMT', 'Asia/Calcutta', 'US/Eastern', 'EST5EDT']) expect(isValidTimeZone(tz)).toBe(true);
  });

  it('refuses unknown names with TIMEZONE_INVALID: exact spelling, no prototype keys, no runtime-only names', () => {
    for (const tz of ['Mars/Olympus', 'europe/vienna', 'Europe/Vienna ', '', 'x'.repeat(65), 'constructor', '__proto__', 'toString', 'Factory', 'posixrules', 'right/Europe/Vienna', 'localtime']) {
      expect(timeZoneError(tz)?.code, tz).toBe('TIMEZONE_INVALID');
      expect(isValidTimeZone(tz)).toBe(false);
    }
    expect(timeZoneError(42)?.code).toBe('TIMEZONE_INVALID');
    expect(() => requireTimeZone('Mars/Olympus')).toThrow(expect.objectContaining({ code: 'TIMEZONE_INVALID', status: 400 }));
    expect(() => localDay('Mars/Olympus', '2026-06-01')).toThrow(expect.objectContaining({ code: 'TIMEZONE_INVALID' }));
  });

  it('refuses fixed offsets with TIMEZONE_OFFSET_NOT_ALLOWED, also the IANA Etc/GMT±N zones', () => {
    for (const tz of ['+01:00', '-05:30', '+0100', '+1', 'UTC+1', 'UTC-03:00', 'GMT+2', 'gmt-2', 'Etc/GMT-1', 'Etc/GMT+12', 'Etc/GMT-14', 'GMT+0', 'Etc/GMT-0']) {
      expect(timeZoneError(tz)?.code, tz).toBe('TIMEZONE_OFFSET_NOT_ALLOWED');
    }
    expect(tzTable().canonicalName('Etc/GMT-1')).toBe('Etc/GMT-1'); // in the table, refused by policy
    expect(() => localDay('Etc/GMT-1', '2026-06-01')).toThrow(expect.objectContaining({ code: 'TIMEZONE_OFFSET_NOT_ALLOWED' }));
  });

  it('declares its codes once, in the time catalogue', () => {
    expect(TIME_ERRORS[CATALOGUE].scope).toBe('time');
    expect(TIME_ERRORS[CATALOGUE].entries.map((e) => e.code)).toEqual(['DAY_INVALID', 'TIMEZONE_INVALID', 'TIMEZONE_OFFSET_NOT_ALLOWED', 'TIME_OUT_OF_RANGE']);
  });
});
