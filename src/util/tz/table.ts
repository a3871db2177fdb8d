import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from './version.js';
import { ZoneRules, type ZoneData } from './zone.js';

/**
 * The time-zone table shipped with the node (src/util/tz/tzdata.json, built by scripts/tz/compile.ts).
 * It is ledger input: every node must compute the same local days, so the file's SHA-256 is pinned in
 * version.ts (and recorded in genesis) and checked when the table is first loaded.
 */

export const TZ_TABLE_FORMAT = 'gridledger-tzdata/1';
export const TZ_TABLE_URL = new URL('./tzdata.json', import.meta.url);

export interface TzTableFile {
  format: string;
  /** IANA tzdata release, e.g. "2025b". */
  iana: string;
  /** Where the compiled data came from (package and version). */
  source: string;
  zones: Record<string, ZoneData>;
  /** Alias → canonical zone name. */
  links: Record<string, string>;
}

export class TzTable {
  private readonly zones: Map<string, ZoneData>;
  private readonly links: Map<string, string>;
  private readonly rules = new Map<string, ZoneRules>();

  constructor(readonly file: TzTableFile, readonly hash: string) {
    if (file.format !== TZ_TABLE_FORMAT) throw new Error(`tz table: format ${JSON.stringify(file.format)} is not ${TZ_TABLE_FORMAT}`);
    // Maps, not the parsed objects: a zone name must never resolve through Object.prototype.
    this.zones = new Map(Object.entries(file.zones));
    this.links = new Map(Object.entries(file.links));
    for (const [alias, target] of this.links) if (!this.zones.has(target)) throw new Error(`tz table: link ${alias} → ${target} names no zone`);
  }

  get version(): string {
    return this.file.iana;
  }

  /** The canonical zone a name stands for (itself, or a link's target), or undefined if unknown. */
  canonicalName(name: string): string | undefined {
    if (this.zones.has(name)) return name;
    return this.links.get(name);
  }

  /** The rules of a zone or link, parsed once and cached; undefined if the name is unknown. */
  zone(name: string): ZoneRules | undefined {
    const canonical = this.canonicalName(name);
    if (canonical === undefined) return undefined;
    let rules = this.rules.get(canonical);
    if (!rules) {
      rules = new ZoneRules(canonical, this.zones.get(canonical)!);
      this.rules.set(canonical, rules);
    }
    return rules;
  }

  zoneNames(): string[] {
    return [...this.zones.keys()];
  }

  linkNames(): string[] {
    return [...this.links.keys()];
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Builds a table from file bytes; with `expectedHash`, refuses bytes that hash differently. */
export function parseTzTable(bytes: Uint8Array, expectedHash?: string): TzTable {
  const hash = sha256Hex(bytes);
  if (expectedHash !== undefined && hash !== expectedHash) {
    throw new Error(`tz table ${TZ_TABLE_URL.pathname} has SHA-256 ${hash}, expected ${expectedHash}: the file was changed without recompiling (scripts/tz/compile.ts)`);
  }
  return new TzTable(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as TzTableFile, hash);
}

let shipped: TzTable | undefined;

/** The table shipped with this node, loaded and hash-checked on first use. */
export function tzTable(): TzTable {
  if (!shipped) {
    const table = parseTzTable(readFileSync(TZ_TABLE_URL), TZ_TABLE_HASH);
    if (table.version !== TZ_TABLE_VERSION) throw new Error(`tz table is IANA ${table.version}, version.ts says ${TZ_TABLE_VERSION}`);
    shipped = table;
  }
  return shipped;
}
