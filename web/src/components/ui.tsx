import { useEffect, useState, type ReactNode } from 'react';
import { type Committed } from '../lib/wallet';
import { describeCode, errorMessage } from '../lib/errors';
import { useSession } from '../lib/session';

/** A card of the page grid; `wide` spans the whole row (for tables with many columns). */
export function Card({ title, children, actions, testId, wide }: { title: string; children: ReactNode; actions?: ReactNode; testId?: string; wide?: boolean }) {
  return (
    <section className={wide ? 'card wide' : 'card'} data-testid={testId}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

export function ErrorBox({ error }: { error: string | null | undefined }) {
  return error ? <p className="error" role="alert">{error}</p> : null;
}

export function Kpi({ label, value, testId }: { label: string; value: ReactNode; testId?: string }) {
  return (
    <div className="kpi" data-testid={testId}>
      <span>{label}</span>
      <strong>{value}</strong>
    </div>
  );
}

export function Table<T>({ rows, columns, empty = 'nothing yet', testId, rowKey }: { rows: readonly T[]; columns: Array<[string, (r: T) => ReactNode]>; empty?: string; testId?: string; rowKey?: (r: T, i: number) => string }) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>{columns.map(([h]) => <th key={h}>{h}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={rowKey ? rowKey(r, i) : i}>{columns.map(([h, cell]) => <td key={h}>{cell(r)}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

/** Shortens a grid1… address or a hash for tables; the full value is in the title. */
export function Short({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  const s = value.length > 20 ? `${value.slice(0, 10)}…${value.slice(-6)}` : value;
  return <code title={value}>{s}</code>;
}

export function kWh(wh: number): string {
  return `${(wh / 1000).toLocaleString('en-GB', { maximumFractionDigits: 3 })} kWh`;
}

export function eur(microEur: number): string {
  return `€ ${(microEur / 1e6).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;
}

/**
 * Micro-units (a decimal string, possibly signed) as units with up to six decimals, computed on the
 * digits (bigint) so no amount is rounded through a float.
 */
export function units(micro: string | bigint, code = ''): string {
  const v = BigInt(micro);
  const abs = v < 0n ? -v : v;
  const whole = (abs / 1_000_000n).toLocaleString('en-GB');
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${v < 0n ? '−' : ''}${whole}${frac ? `.${frac}` : ''}${code ? ` ${code}` : ''}`;
}

/** "12.5" (units) → "12500000" (micro-units); undefined for anything but a plain decimal with ≤ 6 decimals. */
export function parseUnits(text: string): string | undefined {
  const m = /^(\d{1,18})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return undefined;
  return (BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'))).toString();
}

/** The code of an asset id (EUR@hanze → EUR). */
export const codeOf = (asset: string) => asset.split('@')[0]!;

/** A status word as a coloured badge (the tests read its text). */
export function Badge({ value, good = [], bad = [], testId }: { value: string; good?: string[]; bad?: string[]; testId?: string }) {
  const tone = good.includes(value) ? 'ok' : bad.includes(value) ? 'error' : 'muted';
  return <span className={`badge ${tone}`} data-testid={testId}>{value}</span>;
}

/** The outcome of a transaction signed in the page: OK, or the rejection code with its meaning. */
export function TxOutcome({ outcome }: { outcome: { ok: true; tx: Committed } | { ok: false; message: string } | null }) {
  if (!outcome) return null;
  if (!outcome.ok) return <p className="error" role="alert" data-testid="tx-outcome">{outcome.message}</p>;
  const { tx } = outcome;
  if (tx.code === 'OK') return <p className="ok" data-testid="tx-outcome">committed at height {tx.height}: OK <Short value={tx.hash} /></p>;
  return <p className="error" role="alert" data-testid="tx-outcome">rejected at height {tx.height}: {describeCode(tx.code, tx.message)}</p>;
}

/** Runs an action that signs and submits; keeps its outcome for TxOutcome. */
export function useTx() {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; tx: Committed } | { ok: false; message: string } | null>(null);
  const { address } = useSession();
  // An outcome belongs to the account that signed: another account starts with a clean slate.
  useEffect(() => setOutcome(null), [address]);
  const run = async (action: () => Promise<Committed>) => {
    setBusy(true);
    setOutcome(null);
    try {
      setOutcome({ ok: true, tx: await action() });
    } catch (err) {
      setOutcome({ ok: false, message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run };
}

/** Shows children only to a signed-in account; says what to do otherwise. */
export function SignedIn({ children, what }: { children: ReactNode; what: string }) {
  const s = useSession();
  if (!s.address) return <p className="muted">Unlock or create a key (top right) to {what}.</p>;
  return <>{children}</>;
}
