import { describe, expect, it } from 'vitest';
import { getMeter, listReadings, readSeries } from '../../src/modules/metering/state.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { alice, cmeter, energyChain, GENESIS_TIME, gridop, m, ok, outsider, owner, pmeter, reading, rejects, S, xmeter } from '../energy/helpers.js';

const NOW_SLOT = Math.floor(GENESIS_TIME / SLOT_MS);

function withMeter(options: { genesisModules?: Record<string, unknown> } = {}) {
  const chain = energyChain(options);
  ok(chain, owner, m.register({ meterId: 'M1', deviceId: 'E0030000000000001', address: pmeter.address, pubKey: pmeter.publicKey, maxPowerW: 20_000 }));
  return chain;
}

describe('meter registry', () => {
  it('registers a device outside any community (operator, utility or grid operator) with the contract accessors', () => {
    const chain = withMeter();
    ok(chain, gridop, m.register({ meterId: 'M2', address: cmeter.address, maxPowerW: 5_000 }));
    expect(getMeter(chain.store, 'M1')).toMatchObject({ meterId: 'M1', deviceId: 'E0030000000000001', address: pmeter.address, maxPowerW: 20_000 });
    expect(getMeter(chain.store, 'M2')?.deviceId).toBe('M2');
    expect(getMeter(chain.store, 'nope')).toBeUndefined();
  });

  it('rejects each registration rule with its own code', () => {
    const chain = withMeter();
    rejects(chain, alice, m.register({ meterId: 'M9', address: xmeter.address, maxPowerW: 1 }), 'METER_REGISTER_NOT_ALLOWED');
    rejects(chain, owner, m.register({ meterId: 'M1', address: xmeter.address, maxPowerW: 1 }), 'METER_ALREADY_REGISTERED');
    rejects(chain, owner, m.register({ meterId: 'M9', deviceId: 'E0030000000000001', address: xmeter.address, maxPowerW: 1 }), 'METER_DEVICE_IN_USE');
    rejects(chain, owner, m.register({ meterId: 'M9', address: xmeter.address, pubKey: cmeter.publicKey, maxPowerW: 1 }), 'METER_PUBKEY_MISMATCH');
    rejects(chain, owner, m.register({ meterId: 'M9', address: outsider.address, maxPowerW: 1 }), 'METER_ACCOUNT_NOT_METER');
    rejects(chain, owner, m.register({ meterId: 'M9', address: pmeter.address, maxPowerW: 1 }), 'METER_ADDRESS_IN_USE');
    rejects(chain, owner, m.register({ meterId: 'M9', address: xmeter.address, maxPowerW: 0 }), 'MSG_INVALID');
  });
});

