import { bech32m } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, isAddress, KNOWN_ADDRESSES_MAX, knownAddressCount } from '../../src/crypto/address.js';

/** Issue 18: isAddress remembers addresses it found well formed; the answers stay exactly the decoder's. */
describe('the cache of well-formed addresses', () => {
  const decoderSays = (s: string): boolean => {
    if (s !== s.toLowerCase()) return false;
    try {
      const d = bech32m.decode(s as `${string}1${string}`);
      return d.prefix === 'grid' && bech32m.fromWords(d.words).length === 20;
    } catch {
      return false;
    }
  };
  const address = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((k) => addressFromPublicKey(k));
  /** A valid address with one character changed, upper-cased, cut or extended. */
  const nearMiss = fc.tuple(address, fc.nat(), fc.constantFrom('q', 'p', 'z', 'Q', '1', '')).map(([a, i, c]) => {
    const at = i % a.length;
    return a.slice(0, at) + c + a.slice(at + 1);
  });

  it('answers as the decoder does, asked once or again, for addresses and near misses', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(address, nearMiss, fc.string()), { minLength: 1, maxLength: 20 }), (values) => {
        for (const v of [...values, ...values]) expect(isAddress(v)).toBe(decoderSays(v));
      }),
      { numRuns: 300 },
    );
    expect(isAddress(42)).toBe(false);
    expect(isAddress(undefined)).toBe(false);
  });

  it('remembers only well-formed addresses, and stays bounded', () => {
    const valid = Array.from({ length: 3 }, (_, i) => addressFromPublicKey(new Uint8Array(32).fill(i + 1)));
    isAddress(valid[0]);
    const before = knownAddressCount();
    expect(isAddress(valid[0])).toBe(true);
    expect(knownAddressCount()).toBe(before);
    expect(isAddress(valid[0]!.toUpperCase())).toBe(false);
    expect(isAddress(valid[0]!.slice(0, -1) + (valid[0]!.endsWith('q') ? 'p' : 'q'))).toBe(false);
    expect(knownAddressCount()).toBe(before);
    for (let i = 0; i <= KNOWN_ADDRESSES_MAX; i++) {
      const k = new Uint8Array(32);
      new DataView(k.buffer).setUint32(0, i + 1000);
      expect(isAddress(addressFromPublicKey(k))).toBe(true);
    }
    expect(knownAddressCount()).toBeGreaterThan(0);
    expect(knownAddressCount()).toBeLessThanOrEqual(KNOWN_ADDRESSES_MAX);
    expect(isAddress(valid[1])).toBe(true);
  });
});
