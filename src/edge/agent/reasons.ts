import type { Logger } from 'pino';

/**
 * Counts refused input by reason code and logs it without flooding the log: the first `burst`
 * occurrences of a code in each window are logged one by one (with the reason), the rest only as a
 * count when the window closes. A replay restarted after a crash re-reads thousands of samples the
 * store already holds; each is still counted, but the log shows a handful and a total.
 */
export class ReasonLog {
  private readonly totals = new Map<string, number>();
  private readonly window = new Map<string, { startMs: number; logged: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly options: { burst?: number; windowMs?: number } = {},
  ) {}

  /** One refused input: `code` is the stable reason, `context` what identifies it (meter, source, time). */
  record(code: string, message: string, nowMs: number, context: Record<string, unknown> = {}): void {
    this.totals.set(code, (this.totals.get(code) ?? 0) + 1);
    const burst = this.options.burst ?? 5;
    const windowMs = this.options.windowMs ?? 60_000;
    let w = this.window.get(code);
    if (w === undefined || nowMs - w.startMs >= windowMs) {
      if (w !== undefined && w.suppressed > 0) this.logger.warn({ code, suppressed: w.suppressed }, `${w.suppressed} more refusals with ${code} in the last window`);
      w = { startMs: nowMs, logged: 0, suppressed: 0 };
      this.window.set(code, w);
    }
    if (w.logged < burst) {
      w.logged++;
      this.logger.warn({ code, ...context }, message);
    } else {
      w.suppressed++;
    }
  }

  /** Totals by code, sorted by code. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  total(): number {
    let n = 0;
    for (const v of this.totals.values()) n += v;
    return n;
  }
}
