import { describe, expect, it } from 'vitest';
import { NodeMetrics, READING_SLOTS_KEPT } from '../../src/ledger/metrics.js';
import { getMeter, listReadings, meterIdByAddress, meterIdByDevice } from '../../src/modules/metering/state.js';
import { missingReadings } from '../../src/modules/metering/surface.js';
import { signTx } from '../../src/codec/tx.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { alice, cmeter, energyChain, GENESIS_TIME, gridop, m, ok, owner, pmeter, reading, rejects, S, xmeter } from '../energy/helpers.js';
import { account } from '../helpers/chain.js';

/** Issue 19 #17: meter key rotation and device replacement, the missing-readings report, domain metrics. */

const NOW_SLOT = Math.floor(GENESIS_TIME / SLOT_MS);
const rotate = (value: Record<string, unknown>) => ({ type: 'metering/rotate-key', value });
const replace = (value: Record<string, unknown>) => ({ type: 'metering/replace-device', value });

function withMeter() {
  const chain = energyChain();
  ok(chain, owner, m.register({ meterId: 'M1', deviceId: 'DEV-A', address: pmeter.address, pubKey: pmeter.publicKey, maxPowerW: 20_000 }));
  return chain;
}

describe('meter key rotation', () => {
  it('moves the signing key: the new key signs readings, the old one no longer does, the history keeps the old key', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 2, 100, 0, 1));
    const res = ok(chain, gridop, rotate({ meterId: 'M1', address: xmeter.address, pubKey: xmeter.publicKey }));
    expect(res.events.find((e) => e.type === 'metering.key_rotated')?.attributes).toMatchObject({ from: pmeter.address, to: xmeter.address });
    const meter = getMeter(chain.store, 'M1')!;
    expect(meter).toMatchObject({ address: xmeter.address, pubKey: xmeter.publicKey, deviceId: 'DEV-A' });
    expect(meter.history).toEqual([{ kind: 'key', deviceId: 'DEV-A', address: pmeter.address, height: expect.any(Number), txHash: expect.any(String) }]);
    expect(meterIdByAddress(chain.store, xmeter.address)).toBe('M1');
    expect(meterIdByAddress(chain.store, pmeter.address)).toBeUndefined();
    rejects(chain, pmeter, reading('M1', S - 1, 50, 0, 2, { imp: 100, exp: 0 }), 'METER_WRONG_SIGNER');
    // The series continues: same device, registers carry on.
    ok(chain, xmeter, reading('M1', S - 1, 50, 0, 2, { imp: 100, exp: 0 }));
    // The old key is free again for another meter.
    ok(chain, owner, m.register({ meterId: 'M2', address: pmeter.address, maxPowerW: 1_000 }));
  });

  it('refuses each rule with its own code, changing nothing but the nonce', () => {
    const chain = withMeter();
    ok(chain, owner, m.register({ meterId: 'M2', address: cmeter.address, maxPowerW: 1_000 }));
    rejects(chain, alice, rotate({ meterId: 'M1', address: xmeter.address }), 'METER_CHANGE_NOT_ALLOWED');
    rejects(chain, gridop, rotate({ meterId: 'nope', address: xmeter.address }), 'METER_NOT_FOUND');
    rejects(chain, gridop, rotate({ meterId: 'M1', address: pmeter.address }), 'METER_KEY_UNCHANGED');
    rejects(chain, gridop, rotate({ meterId: 'M1', address: cmeter.address }), 'METER_ADDRESS_IN_USE');
    rejects(chain, gridop, rotate({ meterId: 'M1', address: alice.address }), 'METER_ACCOUNT_NOT_METER');
    rejects(chain, gridop, rotate({ meterId: 'M1', address: xmeter.address, pubKey: cmeter.publicKey }), 'METER_PUBKEY_MISMATCH');
    for (const value of [{ meterId: 'M1' }, { meterId: 'M1', address: 'x' }, { meterId: 'M1', address: xmeter.address, pubKey: 'zz' }, { meterId: 'M1', address: xmeter.address, extra: 1 }, { meterId: '', address: xmeter.address }]) {
      rejects(chain, gridop, rotate(value), 'MSG_INVALID');
    }
  });
});

