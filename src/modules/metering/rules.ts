import type { KeepersOf, ModuleContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { addressFromPublicKey } from '../../crypto/address.js';
import { fromHexStrict } from '../../util/bytes.js';
import { E } from './errors.js';
import { readingAccepted } from './keeper.js';
import { floorDiv } from '../../util/int.js';
import { SLOT_MS, slotOfMs } from '../../util/slots.js';
import type { OfficialMsg, ReadingMsg, RegisterMeterMsg, ReplaceDeviceMsg, RotateKeyMsg } from './messages.js';
import {
  crossesEpoch,
  getMeter,
  getOfficial,
  getReading,
  indexMeter,
  meterIdByAddress,
  meterIdByDevice,
  nextReading,
  previousReading,
  putDifference,
  putMeter,
  putOfficial,
  putReading,
  unindexAddress,
  unindexDevice,
  type Meter,
  type MeterReading,
} from './state.js';

export const REQUIRES = ['registry'] as const;

export interface MeteringParams {
  /** How many slots back a reading may be, counted from the slot of the block time (default 7 days). */
  readingWindowSlots: number;
}

export type MeteringContext = ModuleContext<KeepersOf<typeof REQUIRES>, MeteringParams>;

/** Slots in a 15-minute interval: energy ≤ maxPowerW × 0.25 h ⇔ 4 · Wh ≤ maxPowerW. */
const QUARTERS_PER_HOUR = 4;

export function canRegisterMeters(ctx: MeteringContext, address: string): boolean {
  return ctx.keepers.registry.hasAnyRole(address, ['operator', 'utility', 'grid-operator']);
}

/**
 * Registers a device. Shared by `metering/register` and the energy module's add-meter (whose
 * authorisation is the community owner's). The meter account must be admitted with role `meter`.
 */
export function registerMeterDevice(ctx: MeteringContext, msg: RegisterMeterMsg): Meter {
  const { store } = ctx;
  if (getMeter(store, msg.meterId)) throw E.METER_ALREADY_REGISTERED(`meter ${msg.meterId} is already registered`);
  const deviceId = msg.deviceId ?? msg.meterId;
  const byDevice = meterIdByDevice(store, deviceId);
  if (byDevice !== undefined) throw E.METER_DEVICE_IN_USE(`device ${deviceId} is already registered as meter ${byDevice}`);
  checkMeterKey(ctx, msg.address, msg.pubKey);
  const meter: Meter = {
    meterId: msg.meterId,
    deviceId,
    address: msg.address,
    ...(msg.pubKey !== undefined ? { pubKey: msg.pubKey } : {}),
    maxPowerW: msg.maxPowerW,
    registeredBy: ctx.sender,
    registeredAt: { height: ctx.height, txHash: ctx.txHash },
    readings: 0,
  };
  putMeter(store, meter);
  indexMeter(store, meter);
  ctx.emit('metering.register', { meterId: meter.meterId, deviceId, address: meter.address, maxPowerW: meter.maxPowerW });
  return meter;
}

/** A meter's signing key: admitted with role meter, signing for no other meter, matching the public key when given. */
function checkMeterKey(ctx: MeteringContext, address: string, pubKey: string | undefined): void {
  if (pubKey !== undefined && addressFromPublicKey(fromHexStrict(pubKey, 32)!) !== address) {
    throw E.METER_PUBKEY_MISMATCH(`public key ${pubKey} does not belong to ${address}`);
  }
  if (!ctx.keepers.registry.isActive(address, 'meter')) {
    throw E.METER_ACCOUNT_NOT_METER(`${address} must be an admitted account with role meter (meter keys are separate from trader keys)`);
  }
  const byAddress = meterIdByAddress(ctx.store, address);
  if (byAddress !== undefined) throw E.METER_ADDRESS_IN_USE(`${address} already signs for meter ${byAddress}`);
}

export function registerMeter(ctx: MeteringContext, msg: RegisterMeterMsg): void {
  if (!canRegisterMeters(ctx, ctx.sender)) {
    throw E.METER_REGISTER_NOT_ALLOWED('only an operator, utility or grid-operator account may register meters');
  }
  registerMeterDevice(ctx, msg);
}

function requireMeter(store: KVStore, meterId: string): Meter {
  const meter = getMeter(store, meterId);
  if (!meter) throw E.METER_NOT_FOUND(`meter ${meterId} is not registered`);
  return meter;
}

function requireSlotEnded(ctx: MeteringContext, slot: number): void {
  // slot + 1 ≤ ⌊time / SLOT_MS⌋, without computing (slot + 1) · SLOT_MS (a slot near 2^53 would overflow)
  if (slot >= floorDiv(ctx.time, SLOT_MS)) {
    throw E.METER_SLOT_NOT_ENDED(`slot ${slot} has not ended at block time ${ctx.time} (the current slot is ${floorDiv(ctx.time, SLOT_MS)})`);
  }
}

function requireWithinPower(meter: Meter, importWh: number, exportWh: number): void {
  // In bigint: two values near 2^53 that the schema admits add up beyond a safe integer (found by the host fuzzer).
  if ((BigInt(importWh) + BigInt(exportWh)) * BigInt(QUARTERS_PER_HOUR) > BigInt(meter.maxPowerW)) {
    throw E.METER_ENERGY_EXCEEDS_MAX(`import ${importWh} Wh + export ${exportWh} Wh exceeds what ${meter.maxPowerW} W can deliver in 15 minutes`);
  }
}

/** Register R at a reading must agree with a neighbouring reading: equal across adjacent slots, never backwards across a gap. */
function checkRegister(name: 'import' | 'export', slot: number, registerWh: number, intervalWh: number, prev: MeterReading | undefined, next: MeterReading | undefined): void {
  const reg = (r: MeterReading) => (name === 'import' ? r.importRegisterWh : r.exportRegisterWh);
  const interval = (r: MeterReading) => (name === 'import' ? r.importWh : r.exportWh);
  if (prev && registerWh < reg(prev)) {
    throw E.METER_REGISTER_DECREASED(`${name} register ${registerWh} Wh is below ${reg(prev)} Wh of the reading at slot ${prev.slot}`);
  }
  if (next && registerWh > reg(next)) {
    throw E.METER_REGISTER_DECREASED(`${name} register ${registerWh} Wh is above ${reg(next)} Wh of the later reading at slot ${next.slot}`);
  }
  const start = registerWh - intervalWh;
  const inconsistent = (detail: string) => E.METER_REGISTER_INCONSISTENT(`${name} register ${registerWh} Wh does not match the interval value ${intervalWh} Wh: ${detail}`);
  if (start < 0) throw inconsistent('the register is smaller than the interval');
  if (prev) {
    if (prev.slot + 1 === slot && start !== reg(prev)) throw inconsistent(`the previous slot ${prev.slot} ended at ${reg(prev)} Wh`);
    if (start < reg(prev)) throw inconsistent(`the reading at slot ${prev.slot} ended at ${reg(prev)} Wh`);
  }
  if (next) {
    const nextStart = reg(next) - interval(next);
    if (slot + 1 === next.slot && nextStart !== registerWh) throw inconsistent(`the next slot ${next.slot} starts at ${nextStart} Wh`);
    if (nextStart < registerWh) throw inconsistent(`the reading at slot ${next.slot} starts at ${nextStart} Wh`);
  }
}

/**
 * The readings before and after `slot`, refusing a duplicate. Readings mostly arrive in slot order:
 * then the meter's `lastSlot` names the previous reading and there is no next one, so no range scan
 * is needed; a late reading filling a gap takes the general path.
 */
function neighbours(store: KVStore, meter: Meter, slot: number): { prev: MeterReading | undefined; next: MeterReading | undefined } {
  if (meter.lastSlot === undefined) return { prev: undefined, next: undefined };
  if (slot > meter.lastSlot) return { prev: getReading(store, meter.meterId, meter.lastSlot), next: undefined };
  const existing = getReading(store, meter.meterId, slot);
  if (existing) {
    throw E.METER_READING_DUPLICATE(`meter ${meter.meterId} already reported slot ${slot} (seq ${existing.seq}, tx ${existing.txHash})`);
  }
  return { prev: previousReading(store, meter.meterId, slot), next: nextReading(store, meter.meterId, slot) };
}

export function submitReading(ctx: MeteringContext, msg: ReadingMsg): void {
  const { store } = ctx;
  const meter = requireMeter(store, msg.meterId);
  if (ctx.sender !== meter.address) {
    throw E.METER_WRONG_SIGNER(`readings of meter ${meter.meterId} must be signed by its own key ${meter.address}`);
  }
  if ((msg.fingerprint === undefined) !== (msg.sampleCount === undefined)) {
    throw E.METER_FINGERPRINT_INCOMPLETE('a reading carries a sample fingerprint and its sample count together, or neither');
  }
  // The meter account was admitted with role meter at registration; a revoked account cannot send at all.
  requireSlotEnded(ctx, msg.slot);
  const window = ctx.params.readingWindowSlots;
  const oldest = slotOfMs(ctx.time) - window;
  if (msg.slot < oldest) {
    throw E.METER_SLOT_TOO_OLD(`slot ${msg.slot} is older than the reading window of ${window} slots (oldest accepted: ${oldest})`);
  }
  const near = neighbours(store, meter, msg.slot);
  // A replaced device starts new register and sequence series: never compare across the replacement.
  const prev = near.prev && !crossesEpoch(meter, near.prev.slot, msg.slot) ? near.prev : undefined;
  const next = near.next && !crossesEpoch(meter, msg.slot, near.next.slot) ? near.next : undefined;
  requireWithinPower(meter, msg.importWh, msg.exportWh);
  if ((prev && msg.seq <= prev.seq) || (next && msg.seq >= next.seq)) {
    throw E.METER_SEQ_NOT_INCREASING(`sequence ${msg.seq} must be above ${prev ? `${prev.seq} (slot ${prev.slot})` : '-'} and below ${next ? `${next.seq} (slot ${next.slot})` : '-'}`);
  }
  checkRegister('import', msg.slot, msg.importRegisterWh, msg.importWh, prev, next);
  checkRegister('export', msg.slot, msg.exportRegisterWh, msg.exportWh, prev, next);

  const reading: MeterReading = {
    meterId: msg.meterId,
    slot: msg.slot,
    importWh: msg.importWh,
    exportWh: msg.exportWh,
    importRegisterWh: msg.importRegisterWh,
    exportRegisterWh: msg.exportRegisterWh,
    seq: msg.seq,
    // Only readings that carry a fingerprint store the fields: older readings keep their exact encoding.
    ...(msg.fingerprint !== undefined ? { fingerprint: msg.fingerprint, sampleCount: msg.sampleCount } : {}),
    height: ctx.height,
    txHash: ctx.txHash,
  };
  putReading(store, reading);
  const updated: Meter = { ...meter, readings: meter.readings + 1, lastSlot: Math.max(meter.lastSlot ?? msg.slot, msg.slot) };
  putMeter(store, updated);
  const official = getOfficial(store, msg.meterId, msg.slot);
  if (official) recordDifference(ctx, official.meterId, official.slot, official.importWh, official.exportWh, reading);
  ctx.emit('metering.reading', {
    meterId: msg.meterId,
    slot: msg.slot,
    importWh: msg.importWh,
    exportWh: msg.exportWh,
    seq: msg.seq,
    ...(msg.fingerprint !== undefined ? { fingerprint: msg.fingerprint, sampleCount: msg.sampleCount! } : {}),
  });
  ctx.dispatch(readingAccepted, { meter: updated, reading, ...(msg.community !== undefined ? { community: msg.community } : {}) });
}

function recordDifference(ctx: MeteringContext, meterId: string, slot: number, officialImportWh: number, officialExportWh: number, reported: MeterReading | undefined): void {
  const importDiffWh = officialImportWh - (reported?.importWh ?? 0);
  const exportDiffWh = officialExportWh - (reported?.exportWh ?? 0);
  putDifference(ctx.store, {
    meterId,
    slot,
    officialImportWh,
    officialExportWh,
    reportedImportWh: reported ? reported.importWh : null,
    reportedExportWh: reported ? reported.exportWh : null,
    importDiffWh,
    exportDiffWh,
    height: ctx.height,
    txHash: ctx.txHash,
  });
  ctx.emit('metering.difference', { meterId, slot, importDiffWh, exportDiffWh });
}

/** Authoritative values from the grid operator's official metering channel (days later). */
export function submitOfficial(ctx: MeteringContext, msg: OfficialMsg): void {
  const { store } = ctx;
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['grid-operator'])) {
    throw E.METER_NOT_GRID_OPERATOR('only a grid-operator account may submit official meter values');
  }
  const meter = requireMeter(store, msg.meterId);
  requireSlotEnded(ctx, msg.slot);
  const existing = getOfficial(store, msg.meterId, msg.slot);
  if (existing) throw E.METER_OFFICIAL_DUPLICATE(`official values for meter ${msg.meterId} slot ${msg.slot} were already submitted (tx ${existing.txHash})`);
  requireWithinPower(meter, msg.importWh, msg.exportWh);
  putOfficial(store, { meterId: msg.meterId, slot: msg.slot, importWh: msg.importWh, exportWh: msg.exportWh, by: ctx.sender, height: ctx.height, txHash: ctx.txHash });
  recordDifference(ctx, msg.meterId, msg.slot, msg.importWh, msg.exportWh, getReading(store, msg.meterId, msg.slot));
}

