import { createHash } from 'node:crypto';
import { floorDiv } from '../util/int.js';
import { SLOT_MS } from '../util/slots.js';
import type { MeterSample } from './sample.js';

/**
 * Per-interval fingerprints of the off-chain samples (byte layout in docs/edge.md).
 *
 *   F(g − 1)  = 32 zero bytes                        g = the slot of the meter's first sample
 *   start(s)  = SHA-256("GRIDLEDGER/EDGE-SLOT/V1" 0x00 ‖ u8 len ‖ meterId ‖ u64 s ‖ F(s − 1))
 *   link(i)   = SHA-256("GRIDLEDGER/EDGE-SAMPLE/V1" 0x00 ‖ link(i − 1) ‖ sampleBytes(i))   link(0) = start(s)
 *   F(s)      = the last link of slot s; start(s) when s has no sample
 *
 * Every slot from g on has a fingerprint, so slot s's chain always starts from F(s − 1), the slot right
 * before it: a verifier knows which anchor to use even when samples or whole slots were deleted. The
 * sequence number is not hashed: it only orders rows in the store (the chain order is what counts), so
 * renumbering rows to hide an insertion changes nothing downstream of the insertion.
 */

export const EDGE_DOMAIN = {
  slot: 'GRIDLEDGER/EDGE-SLOT/V1',
  sample: 'GRIDLEDGER/EDGE-SAMPLE/V1',
} as const;

export const ZERO_FINGERPRINT = new Uint8Array(32);
export const SAMPLE_FORMAT_V1 = 1;
/** 1 + 8 + 4 + 6 × 8 + 1 + 2 + 32. */
export const SAMPLE_BYTES_LENGTH = 96;

export function slotOfTimestamp(ms: number): number {
  return floorDiv(ms, SLOT_MS);
}

/** What the chain commits to for one sample: everything stored except its row number and link. */
export interface ChainedSample extends MeterSample {
  /** Register epoch (0, then +1 at each meter swap). */
  epoch: number;
}

export function sampleBytes(s: ChainedSample): Uint8Array {
  const out = new Uint8Array(SAMPLE_BYTES_LENGTH);
  const view = new DataView(out.buffer);
  let o = 0;
  view.setUint8(o, SAMPLE_FORMAT_V1); o += 1;
  view.setBigInt64(o, BigInt(s.timestampMs)); o += 8;
  view.setUint32(o, s.epoch); o += 4;
  for (const v of [s.importT1Wh, s.importT2Wh, s.exportT1Wh, s.exportT2Wh, s.importPowerW, s.exportPowerW]) {
    view.setBigUint64(o, BigInt(v)); o += 8;
  }
  view.setUint8(o, s.tariff === undefined ? 0 : 1); o += 1;
  view.setUint16(o, s.tariff ?? 0); o += 2;
  out.set(Buffer.from(s.rawHash, 'hex'), o);
  return out;
}

// Domain separation as everywhere in GridLedger (crypto/hash.ts domainBytes): utf8(domain) || 0x00 || payload,
// fed to the hash in pieces to save the copies (this runs once per sample).
const SLOT_PREFIX = Buffer.from(`${EDGE_DOMAIN.slot}\0`, 'utf8');
const SAMPLE_PREFIX = Buffer.from(`${EDGE_DOMAIN.sample}\0`, 'utf8');

export function slotStart(meterId: string, slot: number, previousFingerprint: Uint8Array): Uint8Array {
  const id = Buffer.from(meterId, 'ascii');
  const head = new Uint8Array(1 + id.length + 8);
  const view = new DataView(head.buffer);
  view.setUint8(0, id.length);
  head.set(id, 1);
  view.setBigUint64(1 + id.length, BigInt(slot));
  return new Uint8Array(createHash('sha256').update(SLOT_PREFIX).update(head).update(previousFingerprint).digest());
}

export function nextLink(previousLink: Uint8Array, sample: ChainedSample): Uint8Array {
  return new Uint8Array(createHash('sha256').update(SAMPLE_PREFIX).update(previousLink).update(sampleBytes(sample)).digest());
}

/** F(to − 1) from F(from) across slots from+1 … to−1 that hold no samples. */
export function chainEmptySlots(meterId: string, fingerprintOfFrom: Uint8Array, from: number, to: number): Uint8Array {
  let f = fingerprintOfFrom;
  for (let s = from + 1; s < to; s++) f = slotStart(meterId, s, f);
  return f;
}
