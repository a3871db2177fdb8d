/**
 * The signature-validity rule of GridLedger (src/crypto/ed25519.ts, DESIGN.md §2) against the RFC 8032
 * section 7.1 vectors and the edge cases where Ed25519 implementations are known to disagree.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { checkPublicKey, isCanonicalPointEncoding, isCanonicalScalar, keyPairFromSeed, Signer, SMALL_ORDER_POINTS, verifySignature } from '../../src/crypto/ed25519.js';

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const Point = ed25519.Point;

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function leToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}
function bigToLe(v: bigint, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
const sha512 = (...parts: Uint8Array[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
/** The challenge k = SHA-512(R || A || M) mod L of RFC 8032. */
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) => mod(leToBig(sha512(r, a, m)), L);
/** The clamped secret scalar of an RFC 8032 seed. */
function secretScalar(seed: Uint8Array): bigint {
  const h = sha512(seed).subarray(0, 32);
  h[0]! &= 248;
  h[31]! &= 127;
  h[31]! |= 64;
  return leToBig(h);
}
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

// RFC 8032 section 7.1, typed in: [name, secret key (seed), public key, message, signature]
const RFC8032: Array<[string, string, string, string, string]> = [
  [
    'TEST 1',
    '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  ],
  [
    'TEST 2',
    '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  ],
  [
    'TEST 3',
    'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  ],
  [
    'TEST 1024',
    'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8' +
      '79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc' +
      '1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e' +
      '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7' +
      'aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2' +
      'd17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270' +
      '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07' +
      '07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a' +
      'ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7' +
      '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8' +
      'ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08' +
      'd78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4' +
      '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e' +
      '6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5' +
      '0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d' +
      'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0',
    '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  ],
  [
    'TEST SHA(abc)',
    '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  ],
];

const [, T1_SEED, T1_PK, T1_MSG, T1_SIG] = RFC8032[0]!;

describe('RFC 8032 section 7.1 vectors', () => {
  it('the typed-in vectors are intact (message lengths; SHA(abc) is SHA-512 of "abc")', () => {
    expect(RFC8032.map(([, , , m]) => m.length / 2)).toEqual([0, 1, 2, 1023, 64]);
    expect(RFC8032[4]![3]).toBe(createHash('sha512').update('abc').digest('hex'));
  });

  it.each(RFC8032)('%s: verifySignature accepts, Signer reproduces key and signature', (_name, seed, pk, msg, sig) => {
    expect(hex(keyPairFromSeed(bytes(seed)).publicKey)).toBe(pk);
    const signer = new Signer(bytes(seed));
    expect(hex(signer.publicKey)).toBe(pk);
    expect(hex(signer.sign(bytes(msg)))).toBe(sig);
    expect(verifySignature(bytes(pk), bytes(msg), bytes(sig))).toBe(true);
    expect(checkPublicKey(bytes(pk))).toEqual({ ok: true });
  });

  it.each(RFC8032)('%s: any flipped bit in key, message or signature is rejected', (_name, _seed, pk, msg, sig) => {
    for (const i of [0, 13, 31, 32, 47, 63]) {
      const s = bytes(sig);
      s[i]! ^= 0x01;
      expect(verifySignature(bytes(pk), bytes(msg), s), `sig byte ${i}`).toBe(false);
    }
    const k = bytes(pk);
    k[5]! ^= 0x10;
    expect(verifySignature(k, bytes(msg), bytes(sig))).toBe(false);
    expect(verifySignature(bytes(pk), concat(bytes(msg), new Uint8Array([0])), bytes(sig))).toBe(false);
    if (msg.length > 0) {
      const m = bytes(msg);
      m[0]! ^= 0x80;
      expect(verifySignature(bytes(pk), m, bytes(sig))).toBe(false);
    }
  });
});

describe('edge cases of the validity rule', () => {
  it('non-canonical S (S + L) is rejected although the group equation still holds', () => {
    const sig = bytes(T1_SIG);
    const s = leToBig(sig.subarray(32));
    const sPlusL = bigToLe(s + L);
    expect(isCanonicalScalar(sig.subarray(32))).toBe(true);
    expect(isCanonicalScalar(sPlusL)).toBe(false);
    // [S+L]B = [S]B, so only the explicit S < L check can reject it (malleability).
    expect(Point.BASE.multiplyUnsafe(mod(s + L, L)).equals(Point.BASE.multiplyUnsafe(s))).toBe(true);
    expect(verifySignature(bytes(T1_PK), bytes(T1_MSG), concat(sig.subarray(0, 32), sPlusL))).toBe(false);
    // Also S = L exactly and S with the top bits set.
    expect(verifySignature(bytes(T1_PK), bytes(T1_MSG), concat(sig.subarray(0, 32), bigToLe(L)))).toBe(false);
    expect(verifySignature(bytes(T1_PK), bytes(T1_MSG), concat(sig.subarray(0, 32), bigToLe(s | (1n << 255n))))).toBe(false);
  });

  it('non-canonical R (y ≥ p) is rejected, even when the equation holds with R = identity', () => {
    const seed = bytes(T1_SEED);
    const pk = bytes(T1_PK);
    const a = secretScalar(seed);
    // R = identity, encoded non-canonically as y = p + 1; S = k·a satisfies [S]B = R + [k]A.
    const rNonCanonical = bigToLe(P + 1n);
    expect(isCanonicalPointEncoding(rNonCanonical)).toBe(false);
    const msg = new TextEncoder().encode('non-canonical R');
    const k = challenge(rNonCanonical, pk, msg);
    const sig = concat(rNonCanonical, bigToLe(mod(k * a, L)));
    expect(Point.fromBytes(rNonCanonical, true).equals(Point.ZERO)).toBe(true);
    expect(verifySignature(pk, msg, sig)).toBe(false);
    // y = p (≡ 0) and y = 2^255 - 1 are non-canonical too.
    expect(isCanonicalPointEncoding(bigToLe(P))).toBe(false);
    expect(isCanonicalPointEncoding(bytes('ff'.repeat(32)))).toBe(false);
    expect(isCanonicalPointEncoding(bigToLe(P - 1n))).toBe(true);
  });

  it('a signature whose R is a small-order point is rejected even though it satisfies the cofactorless equation', () => {
    // With R = identity (canonical encoding) and S = k·a, [S]B = R + [k]A holds exactly: anybody who
    // can sign once could claim such an R. RFC 8032 verifiers (noble, cofactored) accept it; GridLedger's rule does not.
    const seed = bytes(T1_SEED);
    const pk = bytes(T1_PK);
    const a = secretScalar(seed);
    const rIdentity = Point.ZERO.toBytes();
    expect(hex(rIdentity)).toBe(SMALL_ORDER_POINTS[0]);
    const msg = new TextEncoder().encode('small-order R');
    const sig = concat(rIdentity, bigToLe(mod(challenge(rIdentity, pk, msg) * a, L)));
    expect(ed25519.verify(sig, msg, pk, { zip215: true })).toBe(true);
    expect(verifySignature(pk, msg, sig)).toBe(false);
  });

  it('SMALL_ORDER_POINTS are the 8 distinct canonical encodings of the torsion subgroup', () => {
    expect(SMALL_ORDER_POINTS).toHaveLength(8);
    expect(new Set(SMALL_ORDER_POINTS).size).toBe(8);
    const points = SMALL_ORDER_POINTS.map((h) => Point.fromHex(h, false));
    const orders: number[] = [];
    for (const [i, p] of points.entries()) {
      expect(p.isSmallOrder(), SMALL_ORDER_POINTS[i]).toBe(true);
      expect(p.multiplyUnsafe(8n).is0()).toBe(true);
      expect(isCanonicalPointEncoding(bytes(SMALL_ORDER_POINTS[i]!))).toBe(true);
      expect(p.toHex()).toBe(SMALL_ORDER_POINTS[i]); // canonical re-encoding
      let order = 1;
      while (!p.multiplyUnsafe(BigInt(order)).is0()) order += 1;
      orders.push(order);
    }
    // distinct as points, not only as strings; the subgroup has one point of order 1, one of order 2, two of order 4, four of order 8
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) expect(points[i]!.equals(points[j]!)).toBe(false);
    expect([...orders].sort()).toEqual([1, 2, 4, 4, 8, 8, 8, 8]);
    // closed under addition (it is the whole torsion subgroup)
    const generator = points[orders.indexOf(8)]!;
    const generated = new Set(Array.from({ length: 8 }, (_, i) => generator.multiplyUnsafe(BigInt(i)).toHex()));
    expect(generated).toEqual(new Set(SMALL_ORDER_POINTS));
  });

  it.each(SMALL_ORDER_POINTS.map((h) => [h]))('small-order public key %s is refused, even with a signature that satisfies the equation', (pkHex) => {
    const pk = bytes(pkHex);
    expect(checkPublicKey(pk)).toEqual({ ok: false, reason: 'small-order' });
    const A = Point.fromHex(pkHex, false);
    // Without any secret: pick r, R = [r]B, find a message with [k]A = identity, then S = r.
    const r = 123456789n;
    const R = Point.BASE.multiply(r).toBytes();
    let msg = new Uint8Array();
    for (let i = 0; i < 256; i++) {
      msg = new TextEncoder().encode(`forged ${i}`);
      if (A.multiplyUnsafe(challenge(R, pk, msg)).is0()) break;
    }
    expect(A.multiplyUnsafe(challenge(R, pk, msg)).is0()).toBe(true);
    const sig = concat(R, bigToLe(r));
    expect(ed25519.verify(sig, msg, pk, { zip215: true })).toBe(true); // permissive verifiers accept a keyless forgery
    expect(verifySignature(pk, msg, sig)).toBe(false);
  });

  it('non-canonical public key encodings are refused', () => {
    const cases: Array<[string, string]> = [
      ['y = p (≡ 0)', hex(bigToLe(P))],
      ['y = p + 1 (identity, non-canonical)', hex(bigToLe(P + 1n))],
      ['y = 2^255 - 1', 'ff'.repeat(31) + '7f'],
      ['"negative zero": y = 1 with the sign bit', '01' + '00'.repeat(30) + '80'],
      ['"negative zero": y = p - 1 with the sign bit', 'ec' + 'ff'.repeat(31)],
      ['all bits set', 'ff'.repeat(32)],
    ];
    for (const [what, pkHex] of cases) expect(checkPublicKey(bytes(pkHex)), what).toEqual({ ok: false, reason: 'non-canonical' });
    // Non-canonical encodings (y + p) of curve points other than the small-order ones: ZIP-215 decoders accept them, the rule does not.
    let found = 0;
    for (let y = 2n; y < 19n; y++) {
      let point;
      try {
        point = Point.fromBytes(bigToLe(y), false);
      } catch {
        continue;
      }
      const alias = bigToLe(y + P);
      expect(Point.fromBytes(alias, true).equals(point)).toBe(true);
      expect(checkPublicKey(alias)).toEqual({ ok: false, reason: 'non-canonical' });
      found += 1;
    }
    expect(found).toBeGreaterThan(0);
  });

  it('a canonical encoding that is not on the curve is refused as not-on-curve', () => {
    let notOnCurve: Uint8Array | undefined;
    for (let y = 2n; y < 100n && !notOnCurve; y++) {
      try {
        Point.fromBytes(bigToLe(y), false);
      } catch {
        notOnCurve = bigToLe(y);
      }
    }
    expect(notOnCurve).toBeDefined();
    expect(checkPublicKey(notOnCurve!)).toEqual({ ok: false, reason: 'not-on-curve' });
    expect(verifySignature(notOnCurve!, bytes(T1_MSG), bytes(T1_SIG))).toBe(false);
  });

  it('flipping the sign bit of a valid key gives another valid key (−A) under which the signature fails', () => {
    const pk = bytes(T1_PK);
    pk[31]! ^= 0x80;
    expect(checkPublicKey(pk)).toEqual({ ok: true });
    expect(verifySignature(pk, bytes(T1_MSG), bytes(T1_SIG))).toBe(false);
  });

  it('wrong lengths answer false and never throw', () => {
    const pk = bytes(T1_PK);
    const sig = bytes(T1_SIG);
    const msg = bytes(T1_MSG);
    for (const badSig of [sig.subarray(0, 63), concat(sig, new Uint8Array([0])), new Uint8Array(0), new Uint8Array(128)]) {
      expect(verifySignature(pk, msg, badSig)).toBe(false);
    }
    for (const badPk of [pk.subarray(0, 31), concat(pk, new Uint8Array([0])), new Uint8Array(0), new Uint8Array(64)]) {
      expect(verifySignature(badPk, msg, sig)).toBe(false);
      expect(checkPublicKey(badPk)).toEqual({ ok: false, reason: 'length' });
    }
    expect(isCanonicalScalar(new Uint8Array(31))).toBe(false);
    expect(isCanonicalPointEncoding(new Uint8Array(33))).toBe(false);
  });

  it('mixed-order keys (A + torsion) are accepted as keys; verification is cofactorless (documented behaviour)', () => {
    // The rule refuses only small-order keys. A mixed-order key A' = A + T (T of order 8) passes
    // checkPublicKey, and the cofactorless equation [S]B = R + [k]A' accepts a signature made with A's
    // secret exactly when [k]T = identity, i.e. k ≡ 0 (mod 8). Cofactored verifiers (RFC 8032 §5.1.7,
    // noble) accept every such signature: a divergence the single rule avoids because every
    // GridLedger node applies the same cofactorless equation.
    const seed = bytes(T1_SEED);
    const a = secretScalar(seed);
    const A = Point.BASE.multiply(mod(a, L));
    expect(hex(A.toBytes())).toBe(T1_PK);
    const T = Point.fromHex(SMALL_ORDER_POINTS.find((h) => !Point.fromHex(h).multiplyUnsafe(4n).is0())!);
    const mixed = A.add(T);
    const pk = mixed.toBytes();
    expect(mixed.isSmallOrder()).toBe(false);
    expect(mixed.isTorsionFree()).toBe(false);
    expect(checkPublicKey(pk)).toEqual({ ok: true });
    const signWith = (msg: Uint8Array) => {
      const r = mod(leToBig(sha512(new TextEncoder().encode('nonce'), msg)), L);
      const R = Point.BASE.multiply(r).toBytes();
      const k = challenge(R, pk, msg);
      return { k, sig: concat(R, bigToLe(mod(r + k * a, L))) };
    };
    const seen = { zero: 0, nonzero: 0 };
    for (let i = 0; i < 64 && (seen.zero < 2 || seen.nonzero < 2); i++) {
      const msg = new TextEncoder().encode(`mixed ${i}`);
      const { k, sig } = signWith(msg);
      expect(ed25519.verify(sig, msg, pk, { zip215: true })).toBe(true);
      const expected = k % 8n === 0n;
      expect(verifySignature(pk, msg, sig), `k mod 8 = ${k % 8n}`).toBe(expected);
      seen[expected ? 'zero' : 'nonzero'] += 1;
    }
    expect(seen.zero).toBeGreaterThanOrEqual(2);
    expect(seen.nonzero).toBeGreaterThanOrEqual(2);
  });

  it('a signature made for another domain is rejected for the transaction domain', () => {
    const signer = new Signer(bytes(T1_SEED));
    const payload = new TextEncoder().encode('{"a":1}');
    const asVote = concat(new TextEncoder().encode('GRIDLEDGER/VOTE/V1'), new Uint8Array([0]), payload);
    const asTx = concat(new TextEncoder().encode('GRIDLEDGER/TX/V1'), new Uint8Array([0]), payload);
    const sig = signer.sign(asVote);
    expect(verifySignature(signer.publicKey, asVote, sig)).toBe(true);
    expect(verifySignature(signer.publicKey, asTx, sig)).toBe(false);
  });

  it('repeated checks give the same answer (the key cache never turns a refusal into acceptance)', () => {
    const small = bytes(SMALL_ORDER_POINTS[1]!);
    for (let i = 0; i < 3; i++) {
      expect(verifySignature(small, bytes(T1_MSG), bytes(T1_SIG))).toBe(false);
      expect(verifySignature(bytes(T1_PK), bytes(T1_MSG), bytes(T1_SIG))).toBe(true);
    }
  });
});
