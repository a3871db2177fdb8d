import type { BoundRoute } from '../api/server.js';
import { messagingRoutes, type MessagingNode } from '../messaging/index.js';
import type { MessagingReactor } from './reactors/messaging.js';

/**
 * HTTP handlers of the messaging layer: parameters, submit a stamped envelope, fetch after a cursor,
 * and the node's figures (the dashboard's messaging panel). `relay` is read per request: the network
 * (and its relay) starts after the routes are built, and a single node has none.
 */
export function messagingHandlers(messaging: MessagingNode, relay: () => MessagingReactor | null = () => null): BoundRoute[] {
  return [
    { route: messagingRoutes.messagingParams, handler: () => ({ ...messaging.params, now: messaging.nowSeconds() }) },
    { route: messagingRoutes.postMessage, handler: ({ body }) => messaging.submit(body) },
    { route: messagingRoutes.listMessages, handler: ({ query }) => messaging.list(query.after, query.limit) },
    { route: messagingRoutes.messagingStats, handler: () => messagingStats(messaging, relay()) },
  ];
}

function messagingStats(messaging: MessagingNode, relay: MessagingReactor | null) {
  const { pool, counters } = messaging;
  return {
    stored: pool.size,
    bytes: pool.bytes,
    evicted: pool.evicted,
    accepted: counters.accepted,
    duplicates: counters.duplicates,
    rejected: { ...counters.rejected },
    relay: relay ? { enabled: true, ...relay.stats } : { enabled: false, received: 0, relayed: 0, rateLimited: 0, penalties: 0 },
  };
}
