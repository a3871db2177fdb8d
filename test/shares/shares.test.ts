import { describe, expect, it } from 'vitest';
import { dayHoldings, participantHoldings } from '../../src/modules/shares/queries.js';
import { account } from '../helpers/chain.js';
import { shares } from '../../src/modules/shares/index.js';
import { A, B, C, D, gridop, moduleState, newChain, outsider, registerMsg, slotAt, transferMsg, util, util2 } from './fixture.js';

function holdingsOf(chain: ReturnType<typeof newChain>, address: string, from: number, to: number): number[] {
  return participantHoldings(chain.store, 'house-1', address, from, to).slots.map((s) => s.ppm);
}

describe('shares: the paper example (A 20 %, B 20 %, C 60 %)', () => {
  it('moves portions per slot, lets received portions pass on and keeps every slot at 1,000,000 ppm', () => {
    const chain = newChain(Date.UTC(2026, 5, 1));
    expect(chain.send(util, registerMsg()).code).toBe('OK');
    const start = slotAt(Date.UTC(2026, 5, 2, 8, 0)); // 10:00 in Vienna, a future slot
    expect(chain.send(A, transferMsg(B.address, 200_000, start, start + 16)).code).toBe('OK');
    expect(chain.send(B, transferMsg(C.address, 400_000, start + 5, start + 6)).code).toBe('OK');
    const before = moduleState(chain);
    const r = chain.send(A, transferMsg(C.address, 1, start + 3, start + 4));
    expect(r.code).toBe('SHARES_INSUFFICIENT_PORTION');
    expect(moduleState(chain)).toEqual(before);
    const from = start - 4;
    const to = start + 20;
    const a = holdingsOf(chain, A.address, from, to);
    const b = holdingsOf(chain, B.address, from, to);
    const c = holdingsOf(chain, C.address, from, to);
    for (let i = 0; i < to - from; i++) {
      const slot = from + i;
      const inRange = slot >= start && slot < start + 16;
      const chained = slot === start + 5;
      expect(a[i]).toBe(inRange ? 0 : 200_000);
      expect(b[i]).toBe(chained ? 0 : inRange ? 400_000 : 200_000);
      expect(c[i]).toBe(chained ? 1_000_000 : 600_000);
      expect(a[i]! + b[i]! + c[i]!).toBe(1_000_000);
    }
    // A's other slots are unchanged and still transferable.
    expect(chain.send(A, transferMsg(C.address, 200_000, start + 16, start + 20)).code).toBe('OK');
    const day = dayHoldings(chain.store, 'house-1', '2026-06-02');
    expect(day.slots).toBe(96);
    for (const row of day.rows) expect(row.total).toBe(1_000_000);
    const log = chain.store.scan('shares/log/house-1/');
    expect(log).toHaveLength(4);
  });
});

