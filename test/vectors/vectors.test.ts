import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { App, applyValidatorUpdates } from '../../src/app/host.js';
import { LtHash } from '../../src/app/state.js';
import { naiveStateRoot } from '../verifiable/naive-tree.js';
import { blockHash, type BlockHeader } from '../../src/codec/block.js';
import { decodeTx, txHash, txSignBytes, verifyTxSignature, type SignedTx, type TxBody } from '../../src/codec/tx.js';
import { addressFromPublicKey, isAddress } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer, verifySignature } from '../../src/crypto/ed25519.js';
import { merkleRoot } from '../../src/crypto/hash.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import { fromHexStrict, toHex } from '../../src/util/bytes.js';
import { canonicalBytes, canonicalJson } from '../../src/util/canonical.js';
import { LedgerError } from '../../src/util/errors.js';
import { computeAddresses, computeBlock, computeCanonical, computeChain, computeLtHash, computeMerkle, computeTxs, keyOf, VECTOR_FILES } from './compute.js';
import { chainGenesis, TX_CHAIN_ID } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
function stored<T>(file: keyof typeof VECTOR_FILES): T {
  return JSON.parse(readFileSync(join(here, file), 'utf8')) as T;
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** An independent bech32m encoder (BIP-350) to cross-check addresses without @scure/base. */
function bech32mEncode(hrp: string, data: Uint8Array): string {
  const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const words: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of data) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  const polymod = (values: number[]) => {
    const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
    }
    return chk >>> 0;
  };
  const expand = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = polymod([...expand, ...words, 0, 0, 0, 0, 0, 0]) ^ 0x2bc830a3;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

describe('golden vectors: the stored files equal what the code computes', () => {
  it('canonical.json', () => expect(computeCanonical()).toEqual(stored('canonical.json')));
  it('tx.json', () => expect(computeTxs()).toEqual(stored('tx.json')));
  it('address.json', () => expect(computeAddresses()).toEqual(stored('address.json')));
  it('merkle.json', () => expect(computeMerkle()).toEqual(stored('merkle.json')));
  it('block.json', () => expect(computeBlock()).toEqual(stored('block.json')));
  it('lthash.json', () => expect(computeLtHash()).toEqual(stored('lthash.json')));
  it('chain.json', () => expect(computeChain()).toEqual(stored('chain.json')));
});

