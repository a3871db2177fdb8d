import { describe, expect, it } from 'vitest';
import { flex } from '../../src/modules/flex/index.js';
import { account } from '../helpers/chain.js';
import { activeEvent, agg, agg2, balance, bank, commitmentOf, flexChain, GENESIS_TIME, HOUR, m, meter1, meter2, NOK, ok, outsider, pros, pros2, readyChain, rejects, slotOf, VK, VK_ID } from './helpers.js';

const START = GENESIS_TIME + HOUR;
const view = (chain: ReturnType<typeof flexChain>, id = 'ev1') => chain.query(flex, 'flexEvent', { id });

describe('verifying keys and programs', () => {
  it('registers the deviation key once, by an operator; programs must reference a registered key and a known asset', () => {
    const chain = flexChain();
    rejects(chain, agg, m.registerKey(), 'FLEX_NOT_OPERATOR');
    rejects(chain, chain.operator, m.registerKey({ ...VK, ic: VK.ic.slice(0, 5) }), 'FLEX_KEY_INVALID');
    rejects(chain, chain.operator, m.registerKey({ ...VK, alpha: ['1', '3'] }), 'FLEX_KEY_INVALID');
    rejects(chain, chain.operator, m.registerKey('nonsense'), 'FLEX_KEY_INVALID');
    ok(chain, chain.operator, m.registerKey());
    rejects(chain, chain.operator, m.registerKey(), 'FLEX_KEY_EXISTS');
    expect(chain.query(flex, 'flexKey', { id: VK_ID }).key).toMatchObject({ id: VK_ID, circuit: 'deviation' });
    rejects(chain, agg, m.program(), 'FLEX_ASSET_NOT_FOUND');
    ok(chain, bank, { type: 'payments/create-asset', value: { code: 'NOK', scope: 'microgrid', name: 'Microgrid kroner' } });
    rejects(chain, pros, m.program(), 'FLEX_NOT_AGGREGATOR');
    rejects(chain, agg, m.program({ verifyingKey: '0'.repeat(64) }), 'FLEX_KEY_NOT_FOUND');
    rejects(chain, agg, m.program({ intervalMinutes: 30 }), 'MSG_INVALID');
    rejects(chain, agg, m.program({ proofSystem: 'plonk' }), 'MSG_INVALID');
    ok(chain, agg, m.program());
    expect(chain.query(flex, 'flexProgram', { id: 'p1' }).program).toMatchObject({ aggregator: agg.address, intervalMinutes: 60, verifyingKey: VK_ID });
  });
});

