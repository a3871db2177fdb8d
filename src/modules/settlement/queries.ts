import type { KeepersOf } from '../../app/module.js';
import { queryRoute, type QueryContext } from '../../surface/index.js';
import { settlementRoutes } from './routes.js';
import { billingPeriod, billPlant, type ReadingSource } from './billing.js';
import { E } from './errors.js';
import { ledgerReadingSource } from './ledger-source.js';
import type { REQUIRES } from './rules.js';
import { tariffAt } from './state.js';
import { statementsOf, type Statement } from './statement.js';

export type SettlementQueryContext = QueryContext<KeepersOf<typeof REQUIRES>>;

/** Statements of one plant computed from ledger state: holdings, tariffs and (by default) metering readings. */
export function billFromLedger(
  ctx: SettlementQueryContext,
  input: { plant: string; fromDay: string; toDay: string; dynamic: boolean; utility?: string; customer?: string },
  source: ReadingSource = ledgerReadingSource(ctx.keepers.metering.series),
): { plant: string; productionWh: number; statements: Statement[] } {
  const plant = ctx.keepers.shares.requirePlant(input.plant);
  const period = billingPeriod(plant.timezone, input.fromDay, input.toDay);
  const holdings = ctx.keepers.shares.segments(plant, period.fromSlot, period.toSlot);
  const billing = billPlant({ plant, period, holdings, source, dynamic: input.dynamic });
  const tariffOf = (utility: string) => {
    const t = tariffAt(ctx.store, utility, period.fromSlot);
    if (!t) throw E.SETTLEMENT_NO_TARIFF(`utility ${utility} has no tariff in force at slot ${period.fromSlot}`);
    return t;
  };
  return { plant: plant.id, productionWh: billing.productionWh, statements: statementsOf(billing, tariffOf, { utility: input.utility, customer: input.customer, source: source.name }) };
}

/** The bill route bound to its handler (here, not in surface.ts, so the dashboard's statement verifier can re-run it without the CLI). */
export const billPlantRoute = queryRoute(settlementRoutes.bill, (ctx: SettlementQueryContext, { params, query }) =>
  billFromLedger(ctx, { plant: params.plant, fromDay: query.fromDay, toDay: query.toDay, dynamic: query.dynamic === 'true', utility: query.utility, customer: query.customer }),
);
