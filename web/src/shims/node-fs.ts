// `node:fs` for the browser build: shared code that reads files (the time-zone table, lazily) is never called by the page.
export function readFileSync(): never {
  throw new Error('node:fs is not available in the browser build');
}
export default { readFileSync };
