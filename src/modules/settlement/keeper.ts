/**
 * The settlement module's public API for other modules: the statement code every bill of the ledger
 * shares (its hash, its CSV helpers, exact decimal formatting) and billing periods of local days.
 * Statements of other kinds (e.g. the market's community bills) are hashed with `statementHash`, so
 * `gridledger verify statement` checks them the same way (see `addStatementKind` in routes.ts).
 */
export { billingPeriod, nextDay, type BillingPeriod } from './billing.js';
export { csvLine, decimal, statementHash } from './statement.js';
