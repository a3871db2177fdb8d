/**
 * Issue 19 point 6: the CLI ships compiled JavaScript (dist/, built by `npm run build`, which
 * `npm ci` runs through `prepare`). bin/gridledger.mjs runs dist/ only when it was built from
 * exactly the current sources and otherwise runs the sources through tsx: stale compiled code
 * never runs. Files found at run time (the time-zone table, the circuit artifacts, the signature
 * worker) are found from dist/ too.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distStatus } from '../../bin/dist.mjs';
import { OneFileProject } from '../helpers/one-file-project.js';
import { cleanEnv, REPO } from './helpers.js';

const run = promisify(execFile);

/**
 * Loads the compiled CLI at `bundle` the way bin/gridledger.mjs does (bin/compiled-cli.mjs), in a
 * process of its own, runs `--version` and saves the cache as the launcher does: what it printed,
 * whether V8 took the cache, and the exit code.
 */
async function probeCompiledCli(bundle: string): Promise<{ stdout: string; cacheUsed: boolean; code: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-firsthour-probe-'));
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, `
      import { loadCompiledCli } from ${JSON.stringify(pathToFileURL(join(REPO, 'bin', 'compiled-cli.mjs')).href)};
      const { main, cacheUsed, saveCodeCache } = loadCompiledCli(${JSON.stringify(bundle)});
      const code = await main(['--version']);
      saveCodeCache();
      process.stderr.write(JSON.stringify({ cacheUsed, code }) + '\\n');
    `);
    const { stdout, stderr } = await run(process.execPath, [probe], { cwd: REPO, env: cleanEnv() });
    return { stdout: stdout.trim(), ...(JSON.parse(stderr.trim().split('\n').pop()!) as { cacheUsed: boolean; code: number }) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('bin/gridledger.mjs runs dist/ only when it matches the sources (a project of one file)', () => {
  let project: OneFileProject;
  let root: string;
  beforeAll(() => {
    project = new OneFileProject('gridledger-firsthour-dist-');
    root = project.root;
  });
  afterAll(() => project.remove());
  const writeMain = (version: string) => project.writeMain(version);

  async function cliRuns(env: Record<string, string> = {}): Promise<{ url: string; version: string }> {
    const { stdout } = await run(process.execPath, [join(root, 'bin', 'gridledger.mjs'), 'hello'], { cwd: root, env: cleanEnv(env) });
    return JSON.parse(stdout.trim()) as { url: string; version: string };
  }
  /** The copy's own check (it hashes the copy's build script). */
  const status = async () => ((await import(pathToFileURL(join(root, 'bin', 'dist.mjs')).href)) as typeof import('../../bin/dist.mjs')).distStatus(join(root, 'src'), join(root, 'dist'));
  const build = () => execFileSync(process.execPath, [join(root, 'bin', 'build.mjs')], { cwd: root, stdio: 'pipe' });
  // The bundle reports each module's URL as that of its compiled file in dist/ (see bin/build.mjs).
  const fromDist = { url: expect.stringMatching(/\/dist\/cli\/main\.js$/) };
  const fromSources = { url: expect.stringMatching(/\/src\/cli\/main\.ts$/) };

  it('without dist/, the sources run', async () => {
    expect(await cliRuns()).toMatchObject({ ...fromSources, version: 'v1' });
  });

  it('after a build, dist/ runs', async () => {
    build();
    expect(await status()).toEqual({ fresh: true });
    expect(await cliRuns()).toMatchObject({ ...fromDist, version: 'v1' });
  });

  it('the build leaves a code cache of the bundle that the same Node takes', async () => {
    const bundle = join(root, 'dist', 'bundle', 'cli.cjs');
    expect(statSync(`${bundle}.v8cache`).size).toBeGreaterThan(0);
    const probe = await probeCompiledCli(bundle);
    expect(probe).toMatchObject({ cacheUsed: true, code: 0 });
    expect(JSON.parse(probe.stdout)).toMatchObject({ ...fromDist, version: 'v1', args: ['--version'] });
  });

  it('a changed source makes dist/ stale: the sources run, never the old build', async () => {
    writeMain('v2');
    expect(await status()).toEqual({ fresh: false, reason: 'src/cli/main.ts changed since dist/ was built' });
    expect(await cliRuns()).toMatchObject({ ...fromSources, version: 'v2' });
    build();
    expect(await cliRuns()).toMatchObject({ ...fromDist, version: 'v2' });
  });

  it('a touched but unchanged source (a checkout) keeps dist/; a same-size edit does not', async () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(project.mainTs, later, later);
    expect(await cliRuns()).toMatchObject({ ...fromDist, version: 'v2' });
    writeMain('v3'); // same length as v2
    utimesSync(project.mainTs, later, later);
    expect(await cliRuns()).toMatchObject({ ...fromSources, version: 'v3' });
    build();
  });

  it('an added or removed source, a changed build script or a damaged stamp make dist/ stale', async () => {
    writeFileSync(join(root, 'src', 'extra.ts'), 'export const x = 1;\n');
    expect(await status()).toEqual({ fresh: false, reason: 'src/extra.ts is newer than dist/' });
    expect(await cliRuns()).toMatchObject(fromSources);
    build();
    rmSync(join(root, 'src', 'extra.ts'));
    expect(await status()).toEqual({ fresh: false, reason: 'src/extra.ts was removed since dist/ was built' });
    build();
    expect(await cliRuns()).toMatchObject(fromDist);
    writeFileSync(join(root, 'bin', 'build.mjs'), readFileSync(join(root, 'bin', 'build.mjs'), 'utf8') + '\n// changed\n');
    expect((await status()).reason).toBe('bin/build.mjs changed since dist/ was built');
    build();
    writeFileSync(join(root, 'dist', '.stamp.json'), '{');
    expect(await cliRuns()).toMatchObject(fromSources);
    build();
    expect(await cliRuns({ GRIDLEDGER_FROM_SOURCES: '1' })).toMatchObject(fromSources);
    expect(await cliRuns()).toMatchObject(fromDist);
  });
});

