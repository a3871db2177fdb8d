import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parsePosixTz, posixTransitions, posixTypeAt, type LocalTimeType, type PosixTz } from '../../src/util/tz/posix.js';
import { sha256Hex, TZ_TABLE_FORMAT, type TzTableFile } from '../../src/util/tz/table.js';
import { ZoneRules, type ZoneData } from '../../src/util/tz/zone.js';
import { parseTzif, type Tzif } from './tzif.js';

/**
 * Compiles a zoneinfo directory (compiled TZif files plus the tzdata.zi index zic ships beside them)
 * into the node's table. Pure functions here; scripts/tz/compile.ts is the command line.
 */

/** Zones that are not civil time anywhere: "Factory" reads "-00" (local time unknown). */
const EXCLUDED_ZONES = new Set(['Factory']);
/** The table's instants must stay safe integers even as milliseconds. */
const LOWEST_INSTANT = -9_007_199_254_740;
const HIGHEST_INSTANT = 9_007_199_254_740;

export interface ZoneIndex {
  version: string;
  zones: string[];
  /** [alias, target] */
  links: [string, string][];
}

/** Reads tzdata.zi: "# version 2025b", "Z name …" (zones) and "L target alias" (links). */
export function readZoneIndex(text: string): ZoneIndex {
  const version = /^# version (\S+)$/m.exec(text)?.[1];
  if (!version) throw new Error('tzdata.zi has no "# version" line');
  const zones: string[] = [];
  const links: [string, string][] = [];
  for (const line of text.split('\n')) {
    const f = line.split(/\s+/);
    if (f[0] === 'Z') zones.push(f[1]!);
    else if (f[0] === 'L') links.push([f[2]!, f[1]!]);
  }
  return { version, zones, links };
}

interface Change {
  at: number;
  type: LocalTimeType;
}

const same = (a: LocalTimeType, b: LocalTimeType) => a.utoff === b.utoff && a.isDst === b.isDst;

/** The type the TZif data gives at instant t (RFC 8536: type 0 before the first transition, footer after the last). */
export function tzifTypeAt(raw: Tzif, footer: PosixTz | undefined, t: number): LocalTimeType {
  const at = BigInt(t);
  const n = raw.times.length;
  if (n === 0) return footer ? posixTypeAt(footer, t) : raw.types[0]!;
  if (at < raw.times[0]!) return raw.types[0]!;
  if (at > raw.times[n - 1]! && footer) return posixTypeAt(footer, t);
  let i = n - 1;
  while (raw.times[i]! > at) i--;
  return raw.types[raw.typeIndex[i]!]!;
}

/** Transitions that change offset or DST flag (abbreviation-only changes are dropped), within the safe range. */
function effectiveChanges(name: string, raw: Tzif): { initial: LocalTimeType; changes: Change[] } {
  let initial: LocalTimeType = raw.types[0]!;
  let current = initial;
  const changes: Change[] = [];
  raw.times.forEach((time, i) => {
    const t = raw.types[raw.typeIndex[i]!]!;
    const type = { utoff: t.utoff, isDst: t.isDst };
    if (time < BigInt(LOWEST_INSTANT)) {
      initial = type; // zic's "big bang" transitions: the type from the dawn of time
      current = type;
      return;
    }
    if (time > BigInt(HIGHEST_INSTANT)) throw new Error(`${name}: transition at ${time} s is out of range`);
    if (!same(type, current)) changes.push({ at: Number(time), type });
    current = type;
  });
  return { initial: { utoff: initial.utoff, isDst: initial.isDst }, changes };
}

function sameChanges(a: Change[], b: Change[]): boolean {
  return a.length === b.length && a.every((c, i) => c.at === b[i]!.at && same(c.type, b[i]!.type));
}

/**
 * How many leading changes to keep: "fat" TZif files spell out rule transitions up to 2037; the tail
 * that the footer rule reproduces exactly (same instants, same types, nothing in between) is dropped,
 * leaving the explicit history up to its last irregular transition.
 */
function explicitPrefixLength(changes: Change[], footer: PosixTz | undefined): number {
  if (!footer || changes.length === 0) return changes.length;
  const lastAt = changes[changes.length - 1]!.at;
  let keep = changes.length;
  while (keep > 1) {
    const candidate = keep - 1;
    const previous = changes[candidate - 1]!;
    const tail = changes.slice(candidate);
    if (!same(posixTypeAt(footer, previous.at), previous.type)) break;
    if (!sameChanges(posixTransitions(footer, previous.at, lastAt), tail)) break;
    keep = candidate;
  }
  return keep;
}

export function compileZone(name: string, raw: Tzif): ZoneData {
  const footer = raw.footer === '' ? undefined : parsePosixTz(raw.footer);
  const { initial, changes } = effectiveChanges(name, raw);
  const kept = changes.slice(0, explicitPrefixLength(changes, footer));
  const types: LocalTimeType[] = [initial];
  const indexOf = (type: LocalTimeType) => {
    let i = types.findIndex((t) => same(t, type));
    if (i < 0) i = types.push(type) - 1;
    return i;
  };
  const trans = kept.map((c): [number, number] => [c.at, indexOf(c.type)]);
  return { types: types.map((t): [number, number] => [t.utoff, t.isDst ? 1 : 0]), trans, footer: raw.footer };
}

