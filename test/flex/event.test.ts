import { describe, expect, it } from 'vitest';
import { flex } from '../../src/modules/flex/index.js';
import { absoluteDeviation } from '../../src/zk/circuits.js';
import { activeEvent, agg, balance, commitmentOf, eventAttr, GENESIS_TIME, HOUR, m, meter1, NOK, ok, proofFor, pros, saltFor } from './helpers.js';

/**
 * A full day: 24 hourly intervals, the meter commits after each hour and proves its deviation, the
 * penalties and the final payout computed by hand. Interval 5 is never committed and interval 9 is
 * committed but never proved: both are missed at their deadline and their share returns.
 */
const START = GENESIS_TIME + HOUR;
const REQUESTED = Array.from({ length: 24 }, (_, i) => 800 + 37 * i);
/** Measured Wh: close to the request, far off (penalty capped), above and below (never exactly on it: then the public request would be the value). */
const MEASURED = REQUESTED.map((r, i) => BigInt(i % 6 === 0 ? r - 17 : i % 6 === 1 ? r - 61 : i % 6 === 2 ? r + 143 : i % 6 === 3 ? r + 5_003 : i % 6 === 4 ? r - 800 : r + 1));
const MISSED = new Set([5, 9]);
const UNCOMMITTED = 5;

describe('a 24-interval event end to end (in process)', () => {
  it('settles every interval by its proof or its deadline and pays the remainder to the prosumer', async () => {
    const chain = activeEvent(REQUESTED);
    expect(balance(chain, agg)).toBe(1000n * NOK - 24n * NOK);
    const proofs = await Promise.all(MEASURED.map((v, i) => proofFor({ value: v, salt: saltFor(i), requested: REQUESTED[i]!, event: 'ev1', interval: i })));

    for (let i = 0; i < 24; i++) {
      const end = START + (i + 1) * HOUR;
      if (i === UNCOMMITTED) continue;
      const commitMsg = m.commit('ev1', i, commitmentOf(MEASURED[i]!, saltFor(i)));
      const deviation = Number(absoluteDeviation(BigInt(REQUESTED[i]!), MEASURED[i]!));
      if (MISSED.has(i)) ok(chain, meter1, commitMsg, end + 60_000);
      else {
        const res = ok(chain, meter1, [commitMsg, m.prove('ev1', i, deviation, proofs[i])], end + 60_000);
        expect(eventAttr(res, 'flex.proved', 'deviationWh')).toBe(String(deviation));
      }
    }
    // by hand: penalty = min(deviation × 2000 µ, 1 NOK); the deviations repeat every 6 intervals
    const byHand = (i: number) => [17n * 2000n, 61n * 2000n, 143n * 2000n, NOK, NOK, 2000n][i % 6]!;
    const penalties = Array.from({ length: 24 }, (_, i) => (MISSED.has(i) ? 0n : byHand(i)));
    const { intervals } = chain.query(flex, 'flexEvent', { id: 'ev1' });
    expect(intervals.filter((r: any) => r.status === 'proved').map((r: any) => BigInt(r.toAggregator))).toEqual(penalties.filter((_, i) => !MISSED.has(i)));
    expect(chain.query(flex, 'flexEvent', { id: 'ev1' }).event.status).toBe('active');

    // the last deadline: interval 23 ends at START + 24 h, its deadline is 24 h later; 5 and 9 are long past theirs
    chain.block([], START + 48 * HOUR);
    const view = chain.query(flex, 'flexEvent', { id: 'ev1' });
    expect(view.intervals.filter((r: any) => r.status === 'missed').map((r: any) => r.id)).toEqual([5, 9]);
    const toAggregator = penalties.reduce((a, b) => a + b, 0n) + 2n * NOK;
    const toProsumer = 24n * NOK - toAggregator;
    // four of each residue: 17·2000 + 61·2000 + 143·2000 + 1 NOK (5003 Wh, capped) + 1 NOK (800 Wh, capped) + 1·2000; less the two missed
    // intervals' penalties (5: 2000, 9: 1 NOK), plus their whole shares
    expect(toAggregator).toBe(4n * (34_000n + 122_000n + 286_000n + NOK + NOK + 2000n) - 2000n - NOK + 2n * NOK);
    expect(toAggregator).toBe(10_774_000n);
    expect(view.event).toMatchObject({ status: 'completed', paidToAggregator: toAggregator.toString(), paidToProsumer: toProsumer.toString(), remaining: '0', settled: 24 });
    expect(balance(chain, agg)).toBe(1000n * NOK - toProsumer);
    expect(balance(chain, pros)).toBe(toProsumer);
    // the escrow over the event: the deposit, 22 proofs, 2 missed, the payout; each step's remainder adds up
    const steps = view.escrow;
    expect(steps[0]).toMatchObject({ kind: 'deposit', remaining: (24n * NOK).toString() });
    expect(steps.at(-1)).toMatchObject({ kind: 'payout', toProsumer: toProsumer.toString(), remaining: '0' });
    expect(steps.filter((s: any) => s.kind === 'penalty')).toHaveLength(22);
    expect(steps.filter((s: any) => s.kind === 'missed').map((s: any) => s.interval)).toEqual([5, 9]);
    let left = 24n * NOK;
    for (const s of steps.slice(1)) {
      left -= BigInt(s.toAggregator) + BigInt(s.toProsumer);
      expect(s.remaining).toBe(left.toString());
    }
    // the payments escrow agrees and is closed
    const escrow = chain.store.get<{ status: string; paidToPayer: string; paidToPayee: string }>('payments/escrow/flex/ev1')!;
    expect(escrow).toMatchObject({ status: 'closed', paidToPayer: toAggregator.toString(), paidToPayee: toProsumer.toString() });

    // the measured values are nowhere in the state: not as a number, not as a string
    const leaves: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
      else leaves.push(v);
    };
    for (const [key, value] of chain.storage.allState()) {
      leaves.push(...key.split('/'));
      walk(JSON.parse(value));
    }
    for (let i = 0; i < 24; i++) {
      const v = MEASURED[i]!;
      const hits = leaves.filter((l) => l === Number(v) || l === String(v));
      expect(hits, `measured value ${v} of interval ${i} found in state`).toEqual([]);
    }
    // while the requested values and deviations are public
    expect(leaves).toContain(REQUESTED[7]);
    expect(leaves).toContain(61);
  });
});