describe('signed interval readings', () => {
  it('are stored per meter and slot, in slot order, including backfilled gaps', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 3, 100, 0, 1));
    ok(chain, pmeter, reading('M1', S, 300, 50, 5, { imp: 700, exp: 0 }));
    // backfill S-2 between them: consistent with both neighbours
    ok(chain, pmeter, reading('M1', S - 2, 200, 0, 2, { imp: 100, exp: 0 }));
    const rows = listReadings(chain.store, 'M1', S - 10, S + 1);
    expect(rows.map((r) => [r.slot, r.importWh, r.importRegisterWh, r.seq])).toEqual([
      [S - 3, 100, 100, 1],
      [S - 2, 200, 300, 2],
      [S, 300, 1_000, 5],
    ]);
    expect(listReadings(chain.store, 'M1', S - 2, S)).toHaveLength(1);
    expect(getMeter(chain.store, 'M1')?.readings).toBe(3);
    // The packed day rows hold the same values in slot order, whether a reading came in order (appended) or late.
    const series = rows.map((r) => ({ slot: r.slot, importWh: r.importWh, exportWh: r.exportWh }));
    expect(readSeries(chain.store, 'M1', S - 10, S + 1)).toEqual(series);
    ok(chain, pmeter, reading('M1', S + 1, 10, 0, 6, { imp: 1_000, exp: 50 }));
    expect(readSeries(chain.store, 'M1', S - 10, S + 2)).toEqual([...series, { slot: S + 1, importWh: 10, exportWh: 0 }]);
  });

  it('rejects each reading rule with its own code and leaves the state unchanged', () => {
    const chain = withMeter();
    ok(chain, pmeter, reading('M1', S - 4, 1_000, 0, 10, { imp: 5_000, exp: 0 }));
    ok(chain, pmeter, reading('M1', S, 1_000, 0, 20, { imp: 8_000, exp: 0 }));
    rejects(chain, pmeter, reading('nope', S, 1, 0, 30), 'METER_NOT_FOUND');
    rejects(chain, cmeter, reading('M1', S + 1, 1, 0, 30, { imp: 9_000, exp: 0 }), 'METER_WRONG_SIGNER');
    rejects(chain, pmeter, reading('M1', NOW_SLOT, 1, 0, 30, { imp: 9_000, exp: 0 }), 'METER_SLOT_NOT_ENDED');
    rejects(chain, pmeter, reading('M1', NOW_SLOT + 10, 1, 0, 30, { imp: 9_000, exp: 0 }), 'METER_SLOT_NOT_ENDED');
    // the largest slot the schema admits: refused by its code, not an internal overflow (found by the host fuzzer)
    rejects(chain, pmeter, reading('M1', Number.MAX_SAFE_INTEGER, 1, 0, 30, { imp: 9_000, exp: 0 }), 'METER_SLOT_NOT_ENDED');
    rejects(chain, pmeter, reading('M1', NOW_SLOT - 7 * 96 - 1, 1, 0, 1, { imp: 0, exp: 0 }), 'METER_SLOT_TOO_OLD');
    rejects(chain, pmeter, reading('M1', S, 1_000, 0, 21, { imp: 8_000, exp: 0 }), 'METER_READING_DUPLICATE');
    // 20 kW for 15 minutes is at most 5 000 Wh, import and export together
    rejects(chain, pmeter, reading('M1', S + 1, 5_001, 0, 30, { imp: 9_000, exp: 0 }), 'METER_ENERGY_EXCEEDS_MAX');
    rejects(chain, pmeter, reading('M1', S + 1, 3_000, 2_001, 30, { imp: 9_000, exp: 0 }), 'METER_ENERGY_EXCEEDS_MAX');
    rejects(chain, pmeter, reading('M1', S + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 30, { imp: 0, exp: 0 }), 'METER_ENERGY_EXCEEDS_MAX');
    rejects(chain, pmeter, reading('M1', S + 1, 1, 0, 20, { imp: 9_000, exp: 0 }), 'METER_SEQ_NOT_INCREASING');
    rejects(chain, pmeter, reading('M1', S - 2, 1, 0, 20, { imp: 6_000, exp: 0 }), 'METER_SEQ_NOT_INCREASING');
    rejects(chain, pmeter, reading('M1', S - 2, 1, 0, 9, { imp: 6_000, exp: 0 }), 'METER_SEQ_NOT_INCREASING');
    rejects(chain, pmeter, reading('M1', S + 1, 10, 0, 30, { imp: 7_000, exp: 0 }), 'METER_REGISTER_DECREASED');
    rejects(chain, pmeter, reading('M1', S - 2, 10, 0, 15, { imp: 9_500, exp: 0 }), 'METER_REGISTER_DECREASED');
    // adjacent to S: the register must start exactly where S ended
    rejects(chain, pmeter, reading('M1', S + 1, 100, 0, 30, { imp: 9_050, exp: 0 }), 'METER_REGISTER_INCONSISTENT');
    // register smaller than its own interval
    ok(chain, owner, m.register({ meterId: 'M3', address: xmeter.address, maxPowerW: 20_000 }));
    rejects(chain, xmeter, m.reading({ meterId: 'M3', slot: S, importWh: 100, exportWh: 0, importRegisterWh: 50, exportRegisterWh: 0, seq: 1 }), 'METER_REGISTER_INCONSISTENT');
    rejects(chain, pmeter, m.reading({ meterId: 'M1', slot: S + 1, importWh: 100, exportWh: 0, importRegisterWh: 9_050, exportRegisterWh: 0, seq: 30 }), 'METER_REGISTER_INCONSISTENT');
    // across a gap: may not start below the previous reading's end, and must leave room for the next reading's start
    rejects(chain, pmeter, reading('M1', S - 2, 100, 0, 15, { imp: 5_900, exp: 0 }), 'METER_REGISTER_INCONSISTENT');
    rejects(chain, pmeter, reading('M1', S - 1, 100, 0, 15, { imp: 6_950, exp: 0 }), 'METER_REGISTER_INCONSISTENT');
    // export register: same rules
    rejects(chain, pmeter, m.reading({ meterId: 'M1', slot: S + 1, importWh: 0, exportWh: 10, importRegisterWh: 9_000, exportRegisterWh: 5, seq: 30 }), 'METER_REGISTER_INCONSISTENT');
    // a consistent reading after all that is accepted
    ok(chain, pmeter, reading('M1', S + 1, 100, 10, 30, { imp: 9_000, exp: 0 }));
  });

  it('uses the configured reading window', () => {
    const chain = withMeter({ genesisModules: { metering: { readingWindowSlots: 4 } } });
    rejects(chain, pmeter, reading('M1', NOW_SLOT - 5, 1, 0, 1), 'METER_SLOT_TOO_OLD');
    ok(chain, pmeter, reading('M1', NOW_SLOT - 4, 1, 0, 1));
    expect(() => energyChain({ genesisModules: { metering: { readingWindowSlots: 0 } } })).toThrow(/readingWindowSlots/);
  });
});

describe('official grid-operator values', () => {
  it('only from a grid operator, once per meter and slot, for ended slots, within the meter rating', () => {
    const chain = withMeter();
    rejects(chain, owner, m.official('M1', S, 1, 0), 'METER_NOT_GRID_OPERATOR');
    rejects(chain, gridop, m.official('nope', S, 1, 0), 'METER_NOT_FOUND');
    rejects(chain, gridop, m.official('M1', NOW_SLOT, 1, 0), 'METER_SLOT_NOT_ENDED');
    rejects(chain, gridop, m.official('M1', S, 6_000, 0), 'METER_ENERGY_EXCEEDS_MAX');
    // the largest values the schema admits, whose sum is no safe integer: refused by code, not an internal error (found by the host fuzzer)
    rejects(chain, gridop, m.official('M1', S, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), 'METER_ENERGY_EXCEEDS_MAX');
    ok(chain, gridop, m.official('M1', S, 900, 0));
    rejects(chain, gridop, m.official('M1', S, 900, 0), 'METER_OFFICIAL_DUPLICATE');
    // days later is fine (no reading window for the official channel)
    ok(chain, gridop, m.official('M1', NOW_SLOT - 30 * 96, 0, 0));
    expect(chain.store.get<any>(`metering/diff/M1/${String(S).padStart(16, '0')}`)).toMatchObject({ importDiffWh: 900, reportedImportWh: null });
  });
});
