/* eslint-disable no-restricted-syntax -- the one file of src/consensus that divides, on bigint only (exact) */
/**
 * Integer helpers for consensus. This is the only file in src/consensus allowed to use the `/`
 * operator (the determinism lint test enforces it), and only on bigint, where it is exact.
 */

import { bigFloorDiv } from '../util/int.js';

/** Floor division (rounds toward −∞), as Go's big.Int Div does for a positive divisor. */
export function floorDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError('floorDiv needs a positive divisor');
  return bigFloorDiv(a, b);
}

/** Truncating division (rounds toward zero), as Go's int64 `/` does. */
export function truncDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('division by zero');
  return a / b;
}

/** Ceiling division for non-negative a and positive b. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n || a < 0n) throw new RangeError('ceilDiv needs a >= 0 and b > 0');
  return (a + b - 1n) / b;
}

/** More than two thirds of the total: power * 3 > total * 2. */
export function hasTwoThirds(power: bigint, total: bigint): boolean {
  return power * 3n > total * 2n;
}

/** More than one third of the total (at least one honest validator when f < n/3). */
export function hasOneThird(power: bigint, total: bigint): boolean {
  return power * 3n > total;
}

export function maxInt(a: number, b: number): number {
  return a > b ? a : b;
}
