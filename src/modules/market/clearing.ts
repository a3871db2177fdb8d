/**
 * Pay-as-clear: one uniform price per product, computed from the orders of a session at its gate
 * closure. Pure integer computation (the ledger's end of block, the property tests and the docs'
 * worked example all run this function).
 *
 * A *product* is the set of labels a bid requires: bids requiring {solar} buy only from offers whose
 * labels include solar, so they cannot share a price with bids that take any energy. Products clear
 * one after the other, the most specific first (more required labels first, then by label key); an
 * offer's quantity left over by one product is available to the next. Within a product:
 *
 *   bids sorted by price descending, offers (those carrying the product's labels) by price
 *   ascending, ties by arrival (order number); walk both lists: while best bid ≥ best offer, match
 *   min(remaining bid, remaining offer) Wh and move past whichever is exhausted. The marginal pair is
 *   matched last and may be partly filled. The clearing price is the price of the last matched offer:
 *   it is ≥ every matched offer's price (offers ascend) and ≤ every matched bid's price (the last
 *   matched bid has the lowest matched bid price and crossed that offer), so every matched buyer pays
 *   at most its limit and every matched seller receives at least its ask.
 *
 * Only the ordering among orders of equal price depends on arrival; price and volume never do.
 */

export interface ClearOrder {
  id: string;
  /** Arrival order (the number of the order id). */
  seq: number;
  price: number;
  wh: number;
  labels: readonly string[];
}

export interface Fill {
  bid: string;
  offer: string;
  wh: number;
}

export interface ProductResult {
  labels: string[];
  price: number | null;
  volumeWh: number;
  bids: number;
  offers: number;
  fills: Fill[];
}

function labelKey(labels: readonly string[]): string {
  return [...labels].sort().join(',');
}

/** Products: the most specific first (more labels), then by label key. */
function productOrder(a: string[], b: string[]): number {
  if (a.length !== b.length) return b.length - a.length;
  const ka = labelKey(a);
  const kb = labelKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function clearUniform(bids: readonly ClearOrder[], offers: readonly ClearOrder[]): ProductResult[] {
  const left = new Map<string, number>(offers.map((o) => [o.id, o.wh]));
  const sortedOffers = [...offers].sort((a, b) => a.price - b.price || a.seq - b.seq);
  const products = new Map<string, { labels: string[]; bids: ClearOrder[] }>();
  for (const b of bids) {
    const labels = [...new Set(b.labels)].sort();
    const key = labelKey(labels);
    const p = products.get(key) ?? { labels, bids: [] };
    p.bids.push(b);
    products.set(key, p);
  }
  const out: ProductResult[] = [];
  for (const { labels, bids: group } of [...products.values()].sort((a, b) => productOrder(a.labels, b.labels))) {
    const sortedBids = [...group].sort((a, b) => b.price - a.price || a.seq - b.seq);
    const eligible = sortedOffers.filter((o) => labels.every((l) => o.labels.includes(l)));
    const fills: Fill[] = [];
    let price: number | null = null;
    let volume = 0;
    let i = 0;
    let j = 0;
    let bidLeft = sortedBids[0]?.wh ?? 0;
    while (i < sortedBids.length && j < eligible.length) {
      const bid = sortedBids[i]!;
      const offer = eligible[j]!;
      const offerLeft = left.get(offer.id)!;
      if (offerLeft === 0) {
        j++;
        continue;
      }
      if (bid.price < offer.price) break;
      const wh = Math.min(bidLeft, offerLeft);
      fills.push({ bid: bid.id, offer: offer.id, wh });
      volume += wh;
      price = offer.price;
      bidLeft -= wh;
      left.set(offer.id, offerLeft - wh);
      if (bidLeft === 0) {
        i++;
        bidLeft = sortedBids[i]?.wh ?? 0;
      }
      if (offerLeft - wh === 0) j++;
    }
    out.push({ labels, price, volumeWh: volume, bids: group.length, offers: eligible.length, fills });
  }
  return out;
}
