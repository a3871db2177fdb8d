import type { AppModule } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { LedgerError } from '../../util/errors.js';
import { plantSegments } from '../shares/index.js';
import { requirePlant } from '../shares/rules.js';
import { billingPeriod, billPlant, type ReadingSource } from './billing.js';
import { registerSettlementCli } from './cli.js';
import { ledgerReadingSource } from './ledger-source.js';
import { MSG, recordStatementsMsg, setTariffMsg } from './messages.js';
import { settlementRoutes } from './routes.js';
import { recordStatements, setTariff } from './rules.js';
import { getLatestOfPeriod, getStatementRecord, listTariffs, tariffAt } from './state.js';
import { statementsOf, type Statement } from './statement.js';

/** Statements of one plant computed from ledger state: holdings, tariffs and (by default) metering readings. */
export function billFromLedger(
  store: KVStore,
  input: { plant: string; fromDay: string; toDay: string; dynamic: boolean; utility?: string; customer?: string },
  source: ReadingSource = ledgerReadingSource(store),
): { plant: string; productionWh: number; statements: Statement[] } {
  const plant = requirePlant(store, input.plant);
  const period = billingPeriod(plant.timezone, input.fromDay, input.toDay);
  const holdings = plantSegments(store, plant, period.fromSlot, period.toSlot);
  const billing = billPlant({ plant, period, holdings, source, dynamic: input.dynamic });
  const tariffOf = (utility: string) => {
    const t = tariffAt(store, utility, period.fromSlot);
    if (!t) throw new LedgerError('SETTLEMENT_NO_TARIFF', `utility ${utility} has no tariff in force at slot ${period.fromSlot}`, 404);
    return t;
  };
  return { plant: plant.id, productionWh: billing.productionWh, statements: statementsOf(billing, tariffOf, { utility: input.utility, customer: input.customer, source: source.name }) };
}

export const settlementModule: AppModule = {
  name: 'settlement',
  messages: {
    [MSG.setTariff]: { schema: setTariffMsg, execute: setTariff },
    [MSG.recordStatements]: { schema: recordStatementsMsg, execute: recordStatements },
  },
  routes: [
    { route: settlementRoutes.tariffs, handle: (store, { params }) => ({ tariffs: listTariffs(store, params.utility) }) },
    {
      route: settlementRoutes.statement,
      handle: (store, { params }) => {
        const record = getStatementRecord(store, params.hash);
        if (!record) throw new LedgerError('SETTLEMENT_UNKNOWN_STATEMENT', `no statement with hash ${params.hash} is recorded on the ledger`, 404);
        const latest = getLatestOfPeriod(store, record.plant, record.customer, record.fromSlot, record.toSlot)!;
        return { record, latest, superseded: latest.hash !== record.hash };
      },
    },
    {
      route: settlementRoutes.bill,
      handle: (store, { params, query }) =>
        billFromLedger(store, { plant: params.plant, fromDay: query.fromDay, toDay: query.toDay, dynamic: query.dynamic === 'true', utility: query.utility, customer: query.customer }),
    },
  ],
  cli: registerSettlementCli,
};

/** The shares module, re-exported so the node's module list imports both from one line. */
export { sharesModule } from '../shares/index.js';
export { settlementRoutes, MSG as SETTLEMENT_MSG };
export { billPlant, billingPeriod, largestRemainder, type ReadingSource, type Series, type PlantBilling } from './billing.js';
export { statementsOf, statementHash, statementCsv, summaryCsv, type Statement, type Tariff } from './statement.js';
export { ledgerReadingSource } from './ledger-source.js';
