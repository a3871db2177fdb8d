import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerMarketCli } from './cli.js';
import { billRecordQuery, billsRoute, bookQuery, clearingQuery, contractQuery, contractsQuery, marketQuery, offersQuery, orderQuery, ordersQuery, producersQuery, tradesQuery } from './queries.js';
import { marketRoutes as r } from './routes.js';

const routes = [
  queryRoute(r.market, (ctx, { params }) => marketQuery(ctx, params.community)),
  queryRoute(r.book, (ctx, { params, query }) => bookQuery(ctx, params.community, query.slot)),
  queryRoute(r.offers, (ctx, { params, query }) => offersQuery(ctx, params.community, query)),
  queryRoute(r.orders, (ctx, { params, query }) => ordersQuery(ctx, params.community, query)),
  queryRoute(r.order, (ctx, { params }) => orderQuery(ctx, params.id)),
  queryRoute(r.trades, (ctx, { params, query }) => tradesQuery(ctx, params.community, query)),
  queryRoute(r.clearing, (ctx, { params, query }) => clearingQuery(ctx, params.community, query)),
  queryRoute(r.contracts, (ctx, { params, query }) => contractsQuery(ctx, params.community, query)),
  queryRoute(r.contract, (ctx, { params }) => contractQuery(ctx, params.id)),
  queryRoute(r.producers, (ctx, { params, query }) => producersQuery(ctx, params.community, query)),
  billsRoute,
  queryRoute(r.billRecord, (ctx, { params }) => billRecordQuery(ctx, params.hash)),
];

export const marketSurface: ModuleSurface = { routes, cli: registerMarketCli };
