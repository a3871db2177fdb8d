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
    case 'object':
      return Array.isArray(value) ? encodeArray(value, depth) : encodeObject(value as object, depth);
    default:
      throw ENCODING_ERRORS.ENCODING_UNSUPPORTED(`cannot encode a value of type ${typeof value}`);
  }
}

// Ledger code encodes on every hot path (results, state values, headers): the encoders below append to
// one string and sort the keys in place, instead of building filtered, mapped and joined arrays per
// object (that allocated ~25 KB per registry admission, a third of its garbage).

function encodeArray(value: readonly unknown[], depth: number): string {
  // Arrays of integers (series rows, lanes of numbers) are the bulk of some values: joined natively.
  // A safe integer's decimal form has no exponent, and join writes -0 as 0, as `encode` does.
  if (depth < MAX_DEPTH && allSafeIntegers(value)) return `[${value.join(',')}]`;
  let out = '[';
  // An index loop visits holes as undefined, which is refused (map would skip them and emit "[,]").
  for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + encode(value[i], depth + 1);
  return out + ']';
}

function allSafeIntegers(value: readonly unknown[]): boolean {
  for (let i = 0; i < value.length; i++) if (!Number.isSafeInteger(value[i])) return false;
  return true;
}

function encodeObject(value: object, depth: number): string {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw ENCODING_ERRORS.ENCODING_UNSUPPORTED(`cannot encode a ${value.constructor?.name ?? 'non-plain'} object; use plain objects, arrays, strings and integers`);
  }
  const keys = sortKeys(Object.keys(value));
  let out = '{';
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    out += (out.length === 1 ? '' : ',') + quotedKey(key) + ':' + encode(v, depth + 1);
  }
  return out + '}';
}

/** Keys in UTF-16 code unit order (as Array.prototype.sort's default), in place; objects have few keys. */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

/** JSON-quoted keys: ledger objects use a few hundred distinct keys, so the common ones are quoted once. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 4096;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS && key.length <= 64) quotedKeys.set(key, quoted);
  }
  return quoted;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(canonicalJson(value), 'utf8'));
}