describe('shares: local days and DST (Europe/Vienna)', () => {
  it('has 92 slots on 2026-03-29, 100 on 2026-10-25 and 96 otherwise', () => {
    const chain = newChain();
    chain.send(util, registerMsg());
    expect(dayHoldings(chain.store, 'house-1', '2026-03-29').slots).toBe(92);
    expect(dayHoldings(chain.store, 'house-1', '2026-10-25').slots).toBe(100);
    expect(dayHoldings(chain.store, 'house-1', '2026-03-30').slots).toBe(96);
    const spring = dayHoldings(chain.store, 'house-1', '2026-03-29');
    expect(spring.rows[8]!.local).toBe('2026-03-29T03:00:00+02:00'); // 02:00–03:00 does not exist
    const autumn = dayHoldings(chain.store, 'house-1', '2026-10-25');
    expect(autumn.rows.filter((r) => r.local.startsWith('2026-10-25T02:')).map((r) => r.local)).toEqual([
      '2026-10-25T02:00:00+02:00', '2026-10-25T02:15:00+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T02:45:00+02:00',
      '2026-10-25T02:00:00+01:00', '2026-10-25T02:15:00+01:00', '2026-10-25T02:30:00+01:00', '2026-10-25T02:45:00+01:00',
    ]);
  });

  it('a transfer spanning the spring change lands on the right slots', () => {
    const chain = newChain();
    chain.send(util, registerMsg());
    // 01:00 local (+01:00) to 04:00 local (+02:00) on 2026-03-29: 2 real hours = 8 slots.
    const from = slotAt(Date.parse('2026-03-29T01:00:00+01:00'));
    const to = slotAt(Date.parse('2026-03-29T04:00:00+02:00'));
    expect(to - from).toBe(8);
    expect(chain.send(A, transferMsg(B.address, 200_000, from, to)).code).toBe('OK');
    const day = dayHoldings(chain.store, 'house-1', '2026-03-29');
    const ai = day.participants.indexOf(A.address);
    const moved = day.rows.filter((r) => r.ppm[ai] === 0).map((r) => r.local);
    expect(moved).toEqual(['2026-03-29T01:00:00+01:00', '2026-03-29T01:15:00+01:00', '2026-03-29T01:30:00+01:00', '2026-03-29T01:45:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T03:15:00+02:00', '2026-03-29T03:30:00+02:00', '2026-03-29T03:45:00+02:00']);
    expect(day.rows.findIndex((r) => r.ppm[ai] === 0)).toBe(4);
  });

  it('a transfer spanning the autumn change covers the repeated hour twice', () => {
    const chain = newChain();
    chain.send(util, registerMsg());
    const from = slotAt(Date.parse('2026-10-25T02:00:00+02:00'));
    const to = slotAt(Date.parse('2026-10-25T03:00:00+01:00'));
    expect(to - from).toBe(8);
    expect(chain.send(C, transferMsg(A.address, 600_000, from, to)).code).toBe('OK');
    const day = dayHoldings(chain.store, 'house-1', '2026-10-25');
    const ai = day.participants.indexOf(A.address);
    const rows = day.rows.filter((r) => r.ppm[ai] === 800_000);
    expect(rows.map((r) => r.slot)).toEqual(Array.from({ length: 8 }, (_, i) => from + i));
    expect(rows[0]!.local).toBe('2026-10-25T02:00:00+02:00');
    expect(rows[7]!.local).toBe('2026-10-25T02:45:00+01:00');
    expect(day.firstSlot + 8).toBe(from); // the repeated hour starts 2 h (8 slots) into the day
  });
});