function requireMeterCustodian(ctx: MeteringContext, meter: Meter): void {
  if (ctx.sender !== meter.registeredBy && !ctx.keepers.registry.hasAnyRole(ctx.sender, ['grid-operator'])) {
    throw E.METER_CHANGE_NOT_ALLOWED(`only ${meter.registeredBy} (the registrant of ${meter.meterId}) or a grid operator may change its key or device`);
  }
}

/** Moves the meter's signing key to `address` (readings from now on, late ones included, are signed with it). */
function moveKey(ctx: MeteringContext, meter: Meter, address: string, pubKey: string | undefined): Meter {
  checkMeterKey(ctx, address, pubKey);
  unindexAddress(ctx.store, meter.address);
  const { pubKey: _old, ...rest } = meter;
  return { ...rest, address, ...(pubKey !== undefined ? { pubKey } : {}) };
}

/** A new signing key for the meter (the device stays). */
export function rotateKey(ctx: MeteringContext, msg: RotateKeyMsg): void {
  const meter = requireMeter(ctx.store, msg.meterId);
  requireMeterCustodian(ctx, meter);
  if (msg.address === meter.address) throw E.METER_KEY_UNCHANGED(`meter ${meter.meterId} already signs with ${msg.address}`);
  const moved = moveKey(ctx, meter, msg.address, msg.pubKey);
  const updated: Meter = { ...moved, history: [...(meter.history ?? []), { kind: 'key', deviceId: meter.deviceId, address: meter.address, height: ctx.height, txHash: ctx.txHash }] };
  putMeter(ctx.store, updated);
  indexMeter(ctx.store, updated);
  ctx.emit('metering.key_rotated', { meterId: meter.meterId, from: meter.address, to: msg.address });
}

