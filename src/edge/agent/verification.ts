import { slotIso } from '../../util/slots.js';
import { EDGE_ERRORS as E } from '../errors.js';
import type { SampleStore } from '../store.js';
import { verifySamples, type SlotStatus, type SlotVerification } from '../verify.js';
import type { LedgerLink } from './ledger.js';

/**
 * `verify samples` and the status server's verify route: the local store against the fingerprints
 * the ledger holds for the meter, slots fromSlot ≤ slot < toSlot.
 */

export interface SampleVerificationReport {
  meterId: string;
  fromSlot: number;
  toSlot: number;
  /** True when no slot is altered, inserted, deleted or reordered (slots not on the ledger are listed, not failed). */
  ok: boolean;
  summary: Record<SlotStatus, number>;
  slots: Array<SlotVerification & { slotIso: string }>;
}

const BROKEN: ReadonlySet<SlotStatus> = new Set(['altered', 'inserted', 'deleted', 'reordered']);

/** `asCaller`: read the fingerprints with the caller's node token (the status API's verify route for a web page). */
export async function verifyAgainstLedger(store: SampleStore, ledger: LedgerLink, meterId: string, fromSlot: number, toSlot: number, asCaller?: { token: string }): Promise<SampleVerificationReport> {
  if (!Number.isSafeInteger(fromSlot) || !Number.isSafeInteger(toSlot) || fromSlot < 1 || toSlot <= fromSlot) {
    throw E.EDGE_BAD_OPTION(`slot range [${fromSlot}, ${toSlot}) is empty or out of range`);
  }
  // F(from − 1) anchors the first slot: ask for it too.
  const onChain = await ledger.fingerprints(meterId, fromSlot - 1, toSlot - 1, asCaller);
  const slots = verifySamples(store, meterId, fromSlot, toSlot - 1, (s) => onChain.get(s)).map((v) => ({ ...v, slotIso: slotIso(v.slot) }));
  const summary: Record<SlotStatus, number> = { intact: 0, altered: 0, inserted: 0, deleted: 0, reordered: 0, 'missing-on-chain': 0 };
  for (const s of slots) summary[s.status]++;
  return { meterId, fromSlot, toSlot, ok: slots.every((s) => !BROKEN.has(s.status)), summary, slots };
}

/** Human-readable lines of a report. */
export function formatVerification(r: SampleVerificationReport): string {
  const lines = r.slots.map((s) => {
    const counts = s.onChainCount === undefined ? `${s.storedCount} stored` : `${s.storedCount} stored / ${s.onChainCount} on chain`;
    const where = s.firstDifferingSeq !== undefined ? `  first differing sample seq ${s.firstDifferingSeq}` : '';
    return `${s.slot} ${s.slotIso}  ${s.status.padEnd(16)} ${counts}${where}`;
  });
  const summary = Object.entries(r.summary)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  lines.push(`${r.ok ? 'INTACT' : 'TAMPERED'}  meter ${r.meterId}, slots [${r.fromSlot}, ${r.toSlot}): ${summary || 'no samples and no fingerprints in range'}`);
  return lines.join('\n');
}
