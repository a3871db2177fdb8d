import { z } from 'zod';
import { defineRoute, pageLimit } from '../api/route.js';

/** API routes of the messaging layer. Everything they show is ciphertext or signed broadcasts: public. */
const envelope = z.object({
  v: z.literal(1),
  kind: z.enum(['sealed', 'broadcast']),
  expiresAt: z.number().int().min(0),
  ttl: z.number().int().min(0),
  stamp: z.string(),
  payload: z.string(),
});

export const messagingRoutes = {
  messagingParams: defineRoute({
    name: 'messagingParams',
    method: 'GET',
    path: '/v1/messages/params',
    summary: 'Stamp and expiry rules of the messaging layer: reference work, TTL bounds, clock skew, payload limit; and the node clock',
    tags: ['messaging'],
    response: z.object({
      referenceTrials: z.number(),
      maxTtlSeconds: z.number(),
      minTtlSeconds: z.number(),
      maxSkewSeconds: z.number(),
      maxPayloadBytes: z.number(),
      now: z.number(),
    }),
  }),
  postMessage: defineRoute({
    name: 'postMessage',
    method: 'POST',
    path: '/v1/messages',
    summary: 'Submit a stamped message envelope; the node checks it, stores it and relays it to its peers',
    tags: ['messaging'],
    body: z.unknown(),
    bodyDoc: {
      type: 'object',
      required: ['v', 'kind', 'expiresAt', 'ttl', 'stamp', 'payload'],
      additionalProperties: false,
      properties: {
        v: { const: 1 },
        kind: { enum: ['sealed', 'broadcast'] },
        expiresAt: { type: 'integer', description: 'unix seconds' },
        ttl: { type: 'integer', description: 'seconds; created at expiresAt − ttl' },
        stamp: { type: 'string', description: '16 hex digits' },
        payload: { type: 'string', description: 'base64' },
      },
    },
    response: z.object({ hash: z.string(), added: z.boolean() }),
    errorDocs: { '400': 'MSG_MALFORMED, MSG_TTL_INVALID, MSG_EXPIRED, MSG_FROM_FUTURE, MSG_BAD_STAMP, MSG_BAD_SIGNATURE', '413': 'MSG_TOO_LARGE', '503': 'MSG_STORE_FULL' },
  }),
  listMessages: defineRoute({
    name: 'listMessages',
    method: 'GET',
    path: '/v1/messages',
    summary: 'Messages stored by this node after a cursor, oldest first: clients trial-decrypt them locally',
    tags: ['messaging'],
    query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: pageLimit(1000, 200) }),
    response: z.object({ messages: z.array(z.object({ cursor: z.number(), hash: z.string(), envelope })), head: z.number() }),
  }),
  messagingStats: defineRoute({
    name: 'messagingStats',
    method: 'GET',
    path: '/v1/messages/stats',
    summary: "This node's messaging figures (those of /metrics): messages held and their bytes, evicted, accepted, duplicates, refused by code; relayed to peers, rate-limited and peers penalised (0 without a network)",
    tags: ['messaging'],
    response: z.object({
      stored: z.number(),
      bytes: z.number(),
      evicted: z.number(),
      accepted: z.number(),
      duplicates: z.number(),
      rejected: z.record(z.string(), z.number()),
      relay: z.object({ enabled: z.boolean(), received: z.number(), relayed: z.number(), rateLimited: z.number(), penalties: z.number() }),
    }),
  }),
};