describe('events', () => {
  it('deposits the whole reward at creation and checks the creation rules each with its code', () => {
    const chain = readyChain();
    rejects(chain, agg2, m.event(), 'FLEX_NOT_PROGRAM_OWNER');
    rejects(chain, agg, m.event({ program: 'p9' }), 'FLEX_PROGRAM_NOT_FOUND');
    rejects(chain, agg, m.event({ prosumer: outsider.address }), 'FLEX_PROSUMER_INVALID');
    rejects(chain, agg, m.event({ prosumer: agg.address }), 'FLEX_PROSUMER_INVALID');
    rejects(chain, agg, m.event({ start: START + 60_000 }), 'FLEX_START_NOT_ALIGNED');
    rejects(chain, agg, m.event({ start: GENESIS_TIME }), 'FLEX_START_PASSED');
    rejects(chain, agg, m.event({ requestedWh: [] }), 'MSG_INVALID');
    rejects(chain, agg, m.event({ requestedWh: [2 ** 40] }), 'MSG_INVALID');
    rejects(chain, agg, m.event({ requestedWh: Array(1001).fill(1) }), 'MSG_INVALID');
    ok(chain, agg2, m.program());
    rejects(chain, agg2, m.event({ program: 'p2' }), 'PAY_INSUFFICIENT_BALANCE');
    ok(chain, agg, m.event());
    expect(balance(chain, agg)).toBe(998n * NOK);
    const v = view(chain);
    expect(v.event).toMatchObject({ status: 'offered', deposit: String(2n * NOK), escrow: 'flex/ev1', payloadDescriptors: [{ payloadType: 'IMPORT_ENERGY', units: 'WH' }], intervalPeriod: { start: START, duration: 'PT1H' }, intervalCount: 2 });
    expect(v.intervals.map((i: any) => [i.id, i.intervalPeriod.start, i.payloads[0].values[0], i.status])).toEqual([
      [0, START, 500, 'pending'],
      [1, START + HOUR, 400, 'pending'],
    ]);
    expect(chain.query(flex, 'flexEvents', {}, { party: pros.address }).events.map((e: any) => e.id)).toEqual(['ev1']);
  });

  it('refuses more intervals than maxIntervals and a deposit above the largest amount, each with its code, and changes nothing', () => {
    // the message allows at most 96 intervals; a chain may allow fewer (here 24): that is the rule's refusal
    const chain = readyChain({ maxIntervals: 24 });
    const before = balance(chain, agg);
    rejects(chain, agg, m.event({ requestedWh: Array(25).fill(1) }), 'FLEX_TOO_MANY_INTERVALS');
    // a reward whose deposit (reward × intervals) is above the largest amount (10^24 − 1 µ)
    ok(chain, agg, m.program({ rewardPerInterval: String(10n ** 24n - 1n) }));
    rejects(chain, agg, m.event({ program: 'p2', requestedWh: [1, 1] }), 'FLEX_REWARD_TOO_LARGE');
    expect(balance(chain, agg)).toBe(before);
    expect(chain.query(flex, 'flexEvents', {}, {}).events).toEqual([]);
    ok(chain, agg, m.event({ requestedWh: Array(24).fill(1) }));
    expect(balance(chain, agg)).toBe(before - 24n * NOK);
  });

  it('the aggregator can withdraw until the prosumer enrols; an unenrolled event expires at its start', () => {
    const chain = readyChain();
    ok(chain, agg, m.event());
    ok(chain, agg, m.event());
    rejects(chain, pros, m.withdraw(), 'FLEX_NOT_EVENT_AGGREGATOR');
    ok(chain, agg, m.withdraw());
    rejects(chain, agg, m.withdraw(), 'FLEX_EVENT_NOT_OFFERED');
    rejects(chain, pros, m.enrol(), 'FLEX_EVENT_NOT_OFFERED');
    expect(view(chain).event).toMatchObject({ status: 'withdrawn', paidToAggregator: String(2n * NOK) });
    expect(balance(chain, agg)).toBe(998n * NOK);
    chain.block([], START);
    expect(view(chain, 'ev2').event).toMatchObject({ status: 'expired', remaining: '0' });
    expect(balance(chain, agg)).toBe(1000n * NOK);
    rejects(chain, pros, m.enrol('ev2'), 'FLEX_EVENT_NOT_OFFERED');
  });

  it('lists events newest first, by status, at most limit (without a party or meter filter too)', () => {
    const chain = readyChain();
    for (let i = 0; i < 5; i++) ok(chain, agg, m.event());
    ok(chain, agg, m.withdraw('ev2'));
    ok(chain, agg, m.withdraw('ev4'));
    const ids = (query: Record<string, unknown>) => chain.query(flex, 'flexEvents', {}, query).events.map((e: any) => e.id);
    expect(ids({})).toEqual(['ev5', 'ev4', 'ev3', 'ev2', 'ev1']);
    expect(ids({ limit: 2 })).toEqual(['ev5', 'ev4']);
    expect(ids({ status: 'offered' })).toEqual(['ev5', 'ev3', 'ev1']);
    expect(ids({ status: 'closed', limit: 1 })).toEqual(['ev4']);
    expect(ids({ status: 'withdrawn' })).toEqual(['ev4', 'ev2']);
    expect(ids({ status: 'completed' })).toEqual([]);
    expect(ids({ party: pros.address, status: 'open', limit: 2 })).toEqual(['ev5', 'ev3']);
    // every event, a page at a time: `next` continues newest first to the oldest
    const paged: string[] = [];
    let after: string | undefined;
    do {
      const page = chain.query(flex, 'flexEvents', {}, { status: 'offered', limit: 2, ...(after ? { after } : {}) });
      paged.push(...page.events.map((e: { id: string }) => e.id));
      after = page.next;
    } while (after !== undefined);
    expect(paged).toEqual(['ev5', 'ev3', 'ev1']);
    expect(chain.query(flex, 'flexEvents', {}, { limit: 5 })).not.toHaveProperty('next');
    expect(() => chain.query(flex, 'flexEvents', {}, { party: pros.address, after: '0000000000000003' })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
  });

  it('enrolment: only the prosumer, before the start, with a registered meter that is not linked to someone else', () => {
    const chain = readyChain();
    ok(chain, agg, m.event());
    rejects(chain, pros2, m.enrol(), 'FLEX_NOT_PROSUMER');
    rejects(chain, pros, m.enrol('ev1', 'M9'), 'FLEX_METER_NOT_FOUND');
    rejects(chain, pros, m.enrol('ev7'), 'FLEX_EVENT_NOT_FOUND');
    // M3 is registered in a community and linked to prosumer2
    const owner = account('community-owner');
    const meter3 = account('meter3');
    ok(chain, chain.operator, { type: 'registry/admit', value: { address: owner.address, roles: ['utility'] } });
    ok(chain, chain.operator, { type: 'registry/admit', value: { address: meter3.address, roles: ['meter'] } });
    ok(chain, owner, { type: 'energy/create-community', value: { id: 'hood', name: 'Hood', timezone: 'Europe/Oslo' } });
    ok(chain, owner, { type: 'energy/add-trader', value: { community: 'hood', address: pros2.address } });
    ok(chain, owner, { type: 'energy/add-meter', value: { community: 'hood', meterId: 'M3', kind: 'consumer', trader: pros2.address, address: meter3.address, maxPowerW: 20_000 } });
    rejects(chain, pros, m.enrol('ev1', 'M3'), 'FLEX_METER_NOT_PROSUMERS');
    const late = chain.send(pros, m.enrol(), START);
    expect(late.code).toBe('FLEX_ENROL_TOO_LATE');
  });
});

describe('commitments and public readings', () => {
  it('only the enrolled meter commits, once per interval, after it ended; a committed slot gets no public reading and a read slot no commitment', () => {
    const chain = activeEvent([500, 400, 300]);
    const c = commitmentOf(430n, 9n);
    const s0 = slotOf(START);
    rejects(chain, meter1, m.commit('ev1', 0, c), 'FLEX_INTERVAL_NOT_ENDED', START + HOUR - 1);
    rejects(chain, meter2, m.commit('ev1', 0, c), 'FLEX_NOT_EVENT_METER', START + HOUR);
    rejects(chain, meter1, m.commit('ev1', 3, c), 'FLEX_INTERVAL_INVALID');
    rejects(chain, meter1, m.commit('ev1', 0, '21888242871839275222246405745257275088548364400416034343698204186575808495617'), 'FLEX_COMMITMENT_INVALID');
    rejects(chain, meter1, m.commit('ev1', 0, c, [{ slot: s0 + 4, fingerprint: 'ab'.repeat(32), sampleCount: 9 }]), 'FLEX_FINGERPRINT_SLOT_INVALID');
    rejects(chain, meter1, m.commit('ev1', 0, c, [{ slot: s0 + 1, fingerprint: 'ab'.repeat(32), sampleCount: 9 }, { slot: s0, fingerprint: 'cd'.repeat(32), sampleCount: 9 }]), 'FLEX_FINGERPRINT_SLOT_INVALID');
    rejects(chain, meter1, m.commit('ev1', 0, c, [{ slot: s0, fingerprint: 'ab'.repeat(32), sampleCount: 9 }, { slot: s0, fingerprint: 'ab'.repeat(32), sampleCount: 9 }]), 'FLEX_FINGERPRINT_SLOT_INVALID');
    ok(chain, meter1, m.commit('ev1', 0, c, [{ slot: s0, fingerprint: 'ab'.repeat(32), sampleCount: 90 }, { slot: s0 + 3, fingerprint: 'cd'.repeat(32), sampleCount: 90 }]));
    rejects(chain, meter1, m.commit('ev1', 0, c), 'FLEX_COMMITMENT_EXISTS');
    // the committed hour's four slots refuse public readings
    rejects(chain, meter1, m.reading('M1', s0 + 2, 100, 100, 1), 'FLEX_SLOT_PRIVATE');
    // a slot of interval 1 read publicly first: that interval can no longer be committed privately
    ok(chain, meter1, m.reading('M1', s0 + 5, 100, 100, 1), START + 2 * HOUR);
    rejects(chain, meter1, m.commit('ev1', 1, c), 'FLEX_READING_PUBLIC');
    const v = view(chain);
    expect(v.intervals[0]).toMatchObject({ status: 'committed', commitment: c.toString(), fingerprints: [{ slot: s0, sampleCount: 90 }, { slot: s0 + 3, sampleCount: 90 }] });
    rejects(chain, meter1, m.commit('ev1', 2, c), 'FLEX_INTERVAL_NOT_ENDED');
    const late = chain.send(meter1, m.commit('ev1', 2, c), START + 3 * HOUR + 24 * HOUR);
    expect(late.code).toBe('FLEX_DEADLINE_PASSED');
  });
});
