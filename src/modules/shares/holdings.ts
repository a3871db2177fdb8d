import type { KVStore } from '../../app/state.js';
import { slotOfMs } from '../../util/slots.js';
import { levelAt, levelEntries, type KeyVersion, type Participant, type Plant } from './state.js';

/** A run of slots [fromSlot, toSlot) in which a participant holds `ppm`. */
export interface Segment {
  fromSlot: number;
  toSlot: number;
  ppm: number;
}

/** Index of the key version in force at a slot. */
export function keyIndexAt(plant: Plant, slot: number): number {
  let i = 0;
  while (i + 1 < plant.keys.length && plant.keys[i + 1]!.fromSlot <= slot) i++;
  return i;
}

export function keyAt(plant: Plant, slot: number): KeyVersion {
  return plant.keys[keyIndexAt(plant, slot)]!;
}

export function participantIn(key: KeyVersion, address: string): Participant | undefined {
  return key.participants.find((p) => p.address === address);
}

/**
 * The first slot a plant's distribution key applies to: the slot of its registration block. The
 * registration key is stored with fromSlot 0 (the state layout predates this rule); the start is
 * derived from `registeredAt.time`, so plants already on a chain need no migration.
 */
export function registrationSlot(plant: Plant): number {
  return slotOfMs(plant.registeredAt.time);
}

/** The key versions overlapping [from, to), each with the part of the range it covers; nothing before the registration slot. */
export function keysOverlapping(plant: Plant, from: number, to: number): Array<{ key: KeyVersion; from: number; to: number }> {
  const out: Array<{ key: KeyVersion; from: number; to: number }> = [];
  const start = registrationSlot(plant);
  plant.keys.forEach((key, i) => {
    const end = i + 1 < plant.keys.length ? plant.keys[i + 1]!.fromSlot : Number.MAX_SAFE_INTEGER;
    const a = Math.max(from, key.fromSlot, start);
    const b = Math.min(to, end);
    if (a < b) out.push({ key, from: a, to: b });
  });
  return out;
}

/** Every address that is a participant in some key version overlapping [from, to), sorted. */
export function participantsOverlapping(plant: Plant, from: number, to: number): string[] {
  const set = new Set<string>();
  for (const { key } of keysOverlapping(plant, from, to)) for (const p of key.participants) set.add(p.address);
  return [...set].sort();
}

/**
 * The holding of one participant over [from, to) as maximal runs of equal ppm: the default key of
 * each key version plus the level of transferred portions (see state.ts).
 */
export function participantSegments(store: KVStore, plant: Plant, address: string, from: number, to: number): Segment[] {
  if (to <= from) return [];
  const changes = new Map<number, number>();
  const level0 = levelAt(store, plant.id, address, from);
  for (const [slot, level] of levelEntries(store, plant.id, address, from + 1, to)) changes.set(slot, level);
  const bounds = new Set<number>([from, ...changes.keys()]);
  for (const k of plant.keys) if (k.fromSlot > from && k.fromSlot < to) bounds.add(k.fromSlot);
  const registered = registrationSlot(plant);
  if (registered > from && registered < to) bounds.add(registered);
  const sorted = [...bounds].sort((a, b) => a - b);
  const out: Segment[] = [];
  let level = level0;
  let ki = keyIndexAt(plant, from);
  sorted.forEach((start, i) => {
    const c = changes.get(start);
    if (c !== undefined) level = c;
    while (ki + 1 < plant.keys.length && plant.keys[ki + 1]!.fromSlot <= start) ki++;
    // Before its registration a plant has no key: nobody holds anything there.
    const base = start < registered ? 0 : (participantIn(plant.keys[ki]!, address)?.ppm ?? 0);
    const ppm = base + level;
    const end = i + 1 < sorted.length ? sorted[i + 1]! : to;
    const last = out[out.length - 1];
    if (last && last.ppm === ppm && last.toSlot === start) last.toSlot = end;
    else out.push({ fromSlot: start, toSlot: end, ppm });
  });
  return out;
}

/** Expands segments into one ppm value per slot of [from, to). */
export function expandSegments(segments: readonly Segment[], from: number, to: number): Int32Array {
  const out = new Int32Array(to - from);
  for (const s of segments) {
    const a = Math.max(s.fromSlot, from);
    const b = Math.min(s.toSlot, to);
    if (a < b) out.fill(s.ppm, a - from, b - from);
  }
  return out;
}

/** The smallest holding of a participant over [from, to). */
export function minHolding(store: KVStore, plant: Plant, address: string, from: number, to: number): number {
  let min = Number.MAX_SAFE_INTEGER;
  for (const s of participantSegments(store, plant, address, from, to)) if (s.ppm < min) min = s.ppm;
  return min;
}

/** Holdings of every participant over a range, as runs; what billing needs from the shares module. */
export function plantSegments(store: KVStore, plant: Plant, fromSlot: number, toSlot: number): Record<string, Segment[]> {
  const out: Record<string, Segment[]> = {};
  for (const a of participantsOverlapping(plant, fromSlot, toSlot)) out[a] = participantSegments(store, plant, a, fromSlot, toSlot);
  return out;
}
