import { describe, expect, it } from 'vitest';
import { intervalsDueForCommit } from '../../src/edge/agent/flex.js';
import type { PublicEvent } from '../../src/edge/flex.js';

/**
 * Which intervals the edge agent commits in a round (docs/flex.md, "The edge agent"). Found by the
 * flex walk-through: an agent replaying the event's hour committed intervals before their samples
 * were stored (35 Wh and 0 Wh instead of the whole slots), values it can never change afterwards.
 * An interval is now committed only once the agent sealed every slot of it.
 */

const SLOT_MS = 900_000;
const START = 2_000_000 * SLOT_MS; // slot 2,000,000
const HOUR = 3_600_000;

function event(intervalMinutes: 15 | 60, statuses: string[]): PublicEvent {
  const length = intervalMinutes * 60_000;
  return {
    event: { id: 'ev1', intervalPeriod: { start: START, duration: intervalMinutes === 60 ? 'PT1H' : 'PT15M' } },
    intervals: statuses.map((status, id) => ({ id, status, intervalPeriod: { start: START + id * length }, deadline: START + (id + 1) * length + 24 * HOUR, payloads: [{ type: 'IMPORT_ENERGY', values: [100] }] })),
  } as unknown as PublicEvent;
}

const ids = (e: PublicEvent, o: { sealedThrough: number; closeAfterMs?: number; nowMs: number }) => intervalsDueForCommit(e, { closeAfterMs: 60_000, ...o }).map((i) => i.id);

describe('intervalsDueForCommit', () => {
  it('waits until the agent sealed every slot of an interval, however long ago it ended', () => {
    const e = event(15, ['pending', 'pending', 'pending', 'pending']);
    const later = START + 2 * HOUR;
    expect(ids(e, { sealedThrough: 2_000_000 - 1, nowMs: later })).toEqual([]);
    expect(ids(e, { sealedThrough: 2_000_000, nowMs: later })).toEqual([0]);
    expect(ids(e, { sealedThrough: 2_000_002, nowMs: later })).toEqual([0, 1, 2]);
    expect(ids(e, { sealedThrough: 2_000_010, nowMs: later })).toEqual([0, 1, 2, 3]);
  });

  it('takes every slot of an hour-long interval', () => {
    const e = event(60, ['pending', 'pending']);
    const later = START + 3 * HOUR;
    expect(ids(e, { sealedThrough: 2_000_002, nowMs: later })).toEqual([]);
    expect(ids(e, { sealedThrough: 2_000_003, nowMs: later })).toEqual([0]);
    expect(ids(e, { sealedThrough: 2_000_007, nowMs: later })).toEqual([0, 1]);
  });

  it('still waits the close delay, skips settled or committed intervals and those past their deadline', () => {
    const e = event(15, ['committed', 'pending', 'missed', 'pending']);
    const sealed = 2_000_010;
    expect(ids(e, { sealedThrough: sealed, nowMs: START + HOUR + 59_999 })).toEqual([1]);
    expect(ids(e, { sealedThrough: sealed, nowMs: START + HOUR + 60_000 })).toEqual([1, 3]);
    expect(ids(e, { sealedThrough: sealed, nowMs: START + 2 * SLOT_MS + 24 * HOUR })).toEqual([3]);
  });
});
