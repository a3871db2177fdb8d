import type { KVStore } from '../../app/state.js';
import { E } from './errors.js';
import { localDay, slotLocalIso } from '../../util/localtime.js';
import { slotIso } from '../../util/slots.js';
import { expandSegments, participantSegments, participantsOverlapping, plantSegments } from './holdings.js';
import { requirePlant } from './rules.js';
import { MAX_QUERY_SLOTS } from './routes.js';

function checkRange(from: number, to: number): void {
  if (to === from) throw E.SHARES_EMPTY_RANGE(`slot range [${from}, ${to}) is empty`);
  if (to < from) throw E.SHARES_REVERSED_RANGE(`slot range [${from}, ${to}) is reversed`);
  if (to - from > MAX_QUERY_SLOTS) throw E.SHARES_RANGE_TOO_LONG(`a query covers at most ${MAX_QUERY_SLOTS} slots`);
}

export function dayHoldings(store: KVStore, plantId: string, dayText: string) {
  const plant = requirePlant(store, plantId);
  const day = localDay(plant.timezone, dayText);
  const to = day.firstSlot + day.slots;
  const participants = participantsOverlapping(plant, day.firstSlot, to);
  const columns = participants.map((a) => expandSegments(participantSegments(store, plant, a, day.firstSlot, to), day.firstSlot, to));
  const rows = [];
  for (let i = 0; i < day.slots; i++) {
    const slot = day.firstSlot + i;
    const ppm = columns.map((c) => c[i]!);
    rows.push({ slot, start: slotIso(slot), local: slotLocalIso(plant.timezone, slot), ppm, total: ppm.reduce((a, b) => a + b, 0) });
  }
  return { plant: plant.id, timezone: plant.timezone, day: day.day, firstSlot: day.firstSlot, slots: day.slots, participants, rows };
}

export function participantHoldings(store: KVStore, plantId: string, address: string, fromSlot: number, toSlot: number) {
  const plant = requirePlant(store, plantId);
  checkRange(fromSlot, toSlot);
  if (!participantsOverlapping(plant, fromSlot, toSlot).includes(address)) {
    throw E.SHARES_UNKNOWN_PARTICIPANT(`${address} is not a participant of ${plant.id} in [${fromSlot}, ${toSlot})`);
  }
  const segments = participantSegments(store, plant, address, fromSlot, toSlot);
  const slots = [];
  for (const s of segments) for (let slot = s.fromSlot; slot < s.toSlot; slot++) slots.push({ slot, start: slotIso(slot), local: slotLocalIso(plant.timezone, slot), ppm: s.ppm });
  return { plant: plant.id, address, fromSlot, toSlot, segments, slots };
}

export function plantSegmentsQuery(store: KVStore, plantId: string, fromSlot: number, toSlot: number) {
  const plant = requirePlant(store, plantId);
  checkRange(fromSlot, toSlot);
  return { plant, fromSlot, toSlot, holdings: plantSegments(store, plant, fromSlot, toSlot) };
}
