/**
 * `npm run bench:profile -- FILE [--top N] [--busiest SECONDS] [--incl REGEX] [--under REGEX]`
 *
 * Where a node's time or allocations go, from the profiles the benchmark's nodes write (BENCHMARKS.md,
 * "Profiles"): a `.cpuprofile` (`--cpu-prof`) gives milliseconds, a `.heapprofile` (the allocation
 * sampler bench/alloc-sampling.mjs, or `--heap-prof`) gives bytes allocated.
 *
 *   (default)          self time or bytes per function, largest first
 *   --incl REGEX       inclusive instead, for the functions whose label matches (a function counted
 *                      once per sample even when it recurs on the stack)
 *   --under REGEX      self time or bytes only of samples below a matching frame (what a phase spends)
 *   --busiest SECONDS  CPU profiles only: just the window of that length with the least idle time (a
 *                      whole bench run is mostly warm-up, idle and other loads; this finds saturation)
 *
 * A label is `function file:line` (file: the last two path segments). Chrome DevTools and speedscope
 * show the same profiles as flame charts; this prints the tables that BENCHMARKS.md quotes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}
export interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children?: HeapProfileNode[];
}
export interface HeapProfile {
  head: HeapProfileNode;
}
export interface SummaryOptions {
  incl?: RegExp;
  under?: RegExp;
  /** CPU profiles: the window (µs) with the least idle time. */
  busiestUs?: number;
}
export interface Summary {
  /** Microseconds (CPU) or bytes (heap) in scope. */
  total: number;
  /** CPU: where the window starts, µs from the profile's start. */
  windowStartUs?: number;
  rows: Array<{ label: string; amount: number }>;
}

export function frameLabel(frame: CallFrame): string {
  const file = frame.url.split('/').slice(-2).join('/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/** Adds `amount` to a sample's stack (leaf first) as the options ask: self, inclusive or under a frame. */
function attribute(into: Map<string, number>, stack: readonly string[], amount: number, options: SummaryOptions): boolean {
  if (options.under && !stack.some((l) => options.under!.test(l))) return false;
  if (options.incl) {
    for (const label of new Set(stack)) if (options.incl.test(label)) into.set(label, (into.get(label) ?? 0) + amount);
  } else into.set(stack[0]!, (into.get(stack[0]!) ?? 0) + amount);
  return true;
}

function sorted(into: Map<string, number>): Summary['rows'] {
  return [...into].map(([label, amount]) => ({ label, amount })).sort((a, b) => b.amount - a.amount || (a.label < b.label ? -1 : 1));
}

/** The sample range [from, to) of the window of `windowUs` with the most non-idle time. */
function busiestWindow(profile: CpuProfile, idle: ReadonlySet<number>, windowUs: number): { from: number; to: number; startUs: number } {
  const at: number[] = [];
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) at.push((t += profile.timeDeltas[i] ?? 0));
  let best = { from: 0, to: profile.samples.length, busy: -1 };
  let from = 0;
  let busy = 0;
  const busyOf = (i: number) => (idle.has(profile.samples[i]!) ? 0 : (profile.timeDeltas[i] ?? 0));
  for (let i = 0; i < profile.samples.length; i++) {
    busy += busyOf(i);
    while (at[i]! - at[from]! > windowUs) busy -= busyOf(from++);
    if (busy > best.busy) best = { from, to: i + 1, busy };
  }
  return { from: best.from, to: best.to, startUs: best.from < at.length ? at[best.from]! - (profile.timeDeltas[best.from] ?? 0) : 0 };
}

export function summarizeCpuProfile(profile: CpuProfile, options: SummaryOptions = {}): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const window = options.busiestUs ? busiestWindow(profile, idle, options.busiestUs) : { from: 0, to: profile.samples.length, startUs: undefined };
  // Samples of one node share a stack: time per node first, stacks built once per node.
  const perNode = new Map<number, number>();
  for (let i = window.from; i < window.to; i++) perNode.set(profile.samples[i]!, (perNode.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const into = new Map<string, number>();
  let total = 0;
  for (const [id, us] of perNode) {
    const stack: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(frameLabel(byId.get(cur)!.callFrame));
    if (attribute(into, stack, us, options)) total += us;
  }
  return { total, windowStartUs: window.startUs, rows: sorted(into) };
}

export function summarizeHeapProfile(profile: HeapProfile, options: SummaryOptions = {}): Summary {
  const into = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapProfileNode, callers: string[]): void => {
    const stack = [frameLabel(node.callFrame), ...callers];
    if (node.selfSize > 0 && attribute(into, stack, node.selfSize, options)) total += node.selfSize;
    for (const child of node.children ?? []) walk(child, stack);
  };
  walk(profile.head, []);
  return { total, rows: sorted(into) };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '40' }, busiest: { type: 'string' }, incl: { type: 'string' }, under: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: npm run bench:profile -- FILE [--top N] [--busiest SECONDS] [--incl REGEX] [--under REGEX]');
  const top = Number(values.top);
  if (!Number.isSafeInteger(top) || top < 1) throw new Error(`--top must be a whole number ≥ 1, got ${values.top}`);
  const busiest = values.busiest === undefined ? undefined : Number(values.busiest);
  if (busiest !== undefined && !(busiest > 0)) throw new Error(`--busiest must be a number of seconds > 0, got ${values.busiest}`);
  const options: SummaryOptions = {
    incl: values.incl === undefined ? undefined : new RegExp(values.incl),
    under: values.under === undefined ? undefined : new RegExp(values.under),
    busiestUs: busiest === undefined ? undefined : busiest * 1e6,
  };
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile | HeapProfile;
  const isHeap = 'head' in profile;
  if (isHeap && options.busiestUs) throw new Error('--busiest applies to CPU profiles only (a heap profile has no timeline)');
  const summary = isHeap ? summarizeHeapProfile(profile, options) : summarizeCpuProfile(profile, options);
  const show = (amount: number) => (isHeap ? `${(amount / 1e6).toFixed(2)} MB` : `${(amount / 1000).toFixed(0)} ms`);
  const scope = summary.windowStartUs === undefined ? '' : `, window from ${(summary.windowStartUs / 1e6).toFixed(1)} s`;
  console.log(`${isHeap ? 'allocated' : 'sampled'} ${show(summary.total)}${scope}`);
  for (const row of summary.rows.slice(0, top)) {
    const share = summary.total > 0 ? (100 * row.amount) / summary.total : 0;
    console.log(`${show(row.amount).padStart(11)} ${share.toFixed(1).padStart(5)} %  ${row.label}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    // Usage and file errors: one line, no stack.
    console.error(`bench:profile: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
