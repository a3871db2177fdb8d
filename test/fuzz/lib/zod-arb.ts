import fc from 'fast-check';
import type { z } from 'zod';
import { oddValue } from './mutate.js';

/**
 * fast-check arbitraries from zod 4 schemas, biased towards *valid* values so generated messages
 * get past the schema and into the rules: strings with a pattern come from a dictionary of values
 * the test world knows (addresses, ids, slots) or from the pattern itself, numbers stay near the
 * bounds and values the world uses, and each field is replaced by an odd value with a small
 * probability so the schema's rejections are fuzzed too. (zod-fast-check covers zod 3 only, hence
 * this small walker over zod 4's public `_zod.def`.)
 */

export interface Dictionary {
  /** Strings the world knows (addresses, community/meter/plant ids, labels, time zones, days, hashes). */
  strings: readonly string[];
  /** Integers the world knows (slots, amounts, ppm values). */
  integers: readonly number[];
  /** Values that replace a field now and then (default: mutate.ts's oddValue), and how rarely (1 in oddEvery). */
  odd?: fc.Arbitrary<unknown>;
  oddEvery?: number;
}

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
  [k: string]: unknown;
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

function checks(def: Def): Array<Record<string, unknown>> {
  return (def.checks ?? []).map((c) => c._zod.def);
}

export function arbitraryFor(schema: unknown, dict: Dictionary): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema, dict);
  return fc.oneof({ weight: (dict.oddEvery ?? 15) - 1, arbitrary: valid }, { weight: 1, arbitrary: dict.odd ?? oddValue });
}

function validArbitrary(schema: unknown, dict: Dictionary): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return stringArbitrary(schema, def, dict);
    case 'number':
      return integerArbitrary(def, dict);
    case 'boolean':
      return fc.boolean();
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, unknown>));
    case 'optional':
      return fc.option(arbitraryFor(def.innerType, dict), { nil: undefined, freq: 3 });
    case 'nullable':
      return fc.option(arbitraryFor(def.innerType, dict), { nil: null, freq: 4 });
    case 'default':
    case 'prefault':
    case 'readonly':
      return arbitraryFor(def.innerType, dict);
    case 'pipe':
      return arbitraryFor(def.in, dict);
    case 'array':
      return arrayArbitrary(def, dict);
    case 'object':
      return objectArbitrary(def, dict);
    case 'union':
      return fc.oneof(...(def.options as unknown[]).map((o) => arbitraryFor(o, dict)));
    case 'record':
      return fc.dictionary(fc.constantFrom(...dict.strings.slice(0, 20), 'k'), arbitraryFor(def.valueType, dict), { maxKeys: 3 });
    case 'lazy':
      return fc.constant(null).chain(() => arbitraryFor((def.getter as () => unknown)(), dict));
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function stringArbitrary(schema: unknown, def: Def, dict: Dictionary): fc.Arbitrary<unknown> {
  let minLength = 0;
  let maxLength = 64;
  let pattern: RegExp | undefined;
  let refined = false;
  for (const c of checks(def)) {
    if (c.check === 'min_length') minLength = c.minimum as number;
    if (c.check === 'max_length') maxLength = c.maximum as number;
    if (c.check === 'length_equals') minLength = maxLength = c.length as number;
    if (c.check === 'string_format' && c.pattern instanceof RegExp) pattern = c.pattern;
    if (c.check === 'custom') refined = true;
  }
  // Dictionary values the schema itself accepts (patterns, lengths and refinements such as addresses).
  const known = dict.strings.filter((s) => (schema as z.ZodType).safeParse(s).success);
  const options: Array<{ weight: number; arbitrary: fc.Arbitrary<unknown> }> = [];
  if (known.length > 0) options.push({ weight: refined ? 24 : 12, arbitrary: fc.constantFrom(...known) });
  if (pattern) options.push({ weight: 3, arbitrary: fc.stringMatching(pattern).filter((s) => s.length <= Math.max(maxLength, 1) * 4) });
  else options.push({ weight: 3, arbitrary: fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 40) }) });
  options.push({ weight: 1, arbitrary: fc.string({ maxLength: Math.min(maxLength + 2, 80) }) });
  return fc.oneof(...options);
}

function integerArbitrary(def: Def, dict: Dictionary): fc.Arbitrary<unknown> {
  let min = -Number.MAX_SAFE_INTEGER;
  let max = Number.MAX_SAFE_INTEGER;
  let integer = false;
  for (const c of checks(def)) {
    if (c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32' || c.format === 'uint32')) integer = true;
    if (c.check === 'greater_than') min = Math.max(min, Math.ceil((c.value as number) + (c.inclusive ? 0 : 1)));
    if (c.check === 'less_than') max = Math.min(max, Math.floor((c.value as number) - (c.inclusive ? 0 : 1)));
  }
  const inRange = (n: number) => n >= min && n <= max;
  const known = dict.integers.filter(inRange);
  const edges = [min, max, min + 1, max - 1, 0, 1, -1].filter(inRange);
  const options: Array<{ weight: number; arbitrary: fc.Arbitrary<unknown> }> = [
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
    { weight: 3, arbitrary: fc.integer({ min: Math.max(min, -1000), max: Math.max(Math.min(max, 100_000), Math.max(min, -1000)) }) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  ];
  if (known.length > 0) options.push({ weight: 8, arbitrary: fc.constantFrom(...known) });
  if (!integer) options.push({ weight: 1, arbitrary: fc.double({ noNaN: true, min: Math.max(min, -1e6), max: Math.min(max, 1e6) }) });
  return fc.oneof(...options);
}

function arrayArbitrary(def: Def, dict: Dictionary): fc.Arbitrary<unknown> {
  let minLength = 0;
  let maxLength = 6;
  for (const c of checks(def)) {
    if (c.check === 'min_length') minLength = c.minimum as number;
    if (c.check === 'max_length') maxLength = Math.min(c.maximum as number, minLength + 6);
    if (c.check === 'length_equals') minLength = maxLength = c.length as number;
  }
  const options = { minLength, maxLength: Math.max(minLength, maxLength) };
  // A refined array (e.g. "must not repeat") mostly gets distinct elements.
  if (checks(def).some((c) => c.check === 'custom')) {
    return fc.oneof({ weight: 4, arbitrary: fc.uniqueArray(arbitraryFor(def.element, dict), { ...options, selector: (v) => JSON.stringify(v) }) }, { weight: 1, arbitrary: fc.array(arbitraryFor(def.element, dict), options) });
  }
  return fc.array(arbitraryFor(def.element, dict), options);
}

function objectArbitrary(def: Def, dict: Dictionary): fc.Arbitrary<unknown> {
  const shape = def.shape as Record<string, unknown>;
  const keys = Object.keys(shape);
  const fields = Object.fromEntries(keys.map((k) => [k, arbitraryFor(shape[k], dict)]));
  // Now and then one key the schema does not have (strict schemas must refuse it).
  const extra = fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', ...keys.map((k) => k.toUpperCase())), dict.odd ?? oddValue) });
  return fc.tuple(fc.record(fields), extra).map(([value, more]) => {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (value[k] !== undefined) out[k] = value[k];
    if (more) Object.defineProperty(out, more[0], { value: more[1], enumerable: true, writable: true, configurable: true });
    return out;
  });
}

export type AnySchema = z.ZodType;
