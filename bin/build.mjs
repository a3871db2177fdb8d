#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`, and by .ci/run): compiles src/ to dist/
// so the CLI and the nodes start without transpiling TypeScript (about 2 s saved on every call).
//
// 1. One JavaScript module per TypeScript file, same layout: src/x/y.ts → dist/x/y.js. dist/ sits
//    beside src/, so paths a module builds from its own location (../../zk/artifacts/,
//    ../../package.json) resolve the same from both; the other files of src/ (the time-zone
//    table, the signature worker, which runs in its own thread) are copied next to the modules.
// 2. The command itself, bundled from src/cli/main.ts into one CommonJS script, dist/bundle/cli.cjs:
//    resolving and linking some 300 small modules costs more than the code, so a bundle starts about
//    twice as fast, and bin/compiled-cli.mjs loads a script with V8's code cache (written here by a
//    first run of the command), which saves compiling it on every call. Parts only some commands
//    use (the node runtime, the simulator, the indexer) are still only run when a command imports
//    them. In the bundle every `import.meta.url` is replaced by the URL of the module's file in (1),
//    so files found relative to a module are found exactly as there. Only small pure-JavaScript
//    packages are bundled; native and worker-using ones (better-sqlite3, pino, fastify, snarkjs, …)
//    stay in node_modules. zod's messages in other languages are left out (nothing selects one).
//
// esbuild only strips types (tsconfig has isolatedModules); `npm test` type-checks and tests the
// sources, and the process tests run this build through bin/gridledger.mjs.
//
// dist/ is built in a temporary folder and swapped in, and its stamp (bin/dist.mjs) describes the
// sources as they were before compiling, so a file edited during the build leaves dist/ stale.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE } from './compiled-cli.mjs';
import { listFiles, snapshot, STAMP } from './dist.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const staging = join(root, `.dist-building-${process.pid}`);
const bundleDir = join(staging, 'bundle');

/** Packages bundled into the command: pure JavaScript, no files or workers of their own. */
const BUNDLED = /^(zod|commander|yaml|micro-packed|@noble\/[^/]+|@scure\/[^/]+)(\/|$)/;

/** zod's error messages in English only: its index of 40-odd languages is a seventh of the bundle. */
const ZOD_ENGLISH_ONLY = "export { default as en } from 'zod/v4/locales/en.js';\n";

const plugins = [
  {
    name: 'externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.test(args.path) ? undefined : { path: args.path, external: true }));
    },
  },
  {
    name: 'module-file-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const compiled = join(staging, relative(src, args.path).replace(/\.ts$/, '.js'));
        const url = `new URL(${JSON.stringify(relative(bundleDir, compiled).split('\\').join('/'))}, __gridledgerBundleUrl).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  },
  {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({ contents: ZOD_ENGLISH_ONLY, resolveDir: root, loader: 'js' }));
    },
  },
];

const started = Date.now();
const stamp = snapshot(src);
const files = listFiles(src);
const typescript = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
rmSync(staging, { recursive: true, force: true });
try {
  await build({
    entryPoints: typescript.map((f) => join(src, f)),
    outdir: staging,
    outbase: src,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  await build({
    entryPoints: { cli: join(src, 'cli', 'main.ts') },
    bundle: true,
    outfile: join(bundleDir, BUNDLE),
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    charset: 'ascii',
    sourcemap: true,
    plugins,
    banner: { js: "const __gridledgerBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
  for (const f of files.filter((f) => !f.endsWith('.ts'))) {
    mkdirSync(dirname(join(staging, f)), { recursive: true });
    cpSync(join(src, f), join(staging, f));
  }
  writeFileSync(join(staging, STAMP), JSON.stringify(stamp) + '\n');
  rmSync(dist, { recursive: true, force: true });
  renameSync(staging, dist);
  // The first run of the command writes its code cache (bin/compiled-cli.mjs).
  execFileSync(process.execPath, [join(root, 'bin', 'gridledger.mjs'), '--help'], { stdio: ['ignore', 'ignore', 'inherit'] });
} catch (err) {
  rmSync(staging, { recursive: true, force: true });
  throw err;
}
process.stderr.write(`built dist/ from ${typescript.length} TypeScript files in ${Date.now() - started} ms\n`);
