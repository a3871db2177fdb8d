/**
 * Typed errors with stable codes. Every rejection anywhere in GridLedger is a LedgerError:
 * the code is part of the public contract (API, CLI, committed tx results) and never changes meaning.
 */
export class LedgerError extends Error {
  readonly code: string;
  /** HTTP status the API uses when this error answers a request (4xx = the caller's mistake). */
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
    this.status = status;
  }
}

/** Turns anything thrown into a LedgerError; unexpected errors become INTERNAL with a generic message. */
export function asLedgerError(err: unknown): LedgerError {
  if (err instanceof LedgerError) return err;
  return new LedgerError('INTERNAL', 'internal error', 500);
}
