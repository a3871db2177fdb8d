import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

/**
 * The main thread's garbage-collection pauses by kind, since the first call (issue 18: the collector's
 * share of a validator's CPU). One observer per process, counting every entry it is handed:
 * prom-client's default `nodejs_gc_duration_seconds` observes only the first entry of each batch the
 * observer delivers, which under load is a small part of them (21 of 193 in a loop that allocates and
 * yields every few milliseconds). Observes only: nothing here reaches ledger state.
 */

export interface GcPauseTotals {
  /** Pause time in seconds (wall time of the pauses, on the thread that runs this module). */
  seconds: number;
  /** Number of pauses. */
  count: number;
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

let totals: Map<string, GcPauseTotals> | undefined;

function observe(): Map<string, GcPauseTotals> {
  const byKind = new Map<string, GcPauseTotals>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const t = byKind.get(kind) ?? { seconds: 0, count: 0 };
      t.seconds += entry.duration / 1000;
      t.count += 1;
      byKind.set(kind, t);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return byKind;
}

/** Pauses by kind (minor = scavenge, major = mark-compact, incremental marking steps, weak callbacks) since the first call. */
export function gcPauses(): ReadonlyMap<string, Readonly<GcPauseTotals>> {
  totals ??= observe();
  return totals;
}
