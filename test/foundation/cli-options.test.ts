import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

function* commands(cmd: Command, path: string[] = []): Generator<[string, Command]> {
  for (const sub of cmd.commands) {
    const here = [...path, sub.name()];
    yield [here.join(' '), sub];
    yield* commands(sub, here);
  }
}

/**
 * Commander recognises the program's options after a subcommand too, and gives them to the program:
 * a command's own option with a global option's name is never set (`tx anon offer --memo` once
 * wrote its text into the transaction memo, and the offer had none).
 */
describe('CLI options', () => {
  it('no command declares an option a global option would swallow', () => {
    const program = buildProgram();
    const globals = new Set(program.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)));
    const clashes: string[] = [];
    let checked = 0;
    for (const [path, cmd] of commands(program)) {
      for (const o of cmd.options) {
        checked++;
        for (const flag of [o.long, o.short]) if (flag && globals.has(flag)) clashes.push(`${path} ${flag}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(clashes).toEqual([]);
  });
});