describe('shares: bad input is rejected with its own code and changes nothing', () => {
  const start = slotAt(Date.UTC(2026, 2, 10, 12));
  const cases: Array<[string, (c: ReturnType<typeof newChain>) => { from: typeof A; msg: { type: string; value: unknown } }, string]> = [
    ['unknown plant', () => ({ from: A, msg: transferMsg(B.address, 1, start, start + 1, 'no-such-plant') }), 'SHARES_UNKNOWN_PLANT'],
    ['unknown recipient', () => ({ from: A, msg: transferMsg(D.address, 1, start, start + 1) }), 'SHARES_UNKNOWN_PARTICIPANT'],
    ['non-participant sender', () => ({ from: outsider, msg: transferMsg(A.address, 1, start, start + 1) }), 'SHARES_SENDER_NOT_PARTICIPANT'],
    ['zero ppm', () => ({ from: A, msg: transferMsg(B.address, 0, start, start + 1) }), 'SHARES_INVALID_PPM'],
    ['negative ppm', () => ({ from: A, msg: transferMsg(B.address, -5, start, start + 1) }), 'SHARES_INVALID_PPM'],
    ['more than held', () => ({ from: A, msg: transferMsg(B.address, 200_001, start, start + 1) }), 'SHARES_INSUFFICIENT_PORTION'],
    ['slot already begun', () => ({ from: A, msg: transferMsg(B.address, 1, slotAt(Date.UTC(2026, 2, 1)), start) }), 'SHARES_SLOT_BEGUN'],
    ['empty range', () => ({ from: A, msg: transferMsg(B.address, 1, start, start) }), 'SHARES_EMPTY_RANGE'],
    ['reversed range', () => ({ from: A, msg: transferMsg(B.address, 1, start + 2, start) }), 'SHARES_REVERSED_RANGE'],
    ['range too long', () => ({ from: A, msg: transferMsg(B.address, 1, start, start + 366 * 96 + 1) }), 'SHARES_RANGE_TOO_LONG'],
    ['self transfer', () => ({ from: A, msg: transferMsg(A.address, 1, start, start + 1) }), 'SHARES_SELF_TRANSFER'],
    ['shares not summing to 1,000,000', () => ({ from: util, msg: registerMsg('p2', 'Europe/Vienna', [[A.address, 500_000], [B.address, 499_999]]) }), 'SHARES_KEY_SUM'],
    ['zero share in a key', () => ({ from: util, msg: registerMsg('p2', 'Europe/Vienna', [[A.address, 1_000_000], [B.address, 0]]) }), 'SHARES_INVALID_PPM'],
    ['negative share in a key', () => ({ from: util, msg: registerMsg('p2', 'Europe/Vienna', [[A.address, 1_000_001], [B.address, -1]]) }), 'SHARES_INVALID_PPM'],
    ['duplicate participant', () => ({ from: util, msg: registerMsg('p2', 'Europe/Vienna', [[A.address, 500_000], [A.address, 500_000]]) }), 'SHARES_DUPLICATE_PARTICIPANT'],
    ['participant not admitted', () => ({ from: util, msg: registerMsg('p2', 'Europe/Vienna', [[A.address, 500_000], [account('stranger').address, 500_000]]) }), 'SHARES_PARTICIPANT_NOT_ADMITTED'],
    ['bad time zone', () => ({ from: util, msg: registerMsg('p2', 'Mars/Olympus') }), 'SHARES_INVALID_TIMEZONE'],
    ['plant exists', () => ({ from: gridop, msg: registerMsg() }), 'SHARES_PLANT_EXISTS'],
    ['register by a consumer', () => ({ from: A, msg: registerMsg('p2') }), 'SHARES_NOT_AUTHORIZED'],
    ['utility that is no utility', () => ({ from: util, msg: { ...registerMsg('p2'), value: { ...registerMsg('p2').value, participants: [{ address: A.address, utility: B.address, ppm: 1_000_000 }] } } }), 'SHARES_INVALID_UTILITY'],
    ['key change by someone else', () => ({ from: gridop, msg: { type: 'shares/set-key', value: { plant: 'house-1', fromDay: '2026-04-01', participants: [{ address: A.address, utility: util.address, ppm: 1_000_000 }] } } }), 'SHARES_NOT_OPERATOR'],
    ['key change for a begun day', () => ({ from: util, msg: { type: 'shares/set-key', value: { plant: 'house-1', fromDay: '2026-03-01', participants: [{ address: A.address, utility: util.address, ppm: 1_000_000 }] } } }), 'SHARES_DAY_BEGUN'],
  ];
  for (const [name, make, code] of cases) {
    it(`${name} → ${code}`, () => {
      const chain = newChain();
      expect(chain.send(util, registerMsg()).code).toBe('OK');
      const { from, msg } = make(chain);
      const before = moduleState(chain);
      const r = chain.send(from, msg);
      expect(r.code).toBe(code);
      expect(moduleState(chain)).toEqual(before);
    });
  }
});

describe('plant list by utility', () => {
  it("pages through the plants where a utility bills someone, in id order, from the utility's own index", () => {
    const chain = newChain();
    const both: Array<[string, number]> = [[A.address, 500_000], [B.address, 500_000]]; // the second participant is billed by utility2
    for (const [plant, key] of [['p-d', both], ['p-b', [[A.address, 1_000_000]]], ['p-a', both], ['p-c', both]] as Array<[string, Array<[string, number]>]>) {
      expect(chain.send(util, registerMsg(plant, 'Europe/Vienna', key)).code).toBe('OK');
    }
    const list = (query: Record<string, string>) => chain.query(shares, 'listPlants', {}, query).plants.map((p: { id: string }) => p.id);
    expect(list({ utility: util2.address })).toEqual(['p-a', 'p-c', 'p-d']);
    expect(list({ utility: util2.address, limit: '2' })).toEqual(['p-a', 'p-c']);
    expect(list({ utility: util2.address, after: 'p-c', limit: '2' })).toEqual(['p-d']);
    expect(list({ utility: util2.address, after: 'p-a', limit: '1' })).toEqual(['p-c']);
    expect(list({ utility: util.address, after: 'p-a' })).toEqual(['p-b', 'p-c', 'p-d']);
    expect(list({ utility: util2.address, after: 'p-d' })).toEqual([]);
  });
});
