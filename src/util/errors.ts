/**
 * Typed errors with stable codes. Every rejection anywhere in GridLedger is a LedgerError: the code
 * is part of the public contract (API, CLI, committed tx results) and never changes meaning.
 *
 * Codes are declared once, in a catalogue per scope (a module, or a core layer such as `tx` or
 * `api`), with the HTTP status the API answers with and a one-line meaning; `docs/errors.md` is
 * generated from the catalogues. Code elsewhere raises an error through its catalogue
 * (`throw E.METER_NOT_FOUND('meter m1 is not registered')`), so an undeclared code does not compile.
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

export interface ErrorSpec {
  /** HTTP status when the error answers an API request; default 400. */
  status?: number;
  /** One line: what the code means, for docs/errors.md. */
  meaning: string;
}

export interface CatalogueEntry {
  code: string;
  status: number;
  meaning: string;
}

export interface CatalogueInfo {
  /** Who declares the codes: a module name or a core layer (`tx`, `block`, `api`, …). */
  scope: string;
  entries: CatalogueEntry[];
}

/** Symbol under which a catalogue keeps its description (so it never clashes with a code). */
export const CATALOGUE = Symbol('gridledger.errorCatalogue');

export type ErrorCatalogue<C extends string> = { readonly [K in C]: (message: string) => LedgerError } & { readonly [CATALOGUE]: CatalogueInfo };

const CODE_RE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Declares a scope's error codes. Each entry becomes a factory: `E.CODE(message)` returns the
 * LedgerError (callers `throw` it) with the declared status.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(scope: string, specs: T): ErrorCatalogue<keyof T & string> {
  const out: Record<string | symbol, unknown> = {};
  const entries: CatalogueEntry[] = [];
  for (const code of Object.keys(specs).sort()) {
    if (!CODE_RE.test(code)) throw new Error(`error code ${code} of ${scope} must be UPPER_SNAKE_CASE`);
    const spec = specs[code]!;
    const status = spec.status ?? 400;
    entries.push({ code, status, meaning: spec.meaning });
    out[code] = (message: string) => new LedgerError(code, message, status);
  }
  out[CATALOGUE] = { scope, entries };
  return Object.freeze(out) as ErrorCatalogue<keyof T & string>;
}

/** Errors every layer may raise: the one name for a bug that was caught instead of crashing. */
export const CORE_ERRORS = defineErrors('core', {
  INTERNAL_ERROR: { status: 500, meaning: 'an unexpected failure inside the node (a bug); logged and counted in /metrics, never a partial change' },
});

/** Turns anything thrown into a LedgerError; unexpected errors become INTERNAL_ERROR with a generic message. */
export function asLedgerError(err: unknown): LedgerError {
  if (err instanceof LedgerError) return err;
  return CORE_ERRORS.INTERNAL_ERROR('internal error');
}

/** Re-creates an error received over the wire (API client): the code is the remote side's. */
export function remoteError(code: string, message: string, status: number): LedgerError {
  return new LedgerError(code, message, status);
}