describe("this repository's dist/", () => {
  beforeAll(() => {
    const status = distStatus(join(REPO, 'src'), join(REPO, 'dist'));
    // CI builds it (npm ci runs `prepare`, .ci/run builds again); a stale one there is a failure.
    if (process.env.CI === 'true') expect(status, 'dist/ must be built from the current sources in CI').toEqual({ fresh: true });
    else if (!status.fresh) execFileSync(process.execPath, [join(REPO, 'bin', 'build.mjs')], { cwd: REPO, stdio: 'pipe' });
  }, 120_000);

  it('finds its run-time files without tsx: the time-zone table, the circuit artifacts, the signature worker', async () => {
    // Plain node, no TypeScript loader: any import of a .ts file would fail.
    const dist = (f: string) => JSON.stringify(pathToFileURL(join(REPO, 'dist', f)).href);
    const script = `
      import { Worker } from 'node:worker_threads';
      const { tzTable } = await import(${dist('util/tz/table.js')});
      const { ARTIFACTS_DIR, recordedSums } = await import(${dist('zk/artifacts.js')});
      const { Signer } = await import(${dist('crypto/ed25519.js')});
      const signer = new Signer(new Uint8Array(32).fill(7));
      const msg = new TextEncoder().encode('hello');
      const sig = signer.sign(msg);
      const bad = Uint8Array.from(sig); bad[0] ^= 1;
      const worker = new Worker(new URL(${dist('ledger/verify-worker.mjs')}));
      const results = await new Promise((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (m) => {
          if (m.ready) worker.postMessage({ id: 1, items: [[signer.publicKey, msg, sig], [signer.publicKey, msg, bad]] });
          else if (m.id === 1) resolve(m.results);
        });
      });
      await worker.terminate();
      console.log(JSON.stringify({ tz: tzTable().version, artifacts: ARTIFACTS_DIR, sums: recordedSums().size, results }));
    `;
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-firsthour-dist-run-'));
    const file = join(dir, 'check.mjs');
    writeFileSync(file, script);
    const { stdout } = await run(process.execPath, [file], { cwd: REPO, env: cleanEnv() }).finally(() => rmSync(dir, { recursive: true, force: true }));
    const out = JSON.parse(stdout.trim());
    expect(out.tz).toMatch(/^\d{4}[a-z]$/);
    expect(out.artifacts).toBe(join(REPO, 'zk', 'artifacts') + '/');
    expect(out.sums).toBeGreaterThan(0);
    expect(out.results).toEqual([true, false]);
  });

  it('the bundled command points every module-relative file at its place in dist/', () => {
    const bundle = readFileSync(join(REPO, 'dist', 'bundle', 'cli.cjs'), 'latin1');
    const urls = [...bundle.matchAll(/new URL\("([^"]+)", new URL\("([^"]+)", __gridledgerBundleUrl\)/g)].map((m) => [m[2], m[1]]);
    expect(urls).toContainEqual(['../util/tz/table.js', './tzdata.json']);
    expect(urls).toContainEqual(['../ledger/verify-pool.js', './verify-worker.mjs']);
    // and no import.meta is left: a CommonJS script has none (it would be undefined there)
    expect(bundle).not.toMatch(/import\.meta/);
    // esbuild escapes every non-ASCII character in the code; only comments keep theirs, so the
    // loader's latin1 read changes nothing that runs
    const nonAscii = bundle.split('\n').filter((line) => /[^\x00-\x7f]/.test(line));
    expect(nonAscii.filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))).toEqual([]);
  });

  it('loads the bundle with its code cache; a missing or damaged cache is rebuilt, never trusted', async () => {
    const bundleDir = join(REPO, 'dist', 'bundle');
    // A copy of the bundle in a scratch folder beside dist/bundle/, so the repository's cache is left
    // alone while the files the bundle finds relative to itself and the packages outside it resolve.
    const dir = mkdtempSync(join(REPO, 'dist', '.code-cache-test-'));
    try {
      for (const f of ['cli.cjs', 'cli.cjs.v8cache']) writeFileSync(join(dir, f), readFileSync(join(bundleDir, f)));
      const bundle = join(dir, 'cli.cjs');
      const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;
      // The build's cache is taken by the Node that built it (checked on a project of one file,
      // above); CI also runs this file on another Node, which rejects it, so the first run here only
      // makes sure this Node has one.
      expect(await probeCompiledCli(bundle)).toMatchObject({ stdout: version, code: 0 });
      expect(await probeCompiledCli(bundle)).toEqual({ stdout: version, cacheUsed: true, code: 0 });
      // none: compiled as usual, and the run writes one that the next run takes
      rmSync(`${bundle}.v8cache`);
      expect(await probeCompiledCli(bundle)).toEqual({ stdout: version, cacheUsed: false, code: 0 });
      expect(await probeCompiledCli(bundle)).toEqual({ stdout: version, cacheUsed: true, code: 0 });
      // damaged: V8 rejects it, the command still runs, and a good one replaces it
      writeFileSync(`${bundle}.v8cache`, Buffer.alloc(4096, 0x5a));
      expect(await probeCompiledCli(bundle)).toEqual({ stdout: version, cacheUsed: false, code: 0 });
      expect(await probeCompiledCli(bundle)).toEqual({ stdout: version, cacheUsed: true, code: 0 });
      expect(readFileSync(`${bundle}.v8cache`).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
      // no temporary file is left behind
      expect(readdirSync(dir).sort()).toEqual(['cli.cjs', 'cli.cjs.v8cache']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`node bin/gridledger.mjs` answers from dist/ with the package version', async () => {
    const { stdout } = await run(process.execPath, [join(REPO, 'bin', 'gridledger.mjs'), '--version'], { cwd: REPO, env: cleanEnv() });
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});
