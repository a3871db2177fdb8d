import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerPaymentsCli } from './cli.js';
import { assetQuery, assetsQuery, balancesQuery, channelQuery, channelsQuery, escrowQuery, escrowsQuery, historyQuery, locksQuery, redemptionQuery, redemptionsQuery } from './queries.js';
import { paymentsRoutes as r } from './routes.js';

const routes = [
  queryRoute(r.listAssets, (ctx, { query }) => assetsQuery(ctx, query)),
  queryRoute(r.getAsset, (ctx, { params, query }) => assetQuery(ctx, params.asset, query.attestations, query.pending)),
  queryRoute(r.balances, (ctx, { params }) => balancesQuery(ctx, params.address)),
  queryRoute(r.history, (ctx, { params, query }) => historyQuery(ctx, params.address, query)),
  queryRoute(r.locks, (ctx, { params }) => locksQuery(ctx, params.address)),
  queryRoute(r.redemptions, (ctx, { query }) => redemptionsQuery(ctx, query)),
  queryRoute(r.redemption, (ctx, { params }) => redemptionQuery(ctx, params.id)),
  queryRoute(r.escrows, (ctx, { query }) => escrowsQuery(ctx, query)),
  queryRoute(r.escrow, (ctx, { params }) => escrowQuery(ctx, params.id)),
  queryRoute(r.channels, (ctx, { query }) => channelsQuery(ctx, query)),
  queryRoute(r.channel, (ctx, { params }) => channelQuery(ctx, params.id)),
];

export const paymentsSurface: ModuleSurface = { routes, cli: registerPaymentsCli };
