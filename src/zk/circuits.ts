import { utf8 } from '../util/bytes.js';
import { assertScalarFieldElement, hashToField } from './field.js';
import { poseidonHash } from './poseidon.js';

/**
 * What the two circuits prove and how their public inputs are built. Everything here is pure and
 * synchronous, so the ledger builds the public inputs of a proof from its own state (never from the
 * transaction, except the claimed deviation / nullifier / signal it then checks) and the edge
 * computes the same values.
 */

/** Range of the deviation circuit: value, requested and deviation are Wh in [0, 2^40). */
export const DEVIATION_RANGE_BITS = 40;
export const DEVIATION_MAX_WH = (1n << BigInt(DEVIATION_RANGE_BITS)) - 1n;
/** Bits of slotIndex and maxSlots in the membership circuit: maxSlots ≤ 2^16 − 1. */
export const MEMBERSHIP_SLOT_BITS = 16;
export const MEMBERSHIP_MAX_SLOTS = (1n << BigInt(MEMBERSHIP_SLOT_BITS)) - 1n;

/** Domain tags for identifiers bound into proofs (hashToField). */
export const EVENT_ID_DOMAIN = 'GRIDLEDGER/ZK/EVENT/V1';
export const SIGNAL_DOMAIN = 'GRIDLEDGER/ZK/SIGNAL/V1';

// --- deviation (issue 14) -------------------------------------------------------------------

/** The commitment a meter registers for an interval value: Poseidon(value, salt). */
export function deviationCommitment(value: bigint, salt: bigint): bigint {
  return poseidonHash([value, salt]);
}

/** A flex event id (a ledger string) as the circuit's eventId field element. */
export function eventIdToField(eventId: string): bigint {
  return hashToField(EVENT_ID_DOMAIN, utf8(eventId));
}

/** |requested − value| for integers, the deviation the prover claims. */
export function absoluteDeviation(requested: bigint, value: bigint): bigint {
  return requested >= value ? requested - value : value - requested;
}

export interface DeviationPublic {
  commitment: bigint;
  requested: bigint;
  deviation: bigint;
  /** eventIdToField(event id) */
  eventId: bigint;
  intervalIndex: bigint;
}

/** Public inputs in the circuit's order: commitment, requested, deviation, eventId, intervalIndex. */
export function deviationPublicInputs(p: DeviationPublic): string[] {
  return [p.commitment, p.requested, p.deviation, p.eventId, p.intervalIndex].map((v, i) => assertScalarFieldElement(v, `deviation public input ${i}`).toString());
}

// --- membership (issue 16) ------------------------------------------------------------------

/** A member's identity commitment (a leaf of the members' tree): Poseidon(secret). */
export function identityCommitment(secret: bigint): bigint {
  return poseidonHash([secret]);
}

/** Poseidon(epoch, slotIndex): what the nullifier is scoped to. */
export function externalNullifier(epoch: bigint, slotIndex: bigint): bigint {
  return poseidonHash([epoch, slotIndex]);
}

/** Poseidon(secret, Poseidon(epoch, slotIndex)): one value per member, epoch and slot; the ledger keeps them unique. */
export function membershipNullifier(secret: bigint, epoch: bigint, slotIndex: bigint): bigint {
  return poseidonHash([secret, externalNullifier(epoch, slotIndex)]);
}

/** The new anonymous account's address as the circuit's signalHash. */
export function signalHashForAddress(address: string): bigint {
  return hashToField(SIGNAL_DOMAIN, utf8(address));
}

export interface MembershipPublic {
  root: bigint;
  nullifier: bigint;
  epoch: bigint;
  maxSlots: bigint;
  signalHash: bigint;
}

/** Public inputs in the circuit's order: root, nullifier, epoch, maxSlots, signalHash. */
export function membershipPublicInputs(p: MembershipPublic): string[] {
  return [p.root, p.nullifier, p.epoch, p.maxSlots, p.signalHash].map((v, i) => assertScalarFieldElement(v, `membership public input ${i}`).toString());
}