describe('device replacement', () => {
  it('starts new register and sequence series from a future slot; late readings of the old device still fit the old series', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 3, 100, 0, 10, { imp: 90_000, exp: 0 }));
    const from = NOW_SLOT + 2;
    const res = ok(chain, owner, replace({ meterId: 'M1', deviceId: 'DEV-B', maxPowerW: 30_000, fromSlot: from }));
    expect(res.events.find((e) => e.type === 'metering.device_replaced')?.attributes).toMatchObject({ from: 'DEV-A', to: 'DEV-B', fromSlot: String(from) });
    const meter = getMeter(chain.store, 'M1')!;
    expect(meter).toMatchObject({ deviceId: 'DEV-B', maxPowerW: 30_000, deviceEpochs: [from], address: pmeter.address });
    expect(meterIdByDevice(chain.store, 'DEV-B')).toBe('M1');
    expect(meterIdByDevice(chain.store, 'DEV-A')).toBeUndefined();
    // A late reading of the old device before the replacement continues the old registers.
    ok(chain, pmeter, reading('M1', S - 2, 10, 0, 11, { imp: 90_100, exp: 0 }));
    // After the replacement slot has ended, the new device starts from register 0 and sequence 1.
    const later = (from + 1) * SLOT_MS + 1_000;
    ok(chain, pmeter, reading('M1', from, 7, 0, 1, { imp: 0, exp: 0 }), later);
    ok(chain, pmeter, reading('M1', from + 1, 3, 0, 2, { imp: 7, exp: 0 }), later + SLOT_MS);
    // Within the new series the usual checks hold.
    rejects(chain, pmeter, reading('M1', from + 2, 3, 0, 2, { imp: 10, exp: 0 }), 'METER_SEQ_NOT_INCREASING', later + 2 * SLOT_MS);
    rejects(chain, pmeter, reading('M1', from + 2, 3, 0, 3, { imp: 5, exp: 0 }), 'METER_REGISTER_DECREASED', later + 2 * SLOT_MS + 1000);
    expect(listReadings(chain.store, 'M1', 0, from + 10).map((r) => [r.slot, r.importRegisterWh, r.seq])).toEqual([
      [S - 3, 90_100, 10],
      [S - 2, 90_110, 11],
      [from, 7, 1],
      [from + 1, 10, 2],
    ]);
    // Without the replacement, the same reading would break the old series.
    const control = withMeter();
    ok(control, pmeter, reading('M1', S - 3, 100, 0, 10, { imp: 90_000, exp: 0 }));
    rejects(control, pmeter, reading('M1', from, 7, 0, 1, { imp: 0, exp: 0 }), 'METER_SEQ_NOT_INCREASING', later);
  });

  it('may bring a new key, and refuses each rule with its own code', () => {
    const chain = withMeter();
    ok(chain, owner, m.register({ meterId: 'M2', deviceId: 'DEV-C', address: cmeter.address, maxPowerW: 1_000 }));
    ok(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-B', address: xmeter.address, pubKey: xmeter.publicKey }));
    expect(getMeter(chain.store, 'M1')).toMatchObject({ deviceId: 'DEV-B', address: xmeter.address, deviceEpochs: [NOW_SLOT + 1] });
    rejects(chain, alice, replace({ meterId: 'M1', deviceId: 'DEV-D' }), 'METER_CHANGE_NOT_ALLOWED');
    rejects(chain, gridop, replace({ meterId: 'nope', deviceId: 'DEV-D' }), 'METER_NOT_FOUND');
    rejects(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-C', fromSlot: NOW_SLOT + 5 }), 'METER_DEVICE_IN_USE');
    rejects(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-D', fromSlot: NOW_SLOT }), 'METER_REPLACEMENT_NOT_FUTURE');
    rejects(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-D', fromSlot: NOW_SLOT + 1 }), 'METER_REPLACEMENT_NOT_FUTURE'); // not after the last replacement
    rejects(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-D', address: cmeter.address, fromSlot: NOW_SLOT + 5 }), 'METER_ADDRESS_IN_USE');
    rejects(chain, gridop, replace({ meterId: 'M1', deviceId: 'DEV-D', address: alice.address, fromSlot: NOW_SLOT + 5 }), 'METER_ACCOUNT_NOT_METER');
    for (const value of [{ meterId: 'M1' }, { meterId: 'M1', deviceId: 'bad id' }, { meterId: 'M1', deviceId: 'D', maxPowerW: 0 }, { meterId: 'M1', deviceId: 'D', fromSlot: -1 }, { meterId: 'M1', deviceId: 'D', x: 1 }]) {
      rejects(chain, gridop, replace(value), 'MSG_INVALID');
    }
  });
});

describe('missing readings report', () => {
  it('lists meters lacking readings in a slot or a local day, counting only ended slots, in pages', () => {
    const chain = withMeter();
    ok(chain, owner, m.register({ meterId: 'M2', address: cmeter.address, maxPowerW: 1_000 }));
    ok(chain, owner, m.register({ meterId: 'M3', address: xmeter.address, maxPowerW: 1_000 }));
    ok(chain, pmeter, reading('M1', S, 1, 0, 1));
    ok(chain, cmeter, reading('M2', S, 1, 0, 1));
    ok(chain, cmeter, reading('M2', S + 1, 1, 0, 2, { imp: 1, exp: 0 }));
    const now = chain.time;
    const one = missingReadings(chain.store, now, { slot: String(S), limit: 100 });
    expect(one.meters.map((x) => [x.meterId, x.missingSlots])).toEqual([['M3', [S]]]);
    expect(one).toMatchObject({ fromSlot: S, toSlot: S + 1, endedSlots: 1, scanned: 3 });
    // The UTC day of genesis: slots up to the current one have ended.
    const day = missingReadings(chain.store, now, { day: '2026-06-01', limit: 100 });
    const ended = Math.floor(now / SLOT_MS) - day.fromSlot;
    expect(day.endedSlots).toBe(ended);
    expect(day.meters.map((x) => [x.meterId, x.missing])).toEqual([['M1', ended - 1], ['M2', ended - 2], ['M3', ended]]);
    // A local day in another zone starts at another slot.
    expect(missingReadings(chain.store, now, { day: '2026-06-01', timezone: 'Europe/Amsterdam', limit: 100 }).fromSlot).toBe(day.fromSlot - 8);
    const page = missingReadings(chain.store, now, { slot: String(S), limit: 2 });
    expect(page).toMatchObject({ scanned: 2, next: 'M2', meters: [] });
    expect(missingReadings(chain.store, now, { slot: String(S), after: page.next, limit: 2 }).meters.map((x) => x.meterId)).toEqual(['M3']);
  });

  it('refuses bad requests', () => {
    const chain = withMeter();
    for (const q of [{}, { slot: '1', day: '2026-06-01' }, { slot: 'x' }, { day: '2026-13-01' }, { day: '2026-06-01', timezone: 'Mars/Base' }, { slot: '1', timezone: 'UTC' }]) {
      expect(() => missingReadings(chain.store, chain.time, { ...q, limit: 10 })).toThrow();
    }
  });
});

describe('domain metrics', () => {
  it('counts readings per slot, late readings and rejected readings by code', async () => {
    const metrics = new NodeMetrics();
    const meterKey = account('pmeter');
    const tx = (slot: number, nonce: number) =>
      signTx({ chainId: 'c', sender: meterKey.address, nonce, expiresAtHeight: 9, msgs: [reading('M1', slot, 1, 0, nonce + 1)], memo: '' }, meterKey.signer);
    const official = signTx({ chainId: 'c', sender: gridop.address, nonce: 0, expiresAtHeight: 9, msgs: [m.official('M1', S, 1, 0)], memo: '' }, gridop.signer);
    const blockTime = (S + 1) * SLOT_MS + 10_000; // S ended 10 s ago; S − 5 and S − 1 are late (more than a slot after their end)
    metrics.observeReadings([tx(S, 0), tx(S, 1), tx(S - 5, 2), tx(S - 1, 3), official], ['OK', 'METER_READING_DUPLICATE', 'OK', 'METER_REGISTER_INCONSISTENT', 'OK'], blockTime);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`gridledger_meter_readings_per_slot{slot="${S}"} 1`);
    expect(text).toContain(`gridledger_meter_readings_per_slot{slot="${S - 5}"} 1`);
    expect(text).toContain('gridledger_meter_readings_accepted_total 2');
    expect(text).toContain('gridledger_meter_readings_late_total 2');
    expect(text).toContain('gridledger_meter_readings_rejected_total{code="METER_READING_DUPLICATE"} 1');
    expect(text).toContain('gridledger_meter_readings_rejected_total{code="METER_REGISTER_INCONSISTENT"} 1');
    expect(text).toContain('gridledger_meter_official_total{code="OK"} 1');
    // Only the most recent slots keep a series.
    for (let i = 0; i < READING_SLOTS_KEPT + 2; i++) metrics.observeReadings([tx(S + 10 + i, 10 + i)], ['OK'], blockTime + (i + 10) * SLOT_MS);
    const after = await metrics.registry.metrics();
    expect(after.match(/gridledger_meter_readings_per_slot\{/g)).toHaveLength(READING_SLOTS_KEPT);
    expect(after).not.toContain(`slot="${S}"`);
  });
});
