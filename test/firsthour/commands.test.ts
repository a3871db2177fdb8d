/**
 * Start-up cost (issue 19 point 6): the command groups with heavy modules (edge agent, anchor
 * service) are registered only when the command line names them or asks for the full help — and
 * then they are all there.
 */
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
