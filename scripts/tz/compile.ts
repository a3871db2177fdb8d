/**
 * Builds the node's time-zone table from compiled IANA tzdata:
 *
 *   node bin/run-ts.mjs scripts/tz/compile.ts [--zoneinfo DIR] [--source LABEL] [--check]
 *
 * DIR (default /usr/share/zoneinfo, Debian's `tzdata` package) must hold zic's TZif files and the
 * tzdata.zi index. Writes src/util/tz/tzdata.json and src/util/tz/version.ts; with --check, writes
 * nothing and exits 1 unless the committed files are exactly what DIR compiles to.
 * See docs/timezones.md for the format and the upgrade procedure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileZoneinfo } from './build.js';

const SYSTEM_ZONEINFO = '/usr/share/zoneinfo';
const OUT_DIR = fileURLToPath(new URL('../../src/util/tz/', import.meta.url));

/** Names the Debian package the system zoneinfo comes from; other directories must say where they came from. */
function defaultSource(dir: string): string {
  if (resolve(dir) !== SYSTEM_ZONEINFO) throw new Error(`--source is required for ${dir} (e.g. "Debian tzdata 2025b-0+deb12u2")`);
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'tzdata'], { encoding: 'utf8' }).trim();
  return `Debian tzdata ${version}`;
}

function main(): void {
  const { values } = parseArgs({ options: { zoneinfo: { type: 'string', default: SYSTEM_ZONEINFO }, source: { type: 'string' }, check: { type: 'boolean', default: false } } });
  const dir = values.zoneinfo!;
  const started = process.hrtime.bigint();
  const table = compileZoneinfo(dir, values.source ?? defaultSource(dir));
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const summary = `IANA ${table.file.iana} from ${table.file.source}: ${Object.keys(table.file.zones).length} zones, ${Object.keys(table.file.links).length} links, ${table.json.length} bytes, sha256 ${table.hash} (${table.probes} instants verified against TZif in ${ms} ms)`;
  const outputs: [string, string][] = [
    [`${OUT_DIR}tzdata.json`, table.json],
    [`${OUT_DIR}version.ts`, table.versionTs],
  ];
  if (values.check) {
    const stale = outputs.filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text).map(([path]) => path);
    if (stale.length > 0) {
      console.error(`${summary}\ndiffers from the committed ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log(`${summary}\ncommitted table is up to date`);
    return;
  }
  for (const [path, text] of outputs) writeFileSync(path, text);
  console.log(summary);
}

main();
