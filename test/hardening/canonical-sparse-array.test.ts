import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/canonical.js';

/**
 * Found by the canonical JSON fuzzer (test/fuzz/targets/canonical.ts): an array with holes was
 * encoded as `[,]`, text that is not JSON, so a signed or hashed value had no parseable encoding.
 * A hole is refused like an undefined element.
 */
describe('canonical JSON of sparse arrays', () => {
  it('refuses holes with ENCODING_UNSUPPORTED, as it refuses undefined elements', () => {
    for (const sparse of [[, ,], [1, , 2], new Array(3)]) {
      expect(() => canonicalJson(sparse)).toThrowError(expect.objectContaining({ code: 'ENCODING_UNSUPPORTED' }));
    }
    expect(() => canonicalJson([undefined])).toThrowError(expect.objectContaining({ code: 'ENCODING_UNSUPPORTED' }));
    expect(canonicalJson([1, null, 2])).toBe('[1,null,2]');
  });
});