describe('canonical encoding', () => {
  const vectors = stored<Array<{ name: string; value: unknown; canonical: string; hex: string }>>('canonical.json');

  it.each(vectors.map((v) => [v.name, v] as const))('%s: object → exact bytes', (_name, v) => {
    expect(toHex(canonicalBytes(v.value))).toBe(v.hex);
    expect(Buffer.from(v.hex, 'hex').toString('utf8')).toBe(v.canonical);
    // The encoding is valid JSON that decodes to the same value, and it is a fixed point.
    expect(JSON.parse(v.canonical)).toEqual(v.value);
    expect(canonicalJson(JSON.parse(v.canonical))).toBe(v.canonical);
  });

  it('pins the reviewed byte sequences of a few values literally', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    // UTF-16 code unit order (RFC 8785): U+1F600 (D83D DE00) sorts before U+FF5E.
    expect(canonicalJson({ '\uff5e': 1, '\ud83d\ude00': 2 })).toBe('{"\ud83d\ude00":2,"\uff5e":1}');
    expect(hex(canonicalBytes('é'))).toBe('22c3a922');
    expect(hex(canonicalBytes('a\ud800b'))).toBe(hex(Buffer.from('"a\\ud800b"', 'utf8')));
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it('is independent of key insertion order', () => {
    const a = { x: 1, y: { p: [1, 2], q: 'r' }, z: null };
    const b = { z: null, y: { q: 'r', p: [1, 2] }, x: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (err) {
      return err instanceof LedgerError ? err.code : `not a LedgerError: ${String(err)}`;
    }
    return undefined;
  };

  it('refuses floats, NaN, ±Infinity and unsafe integers', () => {
    for (const v of [1.5, -0.1, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 1e21]) {
      expect(code(() => canonicalJson(v)), String(v)).toBe('ENCODING_NOT_INTEGER');
      expect(code(() => canonicalJson({ nested: [v] })), String(v)).toBe('ENCODING_NOT_INTEGER');
    }
  });

  it('refuses bigint, functions, symbols and undefined values outside objects', () => {
    expect(code(() => canonicalJson(1n))).toBe('ENCODING_UNSUPPORTED');
    expect(code(() => canonicalJson(() => 1))).toBe('ENCODING_UNSUPPORTED');
    expect(code(() => canonicalJson(Symbol('s')))).toBe('ENCODING_UNSUPPORTED');
    expect(code(() => canonicalJson(undefined))).toBe('ENCODING_UNSUPPORTED');
    expect(code(() => canonicalJson([1, undefined]))).toBe('ENCODING_UNSUPPORTED');
  });

  it('refuses nesting deeper than 32 levels (and accepts exactly the limit)', () => {
    const nest = (levels: number): unknown => (levels === 0 ? 0 : [nest(levels - 1)]);
    expect(canonicalJson(nest(32))).toBe('['.repeat(32) + '0' + ']'.repeat(32));
    expect(code(() => canonicalJson(nest(33)))).toBe('ENCODING_TOO_DEEP');
  });
});

describe('transactions: object → sign bytes → hash → signature', () => {
  const vectors = stored<ReturnType<typeof computeTxs>>('tx.json');

  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const seed = fromHexStrict(v.seed, 32)!;
    // key and address from the fixed seed
    expect(hex(keyPairFromSeed(seed).publicKey)).toBe(v.publicKey);
    expect(hex(ed25519.getPublicKey(seed))).toBe(v.publicKey);
    expect(addressFromPublicKey(fromHexStrict(v.publicKey, 32)!)).toBe(v.address);
    expect(v.body.sender).toBe(v.address);
    // sign bytes = "GRIDLEDGER/TX/V1" || 0x00 || canonical(body), built independently here
    expect(canonicalJson(v.body)).toBe(v.canonicalBody);
    const expectedSignBytes = Buffer.concat([Buffer.from('GRIDLEDGER/TX/V1', 'utf8'), Buffer.from([0]), Buffer.from(v.canonicalBody, 'utf8')]).toString('hex');
    expect(v.signBytes).toBe(expectedSignBytes);
    expect(hex(txSignBytes(v.body as TxBody))).toBe(v.signBytes);
    // hash = SHA-256 of the sign bytes
    expect(v.hash).toBe(sha256hex(Buffer.from(v.signBytes, 'hex')));
    expect(txHash(v.body as TxBody)).toBe(v.hash);
    // Ed25519 is deterministic: the signer reproduces the stored signature, noble agrees
    expect(hex(new Signer(seed).sign(fromHexStrict(v.signBytes)!))).toBe(v.signature);
    expect(hex(ed25519.sign(Buffer.from(v.signBytes, 'hex'), seed))).toBe(v.signature);
    expect(verifySignature(fromHexStrict(v.publicKey, 32)!, fromHexStrict(v.signBytes)!, fromHexStrict(v.signature, 64)!)).toBe(true);
    // the signed transaction decodes and verifies to the same hash
    expect(v.signedTx).toEqual({ body: v.body, pubKey: v.publicKey, signature: v.signature });
    const decoded = decodeTx(JSON.parse(JSON.stringify(v.signedTx)));
    expect(verifyTxSignature(decoded)).toBe(v.hash);
  });

  it('any change of the body changes the hash and breaks the signature', () => {
    const v = vectors[0]!;
    const tampered: SignedTx = { ...(v.signedTx as SignedTx), body: { ...(v.body as TxBody), nonce: (v.body as TxBody).nonce + 1 } };
    expect(txHash(tampered.body)).not.toBe(v.hash);
    expect(() => verifyTxSignature(tampered)).toThrow(expect.objectContaining({ code: 'TX_BAD_SIGNATURE' }));
    const otherChain: SignedTx = { ...(v.signedTx as SignedTx), body: { ...(v.body as TxBody), chainId: `${TX_CHAIN_ID}-2` } };
    expect(() => verifyTxSignature(otherChain)).toThrow(expect.objectContaining({ code: 'TX_BAD_SIGNATURE' }));
  });

  it('a signature over the same canonical body under another domain is rejected', () => {
    const v = vectors[0]!;
    const seed = fromHexStrict(v.seed, 32)!;
    const signer = new Signer(seed);
    const body = canonicalBytes(v.body);
    for (const domain of ['GRIDLEDGER/BLOCK-HEADER/V1', 'GRIDLEDGER/VOTE/V1', 'GRIDLEDGER/TX/V2', '']) {
      const foreign = Buffer.concat([Buffer.from(domain, 'utf8'), Buffer.from([0]), body]);
      const signature = toHex(signer.sign(foreign));
      expect(() => verifyTxSignature({ body: v.body as TxBody, pubKey: v.publicKey, signature })).toThrow(expect.objectContaining({ code: 'TX_BAD_SIGNATURE' }));
    }
    // Undomained: the signature over the bare canonical body is not a transaction signature either.
    const bare = toHex(signer.sign(body));
    expect(() => verifyTxSignature({ body: v.body as TxBody, pubKey: v.publicKey, signature: bare })).toThrow(expect.objectContaining({ code: 'TX_BAD_SIGNATURE' }));
  });

  it('a valid signature by a key that is not the sender is refused as TX_SENDER_KEY_MISMATCH', () => {
    const [a, , c] = vectors;
    const forged = { body: a!.body as TxBody, pubKey: c!.publicKey, signature: toHex(new Signer(fromHexStrict(c!.seed, 32)!).sign(fromHexStrict(a!.signBytes)!)) };
    expect(() => verifyTxSignature(forged)).toThrow(expect.objectContaining({ code: 'TX_SENDER_KEY_MISMATCH' }));
  });
});

describe('addresses', () => {
  const vectors = stored<Array<{ seed?: string; publicKey: string; address: string }>>('address.json');

  it.each(vectors.map((v) => [v.publicKey, v] as const))('public key %s', (_pk, v) => {
    const pk = fromHexStrict(v.publicKey, 32)!;
    expect(addressFromPublicKey(pk)).toBe(v.address);
    // bech32m("grid", first 20 bytes of SHA-256(pk)), computed independently
    expect(bech32mEncode('grid', createHash('sha256').update(pk).digest().subarray(0, 20))).toBe(v.address);
    expect(isAddress(v.address)).toBe(true);
    if (v.seed) expect(hex(keyPairFromSeed(fromHexStrict(v.seed, 32)!).publicKey)).toBe(v.publicKey);
  });

  it('refuses malformed addresses', () => {
    const good = vectors[0]!.address;
    const pk = fromHexStrict(vectors[0]!.publicKey, 32)!;
    const payload = createHash('sha256').update(pk).digest();
    expect(isAddress(good.toUpperCase())).toBe(false); // bech32 allows uppercase; GridLedger addresses are lowercase only
    expect(isAddress(good.slice(0, -1) + (good.endsWith('q') ? 'p' : 'q'))).toBe(false); // checksum
    expect(isAddress(bech32mEncode('cosmos', payload.subarray(0, 20)))).toBe(false); // prefix
    expect(isAddress(bech32mEncode('grid', payload.subarray(0, 32)))).toBe(false); // 32-byte payload
    expect(isAddress(bech32mEncode('grid', payload.subarray(0, 19)))).toBe(false); // 19-byte payload
    expect(isAddress('')).toBe(false);
    expect(isAddress(42)).toBe(false);
    expect(isAddress(`${good} `)).toBe(false);
  });
});

describe('merkle roots', () => {
  const vectors = stored<Array<{ leaves: string[]; root: string }>>('merkle.json');
  const leafHash = (b: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.from('GRIDLEDGER/MERKLE-LEAF/V1\0'), b])).digest();
  const nodeHash = (l: Buffer, r: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.from('GRIDLEDGER/MERKLE-NODE/V1\0'), l, r])).digest();
  /** Reference implementation: domain-separated leaves and nodes, an odd last node is promoted. */
  function reference(leaves: Buffer[]): string {
    if (leaves.length === 0) return leafHash(Buffer.alloc(0)).toString('hex');
    let level: Buffer[] = leaves.map(leafHash);
    while (level.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i]!, level[i + 1]!) : level[i]!);
      level = next;
    }
    return level[0]!.toString('hex');
  }

  it.each(vectors.map((v) => [v.leaves.length, v] as const))('%i leaves', (_n, v) => {
    const leaves = v.leaves.map((l) => Buffer.from(l, 'hex'));
    expect(toHex(merkleRoot(leaves.map((l) => new Uint8Array(l))))).toBe(v.root);
    expect(reference(leaves)).toBe(v.root);
  });

  it('a single leaf root is not the leaf itself and leaf/node domains differ (no second-preimage by reinterpretation)', () => {
    const [a, b] = [Buffer.from('a'), Buffer.from('b')];
    const two = toHex(merkleRoot([a, b]));
    const asLeaf = toHex(merkleRoot([Buffer.concat([leafHash(a), leafHash(b)])]));
    expect(two).not.toBe(asLeaf);
    expect(toHex(merkleRoot([a]))).not.toBe(sha256hex(a));
  });
});

