import { ENERGY, type MarketContext } from './rules.js';
import type { DeliveredPart } from './state.js';

/**
 * The seller's energy that can honour a promise of `labels`: its positive free balances at the slot
 * whose label set includes every one of `labels`, in label-key order ("-" — unlabelled — first).
 */
export function sourcesFor(ctx: MarketContext, community: string, seller: string, slot: number, labels: readonly string[]): Array<{ labels: string[]; wh: number }> {
  const out: Array<{ labels: string[]; wh: number }> = [];
  for (const row of ctx.keepers.energy.balancesOf(community, seller, slot, slot + 1)) {
    if (!labels.every((l) => row.labels.includes(l))) continue;
    const free = ctx.keepers.energy.freeBalance(community, seller, slot, row.labels);
    if (free > 0) out.push({ labels: row.labels, wh: free });
  }
  return out;
}

/** Moves up to `wh` from `sources` (in their order) to `to`; returns what moved, per label set. */
export function deliverFrom(ctx: MarketContext, community: string, seller: string, slot: number, sources: Array<{ labels: string[]; wh: number }>, wh: number, to: string, description: string): DeliveredPart[] {
  const parts: DeliveredPart[] = [];
  let left = wh;
  for (const src of sources) {
    if (left === 0) break;
    const take = Math.min(left, src.wh);
    ctx.keepers.energy.deliver(ENERGY, { community, trader: seller, slot, labels: src.labels, wh: take }, to, description);
    parts.push({ labels: src.labels, wh: take });
    left -= take;
  }
  return parts;
}

