import { describe, expect, it } from 'vitest';
import { flex } from '../../src/modules/flex/index.js';
import { agg, GENESIS_TIME, HOUR, m, ok, pros, readyChain } from './helpers.js';
import type { TestChain } from '../helpers/chain.js';
import { collectPages } from '../helpers/pages.js';

/**
 * The events list by status through the node's index (ADR 0029 point 1): every page is full until
 * the last, and the answer is exactly the one the bounded scan gives (what a proven query, which
 * reads no index, still answers) — also after statuses change.
 */

const FILTERS = ['offered', 'active', 'withdrawn', 'completed', 'open', 'closed'] as const;

/** Every id of a status filter, a page of `limit` at a time, with each page's size: through the node's index or as a proven answer reads. */
function collect(chain: TestChain, status: string, limit: number, indexed: boolean): { ids: string[]; sizes: number[] } {
  const { items, sizes } = collectPages((after) => {
    const page = chain.query(flex, 'flexEvents', {}, { status, limit: String(limit), ...(after ? { after } : {}) }, { queryIndexes: indexed }) as { events: Array<{ id: string }>; next?: string };
    return { items: page.events.map((e) => e.id), next: page.next };
  });
  return { ids: items, sizes };
}

describe('flex events by status through the node index', () => {
  it('answers what the scan answers, in full pages, as statuses change', () => {
    const chain = readyChain();
    ok(chain, agg, Array.from({ length: 24 }, (_, i) => m.event({ start: GENESIS_TIME + HOUR * (2 + i) })));
    // 20 of the 24 withdrawn, two left offered, two enrolled (active)
    ok(chain, agg, Array.from({ length: 20 }, (_, i) => m.withdraw(`ev${i + 1}`)));
    ok(chain, pros, [m.enrol('ev21'), m.enrol('ev23')]);
    const check = () => {
      for (const status of FILTERS) {
        const viaIndex = collect(chain, status, 3, true);
        expect(viaIndex.ids, status).toEqual(collect(chain, status, 3, false).ids);
        // full pages until the last one (a scan may answer short pages where other statuses lie between)
        expect(viaIndex.sizes.slice(0, -1).every((n) => n === 3), `${status}: ${viaIndex.sizes}`).toBe(true);
      }
    };
    check();
    expect(collect(chain, 'offered', 3, true).ids).toEqual(['ev24', 'ev22']);
    expect(collect(chain, 'open', 3, true).ids).toEqual(['ev24', 'ev23', 'ev22', 'ev21']);
    expect(collect(chain, 'withdrawn', 7, true).sizes).toEqual([7, 7, 6]);
    ok(chain, agg, m.withdraw('ev24'));
    ok(chain, pros, m.enrol('ev22'));
    check();
    expect(collect(chain, 'offered', 3, true).ids).toEqual([]);
    expect(collect(chain, 'active', 3, true).ids).toEqual(['ev23', 'ev22', 'ev21']);
    // The node's answer is the index's: a row taken out of it (as a damaged index would lack it) is
    // missing from the answer, while the scan still finds the event.
    chain.storage.db.prepare("DELETE FROM query_index WHERE name = 'flex/events-by-status' AND ikey = 'active' AND skey = ?").run('flex/event/' + '22'.padStart(16, '0'));
    expect(collect(chain, 'active', 3, true).ids).toEqual(['ev23', 'ev21']);
    expect(collect(chain, 'active', 3, false).ids).toEqual(['ev23', 'ev22', 'ev21']);
  });
});
