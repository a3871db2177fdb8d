import { describe, expect, it } from 'vitest';
import { metering } from '../../src/modules/metering/index.js';
import { getReading } from '../../src/modules/metering/state.js';
import { energyChain, m, ok, owner, pmeter, reading, rejects, S } from '../energy/helpers.js';

const FP = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

function withMeter() {
  const chain = energyChain();
  ok(chain, owner, m.register({ meterId: 'M1', address: pmeter.address, maxPowerW: 20_000 }));
  return chain;
}

describe('readings with sample fingerprints', () => {
  it('stores fingerprint and sample count with the reading, emits them, and leaves readings without them unchanged', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 3, 100, 0, 1));
    const res = ok(chain, pmeter, reading('M1', S - 2, 200, 5, 2, { imp: 100, exp: 0 }, { fingerprint: FP(0xab), sampleCount: 90 }));
    const old = getReading(chain.store, 'M1', S - 3)!;
    expect(Object.keys(old)).not.toContain('fingerprint');
    expect(Object.keys(old)).not.toContain('sampleCount');
    expect(getReading(chain.store, 'M1', S - 2)).toMatchObject({ fingerprint: FP(0xab), sampleCount: 90, seq: 2 });
    const event = res.events.find((e) => e.type === 'metering.reading')!;
    expect(event.attributes).toMatchObject({ fingerprint: FP(0xab), sampleCount: '90' });
    const readings = chain.query(metering, 'listReadings', { meterId: 'M1' }, {});
    expect(readings.readings.map((r: any) => [r.slot, r.fingerprint, r.sampleCount])).toEqual([
      [S - 3, undefined, undefined],
      [S - 2, FP(0xab), 90],
    ]);
  });

  it('refuses a fingerprint without its count (and the other way round) and malformed fingerprints', () => {
    const chain = withMeter();
    rejects(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { fingerprint: FP(1) }), 'METER_FINGERPRINT_INCOMPLETE');
    rejects(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { sampleCount: 3 }), 'METER_FINGERPRINT_INCOMPLETE');
    rejects(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { fingerprint: FP(1).toUpperCase().replace(/1/g, 'A'), sampleCount: 3 }), 'MSG_INVALID');
    rejects(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { fingerprint: FP(1).slice(2), sampleCount: 3 }), 'MSG_INVALID');
    rejects(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { fingerprint: FP(1), sampleCount: -1 }), 'MSG_INVALID');
    ok(chain, pmeter, reading('M1', S, 1, 0, 1, undefined, { fingerprint: FP(1), sampleCount: 3 }));
  });

  it('the fingerprints route lists only readings that carry one, in slot order, with a continuation slot for long ranges', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 5, 10, 0, 1, undefined, { fingerprint: FP(1), sampleCount: 1 }));
    ok(chain, pmeter, reading('M1', S - 4, 10, 0, 2, { imp: 10, exp: 0 }));
    ok(chain, pmeter, reading('M1', S - 3, 10, 0, 3, { imp: 20, exp: 0 }, { fingerprint: FP(3), sampleCount: 3 }));
    ok(chain, pmeter, reading('M1', S - 1, 10, 0, 4, { imp: 30, exp: 0 }, { fingerprint: FP(4), sampleCount: 4 }));
    const all = chain.query(metering, 'listFingerprints', { meterId: 'M1' }, {});
    expect(all.fingerprints.map((f: any) => [f.slot, f.fingerprint, f.sampleCount, f.seq])).toEqual([
      [S - 5, FP(1), 1, 1],
      [S - 3, FP(3), 3, 3],
      [S - 1, FP(4), 4, 4],
    ]);
    expect(all.nextSlot).toBeUndefined();
    // Two readings scanned per page: the second page starts after the last scanned slot.
    const page1 = chain.query(metering, 'listFingerprints', { meterId: 'M1' }, { fromSlot: String(S - 5), limit: '2' });
    expect(page1.fingerprints.map((f: any) => f.slot)).toEqual([S - 5]);
    expect(page1.nextSlot).toBe(S - 3);
    const page2 = chain.query(metering, 'listFingerprints', { meterId: 'M1' }, { fromSlot: String(page1.nextSlot), limit: '2' });
    expect(page2.fingerprints.map((f: any) => f.slot)).toEqual([S - 3, S - 1]);
    const page3 = chain.query(metering, 'listFingerprints', { meterId: 'M1' }, { fromSlot: String(page2.nextSlot), limit: '2' });
    expect(page3.fingerprints).toEqual([]);
    expect(page3.nextSlot).toBeUndefined();
    expect(chain.query(metering, 'listFingerprints', { meterId: 'M1' }, { slot: String(S - 3) }).fingerprints).toHaveLength(1);
    expect(() => chain.query(metering, 'listFingerprints', { meterId: 'nope' }, {})).toThrow(/not registered/);
  });
});
