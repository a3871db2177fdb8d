import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOMAIN, domainBytes, domainText, sha256, sha256Hex, sha256Parts } from '../../src/crypto/hash.js';
import { txHash, txSignBytes, type TxBody } from '../../src/codec/tx.js';
import { canonicalJson } from '../../src/util/canonical.js';

/**
 * Issue 18: digests come back as plain 32-byte arrays on the JS heap (node:crypto's 'buffer' output
 * gave each one an off-heap ArrayBuffer, most of a small hash's cost), and domain-separated text is
 * encoded straight into its result. The bytes must be exactly those of the straightforward
 * definitions, checked here against createHash over explicit concatenations.
 */

const part = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  // a view into a larger buffer: only its own bytes count
  fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.nat(7)).map(([bytes, from]) => bytes.subarray(from, bytes.length - 1)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.nat({ max: 0xffffffff }),
);

function naive(parts: Array<Uint8Array | string | number>): Buffer {
  const h = createHash('sha256');
  for (const p of parts) {
    if (typeof p === 'number') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(p);
      h.update(b);
    } else h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  }
  return h.digest();
}

function isPlainDigest(x: Uint8Array): boolean {
  return Object.getPrototypeOf(x) === Uint8Array.prototype && x.length === 32;
}

describe('SHA-256 digests', () => {
  it('sha256Parts is SHA-256 of the concatenation (strings UTF-8, numbers u32be), as a plain 32-byte array', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const got = sha256Parts(...parts);
        expect(isPlainDigest(got)).toBe(true);
        expect(Buffer.from(got).equals(naive(parts))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a single part, however large, hashes as itself, and every digest is a new array', () => {
    const big = 'é'.repeat(300_000);
    expect(Buffer.from(sha256Parts(big)).equals(naive([big]))).toBe(true);
    const a = sha256Parts('x');
    const b = sha256Parts('x');
    expect(a).not.toBe(b);
    a[0]! ^= 0xff;
    expect(Buffer.from(b).equals(naive(['x']))).toBe(true);
  });

  it('inputs of a length hashed before still hash right after the scratch buffer grew', () => {
    const small: Array<Uint8Array | string | number> = ['key', 7, new Uint8Array([1, 2, 3])];
    expect(Buffer.from(sha256Parts(...small)).equals(naive(small))).toBe(true);
    const large: Array<Uint8Array | string | number> = [new Uint8Array(70_000).fill(5), 'tail'];
    expect(Buffer.from(sha256Parts(...large)).equals(naive(large))).toBe(true);
    const again: Array<Uint8Array | string | number> = ['kez', 8, new Uint8Array([3, 2, 1])];
    expect(Buffer.from(sha256Parts(...again)).equals(naive(again))).toBe(true);
  });

  it('sha256 and sha256Hex agree with createHash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 50 }), (bytes, text) => {
        expect(isPlainDigest(sha256(bytes))).toBe(true);
        expect(Buffer.from(sha256(bytes)).equals(naive([bytes]))).toBe(true);
        expect(sha256Hex(bytes)).toBe(naive([bytes]).toString('hex'));
        expect(sha256Hex(text)).toBe(naive([text]).toString('hex'));
      }),
    );
  });
});

describe('domain-separated bytes', () => {
  const domains = fc.constantFrom(...Object.values(DOMAIN), 'GRIDLEDGER/ÜNICODE/V1');
  const expected = (domain: string, payload: Uint8Array) => Buffer.concat([Buffer.from(domain, 'utf8'), Buffer.from([0]), payload]);

  it('domainBytes is utf8(domain) ‖ 0x00 ‖ payload, a plain array of its own', () => {
    fc.assert(
      fc.property(domains, fc.uint8Array({ maxLength: 300 }), (domain, payload) => {
        const got = domainBytes(domain, payload);
        expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
        expect(Buffer.from(got).equals(expected(domain, payload))).toBe(true);
        // the prefix is cached per domain: results never share it
        got[0] = 0;
        expect(domainBytes(domain, payload)[0]).toBe(Buffer.from(domain)[0]);
      }),
    );
  });

  it('domainText(domain, text) is domainBytes(domain, utf8(text)), multi-byte characters included', () => {
    fc.assert(
      fc.property(domains, fc.string({ unit: 'grapheme', maxLength: 80 }), (domain, text) => {
        const got = domainText(domain, text);
        expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
        expect(Buffer.from(got).equals(expected(domain, Buffer.from(text, 'utf8')))).toBe(true);
      }),
    );
  });

  it("a transaction's sign bytes and hash are those of its canonical body under the tx domain", () => {
    const body: TxBody = { chainId: 'chain-é', sender: 'grid1example', nonce: 7, expiresAtHeight: 99, msgs: [{ type: 'registry/admit', value: { note: 'ünïcode ✓' } }], memo: 'm' };
    const bytes = expected(DOMAIN.tx, Buffer.from(canonicalJson(body), 'utf8'));
    expect(Buffer.from(txSignBytes(body)).equals(bytes)).toBe(true);
    expect(txHash(body)).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
