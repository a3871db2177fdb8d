import { defineErrors } from './errors.js';

export const ENCODING_ERRORS = defineErrors('encoding', {
  ENCODING_TOO_DEEP: { meaning: 'a value nests deeper than canonical JSON allows' },
  ENCODING_NOT_INTEGER: { meaning: 'a number is not a safe integer (ledger values are integers)' },
  ENCODING_UNSUPPORTED: { meaning: 'a value of a type canonical JSON does not encode (functions, class instances, …)' },
});

/**
 * Canonical JSON: the one byte encoding of a value that GridLedger signs and hashes.
 * Object keys sorted by UTF-16 code units (as RFC 8785), no whitespace, strings escaped as
 * JSON.stringify does. Numbers must be safe integers: floats, NaN and ±Infinity are refused so
 * ledger data can never carry them. Big integers travel as decimal strings.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

const MAX_DEPTH = 32;

function encode(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw ENCODING_ERRORS.ENCODING_TOO_DEEP(`nesting deeper than ${MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw ENCODING_ERRORS.ENCODING_NOT_INTEGER(`number ${String(value)} is not a safe integer`);
      }
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      // Array.from visits holes as undefined (refused below); map would skip them and emit "[,]".
      if (Array.isArray(value)) return `[${Array.from(value, (v) => encode(v, depth + 1)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw ENCODING_ERRORS.ENCODING_UNSUPPORTED(`cannot encode a ${(value as object).constructor?.name ?? 'non-plain'} object; use plain objects, arrays, strings and integers`);
      }
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort();
      const parts = keys.map((k) => `${JSON.stringify(k)}:${encode((value as Record<string, unknown>)[k], depth + 1)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw ENCODING_ERRORS.ENCODING_UNSUPPORTED(`cannot encode a value of type ${typeof value}`);
  }
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(value), 'utf8'));
}
