import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { canonicalBytes, canonicalJson, ENCODING_ERRORS } from '../../../src/util/canonical.js';
import { CATALOGUE } from '../../../src/util/errors.js';
import { codeOf, expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { mutatedBytes, parseJson, utf8Bytes } from '../lib/mutate.js';

/**
 * Canonical JSON (src/util/canonical.ts) on arbitrary JavaScript values and on mutated JSON text:
 * the encoder returns text or throws an ENCODING_* error, never anything else; what it returns is
 * JSON, and encoding the parsed text again gives the same bytes (one encoding per value).
 */

const ENCODING_CODES = new Set(ENCODING_ERRORS[CATALOGUE].entries.map((e) => e.code));

type Input = { kind: 'value'; value: unknown } | { kind: 'text'; bytes: Uint8Array };

const deep = fc.nat({ max: 64 }).map((depth) => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = i % 3 === 0 ? [v] : { [`k${i}`]: v, a: i };
  return v;
});

const values: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 6 }) },
  {
    weight: 3,
    arbitrary: fc.anything({
      maxDepth: 5,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    }),
  },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ unit: 'binary' })), { maxKeys: 12 }) },
);

const vectors = (name: string) => JSON.parse(readFileSync(new URL(`../../vectors/${name}.json`, import.meta.url), 'utf8')) as Array<Record<string, unknown>>;
const corpus = [
  ...vectors('canonical').map((v) => new Uint8Array(Buffer.from(v.canonical as string, 'utf8'))),
  ...vectors('tx').map((v) => utf8Bytes(v.signedTx)),
];

export function canonicalTarget(): FuzzTarget<Input> {
  return {
    name: 'canonical',
    description: 'canonical JSON of arbitrary values and of mutated JSON text',
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: values.map((value) => ({ kind: 'value' as const, value })) },
      { weight: 2, arbitrary: mutatedBytes(corpus, 6).map((bytes) => ({ kind: 'text' as const, bytes })) },
    ),
    check(input) {
      let value: unknown;
      if (input.kind === 'text') {
        const parsed = parseJson(input.bytes);
        if (!parsed) return 'not-json';
        value = parsed.value;
      } else {
        value = input.value;
      }
      let text: string;
      try {
        text = canonicalJson(value);
      } catch (err) {
        return codeOf(err, ENCODING_CODES);
      }
      let reparsed: unknown;
      try {
        reparsed = JSON.parse(text);
      } catch {
        fail(`canonical JSON is not JSON: ${text.slice(0, 200)}`);
      }
      const again = canonicalJson(reparsed);
      expectThat(again === text, `re-encoding the parsed output changed it:\n${text.slice(0, 300)}\n${again.slice(0, 300)}`);
      expectThat(Buffer.from(canonicalBytes(value)).toString('utf8') === text, 'canonicalBytes differs from canonicalJson');
      return 'ok';
    },
  };
}
