import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerAnonCli } from './cli.js';
import { accountQuery, leavesQuery, memberQuery, nullifierQuery, offerQuery, offersQuery, rootsQuery, statusQuery } from './queries.js';
import { anonRoutes as r } from './routes.js';

const routes = [
  queryRoute(r.status, (ctx) => statusQuery(ctx)),
  queryRoute(r.leaves, (ctx) => leavesQuery(ctx)),
  queryRoute(r.roots, (ctx, { query }) => rootsQuery(ctx, query.limit)),
  queryRoute(r.member, (ctx, { params }) => memberQuery(ctx, params.address)),
  queryRoute(r.account, (ctx, { params }) => accountQuery(ctx, params.address)),
  queryRoute(r.nullifier, (ctx, { params }) => nullifierQuery(ctx, params.nullifier)),
  queryRoute(r.offers, (ctx, { query }) => offersQuery(ctx, query)),
  queryRoute(r.offer, (ctx, { params }) => offerQuery(ctx, params.id)),
];

export const anonSurface: ModuleSurface = { routes, cli: registerAnonCli };