/** Instants worth probing: every transition of either side ±1 s, and two per year from 1800 to 2200. */
function probeInstants(raw: Tzif, rules: ZoneRules): number[] {
  const out: number[] = [];
  for (const t of raw.times) if (t >= BigInt(LOWEST_INSTANT) && t <= BigInt(HIGHEST_INSTANT)) out.push(Number(t) - 1, Number(t));
  const from = -5_364_662_400; // 1800-01-01
  const to = 7_258_118_400; // 2200-01-01
  for (const tr of rules.transitions(from, to)) out.push(tr.at - 1, tr.at);
  for (let t = from; t < to; t += 15_778_800) out.push(t); // half a year
  return out;
}

/** Fails unless the compiled rules give exactly the type the TZif file gives at every probed instant. */
export function verifyZone(name: string, data: ZoneData, raw: Tzif): number {
  const rules = new ZoneRules(name, data);
  const footer = raw.footer === '' ? undefined : parsePosixTz(raw.footer);
  const probes = probeInstants(raw, rules);
  for (const t of probes) {
    const want = tzifTypeAt(raw, footer, t);
    const got = rules.typeAt(t);
    if (!same(want, got)) throw new Error(`${name} at ${t}: compiled ${JSON.stringify(got)}, TZif ${JSON.stringify({ utoff: want.utoff, isDst: want.isDst })}`);
  }
  return probes.length;
}

/** Resolves link chains to a zone; links to excluded or unknown zones are dropped. */
function resolveLinks(links: [string, string][], zones: Set<string>): [string, string][] {
  const targetOf = new Map(links);
  const out: [string, string][] = [];
  for (const [alias] of links) {
    let target = targetOf.get(alias)!;
    for (let hops = 0; !zones.has(target) && targetOf.has(target) && hops < 16; hops++) target = targetOf.get(target)!;
    if (zones.has(target) && !zones.has(alias)) out.push([alias, target]);
  }
  return out;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One zone or link per line, keys in code-unit order: byte-stable output with readable diffs. */
export function serializeTable(file: TzTableFile): string {
  const zones = Object.keys(file.zones).sort(byCodeUnits).map((n) => `${JSON.stringify(n)}:${JSON.stringify(file.zones[n])}`);
  const links = Object.keys(file.links).sort(byCodeUnits).map((n) => `${JSON.stringify(n)}:${JSON.stringify(file.links[n])}`);
  return [
    '{',
    `"format":${JSON.stringify(file.format)},`,
    `"iana":${JSON.stringify(file.iana)},`,
    `"source":${JSON.stringify(file.source)},`,
    '"zones":{',
    zones.join(',\n'),
    '},',
    '"links":{',
    links.join(',\n'),
    '}',
    '}',
    '',
  ].join('\n');
}

export function versionModule(iana: string, hash: string): string {
  return [
    '// Generated by scripts/tz/compile.ts — do not edit. A new table is a governance upgrade (docs/timezones.md).',
    '',
    '/** IANA tzdata release that src/util/tz/tzdata.json was compiled from. */',
    `export const TZ_TABLE_VERSION = '${iana}';`,
    '',
    '/** SHA-256 (hex) of the bytes of src/util/tz/tzdata.json; recorded in genesis, checked on load. */',
    `export const TZ_TABLE_HASH = '${hash}';`,
    '',
  ].join('\n');
}

export interface CompiledTable {
  file: TzTableFile;
  json: string;
  hash: string;
  versionTs: string;
  /** Instants at which each zone was checked against its TZif file, summed. */
  probes: number;
}

export function compileZoneinfo(dir: string, source: string): CompiledTable {
  const index = readZoneIndex(readFileSync(join(dir, 'tzdata.zi'), 'utf8'));
  const names = index.zones.filter((n) => !EXCLUDED_ZONES.has(n)).sort(byCodeUnits);
  const zones: Record<string, ZoneData> = {};
  let probes = 0;
  for (const name of names) {
    const raw = parseTzif(readFileSync(join(dir, name)));
    const data = compileZone(name, raw);
    probes += verifyZone(name, data, raw);
    zones[name] = data;
  }
  const links = Object.fromEntries(resolveLinks(index.links, new Set(names)).sort((a, b) => byCodeUnits(a[0], b[0])));
  const file: TzTableFile = { format: TZ_TABLE_FORMAT, iana: index.version, source, zones, links };
  const json = serializeTable(file);
  const hash = sha256Hex(Buffer.from(json, 'utf8'));
  return { file, json, hash, versionTs: versionModule(index.version, hash), probes };
}

export interface DebSource {
  file: string;
  debianVersion: string;
  sha256: string;
}

/** Compiles the zoneinfo of a Debian tzdata package file after checking its SHA-256 (dpkg-deb unpacks it). */
export function compileDeb(deb: DebSource): CompiledTable {
  const bytes = readFileSync(deb.file);
  const hash = sha256Hex(bytes);
  if (hash !== deb.sha256) throw new Error(`${deb.file} has SHA-256 ${hash}, pinned ${deb.sha256}`);
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-tzdata-'));
  try {
    execFileSync('dpkg-deb', ['-x', deb.file, dir]);
    return compileZoneinfo(join(dir, 'usr/share/zoneinfo'), `Debian tzdata ${deb.debianVersion} (${basename(deb.file)}, sha256 ${deb.sha256})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
