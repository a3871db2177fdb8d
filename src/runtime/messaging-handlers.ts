import type { BoundRoute } from '../api/server.js';
import { messagingRoutes, type MessagingNode } from '../messaging/index.js';

/** HTTP handlers of the messaging layer: parameters, submit a stamped envelope, fetch after a cursor. */
export function messagingHandlers(messaging: MessagingNode): BoundRoute[] {
  return [
    { route: messagingRoutes.messagingParams, handler: () => ({ ...messaging.params, now: messaging.nowSeconds() }) },
    { route: messagingRoutes.postMessage, handler: ({ body }) => messaging.submit(body) },
    { route: messagingRoutes.listMessages, handler: ({ query }) => messaging.list(query.after, query.limit) },
  ];
}
