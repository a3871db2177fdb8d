import { openSync, readFileSync, readSync } from 'node:fs';

/**
 * Where a node's main thread spends its CPU, by phase (issue 18): admission, gossip, block
 * build/validate/execute, state root, commit, consensus. A phase is timed around a synchronous
 * section with the thread's own CPU clock (Linux: /proc/thread-self/schedstat, nanoseconds; elsewhere
 * the monotonic wall clock); a phase that runs inside another is subtracted from the outer one
 * (exclusive time), so the phases add up to at most the thread's CPU and never count anything twice.
 *
 * Reading the CPU clock costs a system call (~2-4 µs), too much per transaction. Per-transaction
 * sections are therefore `share`s of the phase around them: they read only the wall clock, and when
 * the phase ends its CPU is divided among its shares in proportion to their wall time (a fair split
 * when preemption hits every part of the phase alike).
 * The meter only observes: nothing it measures feeds back into ledger state or block contents.
 */

/** What ledger code sees of the meter: it names its phases; the clocks stay outside ledger code. */
export interface PhaseTimer {
  /** Times `run` as `phase` on the CPU clock (use around sections that run per block or per batch). */
  time<T>(phase: string, run: () => T): T;
  /** Times `run` as `phase`, a part of the enclosing `time` section, on the wall clock only (cheap: per transaction). */
  share<T>(phase: string, run: () => T): T;
}

/** Does nothing: the default where nobody measures (tests, tools, the simulator). */
export const NO_PHASES: PhaseTimer = { time: (_phase, run) => run(), share: (_phase, run) => run() };

export interface PhaseTotals {
  /** Exclusive CPU seconds spent in the phase. */
  seconds: number;
  /** How often the phase was entered. */
  calls: number;
}

interface OpenPhase {
  /** CPU and wall time (ms) of phases nested in this one. */
  nestedCpu: number;
  nestedWall: number;
  /** Wall time (ms) of its shares, by name, and how often each was entered. */
  shares: Map<string, { wall: number; calls: number }> | null;
}

export class PhaseMeter implements PhaseTimer {
  private readonly totals = new Map<string, PhaseTotals>();
  private readonly open: OpenPhase[] = [];

  /** `cpuClock`: this thread's CPU time in ms (default: the thread that creates the meter). */
  constructor(private readonly cpuClock: () => number = threadCpuClock()) {}

  time<T>(phase: string, run: () => T): T {
    const cpu0 = this.cpuClock();
    const wall0 = performance.now();
    const me: OpenPhase = { nestedCpu: 0, nestedWall: 0, shares: null };
    this.open.push(me);
    try {
      return run();
    } finally {
      const cpu = this.cpuClock() - cpu0;
      const wall = performance.now() - wall0;
      this.open.pop();
      this.settle(phase, me, Math.max(0, cpu - me.nestedCpu), Math.max(0, wall - me.nestedWall));
      const parent = this.open[this.open.length - 1];
      if (parent) {
        parent.nestedCpu += cpu;
        parent.nestedWall += wall;
      }
    }
  }

  share<T>(phase: string, run: () => T): T {
    const parent = this.open[this.open.length - 1];
    if (!parent) return this.time(phase, run);
    const wall0 = performance.now();
    const nested0 = parent.nestedWall;
    try {
      return run();
    } finally {
      const wall = performance.now() - wall0 - (parent.nestedWall - nested0);
      parent.shares ??= new Map();
      const s = parent.shares.get(phase);
      if (s) {
        s.wall += wall;
        s.calls += 1;
      } else parent.shares.set(phase, { wall, calls: 1 });
    }
  }

  /** A phase's exclusive CPU, divided among its shares by their wall time; the rest stays with the phase. */
  private settle(phase: string, me: OpenPhase, cpu: number, wall: number): void {
    let left = cpu;
    if (me.shares && wall > 0) {
      for (const [name, s] of me.shares) {
        const part = Math.min(left, (cpu * s.wall) / wall);
        this.add(name, part, s.calls);
        left -= part;
      }
    }
    this.add(phase, left);
  }

  /** Time measured elsewhere (e.g. on a worker thread): not nested in anything on this thread. */
  add(phase: string, ms: number, calls = 1): void {
    const t = this.totals.get(phase);
    if (t) {
      t.seconds += ms / 1000;
      t.calls += calls;
    } else this.totals.set(phase, { seconds: ms / 1000, calls });
  }

  snapshot(): Record<string, PhaseTotals> {
    const out: Record<string, PhaseTotals> = {};
    for (const [phase, t] of [...this.totals.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[phase] = { ...t };
    return out;
  }
}

/**
 * The calling thread's CPU clock in ms: its schedstat (run time in ns), read with one positioned
 * read of a file kept open; the wall clock where /proc is missing.
 */
export function threadCpuClock(): () => number {
  // One open file per thread (module state is per thread): nodes created by the hundred in tests share it.
  threadClock ??= openThreadClock();
  return threadClock;
}

let threadClock: (() => number) | undefined;

function openThreadClock(): () => number {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return () => performance.now();
  }
  const buf = Buffer.alloc(96);
  return () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const end = buf.indexOf(32);
    return Number(buf.toString('latin1', 0, end > 0 && end < n ? end : n)) / 1e6;
  };
}

/** Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on every Linux the node runs on). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) of this process's main thread, of the given worker threads (by Linux
 * thread id; gone threads count 0) and of all its other threads together (GC helpers, libuv), from
 * /proc on Linux; null elsewhere. Read when scraped, so it costs nothing on the hot path. Resolution: 10 ms.
 */
export function threadCpuSeconds(workerTids: Iterable<number> = []): { main: number; workers: number; other: number } | null {
  try {
    const main = procStatCpu(`/proc/${process.pid}/task/${process.pid}/stat`);
    const all = procStatCpu(`/proc/${process.pid}/stat`);
    let workers = 0;
    for (const tid of workerTids) {
      try {
        workers += procStatCpu(`/proc/${process.pid}/task/${tid}/stat`);
      } catch {
        /* the thread ended */
      }
    }
    return { main, workers, other: Math.max(0, all - main - workers) };
  } catch {
    return null;
  }
}

function procStatCpu(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5); here indices 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}
