import { MSG_ERRORS } from './errors.js';
import type { Envelope } from './envelope.js';
import type { MessagingParams } from './params.js';
import { openBroadcast } from './seal.js';
import { stampValid } from './stamp.js';

/**
 * What a node checks before it stores or relays a message, cheapest first: TTL within bounds, not
 * expired, not created beyond the clock skew in the future, the stamp, and for a broadcast the
 * sender's signature. Throws the MSG_ code of the first failure.
 */
export function checkEnvelope(env: Envelope, nowSeconds: number, params: MessagingParams): void {
  checkTiming(env, nowSeconds, params);
  if (!stampValid(env, params)) throw MSG_ERRORS.MSG_BAD_STAMP('the stamp does not meet the target for this message');
  if (env.kind === 'broadcast') openBroadcast(env);
}

export function checkTiming(env: Pick<Envelope, 'expiresAt' | 'ttl'>, nowSeconds: number, params: MessagingParams): void {
  if (env.ttl < params.minTtlSeconds || env.ttl > params.maxTtlSeconds) throw MSG_ERRORS.MSG_TTL_INVALID(`ttl ${env.ttl} s is outside ${params.minTtlSeconds}..${params.maxTtlSeconds}`);
  if (env.expiresAt <= nowSeconds) throw MSG_ERRORS.MSG_EXPIRED(`the message expired at ${env.expiresAt} (now ${nowSeconds})`);
  const createdAt = env.expiresAt - env.ttl;
  if (createdAt > nowSeconds + params.maxSkewSeconds) throw MSG_ERRORS.MSG_FROM_FUTURE(`the message was created at ${createdAt}, beyond now ${nowSeconds} + skew ${params.maxSkewSeconds}`);
}
