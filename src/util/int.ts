/**
 * Exact integer arithmetic for ledger code (which may not use "/" — see eslint.config.js).
 * Inputs must be safe integers; results are exact.
 */

function assertSafe(...values: number[]): void {
  for (const v of values) if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
}

/** floor(a / b) for safe integers, b ≠ 0. */
export function floorDiv(a: number, b: number): number {
  assertSafe(a, b);
  if (b === 0) throw new RangeError('division by zero');
  return Number(bigFloorDiv(BigInt(a), BigInt(b)));
}

/** floor(a / b) on bigint (BigInt division truncates toward zero). */
export function bigFloorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Throws unless the result stays a safe integer (energy and money sums must never lose precision). */
export function safeAdd(a: number, b: number): number {
  const s = a + b;
  assertSafe(a, b, s);
  return s;
}
