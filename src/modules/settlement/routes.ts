import type { Command } from 'commander';
import type { StatementQuery } from '../../cli/verify.js';
import { z } from 'zod';
import { defineRoute } from '../../api/route.js';
import { addressSchema, hashSchema } from '../../codec/tx.js';
import { plantIdSchema } from '../shares/keeper.js';
import type { Statement } from './statement.js';

const tariffOut = z.object({ utility: z.string(), fromSlot: z.number(), importMicroEurPerKwh: z.number(), feedInMicroEurPerKwh: z.number(), height: z.number(), txHash: z.string() });
const recordOut = z.object({
  hash: z.string(),
  utility: z.string(),
  plant: z.string(),
  customer: z.string(),
  fromSlot: z.number(),
  toSlot: z.number(),
  revision: z.number(),
  height: z.number(),
  txHash: z.string(),
  time: z.number(),
});
const totalsOut = { consumedWh: z.number(), allocatedWh: z.number(), coveredWh: z.number(), importedWh: z.number(), fedInWh: z.number() };
export const statementOut = z.object({
  kind: z.literal('gridledger/pv-statement'),
  version: z.literal(1),
  plant: z.string(),
  plantName: z.string(),
  timezone: z.string(),
  utility: z.string(),
  customer: z.string(),
  meter: z.string().nullable(),
  period: z.object({ fromDay: z.string(), toDay: z.string(), fromSlot: z.number(), toSlot: z.number(), start: z.string(), end: z.string() }),
  allocation: z.enum(['static', 'dynamic']),
  source: z.enum(['ledger', 'csv']),
  dryRun: z.literal(true).optional().describe('present on a dry run (tariffs typed on the command line): not recordable'),
  slots: z.number(),
  missing: z.object({ productionSlots: z.number(), consumptionSlots: z.number() }),
  tariff: z.object({ importMicroEurPerKwh: z.number(), feedInMicroEurPerKwh: z.number() }),
  energyWh: z.object({ consumed: z.number(), allocated: z.number(), covered: z.number(), imported: z.number(), fedIn: z.number() }),
  amountMicroEur: z.object({ importCharge: z.number(), feedInCredit: z.number(), total: z.number() }),
  days: z.array(z.object({ day: z.string(), slots: z.number(), ...totalsOut })),
  hash: z.string().optional(),
});

export const settlementRoutes = {
  tariffs: defineRoute({
    name: 'utilityTariffs',
    method: 'GET',
    path: '/v1/settlement/tariffs/:utility',
    summary: "A utility's tariff versions (µ€ per kWh for import and feed-in), oldest first",
    tags: ['settlement'],
    params: z.object({ utility: addressSchema }),
    response: z.object({ tariffs: z.array(tariffOut) }),
  }),
  statement: defineRoute({
    name: 'getStatementRecord',
    method: 'GET',
    path: '/v1/settlement/statements/:hash',
    summary: 'A statement hash recorded on the ledger, with the latest revision for its period',
    tags: ['settlement'],
    params: z.object({ hash: hashSchema }),
    response: z.object({ record: recordOut, latest: z.object({ hash: z.string(), revision: z.number() }), superseded: z.boolean() }),
  }),
  bill: defineRoute({
    name: 'billPlant',
    method: 'GET',
    path: '/v1/settlement/plants/:plant/bill',
    summary: 'Statements of a plant for the local days fromDay…toDay computed from ledger data (shares, meter readings, tariffs)',
    tags: ['settlement'],
    params: z.object({ plant: plantIdSchema }),
    query: z.object({
      fromDay: z.string(),
      toDay: z.string(),
      utility: addressSchema.optional(),
      customer: addressSchema.optional(),
      dynamic: z.enum(['true', 'false']).default('false'),
    }),
    response: z.object({ plant: z.string(), productionWh: z.number(), statements: z.array(statementOut) }),
  }),
};

/**
 * The query that computes a PV statement from ledger data: the bill route, for its one customer
 * (`bill --prove` asks it with a proof; `verify statement --offline` and the dashboard re-run it).
 */
export function pvStatementQuery(s: Pick<Statement, 'plant' | 'period' | 'utility' | 'customer' | 'allocation'>): StatementQuery {
  return {
    route: settlementRoutes.bill.name,
    params: { plant: s.plant },
    query: { fromDay: s.period.fromDay, toDay: s.period.toDay, utility: s.utility, customer: s.customer, dynamic: s.allocation === 'dynamic' ? 'true' : 'false' },
    pick: (answer) => (answer as { statements: Statement[] }).statements.find((x) => x.customer === s.customer && x.utility === s.utility) as Record<string, unknown> | undefined,
  };
}

// ── statement kinds of other modules ──

/** One check of `gridledger verify statement`: passed, failed, or not applicable (null). */
export interface StatementCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

/**
 * A kind of statement another module issues (its `kind` field, e.g. "gridledger/market-bill"),
 * hashed with this module's `statementHash`. `gridledger verify statement FILE` checks the hash
 * field itself and hands the statement to the kind's `verify` for the ledger checks (recorded,
 * recomputed); `gridledger bill --community ID` runs the kind's `billCommunity`.
 */
export interface StatementKind {
  kind: string;
  verify(statement: Record<string, unknown>, hash: string, cmd: Command): Promise<StatementCheck[]>;
  /** `trusted` (a genesis or trusted-state file) asks for bills with evidence (`bill --prove`). */
  billCommunity?(options: { community: string; fromDay: string; toDay: string; out: string; member?: string; trusted?: string }, cmd: Command): Promise<void>;
  /** The query that computes a statement of this kind (for `verify statement --offline`). */
  statementQuery?(statement: Record<string, unknown>): StatementQuery;
}

const statementKinds = new WeakMap<Command, Map<string, StatementKind>>();

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** Registers a statement kind with the program a module's CLI is added to (call from the module's CLI registrar). */
export function addStatementKind(cmd: Command, kind: StatementKind): void {
  const root = rootOf(cmd);
  const kinds = statementKinds.get(root) ?? new Map<string, StatementKind>();
  kinds.set(kind.kind, kind);
  statementKinds.set(root, kinds);
}

/** The statement kinds registered with the program of `cmd`. */
export function statementKindsOf(cmd: Command): StatementKind[] {
  return [...(statementKinds.get(rootOf(cmd))?.values() ?? [])];
}
