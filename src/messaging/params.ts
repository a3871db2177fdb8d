/**
 * Network constants of the messaging layer. Messaging is off the ledger, so these are not chain
 * parameters: every node of a network runs the same build, and clients read them from
 * `GET /v1/messages/params` before they stamp a message.
 */
export interface MessagingParams {
  /**
   * Expected stamp trials (SHA-256 evaluations) for the reference message: 1 KiB of payload
   * living 1 hour. Calibrated so that this costs about one second on one core (bench/messaging.ts
   * reports the measured ratio).
   */
  referenceTrials: number;
  /** Longest time to live a message may ask for, in seconds. */
  maxTtlSeconds: number;
  /** Shortest time to live, in seconds (a shorter one would make the stamp almost free). */
  minTtlSeconds: number;
  /** How far a message's creation time (expiry minus TTL) may lie ahead of a node's clock. */
  maxSkewSeconds: number;
  /** Largest payload (ciphertext or signed broadcast) in bytes. */
  maxPayloadBytes: number;
}

export const DEFAULT_MESSAGING_PARAMS: MessagingParams = {
  referenceTrials: 750_000,
  maxTtlSeconds: 2 * 24 * 3600,
  minTtlSeconds: 60,
  maxSkewSeconds: 300,
  maxPayloadBytes: 64 * 1024,
};

/** Fixed per-message cost in bytes and seconds: a tiny, short-lived message is still not free. */
export const SIZE_OVERHEAD_BYTES = 256;
export const TTL_OVERHEAD_SECONDS = 600;
const REFERENCE_SIZE = 1024;
const REFERENCE_TTL = 3600;

/**
 * Expected trials for a stamp: the work grows linearly with the payload size and with the TTL
 * (a message costs the network storage and bandwidth in proportion to both):
 *
 *   W(size, ttl) = ceil( R · (size + 256) · (ttl + 600) / ((1024 + 256) · (3600 + 600)) )
 *
 * so W(1 KiB, 1 h) = R = `referenceTrials`. Integer arithmetic (bigint), so every node computes
 * the same target.
 */
export function stampWork(payloadBytes: number, ttlSeconds: number, params: Pick<MessagingParams, 'referenceTrials'>): bigint {
  const numerator = BigInt(params.referenceTrials) * BigInt(payloadBytes + SIZE_OVERHEAD_BYTES) * BigInt(ttlSeconds + TTL_OVERHEAD_SECONDS);
  const denominator = BigInt((REFERENCE_SIZE + SIZE_OVERHEAD_BYTES) * (REFERENCE_TTL + TTL_OVERHEAD_SECONDS));
  const work = (numerator + denominator - 1n) / denominator;
  return work < 1n ? 1n : work;
}

const UINT64_MAX = (1n << 64n) - 1n;

/** A stamp is valid when the first 8 bytes of its hash, read as a big-endian integer, are ≤ this. */
export function stampTarget(work: bigint): bigint {
  return UINT64_MAX / work;
}
