/**
 * Exact decimal text → integer in a smaller unit ("001581.123" kWh → 1 581 123 Wh). Meter values are
 * decimal; going through a float would round some of them, so the digits are moved, never divided.
 */

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;
/** 15 digits stay below 2^53, so Number() of the digit string is exact. */
const MAX_DIGITS = 15;

/**
 * `text` × 10^scale as a safe integer, or undefined when `text` is not plain non-negative decimal
 * notation (digits, optionally "." and digits), has a non-zero digit beyond `scale` decimals (it
 * would not be exact), or has more than 15 significant digits.
 */
export function parseScaledDecimal(text: string, scale: number): number | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  let fraction = m[2] ?? '';
  if (fraction.length > scale) {
    if (/[^0]/.test(fraction.slice(scale))) return undefined;
    fraction = fraction.slice(0, scale);
  }
  const digits = (m[1]! + fraction.padEnd(scale, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_DIGITS) return undefined;
  return Number(digits);
}

/**
 * A JSON number as the decimal text it was written as. Any decimal with at most 15 significant digits
 * survives the trip through a double: the shortest text that reads back as the same double (what
 * String() prints) is that decimal again. Longer numbers, exponents and non-finite values give undefined.
 */
export function jsonNumberText(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const text = String(n);
  if (!DECIMAL_RE.test(text)) return undefined;
  if (text.replace('.', '').replace(/^0+/, '').length > MAX_DIGITS) return undefined;
  return text;
}
