/**
 * Generates docs/errors.md from the error catalogues declared with defineErrors() anywhere in src/
 * and sim/: every code once, with the scope that declares it, its HTTP status and its meaning.
 *   node bin/run-ts.mjs scripts/errors-doc.ts          writes docs/errors.md
 *   node bin/run-ts.mjs scripts/errors-doc.ts --check  fails when docs/errors.md is stale
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOGUE, type CatalogueInfo } from '../src/util/errors.js';

const ROOT = join(import.meta.dirname, '..');
export const ERRORS_DOC = join(ROOT, 'docs', 'errors.md');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

export interface FoundCatalogue extends CatalogueInfo {
  file: string;
}

/** Every catalogue exported by a file of src/ or sim/ that calls defineErrors. */
export async function findCatalogues(): Promise<FoundCatalogue[]> {
  const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'sim'))].filter((f) => /defineErrors\(/.test(readFileSync(f, 'utf8')) && !f.endsWith(join('util', 'errors.ts')));
  const found: FoundCatalogue[] = [];
  for (const file of files.sort()) {
    const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      const info = (value as { [CATALOGUE]?: CatalogueInfo } | null)?.[CATALOGUE];
      if (info && !found.some((f) => f.scope === info.scope && f.entries === info.entries)) found.push({ ...info, file: relative(ROOT, file) });
    }
  }
  const core = (await import('../src/util/errors.js')).CORE_ERRORS[CATALOGUE];
  return [{ ...core, file: 'src/util/errors.ts' }, ...found];
}

/** Codes declared more than once (each code must mean one thing everywhere). */
export function duplicateCodes(catalogues: readonly FoundCatalogue[]): string[] {
  const seen = new Map<string, string>();
  const dups: string[] = [];
  for (const c of catalogues) {
    for (const e of c.entries) {
      const where = seen.get(e.code);
      if (where !== undefined) dups.push(`${e.code} (${where} and ${c.scope})`);
      seen.set(e.code, c.scope);
    }
  }
  return dups;
}

export function renderErrorsDoc(catalogues: readonly FoundCatalogue[]): string {
  const lines = [
    '# Error codes',
    '',
    'Every rejection in GridLedger carries a stable code: in API answers (`{"error":{"code","message"}}` with',
    'the HTTP status below), in committed transaction results (`result.code`), and on the CLI (`error CODE: …`,',
    'exit code 1). Each code is declared once, by the module or layer that raises it, with the one-line meaning',
    'listed here. This page is generated from those declarations (`npm run docs:errors`); a test fails when it is',
    'stale.',
    '',
  ];
  const sorted = [...catalogues].sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  for (const c of sorted) {
    lines.push(`## ${c.scope}`, '', `Declared in \`${c.file}\`.`, '', '| code | HTTP | meaning |', '| --- | --- | --- |');
    for (const e of c.entries) lines.push(`| \`${e.code}\` | ${e.status} | ${e.meaning.replace(/\|/g, '\\|')} |`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const catalogues = await findCatalogues();
  const dups = duplicateCodes(catalogues);
  if (dups.length > 0) throw new Error(`codes declared more than once: ${dups.join(', ')}`);
  const doc = renderErrorsDoc(catalogues);
  if (process.argv.includes('--check')) {
    if (readFileSync(ERRORS_DOC, 'utf8') !== doc) {
      process.stderr.write('docs/errors.md is stale: run npm run docs:errors\n');
      process.exit(1);
    }
    return;
  }
  writeFileSync(ERRORS_DOC, doc);
  process.stdout.write(`wrote ${relative(ROOT, ERRORS_DOC)}: ${catalogues.reduce((n, c) => n + c.entries.length, 0)} codes in ${catalogues.length} scopes\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
