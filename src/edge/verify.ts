import { toHex } from '../util/bytes.js';
import { EDGE_ERRORS as E } from './errors.js';
import { ZERO_FINGERPRINT, nextLink, slotStart } from './fingerprint.js';
import type { SampleStore, StoredSample } from './store.js';

/**
 * Recomputes slot fingerprints from the stored samples and compares them with what the ledger holds.
 *
 * The verdict per slot rests on the ledger: the recomputed chain head and the sample count must equal
 * the on-chain fingerprint and count. Each slot's chain starts from F(s − 1), taken from the ledger when
 * it holds that slot, so a broken slot does not make its successors look broken.
 *
 * Localisation (which sample) rests on the stored per-sample links and sequence numbers, which an
 * attacker with the file can also rewrite: then the slot is still found (the ledger's fingerprint does
 * not change) but `firstDifferingSeq` may be missing or point one row late (docs/edge.md).
 */

export type SlotStatus = 'intact' | 'altered' | 'inserted' | 'deleted' | 'reordered' | 'missing-on-chain';

export interface OnChainFingerprint {
  /** 64 hex digits. */
  fingerprint: string;
  sampleCount: number;
}

export interface SlotVerification {
  slot: number;
  status: SlotStatus;
  storedCount: number;
  onChainCount?: number;
  /** Fingerprint recomputed from the stored samples (from the anchor F(slot − 1)). */
  recomputed: string;
  onChain?: string;
  /** For a broken slot: the sequence number of the first sample that differs (a deleted one's number for a deletion), when it can be told. */
  firstDifferingSeq?: number;
}

export type OnChainLookup = (slot: number) => OnChainFingerprint | undefined;

/**
 * Verifies slots fromSlot…toSlot (inclusive) of a meter. Returns one entry per slot that has stored
 * samples or an on-chain fingerprint, ascending by slot.
 */
export function verifySamples(store: SampleStore, meterId: string, fromSlot: number, toSlot: number, onChain: OnChainLookup): SlotVerification[] {
  if (!Number.isSafeInteger(fromSlot) || !Number.isSafeInteger(toSlot) || fromSlot < 1 || toSlot < fromSlot) {
    throw E.EDGE_BAD_OPTION(`slot range ${fromSlot}..${toSlot} is not 1 ≤ from ≤ to`);
  }
  const lookup = (slot: number) => normalise(onChain(slot));
  const results: SlotVerification[] = [];
  const before = fingerprintBefore(store, meterId, fromSlot, lookup);
  let anchor = before ?? ZERO_FINGERPRINT;
  // Slots before the meter's first (no sample stored, none on the ledger) have no fingerprint: the
  // chain of intervals starts at the first slot with either, from F = 0.
  let started = before !== undefined;
  let bySlot = new Map<number, StoredSample[]>();
  for (let slot = fromSlot; slot <= toSlot; slot++) {
    if ((slot - fromSlot) % READ_SLOTS === 0) bySlot = readSlots(store, meterId, slot, Math.min(toSlot, slot + READ_SLOTS - 1));
    const rows = bySlot.get(slot) ?? [];
    const chain = lookup(slot);
    if (!started && rows.length === 0 && !chain) continue;
    started = true;
    const start = slotStart(meterId, slot, anchor);
    let head = start;
    for (const r of rows) head = nextLink(head, r);
    if (rows.length > 0 || chain) results.push(judge(store, meterId, slot, rows, start, toHex(head), chain));
    anchor = chain ? Buffer.from(chain.fingerprint, 'hex') : rows.length > 0 ? Buffer.from(rows[rows.length - 1]!.link, 'hex') : head;
  }
  return results;
}

/** Slots read per query: one day of samples at a time keeps memory bounded on long ranges. */
const READ_SLOTS = 96;

function readSlots(store: SampleStore, meterId: string, fromSlot: number, toSlot: number): Map<number, StoredSample[]> {
  const out = new Map<number, StoredSample[]>();
  for (const s of store.samplesInSlots(meterId, fromSlot, toSlot)) {
    const list = out.get(s.slot);
    if (list) list.push(s);
    else out.set(s.slot, [s]);
  }
  return out;
}

function normalise(c: OnChainFingerprint | undefined): OnChainFingerprint | undefined {
  if (c === undefined) return undefined;
  const fingerprint = c.fingerprint.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fingerprint) || !Number.isSafeInteger(c.sampleCount) || c.sampleCount < 0) {
    throw E.EDGE_BAD_OPTION(`on-chain fingerprint ${JSON.stringify(c)} is not {fingerprint: 64 hex, sampleCount: integer ≥ 0}`);
  }
  return { fingerprint, sampleCount: c.sampleCount };
}

