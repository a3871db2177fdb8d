#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`, and by .ci/run): compiles src/ to dist/
// so the CLI and the nodes start without transpiling TypeScript (about 2 s saved on every call).
//
// 1. One JavaScript module per TypeScript file, same layout: src/x/y.ts → dist/x/y.js. dist/ sits
//    beside src/, so paths a module builds from its own location (../../zk/artifacts/,
//    ../../package.json) resolve the same from both; the other files of src/ (the time-zone
//    table, the signature worker, which runs in its own thread) are copied next to the modules.
// 2. The command itself, bundled from src/cli/main.ts into dist/bundle/ (the node runtime in a
//    chunk of its own, loaded only by start/demo/devnet): resolving and linking some 300 small
//    modules costs more than the code, so a bundle starts about twice as fast. In the bundle every
//    `import.meta.url` is replaced by the URL of the module's file in (1), so files found relative
//    to a module are found exactly as there. Only small pure-JavaScript packages are bundled;
//    native and worker-using ones (better-sqlite3, pino, fastify, snarkjs, …) stay in node_modules.
//
// esbuild only strips types (tsconfig has isolatedModules); `npm test` type-checks and tests the
// sources, and the process tests run this build through bin/gridledger.mjs.
//
// dist/ is built in a temporary folder and swapped in, and its stamp (bin/dist.mjs) describes the
// sources as they were before compiling, so a file edited during the build leaves dist/ stale.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFiles, snapshot, STAMP } from './dist.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const staging = join(root, `.dist-building-${process.pid}`);
const bundleDir = join(staging, 'bundle');

/** Packages bundled into the command: pure JavaScript, no files or workers of their own. */
const BUNDLED = /^(zod|commander|yaml|@noble\/[^/]+|@scure\/[^/]+)(\/|$)/;

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
        const url = `new URL(${JSON.stringify(relative(bundleDir, compiled).split('\\').join('/'))}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
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
    splitting: true,
    outdir: bundleDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    plugins,
    // Bundled CommonJS (commander) calls require() for Node's own modules.
    banner: { js: "import { createRequire as __gridledgerRequire } from 'node:module'; const require = __gridledgerRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  for (const f of files.filter((f) => !f.endsWith('.ts'))) {
    mkdirSync(dirname(join(staging, f)), { recursive: true });
    cpSync(join(src, f), join(staging, f));
  }
  writeFileSync(join(staging, STAMP), JSON.stringify(stamp) + '\n');
  rmSync(dist, { recursive: true, force: true });
  renameSync(staging, dist);
} catch (err) {
  rmSync(staging, { recursive: true, force: true });
  throw err;
}
process.stderr.write(`built dist/ from ${typescript.length} TypeScript files in ${Date.now() - started} ms\n`);