/** A new device at the metering point from a future slot on: new registers and sequence numbers from there. */
export function replaceDevice(ctx: MeteringContext, msg: ReplaceDeviceMsg): void {
  const meter = requireMeter(ctx.store, msg.meterId);
  requireMeterCustodian(ctx, meter);
  const current = slotOfMs(ctx.time);
  const fromSlot = msg.fromSlot ?? current + 1;
  const epochs = meter.deviceEpochs ?? [];
  const lastEpoch = epochs.length > 0 ? epochs[epochs.length - 1]! : -1;
  if (fromSlot <= current || fromSlot <= lastEpoch) {
    throw E.METER_REPLACEMENT_NOT_FUTURE(`slot ${fromSlot} is not after the current slot ${current}${lastEpoch >= 0 ? ` and the last replacement at slot ${lastEpoch}` : ''}`);
  }
  if (msg.deviceId !== meter.deviceId) {
    const byDevice = meterIdByDevice(ctx.store, msg.deviceId);
    if (byDevice !== undefined) throw E.METER_DEVICE_IN_USE(`device ${msg.deviceId} is already registered as meter ${byDevice}`);
  }
  const keyed = msg.address !== undefined && msg.address !== meter.address ? moveKey(ctx, meter, msg.address, msg.pubKey) : meter;
  unindexDevice(ctx.store, meter.deviceId);
  const updated: Meter = {
    ...keyed,
    deviceId: msg.deviceId,
    ...(msg.maxPowerW !== undefined ? { maxPowerW: msg.maxPowerW } : {}),
    deviceEpochs: [...epochs, fromSlot],
    history: [...(meter.history ?? []), { kind: 'device', deviceId: meter.deviceId, address: meter.address, untilSlot: fromSlot, height: ctx.height, txHash: ctx.txHash }],
  };
  putMeter(ctx.store, updated);
  indexMeter(ctx.store, updated);
  ctx.emit('metering.device_replaced', { meterId: meter.meterId, from: meter.deviceId, to: msg.deviceId, fromSlot, address: updated.address });
}
