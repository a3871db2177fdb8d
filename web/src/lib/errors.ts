import meanings from 'virtual:error-meanings';
import { LedgerError } from '../../../src/util/errors.js';

/** One sentence for any failure: the code, what it means (docs/errors.md), and the node's detail. */
export function errorMessage(err: unknown): string {
  if (err instanceof LedgerError) return describeCode(err.code, err.message);
  return err instanceof Error ? err.message : String(err);
}

export function describeCode(code: string, detail: string): string {
  const meaning = (meanings as Record<string, string>)[code];
  return meaning ? `${code}: ${meaning} — ${detail}` : `${code}: ${detail}`;
}
