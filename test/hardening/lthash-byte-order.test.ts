import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lanesToLE, LtHash, readLanesLE } from '../../src/app/state.js';
import { DOMAIN, domainBytes, sha256 } from '../../src/crypto/hash.js';

/**
 * Issue 9 (low): LtHash lanes are 16-bit integers serialised little-endian, whatever the platform's
 * byte order. The expected values here are computed independently with explicit little-endian reads
 * (Buffer.readUInt16LE), so the root is pinned to the documented format, not to this machine. (On a
 * little-endian machine the old Uint16Array views happened to agree; on a big-endian one they did not.)
 */

function entryLanesLE(key: string, value: string): number[] {
  const k = Buffer.from(key, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(k.length);
  const digest = createHash('shake256', { outputLength: 2048 }).update(domainBytes(DOMAIN.stateEntry, Buffer.concat([len, k, Buffer.from(value, 'utf8')]))).digest();
  return Array.from({ length: 1024 }, (_, i) => digest.readUInt16LE(i * 2));
}

describe('LtHash byte order', () => {
  it('reads entry lanes and serialises the sum as little-endian 16-bit integers', () => {
    const entries: Array<[string, string]> = [
      ['registry/account/a', '{"x":1}'],
      ['energy/bal/nb/t/0000000000000001/solar', '1000'],
    ];
    const lt = new LtHash();
    for (const [k, v] of entries) lt.add(k, v);
    const expected = new Array<number>(1024).fill(0);
    for (const [k, v] of entries) entryLanesLE(k, v).forEach((lane, i) => (expected[i] = (expected[i]! + lane) & 0xffff));
    expect(Array.from(lt.lanes)).toEqual(expected);
    const bytes = Buffer.alloc(2048);
    expected.forEach((lane, i) => bytes.writeUInt16LE(lane, i * 2));
    expect(Buffer.from(lt.toBytes()).equals(bytes)).toBe(true);
    expect(lt.root()).toBe(Buffer.from(sha256(bytes)).toString('hex'));
  });

  it('round-trips through its serialised form, also from an unaligned buffer', () => {
    const lt = new LtHash();
    lt.add('k', 'v');
    lt.lanes[0] = 0x1234;
    const bytes = lt.toBytes();
    expect([bytes[0], bytes[1]]).toEqual([0x34, 0x12]);
    const unaligned = new Uint8Array(2049);
    unaligned.set(bytes, 1);
    const back = LtHash.fromBytes(unaligned.subarray(1));
    expect(Array.from(back.lanes)).toEqual(Array.from(lt.lanes));
    expect(back.root()).toBe(lt.root());
  });

  it('the portable path (as a big-endian host runs it) reads and writes the same lanes as the fast path', () => {
    const bytes = createHash('shake256', { outputLength: 2048 }).update('lanes').digest();
    const unaligned = new Uint8Array(2049);
    unaligned.set(bytes, 1);
    for (const input of [bytes, unaligned.subarray(1)]) {
      const portable = readLanesLE(input, false);
      expect(Array.from(portable)).toEqual(Array.from({ length: 1024 }, (_, i) => bytes.readUInt16LE(i * 2)));
      expect(Array.from(readLanesLE(input, true))).toEqual(Array.from(portable));
      expect(Buffer.from(lanesToLE(portable, false)).equals(bytes)).toBe(true);
      expect(Buffer.from(lanesToLE(portable, true)).equals(bytes)).toBe(true);
    }
    expect(() => readLanesLE(new Uint8Array(10))).toThrow(/2048 bytes/);
  });
});
