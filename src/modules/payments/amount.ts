import { z } from 'zod';
import { bigFloorDiv } from '../../util/int.js';

/**
 * Money is an integer number of micro-units (10^-6 of the currency unit: µNOK, µ€). Amounts travel
 * as decimal strings in messages, state and the API (JSON numbers lose precision above 2^53) and are
 * computed as bigint. Every amount is below 10^24 (24 digits), and so is every supply: mint refuses
 * to go above, so every balance, lock, escrow and deposit — each a part of a supply — fits too.
 */

export const DECIMALS = 6;
export const AMOUNT_MAX_DIGITS = 24;
export const MAX_AMOUNT = 10n ** BigInt(AMOUNT_MAX_DIGITS) - 1n;
const UNIT = 10n ** BigInt(DECIMALS);

const AMOUNT_RE = /^(0|[1-9][0-9]{0,23})$/;
const SIGNED_RE = /^(0|-?[1-9][0-9]{0,24})$/;

export const amountSchema = z.string().regex(AMOUNT_RE, { message: 'amount: whole micro-units as a decimal string (no sign, no leading zeros, at most 24 digits)' });
/** A signed difference (history deltas, reserve − supply). */
export const signedAmountSchema = z.string().regex(SIGNED_RE, { message: 'signed amount in micro-units' });

export function isAmount(value: string): boolean {
  return AMOUNT_RE.test(value);
}

/** A validated amount string → bigint (throws on anything else: a bug, since schemas check first). */
export function toAmount(value: string): bigint {
  if (!AMOUNT_RE.test(value)) throw new RangeError(`not an amount: ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** bigint ≥ 0 → the canonical decimal string. */
export function amountString(value: bigint): string {
  if (value < 0n || value > MAX_AMOUNT) throw new RangeError(`amount out of range: ${value}`);
  return value.toString();
}

/** "100000000", "NOK" → "100.000000 NOK" (display only; string arithmetic, no floats). */
export function formatUnits(amount: string | bigint, code = ''): string {
  const v = BigInt(amount);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const frac = abs % UNIT;
  const whole = bigFloorDiv(abs - frac, UNIT);
  return `${neg ? '-' : ''}${whole}.${frac.toString().padStart(DECIMALS, '0')}${code ? ` ${code}` : ''}`;
}