describe('block header hash, tx root, result root', () => {
  const v = stored<ReturnType<typeof computeBlock>>('block.json');

  it('header → canonical bytes → domain-separated SHA-256', () => {
    expect(canonicalJson(v.header)).toBe(v.canonicalHeader);
    expect(blockHash(v.header)).toBe(v.headerHash);
    expect(sha256hex(Buffer.concat([Buffer.from('GRIDLEDGER/BLOCK-HEADER/V1\0', 'utf8'), Buffer.from(v.canonicalHeader, 'utf8')]))).toBe(v.headerHash);
  });

  it('every header field is covered by the hash', () => {
    for (const key of Object.keys(v.header) as Array<keyof BlockHeader>) {
      const changed = { ...v.header, [key]: typeof v.header[key] === 'number' ? (v.header[key] as number) + 1 : `${v.header[key] as string}x` };
      expect(blockHash(changed), key).not.toBe(v.headerHash);
    }
  });
});

describe('LtHash state root', () => {
  const v = stored<ReturnType<typeof computeLtHash>>('lthash.json');

  it('the empty state root is SHA-256 of 2048 zero bytes', () => {
    expect(v.emptyRoot).toBe(sha256hex(Buffer.alloc(2048)));
    expect(new LtHash().root()).toBe(v.emptyRoot);
  });

  it('is independent of insertion order, and removing an entry undoes adding it', () => {
    const forward = new LtHash();
    for (const [k, val] of v.entries) forward.add(k, val);
    const backward = new LtHash();
    for (const [k, val] of [...v.entries].reverse()) backward.add(k, val);
    expect(forward.root()).toBe(v.root);
    expect(backward.root()).toBe(v.root);
    const [firstKey, firstValue] = v.entries[0]!;
    forward.remove(firstKey, firstValue);
    expect(forward.root()).toBe(v.rootWithoutFirstEntry);
    for (const [k, val] of v.entries.slice(1)) forward.remove(k, val);
    expect(forward.root()).toBe(v.emptyRoot);
  });

  it('binds key and value separately (moving bytes between key and value changes the root)', () => {
    const a = new LtHash();
    a.add('ab', 'c');
    const b = new LtHash();
    b.add('a', 'bc');
    expect(a.root()).not.toBe(b.root());
  });

  it('round-trips through bytes', () => {
    const lt = new LtHash();
    for (const [k, val] of v.entries) lt.add(k, val);
    expect(LtHash.fromBytes(lt.toBytes()).root()).toBe(v.root);
  });
});

