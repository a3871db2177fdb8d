/**
 * Computes every golden vector with the code under test. generate.ts writes the result to the JSON
 * files once (after review); vectors.test.ts recomputes it and compares with the stored files, so any
 * change of an encoding, a hash or a signature breaks the test.
 */
import { App, applyValidatorUpdates } from '../../src/app/host.js';
import { LtHash } from '../../src/app/state.js';
import { blockHash, resultRoot, txRoot, ZERO_HASH, type BlockHeader, type TxResult } from '../../src/codec/block.js';
import { signTx, txHash, txSignBytes, type SignedTx } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { merkleRoot } from '../../src/crypto/hash.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import { fromHexStrict, toHex } from '../../src/util/bytes.js';
import { canonicalBytes, canonicalJson } from '../../src/util/canonical.js';
import {
  ADDRESS_PUBLIC_KEYS,
  ADDRESS_SEED_LABELS,
  CANONICAL_INPUTS,
  chainBlocks,
  chainGenesis,
  FIXED_HEADER,
  FIXED_RESULTS,
  LTHASH_ENTRIES,
  MERKLE_SIZES,
  merkleLeaves,
  TX_CHAIN_ID,
  TX_INPUTS,
  vectorSeed,
} from './fixtures.js';

export function keyOf(label: string) {
  const seed = vectorSeed(label);
  const pair = keyPairFromSeed(seed);
  return { seed: toHex(seed), publicKey: toHex(pair.publicKey), address: addressFromPublicKey(pair.publicKey), signer: new Signer(seed) };
}
const addr = (label: string) => keyOf(label).address;
const pub = (label: string) => keyOf(label).publicKey;

export function computeCanonical() {
  return CANONICAL_INPUTS.map(({ name, value }) => {
    const json = canonicalJson(value);
    return { name, value, canonical: json, hex: toHex(canonicalBytes(value)) };
  });
}

export function computeTxs() {
  return TX_INPUTS.map(({ name, seedLabel, body: make }) => {
    const key = keyOf(seedLabel);
    const body = make(key.address, addr);
    const signed = signTx(body, key.signer);
    return {
      name,
      seed: key.seed,
      publicKey: key.publicKey,
      address: key.address,
      body,
      canonicalBody: canonicalJson(body),
      signBytes: toHex(txSignBytes(body)),
      hash: txHash(body),
      signature: signed.signature,
      signedTx: signed,
    };
  });
}

export function computeAddresses() {
  return [
    ...ADDRESS_PUBLIC_KEYS.map((publicKey) => ({ publicKey, address: addressFromPublicKey(fromHexStrict(publicKey, 32)!) })),
    ...ADDRESS_SEED_LABELS.map((label) => {
      const k = keyOf(label);
      return { seed: k.seed, publicKey: k.publicKey, address: k.address };
    }),
  ];
}

export function computeMerkle() {
  return MERKLE_SIZES.map((n) => {
    const leaves = merkleLeaves(n);
    return { leaves, root: toHex(merkleRoot(leaves.map((l) => fromHexStrict(l)!))) };
  });
}

export function computeBlock() {
  const txs = computeTxs().map((t) => t.signedTx);
  return {
    header: FIXED_HEADER,
    canonicalHeader: canonicalJson(FIXED_HEADER),
    headerHash: blockHash(FIXED_HEADER),
    txs,
    txRoot: txRoot(txs),
    emptyTxRoot: txRoot([]),
    results: FIXED_RESULTS,
    resultRoot: resultRoot(FIXED_RESULTS),
  };
}

export function computeLtHash() {
  const lt = new LtHash();
  const emptyRoot = lt.root();
  for (const [k, v] of LTHASH_ENTRIES) lt.add(k, v);
  const withoutFirst = new LtHash();
  for (const [k, v] of LTHASH_ENTRIES.slice(1)) withoutFirst.add(k, v);
  return { entries: LTHASH_ENTRIES, emptyRoot, root: lt.root(), rootWithoutFirstEntry: withoutFirst.root() };
}

export interface ChainVectorBlock {
  time: number;
  txs: SignedTx[];
  header: BlockHeader;
  hash: string;
  results: TxResult[];
  txHashes: string[];
}

/** Runs the fixed chain in a fresh in-memory App (registry module) and returns every block. */
export function computeChain(): { genesisStateRoot: string; blocks: ChainVectorBlock[]; finalState: Array<[string, string]> } {
  const storage = new Storage(':memory:');
  try {
    const app = new App(storage, {
      chainId: TX_CHAIN_ID,
      modules: [registryCore],
    });
    const genesis = chainGenesis(addr, pub);
    app.initGenesis(genesis);
    let validators = applyValidatorUpdates(genesis.validators, []);
    const genesisStateRoot = app.stateRoot;
    const blocks: ChainVectorBlock[] = [];
    let prevHash = ZERO_HASH;
    let lastCommit = null as null | { height: number; round: number; blockHash: string; signatures: never[] };
    for (const spec of chainBlocks(addr)) {
      const txs = spec.txs.map((t) =>
        signTx({ chainId: TX_CHAIN_ID, sender: addr(t.from), nonce: t.nonce, expiresAtHeight: 1000, msgs: t.msgs, memo: '' }, keyOf(t.from).signer),
      );
      const height = app.height + 1;
      const executed = app.executeBlock({ height, time: spec.time, proposer: addr('validator'), prevHash, txs, lastCommit, evidence: [], validators });
      validators = executed.nextValidators;
      const commit = { height, round: 0, blockHash: executed.hash, signatures: [] as never[] };
      app.commitBlock(executed, commit);
      blocks.push({ time: spec.time, txs, header: executed.block.header, hash: executed.hash, results: executed.results, txHashes: executed.txHashes });
      prevHash = executed.hash;
      lastCommit = commit;
    }
    return { genesisStateRoot, blocks, finalState: [...storage.allState()] };
  } finally {
    storage.close();
  }
}

export const VECTOR_FILES = {
  'canonical.json': computeCanonical,
  'tx.json': computeTxs,
  'address.json': computeAddresses,
  'merkle.json': computeMerkle,
  'block.json': computeBlock,
  'lthash.json': computeLtHash,
  'chain.json': computeChain,
} as const;
