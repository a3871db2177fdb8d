import { queryRoute, type ModuleSurface } from '../../surface/index.js';
import { registerAnchorCli } from './cli/index.js';
import { anchorRoutes } from './routes.js';
import { anchorStatus, entryOf, inclusionOf, listCheckpointsByStatus, requireCheckpoint, verificationOf, type AnchorQueryContext } from './queries.js';
import { getAnchor, itemsPage, listAnchors, listCheckpoints, statusOf } from './state.js';

const routes = [
  queryRoute(anchorRoutes.anchorStatus, (ctx: AnchorQueryContext) => anchorStatus(ctx)),
  queryRoute(anchorRoutes.listCheckpoints, (ctx: AnchorQueryContext, { query }) => {
    if (query.status) return { checkpoints: listCheckpointsByStatus(ctx, query.status, query.after, query.limit) };
    const list = listCheckpoints(ctx.store, { after: query.after, limit: query.limit, reverse: query.order === 'desc' });
    return { checkpoints: list.map((c) => entryOf(c, getAnchor(ctx.store, c.height))) };
  }),
  queryRoute(anchorRoutes.getCheckpoint, (ctx: AnchorQueryContext, { params }) => {
    const checkpoint = requireCheckpoint(ctx, params.height);
    const anchor = getAnchor(ctx.store, params.height);
    return { checkpoint, status: statusOf(anchor), anchor: anchor ?? null };
  }),
  queryRoute(anchorRoutes.checkpointItems, (ctx: AnchorQueryContext, { params, query }) => {
    const checkpoint = requireCheckpoint(ctx, params.height);
    const cursor = query.cursor ? { height: Number(query.cursor.split('/')[0]), seq: Number(query.cursor.split('/')[1]) } : undefined;
    const items = itemsPage(ctx.store, checkpoint.fromHeight, checkpoint.height, cursor, query.limit);
    const last = items[items.length - 1];
    return { height: checkpoint.height, itemCount: checkpoint.itemCount, items, next: items.length === query.limit && last ? `${last.height}/${last.seq}` : null };
  }),
  queryRoute(anchorRoutes.listAnchors, (ctx: AnchorQueryContext, { query }) => ({ anchors: listAnchors(ctx.store, { after: query.after, limit: query.limit, reverse: query.order === 'desc' }) })),
  queryRoute(anchorRoutes.inclusion, (ctx: AnchorQueryContext, { params }) => inclusionOf(ctx, params.item)),
  queryRoute(anchorRoutes.verification, (ctx: AnchorQueryContext, { params }) => verificationOf(ctx, params.height)),
];

export const anchorSurface: ModuleSurface = { routes, cli: registerAnchorCli };
