/** Helpers for the first-hour tests: the CLI as a separate process, without a terminal. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cleanEnv, REPO, type CliResult } from '../foundation/cli-helpers.js';

export { BIN, REPO, cleanEnv, freePort, oneJson } from '../foundation/cli-helpers.js';

/**
 * Runs the CLI to completion in a session of its own (setsid), so it has no controlling terminal
 * to ask a passphrase on, as under a process manager or in CI.
 */
export function cliNoTty(args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A long-running process whose output is collected, with a way to wait for a line. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }
  get output(): string {
    return `${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }
  get done(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
  /** Waits until stdout+stderr match `re` (or the process exits, or the deadline passes). */
  async waitFor(re: RegExp, what: string, deadlineMs = 120_000): Promise<RegExpMatchArray> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.done) throw new Error(`process exited before ${what}:\n${this.output}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
