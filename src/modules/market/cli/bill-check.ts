import type { RouteOutput } from '../../../api/route.js';
import { statementHash } from '../../settlement/keeper.js';
import type { StatementCheck } from '../../settlement/routes.js';
import { billSchema, type marketRoutes } from '../routes.js';

/**
 * The ledger checks of a community bill, shared by `gridledger verify statement` and the dashboard's
 * Verify button (docs/market.md, "Bills"): the bill's hash is recorded on the ledger for the same
 * community, member and period and not superseded by a later revision, and the ledger data still give
 * exactly that bill. The caller supplies the two look-ups (CLI: the node's API; dashboard: its client).
 */

export type BillRecordView = RouteOutput<typeof marketRoutes.billRecord>;

export interface BillLookups {
  /** The record of `hash` on the ledger, or undefined when no bill with that hash is recorded. */
  record(hash: string): Promise<BillRecordView | undefined>;
  /** The hash of the member's bill for the period recomputed from ledger data, or undefined when there is none. */
  recompute(bill: { community: string; member: string; fromDay: string; toDay: string }): Promise<string | undefined>;
}

export interface BillVerdict {
  /** The bill's hash (its own `hash` field ignored), or null when it is not a community bill. */
  hash: string | null;
  checks: StatementCheck[];
  /** Every check passed. */
  ok: boolean;
}

type Period = { community: string; member: string; period: { fromSlot: number; toSlot: number } };

/** Whether the record found for the hash is this bill's, and its latest revision. */
export function recordedCheck(bill: Period, hash: string, found: BillRecordView | undefined): StatementCheck {
  if (!found) return { name: 'recorded', ok: false, detail: `no bill with hash ${hash} is recorded on the ledger` };
  const r = found.record;
  const same = r.community === bill.community && r.member === bill.member && r.fromSlot === bill.period.fromSlot && r.toSlot === bill.period.toSlot;
  if (!same) return { name: 'recorded', ok: false, detail: 'the recorded hash belongs to another community, member or period' };
  if (found.superseded) return { name: 'recorded', ok: false, detail: `recorded at height ${r.height} (revision ${r.revision}) but superseded by ${found.latest.hash} (revision ${found.latest.revision})` };
  return { name: 'recorded', ok: true, detail: `recorded by ${r.by} at height ${r.height} in tx ${r.txHash} (revision ${r.revision})` };
}

/** Whether the ledger data give the same bill today. */
export function recomputedCheck(hash: string, again: string | undefined): StatementCheck {
  return again === hash
    ? { name: 'recomputed', ok: true, detail: 'recomputed from ledger data: identical' }
    : { name: 'recomputed', ok: false, detail: `recomputed from ledger data: ${again ?? 'no bill'} differs` };
}

/** Checks a bill (as received: JSON parsed) against the ledger. */
export async function checkBill(statement: Record<string, unknown>, lookups: BillLookups): Promise<BillVerdict> {
  const parsed = billSchema.safeParse(statement);
  if (!parsed.success) return { hash: null, ok: false, checks: [{ name: 'form', ok: false, detail: `not a community bill: ${parsed.error.issues[0]?.message ?? 'invalid'}` }] };
  const b = parsed.data;
  const hash = statementHash(statement);
  const checks: StatementCheck[] = [];
  if (b.hash !== undefined && b.hash !== hash) checks.push({ name: 'hash', ok: false, detail: `the bill's hash field ${b.hash} does not match its content (${hash})` });
  checks.push(recordedCheck(b, hash, await lookups.record(hash)));
  checks.push(recomputedCheck(hash, await lookups.recompute({ community: b.community, member: b.member, fromDay: b.period.fromDay, toDay: b.period.toDay })));
  return { hash, checks, ok: checks.every((c) => c.ok === true) };
}
