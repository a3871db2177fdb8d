/**
 * Builds the node's time-zone table from compiled IANA tzdata:
 *
 *   node bin/run-ts.mjs scripts/tz/compile.ts [--check]
 *       from the pinned Debian tzdata package (scripts/tz/source.ts), checked against its SHA-256
 *   node bin/run-ts.mjs scripts/tz/compile.ts --deb FILE --debian-version V --sha256 H [--check]
 *       from another tzdata .deb (an upgrade: `apt-get download tzdata=V`)
 *   node bin/run-ts.mjs scripts/tz/compile.ts --zoneinfo DIR --source LABEL [--check]
 *       from a directory of TZif files with zic's tzdata.zi index
 *
 * Writes src/util/tz/tzdata.json and src/util/tz/version.ts; with --check it writes nothing and exits 1
 * unless the committed files are exactly what the source compiles to. Format and upgrade procedure:
 * docs/timezones.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileDeb, compileZoneinfo, type CompiledTable } from './build.js';
import { PINNED_DEB } from './source.js';

const OUT_DIR = fileURLToPath(new URL('../../src/util/tz/', import.meta.url));

function compile(values: { zoneinfo?: string; source?: string; deb?: string; 'debian-version'?: string; sha256?: string }): CompiledTable {
  if (values.zoneinfo !== undefined) {
    if (!values.source) throw new Error('--zoneinfo needs --source naming where the files came from (package and version)');
    return compileZoneinfo(values.zoneinfo, values.source);
  }
  if (values.deb !== undefined) {
    if (!values['debian-version'] || !values.sha256) throw new Error('--deb needs --debian-version and --sha256 (from `apt-cache show tzdata=VERSION`)');
    return compileDeb({ file: values.deb, debianVersion: values['debian-version'], sha256: values.sha256 });
  }
  return compileDeb(PINNED_DEB);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      zoneinfo: { type: 'string' },
      source: { type: 'string' },
      deb: { type: 'string' },
      'debian-version': { type: 'string' },
      sha256: { type: 'string' },
      check: { type: 'boolean', default: false },
    },
  });
  const started = process.hrtime.bigint();
  const table = compile(values);
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
