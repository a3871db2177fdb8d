import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerSettlementCli } from './cli.js';
import { E } from './errors.js';
import { billPlantRoute } from './queries.js';
import { settlementRoutes } from './routes.js';
import { getLatestOfPeriod, getStatementRecord, listTariffs } from './state.js';

const routes = [
  queryRoute(settlementRoutes.tariffs, (ctx, { params }) => ({ tariffs: listTariffs(ctx.store, params.utility) })),
  queryRoute(settlementRoutes.statement, (ctx, { params }) => {
    const record = getStatementRecord(ctx.store, params.hash);
    if (!record) throw E.SETTLEMENT_UNKNOWN_STATEMENT(`no statement with hash ${params.hash} is recorded on the ledger`);
    const latest = getLatestOfPeriod(ctx.store, record.plant, record.customer, record.fromSlot, record.toSlot)!;
    return { record, latest, superseded: latest.hash !== record.hash };
  }),
  billPlantRoute,
];

export const settlementSurface: ModuleSurface = { routes, cli: registerSettlementCli };
