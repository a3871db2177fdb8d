import type { KeepersOf, ModuleContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { E } from './errors.js';
import { isValidTimeZone, localDay } from '../../util/localtime.js';
import { slotOfMs } from '../../util/slots.js';
import { keyAt, keysOverlapping, participantIn } from './holdings.js';
import type { ParticipantInput, RegisterPlantMsg, SetKeyMsg, TransferMsg } from './messages.js';
import {
  appendLog,
  deleteLevel,
  getPlant,
  levelAt,
  levelEntries,
  levelEntriesFrom,
  MAX_RANGE_SLOTS,
  PPM_TOTAL,
  putPlant,
  setLevel,
  type Participant,
  type Plant,
} from './state.js';

/**
 * Rules of the shares module. Invariants (tested with property tests):
 *  - in every slot the holdings of a plant's participants sum to exactly 1,000,000 ppm;
 *  - no holding is ever negative;
 *  - slots that have begun (by block time) never change.
 */

export const REQUIRES = ['registry'] as const;
export type SharesContext = ModuleContext<KeepersOf<typeof REQUIRES>>;

export function requirePlant(store: KVStore, id: string): Plant {
  const plant = getPlant(store, id);
  if (!plant) throw E.SHARES_UNKNOWN_PLANT(`no plant ${id}`);
  return plant;
}

/** Validates a distribution key; returns the participants sorted by address. */
function validateKey(ctx: SharesContext, participants: readonly ParticipantInput[]): Participant[] {
  const seen = new Set<string>();
  let sum = 0;
  for (const p of participants) {
    if (p.ppm <= 0) throw E.SHARES_INVALID_PPM(`share of ${p.address} is ${p.ppm} ppm; shares must be positive`);
    if (seen.has(p.address)) throw E.SHARES_DUPLICATE_PARTICIPANT(`${p.address} appears twice in the key`);
    seen.add(p.address);
    sum += p.ppm;
  }
  if (sum !== PPM_TOTAL) throw E.SHARES_KEY_SUM(`shares sum to ${sum} ppm; they must sum to exactly ${PPM_TOTAL}`);
  for (const p of participants) {
    if (!ctx.keepers.registry.isActive(p.address)) throw E.SHARES_PARTICIPANT_NOT_ADMITTED(`participant ${p.address} is not an admitted account`);
    if (!ctx.keepers.registry.hasAnyRole(p.utility, ['utility'])) throw E.SHARES_INVALID_UTILITY(`${p.utility} (utility of ${p.address}) is not an admitted utility`);
  }
  return participants
    .map((p) => ({ address: p.address, utility: p.utility, ppm: p.ppm, ...(p.meter !== undefined ? { meter: p.meter } : {}) }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

export function registerPlant(ctx: SharesContext, msg: RegisterPlantMsg): void {
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['utility', 'grid-operator'])) {
    throw E.SHARES_NOT_AUTHORIZED('only a utility or grid-operator account may register a plant');
  }
  if (getPlant(ctx.store, msg.plant)) throw E.SHARES_PLANT_EXISTS(`plant ${msg.plant} is already registered`);
  if (!isValidTimeZone(msg.timezone)) throw E.SHARES_INVALID_TIMEZONE(`${JSON.stringify(msg.timezone)} is not an IANA time zone (e.g. Europe/Vienna)`);
  const participants = validateKey(ctx, msg.participants);
  const at = { height: ctx.height, txHash: ctx.txHash };
  putPlant(ctx.store, {
    id: msg.plant,
    name: msg.name,
    peakPowerW: msg.peakPowerW,
    timezone: msg.timezone,
    productionMeter: msg.productionMeter,
    operator: ctx.sender,
    registeredAt: { ...at, time: ctx.time },
    keys: [{ fromSlot: 0, fromDay: null, participants, setAt: at }],
  }, ctx.stateVersion);
  appendLog(ctx.store, msg.plant, { kind: 'register', by: ctx.sender, ...at, time: ctx.time });
  ctx.emit('shares.register', { plant: msg.plant, participants: participants.length });
}

/**
 * A new default key from a local day on. Transfers for slots from that day on are void: every
 * participant's level is reset to 0 there (the new key starts clean, so no holding can go negative
 * when a participant's default share shrinks or it leaves the plant).
 */
export function setKey(ctx: SharesContext, msg: SetKeyMsg): void {
  const plant = requirePlant(ctx.store, msg.plant);
  if (plant.operator !== ctx.sender) throw E.SHARES_NOT_OPERATOR(`only the registering operator ${plant.operator} may change the key of ${plant.id}`);
  let day;
  try {
    day = localDay(plant.timezone, msg.fromDay);
  } catch (e) {
    throw E.SHARES_INVALID_DAY(e instanceof Error ? e.message : 'invalid day');
  }
  if (day.firstSlot <= slotOfMs(ctx.time)) throw E.SHARES_DAY_BEGUN(`local day ${msg.fromDay} (${plant.timezone}) has begun; a new key must start on a future day`);
  const participants = validateKey(ctx, msg.participants);
  const addresses = new Set<string>();
  for (const k of plant.keys) for (const p of k.participants) addresses.add(p.address);
  for (const address of [...addresses].sort()) {
    const before = levelAt(ctx.store, plant.id, address, day.firstSlot - 1);
    for (const [slot] of levelEntriesFrom(ctx.store, plant.id, address, day.firstSlot)) deleteLevel(ctx.store, plant.id, address, slot);
    if (before !== 0) setLevel(ctx.store, plant.id, address, day.firstSlot, 0);
  }
  const at = { height: ctx.height, txHash: ctx.txHash };
  const keys = plant.keys.filter((k) => k.fromSlot < day.firstSlot);
  keys.push({ fromSlot: day.firstSlot, fromDay: msg.fromDay, participants, setAt: at });
  putPlant(ctx.store, { ...plant, keys }, ctx.stateVersion);
  appendLog(ctx.store, plant.id, { kind: 'key', by: ctx.sender, fromDay: msg.fromDay, fromSlot: day.firstSlot, ...at, time: ctx.time });
  ctx.emit('shares.key', { plant: plant.id, fromDay: msg.fromDay, fromSlot: day.firstSlot });
}

/** A participant's level entries over [from, to] with the level in force at `from` (two range scans at most). */
interface LevelWindow {
  atFrom: number;
  atTo: number;
  inner: Array<[number, number]>;
  hasTo: boolean;
}

function levelWindow(store: KVStore, plant: string, address: string, from: number, to: number): LevelWindow {
  const rows = levelEntries(store, plant, address, from, to + 1);
  const hasFrom = rows.length > 0 && rows[0]![0] === from;
  const atFrom = hasFrom ? rows[0]![1] : levelAt(store, plant, address, from);
  const hasTo = rows.length > 0 && rows[rows.length - 1]![0] === to;
  const inner = rows.filter(([slot]) => slot > from && slot < to);
  const atTo = hasTo ? rows[rows.length - 1]![1] : inner.length > 0 ? inner[inner.length - 1]![1] : atFrom;
  return { atFrom, atTo, inner, hasTo };
}

/** Adds `delta` to a participant's level over [from, to). */
function shiftLevel(store: KVStore, plant: string, address: string, from: number, to: number, delta: number, w: LevelWindow): void {
  for (const [slot, level] of w.inner) setLevel(store, plant, address, slot, level + delta);
  setLevel(store, plant, address, from, w.atFrom + delta);
  if (!w.hasTo) setLevel(store, plant, address, to, w.atTo);
}

/** The smallest holding over [from, to) given the level window and the plant's key versions. */
function minHoldingOf(plant: Plant, address: string, from: number, to: number, w: LevelWindow): number {
  const bounds: Array<[number, number | undefined]> = [[from, w.atFrom], ...w.inner.map(([s, l]): [number, number] => [s, l])];
  for (const k of plant.keys) if (k.fromSlot > from && k.fromSlot < to) bounds.push([k.fromSlot, undefined]);
  bounds.sort((a, b) => a[0] - b[0]);
  let min = Number.MAX_SAFE_INTEGER;
  let level = w.atFrom;
  for (const [slot, l] of bounds) {
    if (l !== undefined) level = l;
    const held = (participantIn(keyAt(plant, slot), address)?.ppm ?? 0) + level;
    if (held < min) min = held;
  }
  return min;
}

export function transfer(ctx: SharesContext, msg: TransferMsg): void {
  const plant = requirePlant(ctx.store, msg.plant);
  if (msg.ppm <= 0) throw E.SHARES_INVALID_PPM(`cannot transfer ${msg.ppm} ppm; the amount must be positive`);
  if (msg.toSlot === msg.fromSlot) throw E.SHARES_EMPTY_RANGE(`slot range [${msg.fromSlot}, ${msg.toSlot}) is empty`);
  if (msg.toSlot < msg.fromSlot) throw E.SHARES_REVERSED_RANGE(`slot range [${msg.fromSlot}, ${msg.toSlot}) is reversed`);
  if (msg.toSlot - msg.fromSlot > MAX_RANGE_SLOTS) throw E.SHARES_RANGE_TOO_LONG(`a transfer covers at most ${MAX_RANGE_SLOTS} slots`);
  const current = slotOfMs(ctx.time);
  if (msg.fromSlot <= current) throw E.SHARES_SLOT_BEGUN(`slot ${msg.fromSlot} has begun (current slot ${current}); only future slots can change`);
  if (msg.to === ctx.sender) throw E.SHARES_SELF_TRANSFER('sender and recipient are the same participant');
  const keys = keysOverlapping(plant, msg.fromSlot, msg.toSlot);
  for (const { key, from } of keys) {
    if (!participantIn(key, ctx.sender)) throw E.SHARES_SENDER_NOT_PARTICIPANT(`sender ${ctx.sender} is not a participant of ${plant.id} at slot ${from}`);
  }
  for (const { key, from } of keys) {
    if (!participantIn(key, msg.to)) throw E.SHARES_UNKNOWN_PARTICIPANT(`${msg.to} is not a participant of ${plant.id} at slot ${from}`);
  }
  if (!ctx.keepers.registry.isActive(msg.to)) throw E.SHARES_RECIPIENT_REVOKED(`${msg.to} is no longer an admitted participant; it cannot receive portions`);
  const senderWindow = levelWindow(ctx.store, plant.id, ctx.sender, msg.fromSlot, msg.toSlot);
  const held = minHoldingOf(plant, ctx.sender, msg.fromSlot, msg.toSlot, senderWindow);
  if (held < msg.ppm) {
    throw E.SHARES_INSUFFICIENT_PORTION(`sender holds as little as ${held} ppm in [${msg.fromSlot}, ${msg.toSlot}); cannot transfer ${msg.ppm}`);
  }
  const recipientWindow = levelWindow(ctx.store, plant.id, msg.to, msg.fromSlot, msg.toSlot);
  shiftLevel(ctx.store, plant.id, ctx.sender, msg.fromSlot, msg.toSlot, -msg.ppm, senderWindow);
  shiftLevel(ctx.store, plant.id, msg.to, msg.fromSlot, msg.toSlot, msg.ppm, recipientWindow);
  const at = { height: ctx.height, txHash: ctx.txHash };
  appendLog(ctx.store, plant.id, { kind: 'transfer', by: ctx.sender, from: ctx.sender, to: msg.to, ppm: msg.ppm, fromSlot: msg.fromSlot, toSlot: msg.toSlot, ...at, time: ctx.time });
  ctx.emit('shares.transfer', { plant: plant.id, from: ctx.sender, to: msg.to, ppm: msg.ppm, fromSlot: msg.fromSlot, toSlot: msg.toSlot });
}