describe('chain vector: replaying the stored blocks reproduces every header', () => {
  const v = stored<ReturnType<typeof computeChain>>('chain.json');

  it('a fresh App fed the stored blocks reproduces hashes, roots and results, and recomputeStateRoot agrees', () => {
    const storage = new Storage(':memory:');
    try {
      const app = new App(storage, {
        chainId: TX_CHAIN_ID,
        modules: [registryCore],
      });
      const genesis = chainGenesis((l) => keyOf(l).address, (l) => keyOf(l).publicKey);
      app.initGenesis(genesis);
      let validators = applyValidatorUpdates(genesis.validators, []);
      expect(app.stateRoot).toBe(v.genesisStateRoot);
      let prev: { hash: string; commit: { height: number; round: number; blockHash: string; signatures: never[] } } | undefined;
      for (const b of v.blocks) {
        const executed = app.executeBlock({ height: b.header.height, time: b.time, proposer: b.header.proposer, prevHash: prev?.hash ?? '0'.repeat(64), txs: b.txs, lastCommit: prev?.commit ?? null, evidence: [], validators });
        validators = executed.nextValidators;
        expect(executed.block.header).toEqual(b.header);
        expect(executed.hash).toBe(b.hash);
        expect(blockHash(b.header)).toBe(b.hash);
        expect(executed.results).toEqual(b.results);
        expect(executed.txHashes).toEqual(b.txs.map((t) => txHash(t.body)));
        const commit = { height: b.header.height, round: 0, blockHash: executed.hash, signatures: [] as never[] };
        app.commitBlock(executed, commit);
        expect(app.stateRoot).toBe(b.header.stateRoot);
        if (prev) expect(b.header.prevHash).toBe(prev.hash);
        prev = { hash: executed.hash, commit };
      }
      expect([...storage.allState()]).toEqual(v.finalState);
      expect(app.recomputeStateRoot()).toBe(v.blocks.at(-1)!.header.stateRoot);
      // The state root of the final state, computed from the listed entries alone by the naive second implementation (ADR 0012)
      expect(naiveStateRoot(new Map(v.finalState))).toBe(v.blocks.at(-1)!.header.stateRoot);
    } finally {
      storage.close();
    }
  });

  it('the chain exercises ok and rejected results, and an empty block keeps the state root', () => {
    const codes = v.blocks.map((b) => b.results.map((r) => r.code));
    expect(codes).toEqual([['OK', 'OK'], ['REGISTRY_NOT_OPERATOR', 'REGISTRY_ALREADY_ADMITTED'], ['OK'], [], ['REGISTRY_NOT_ADMITTED']]);
    // the empty block leaves the state root as it was
    expect(v.blocks[3]!.header.stateRoot).toBe(v.blocks[2]!.header.stateRoot);
  });
});

