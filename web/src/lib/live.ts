import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './errors';
import { useSession } from './session';

/**
 * Live data without polling: one EventSource on GET /v1/events for the whole page; components
 * subscribe to committed blocks and transactions, and `useLive` re-runs its query when a block
 * commits (at most once per second) or the signed-in account changes.
 */

export interface BlockEvent {
  height: number;
  hash: string;
  time: number;
  txs: number;
  stateRoot: string;
  proposer: string;
}
export interface TxEvent {
  hash: string;
  height: number;
  index: number;
  result: { code: string; message: string; events: Array<{ type: string; attributes: Record<string, string> }> };
}

type Listener = { block?(e: BlockEvent): void; tx?(e: TxEvent): void };
const listeners = new Set<Listener>();
let source: EventSource | null = null;

function ensureSource(): void {
  if (source) return;
  source = new EventSource('/v1/events?topics=blocks,txs');
  source.addEventListener('block', (m) => {
    const e = JSON.parse((m as MessageEvent<string>).data) as BlockEvent;
    for (const l of listeners) l.block?.(e);
  });
  source.addEventListener('tx', (m) => {
    const e = JSON.parse((m as MessageEvent<string>).data) as TxEvent;
    for (const l of listeners) l.tx?.(e);
  });
}

export function useLedgerEvents(listener: Listener): void {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    ensureSource();
    const l: Listener = { block: (e) => ref.current.block?.(e), tx: (e) => ref.current.tx?.(e) };
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
}

export interface Live<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload(): void;
}

/** Runs `query` now, after each commit (throttled) and when `deps` or the session change. */
export function useLive<T>(query: () => Promise<T>, deps: unknown[], options: { live?: boolean } = {}): Live<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const { address, token } = useSession();
  const run = useRef(0);
  const last = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const load = useCallback(() => {
    const id = ++run.current;
    last.current = Date.now();
    query().then(
      (v) => {
        if (id !== run.current) return;
        setData(v);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (id !== run.current) return;
        setError(errorMessage(err));
        setLoading(false);
      },
    );
  }, [...deps, address, token]);
  useEffect(() => {
    setLoading(true);
    load();
  }, [load]);
  useLedgerEvents({
    block: () => {
      if (options.live === false || pending.current) return;
      const wait = Math.max(0, 1000 - (Date.now() - last.current));
      pending.current = setTimeout(() => {
        pending.current = null;
        load();
      }, wait);
    },
  });
  useEffect(() => () => void (pending.current && clearTimeout(pending.current)), []);
  return { data, error, loading, reload: load };
}
