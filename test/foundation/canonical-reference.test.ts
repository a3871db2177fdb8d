import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/canonical.js';

/**
 * The canonical encoder appends to one string and sorts keys in place (src/util/canonical.ts, for its
 * allocation rate); its output must stay what the specification says: JSON.stringify of the value with
 * every object's keys in UTF-16 code unit order, undefined members left out. The reference here is
 * that sentence, written naively (arrays of parts, as the encoder was before).
 */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(Object.is(value, -0) ? 0 : value);
}

/** Safe integers, strings (any UTF-16, lone surrogates included), booleans and null, in objects and arrays. */
const ledgerValue = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.constant(-0), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme-composite' }), fc.boolean(), fc.constant(null)),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 6 }), fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('node'), { maxKeys: 20 })),
})).node;

describe('canonical JSON against its specification', () => {
  it('encodes every ledger value as JSON.stringify with sorted keys', () => {
    fc.assert(
      fc.property(ledgerValue, (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by UTF-16 code units, also past the in-place sort (more than 16 keys) and with undefined values left out', () => {
    const keys = ['b', 'a', 'B', 'é', '\uD83D\uDE00', '\uFFFF', '10', '9', '', 'aa', 'a\u0000', 'Z', '_', '~', 'ä', 'A', 'z', '0'];
    const value: Record<string, unknown> = {};
    keys.forEach((k, i) => (value[k] = i));
    value['gone'] = undefined;
    expect(canonicalJson(value)).toBe(reference(value));
    const few = { b: 1, a: { d: [1, { y: 2, x: undefined }], c: 'x' }, skip: undefined };
    expect(canonicalJson(few)).toBe('{"a":{"c":"x","d":[1,{"y":2}]},"b":1}');
  });

  it('encodes arrays of integers (joined in one step) as the specification says, and still refuses what is not a safe integer', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.maxSafeInteger(), fc.constant(-0), fc.constant(Number.MIN_SAFE_INTEGER)), { maxLength: 300 }), (ints) => {
        expect(canonicalJson(ints)).toBe(reference(ints));
        expect(canonicalJson({ r: ints.map((n, i) => [i, n, -n]) })).toBe(reference({ r: ints.map((n, i) => [i, n, -n]) }));
      }),
      { numRuns: 300 },
    );
    for (const bad of [1.5, 2 ** 53, Number.NaN, Infinity]) expect(() => canonicalJson([1, 2, bad, 3])).toThrow(/not a safe integer/);
    expect(() => canonicalJson([1, '2'])).not.toThrow();
    expect(canonicalJson([1, '2', -0])).toBe('[1,"2",0]');
  });
});
