import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerFlexCli } from './cli.js';
import { eventQuery, eventsQuery, keyQuery, keysQuery, programQuery, programsQuery } from './queries.js';
import { flexRoutes as r } from './routes.js';

const routes = [
  queryRoute(r.keys, (ctx) => keysQuery(ctx)),
  queryRoute(r.key, (ctx, { params }) => keyQuery(ctx, params.id)),
  queryRoute(r.programs, (ctx, { query }) => programsQuery(ctx, query.limit)),
  queryRoute(r.program, (ctx, { params }) => programQuery(ctx, params.id)),
  queryRoute(r.events, (ctx, { query }) => eventsQuery(ctx, query)),
  queryRoute(r.event, (ctx, { params }) => eventQuery(ctx, params.id)),
];

export const flexSurface: ModuleSurface = { routes, cli: registerFlexCli };
