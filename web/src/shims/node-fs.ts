// `node:fs` for the browser build. The one file shared code reads is the ledger's time-zone table
// (src/util/tz/table.ts, hash-checked on first use): local days of bills and statements need it,
// so the page carries its exact bytes. Any other file is not available in the browser.
import tzdata from '../../../src/util/tz/tzdata.json?raw';

export function readFileSync(path: string | URL): Uint8Array {
  // vite rewrites the table's URL to its hashed asset name (tzdata-<hash>.json)
  if (/\/tzdata(-[\w-]+)?\.json$/.test(String(path))) return new TextEncoder().encode(tzdata);
  throw new Error('node:fs is not available in the browser build');
}
export default { readFileSync };
