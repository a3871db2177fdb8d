import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flex } from '../../src/modules/flex/index.js';
import { activeEvent, agg, balance, commitmentOf, GENESIS_TIME, HOUR, m, meter1, proofFor, pros } from './helpers.js';

const START = GENESIS_TIME + HOUR;
const PROFILE = [500, 400, 300, 600, 700, 100];
/** Two possible measured values per interval (below and above the request), so at most 12 distinct proofs are made. */
const VALUES = PROFILE.map((r, i) => [BigInt(r - 3 - i), BigInt(r + 250 + 7 * i)] as const);
const SALT = (i: number, k: number) => 91_000_000_007n * BigInt(i + 1) + BigInt(k);

type Outcome = 'below' | 'above' | 'commit-only' | 'nothing' | 'invalid';

/**
 * For random profiles, rates and per-interval outcomes (a valid proof of either value, a commitment
 * without a proof, nothing, an invalid proof), the event's money adds up exactly: aggregator +
 * prosumer = deposit, balances conserved, each proved interval costs min(deviation × rate, share),
 * missed ones their share, an invalid proof the whole remainder.
 */
describe('flex settlement properties', () => {
  it('conserve the deposit and follow the penalty rule for any mix of outcomes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.bigInt({ min: 1n, max: 10n ** 8n }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.array(fc.constantFrom<Outcome>('below', 'above', 'commit-only', 'nothing', 'invalid'), { minLength: 6, maxLength: 6 }),
        async (n, reward, rate, outcomes) => {
          const chain = activeEvent(PROFILE.slice(0, n), { program: { rewardPerInterval: reward.toString(), penaltyPerWh: rate.toString(), intervalMinutes: 60 } });
          const deposit = reward * BigInt(n);
          const before = balance(chain, agg) + deposit;
          let forfeited = false;
          const expected: bigint[] = [];
          for (let i = 0; i < n; i++) {
            const o = outcomes[i]!;
            const k = o === 'above' ? 1 : 0;
            const value = VALUES[i]![k]!;
            const msgs = o === 'nothing' ? [] : [m.commit('ev1', i, commitmentOf(value, SALT(i, k)))];
            const deviation = Math.abs(PROFILE[i]! - Number(value));
            if (o === 'below' || o === 'above' || o === 'invalid') {
              const proof = await proofFor({ value, salt: SALT(i, k), requested: PROFILE[i]!, event: 'ev1', interval: i });
              msgs.push(m.prove('ev1', i, o === 'invalid' ? deviation + 1 : deviation, proof));
            }
            if (msgs.length > 0 && !forfeited) expect(chain.send(meter1, msgs, START + (i + 1) * HOUR + 1000).code).toBe('OK');
            if (o === 'invalid' && !forfeited) forfeited = true;
            const p = BigInt(deviation) * rate;
            expected.push(o === 'below' || o === 'above' ? (p < reward ? p : reward) : reward);
          }
          chain.block([], START + (n + 25) * HOUR);
          const v = chain.query(flex, 'flexEvent', { id: 'ev1' });
          expect(BigInt(v.event.paidToAggregator) + BigInt(v.event.paidToProsumer)).toBe(deposit);
          expect(v.event.remaining).toBe('0');
          expect(balance(chain, agg) + balance(chain, pros)).toBe(before);
          if (!v.intervals.some((r: any) => r.status === 'invalid-proof')) {
            expect(v.event.status).toBe('completed');
            expect(v.intervals.map((r: any) => BigInt(r.toAggregator))).toEqual(expected);
            expect(BigInt(v.event.paidToProsumer)).toBe(deposit - expected.reduce((a, b) => a + b, 0n));
          } else {
            expect(v.event.status).toBe('forfeited');
            expect(balance(chain, pros)).toBe(0n);
          }
          chain.storage.close();
        },
      ),
      { numRuns: 12, seed: 14 },
    );
  }, 240_000);
});
