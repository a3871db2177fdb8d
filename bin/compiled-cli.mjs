// Loads the bundled command (dist/bundle/cli.cjs, built by bin/build.mjs) with V8's code cache.
//
// Why: a CLI call is short, and compiling the bundle's 2 MB of JavaScript was a quarter of it (about
// 100 of 400 ms for `keys list`) on every call. Node ≥ 22.1 can cache compiled ES modules
// (module.enableCompileCache); Node 20 cannot, but a vm.Script accepts V8's cached data on every
// version. So the bundle is one CommonJS script, compiled here with the cache beside it
// (cli.cjs.v8cache, written by the build's first run of the command): a call then starts about 90 ms
// sooner. V8 checks the cache against the source's length and its own version and flags and ignores
// one that does not match (another Node, say; the build replaces script and cache together, so a
// cache never outlives its script); the command then compiles as usual and writes a fresh
// cache when it is done, through a temporary file renamed into place, so concurrent calls never
// read half a cache. A dist/ that cannot be written only costs that time.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import vm from 'node:vm';

/** The bundle's file name in dist/bundle/; its cache is the same name with `.v8cache` added. */
export const BUNDLE = 'cli.cjs';

/**
 * The bundle's exports (`main`), whether V8 took the code cache (`cacheUsed`), and a function that
 * writes the cache when it was missing or stale.
 */
export function loadCompiledCli(file) {
  const cacheFile = `${file}.v8cache`;
  // esbuild escapes non-ASCII characters in code (comments keep theirs), so latin1 reads every line that
  // runs exactly, and faster than utf8.
  const source = readFileSync(file, 'latin1');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The wrapper CommonJS gives every module; on the first line, so the bundle's own line numbers hold.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    // import() of a package left outside the bundle (mqtt, serialport) goes to Node's own loader.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const saveCodeCache = () => {
    if (cachedData && !script.cachedDataRejected) return;
    const partial = `${cacheFile}.${process.pid}`;
    try {
      // Taken after the command ran, the cache holds the functions it compiled on the way too.
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, cacheFile);
    } catch {
      rmSync(partial, { force: true });
    }
  };
  return { main: module.exports.main, cacheUsed: cachedData !== undefined && !script.cachedDataRejected, saveCodeCache };
}
