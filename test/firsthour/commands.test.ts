/**
 * Start-up cost (issue 19 point 6): the command groups with heavy modules (edge agent, anchor
 * service) are registered only when the command line names them or asks for the full help — and
 * then they are all there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandWord, registerHeavyGroups } from '../../src/cli/main.js';
import { cli } from '../foundation/cli-helpers.js';

describe('lazily registered command groups', () => {
  it('finds the command word past global options and their values', () => {
    const program = buildProgram();
    expect(commandWord(program, ['--home', 'x', '-o', 'json', 'status'])).toBe('status');
    expect(commandWord(program, ['--wait', '--from', 'alice', 'tx', 'registry'])).toBe('tx');
    expect(commandWord(program, ['--node', 'http://h:1', 'edge', 'replay'])).toBe('edge');
    expect(commandWord(program, ['--version'])).toBeUndefined();
    expect(commandWord(program, [])).toBeUndefined();
  });

  it('`edge`, `anchor` and `verify samples` work when named; the full help lists every group', async () => {
    const [help, edge, anchor, verify] = await Promise.all([cli(['--help']), cli(['edge', '--help']), cli(['anchor', '--help']), cli(['verify', '--help'])]);
    expect(help.stdout).toMatch(/^ {2}edge \[options\]/m);
    expect(help.stdout).toMatch(/^ {2}anchor /m);
    expect(edge.stdout).toMatch(/replay/);
    expect(anchor.stdout).toMatch(/^ {2}init /m);
    expect(verify.stdout).toMatch(/^ {2}samples /m);
    expect(verify.stdout).toMatch(/^ {2}statement /m);
  });

  it('every command of the full program is there when its word is named (none reachable only through --help)', async () => {
    const full = buildProgram();
    await registerHeavyGroups(full, ['--help']);
    const light = new Set(buildProgram().commands.map((c) => c.name()));
    const heavy = full.commands.map((c) => c.name()).filter((n) => !light.has(n));
    expect(heavy).toEqual(expect.arrayContaining(['edge', 'anchor', 'flex']));
    for (const name of heavy) {
      const program = buildProgram();
      await registerHeavyGroups(program, ['--home', 'x', name, 'something']);
      const cmd = program.commands.find((c) => c.name() === name);
      expect(cmd, `${name} is registered when named`).toBeDefined();
      const fullCmd = full.commands.find((c) => c.name() === name)!;
      expect(cmd!.commands.map((c) => c.name()).sort(), `${name}'s subcommands`).toEqual(fullCmd.commands.map((c) => c.name()).sort());
    }
  });
});

/**
 * A preload for the CLI process that records every package file it loads: ES modules through a
 * resolve hook, CommonJS ones (also those loaded by createRequire) from require.cache at exit.
 */
const RECORDER = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.LOADED_PACKAGES_FILE;
register('data:text/javascript,' + encodeURIComponent(\`import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/node_modules/')) appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n');
  return r;
}\`));
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(out, Object.keys(require.cache).join('\\n') + '\\n'));
`;

/** The packages (names under node_modules/) a CLI call loads. */
async function packagesLoadedBy(args: string[]): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-loads-'));
  try {
    writeFileSync(join(dir, 'record.mjs'), RECORDER);
    const out = join(dir, 'loaded.txt');
    writeFileSync(out, '');
    const r = await cli(args, { NODE_OPTIONS: `--import ${join(dir, 'record.mjs')}`, LOADED_PACKAGES_FILE: out });
    expect(r.code, r.stderr).toBe(0);
    return new Set([...readFileSync(out, 'utf8').matchAll(/node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/g)].map((m) => m[1]!.replace('\\', '/')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Packages that cost tenths of a second to load: only the commands that use them may load them. */
const HEAVY_PACKAGES = ['snarkjs', 'circom_runtime', 'ffjavascript', 'poseidon-lite', 'cli-progress', 'echarts', 'zrender', 'fastify', 'pg', 'better-sqlite3', 'pino', 'prom-client', 'mqtt', 'serialport'];

describe('start-up cost of an everyday command', () => {
  it('`keys list` loads none of the heavy packages (the prover, the progress bar, the node runtime, the charts)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gridledger-loads-home-'));
    try {
      const [light, full] = await Promise.all([packagesLoadedBy(['--home', home, 'keys', 'list']), packagesLoadedBy(['--help'])]);
      // The recorder sees them when they are loaded: the full help registers every group.
      expect([...full]).toEqual(expect.arrayContaining(['snarkjs', 'echarts', 'fastify']));
      expect(HEAVY_PACKAGES.filter((p) => light.has(p))).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