/**
 * F(slot − 1): from the ledger if it holds it; else from the last stored sample before the slot, carried
 * across the empty slots after it (any of which may be on the ledger, e.g. when all its samples were deleted).
 * Undefined when neither knows a slot before: the meter's chain has not started before `slot`.
 */
function fingerprintBefore(store: SampleStore, meterId: string, slot: number, lookup: OnChainLookup): Uint8Array | undefined {
  const direct = lookup(slot - 1);
  if (direct) return Buffer.from(direct.fingerprint, 'hex');
  const prev = store.lastSampleBefore(meterId, slot);
  if (!prev) return undefined;
  let f: Uint8Array = Buffer.from(lookup(prev.slot)?.fingerprint ?? prev.link, 'hex');
  for (let s = prev.slot + 1; s < slot; s++) {
    const c = lookup(s);
    f = c ? Buffer.from(c.fingerprint, 'hex') : slotStart(meterId, s, f);
  }
  return f;
}

function judge(store: SampleStore, meterId: string, slot: number, rows: StoredSample[], start: Uint8Array, recomputed: string, chain: OnChainFingerprint | undefined): SlotVerification {
  const base: SlotVerification = { slot, status: 'intact', storedCount: rows.length, recomputed };
  if (!chain) {
    const firstBreak = firstBrokenLink(rows, start);
    return { ...base, status: 'missing-on-chain', ...(firstBreak !== undefined ? { firstDifferingSeq: firstBreak } : {}) };
  }
  const withChain = { ...base, onChainCount: chain.sampleCount, onChain: chain.fingerprint };
  if (recomputed === chain.fingerprint && rows.length === chain.sampleCount) return withChain;
  const firstBreak = firstBrokenLink(rows, start);
  let status: SlotStatus;
  let first: number | undefined;
  if (rows.length > chain.sampleCount) {
    status = 'inserted';
    first = firstBreak;
  } else if (rows.length < chain.sampleCount) {
    status = 'deleted';
    // A hole in the numbering, else the first broken link (the rows were renumbered), else the samples after the last row went.
    first = firstMissingSeq(store, meterId, slot, rows) ?? firstBreak ?? (rows.length > 0 ? rows[rows.length - 1]!.seq + 1 : undefined);
  } else if (firstTimeDisorder(rows) !== undefined) {
    status = 'reordered';
    first = firstBreak ?? firstTimeDisorder(rows);
  } else {
    status = 'altered';
    first = firstBreak;
  }
  return { ...withChain, status, ...(first !== undefined ? { firstDifferingSeq: first } : {}) };
}

/** The first row whose stored link does not follow from its stored predecessor's link (the slot start for the first row). */
function firstBrokenLink(rows: StoredSample[], start: Uint8Array): number | undefined {
  let previous = start;
  for (const r of rows) {
    const stored = Buffer.from(r.link, 'hex');
    if (toHex(nextLink(previous, r)) !== r.link) return r.seq;
    previous = stored;
  }
  return undefined;
}

/**
 * The lowest sequence number missing at or next to the slot's rows: a hole between two rows, the
 * number just before the first row, or just after the last row when later rows exist.
 */
function firstMissingSeq(store: SampleStore, meterId: string, slot: number, rows: StoredSample[]): number | undefined {
  if (rows.length === 0) {
    const before = store.lastSampleBefore(meterId, slot);
    return before ? before.seq + 1 : 1;
  }
  const first = rows[0]!.seq;
  if (first > 1 && !store.sampleBySeq(meterId, first - 1)) return first - 1;
  for (let i = 1; i < rows.length; i++) if (rows[i]!.seq - rows[i - 1]!.seq > 1) return rows[i - 1]!.seq + 1;
  const last = rows[rows.length - 1]!.seq;
  const latest = store.latest(meterId);
  if (latest && latest.seq > last && !store.sampleBySeq(meterId, last + 1)) return last + 1;
  return undefined;
}

/** The first row (by sequence) whose meter time is not after its predecessor's: the store never writes that. */
function firstTimeDisorder(rows: StoredSample[]): number | undefined {
  for (let i = 1; i < rows.length; i++) if (rows[i]!.timestampMs <= rows[i - 1]!.timestampMs) return rows[i - 1]!.seq;
  return undefined;
}
