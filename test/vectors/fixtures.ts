/**
 * Inputs of the golden vectors: fixed seeds, objects, transactions and a small chain. Both
 * generate.ts (which writes the *.json files once) and the tests use these inputs; the tests compare
 * what the code computes today with the reviewed values stored in the JSON files.
 */
import { createHash } from 'node:crypto';
import type { Genesis } from '../../src/app/module.js';
import type { TxBody } from '../../src/codec/tx.js';
import type { BlockHeader, TxResult } from '../../src/codec/block.js';

/** seed(label) = SHA-256("gridledger-vector-seed:" + label), written as hex into the vectors too. */
export function vectorSeed(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`gridledger-vector-seed:${label}`).digest());
}

/** Values whose canonical encoding is pinned (key order, escapes, integers, nesting). */
export const CANONICAL_INPUTS: Array<{ name: string; value: unknown }> = [
  { name: 'null', value: null },
  { name: 'true', value: true },
  { name: 'false', value: false },
  { name: 'zero', value: 0 },
  { name: 'negative integer', value: -42 },
  { name: 'max safe integer', value: 9007199254740991 },
  { name: 'min safe integer', value: -9007199254740991 },
  { name: 'empty string', value: '' },
  { name: 'empty object', value: {} },
  { name: 'empty array', value: [] },
  { name: 'keys sorted', value: { b: 1, a: 2, c: { z: 0, y: [3, 2, 1] } } },
  { name: 'integer-like keys sort as strings', value: { '10': 1, '9': 2, a: 3, '1': 4 } },
  { name: 'uppercase before lowercase', value: { b: 1, B: 2, _: 3, a: 4, A: 5 } },
  // U+00E9 < U+FF5E (fullwidth tilde) < ... and the emoji (surrogate D83D) sorts BEFORE U+FF5E in UTF-16 order.
  { name: 'keys sorted by UTF-16 code units', value: { '\uff5e': 1, '\u00e9': 2, '\ud83d\ude00': 3, z: 4, '': 5 } },
  { name: 'string escapes', value: 'quote " backslash \\ slash / newline \n tab \t cr \r bs \b ff \f nul \u0000 unit sep \u001f del \u007f' },
  { name: 'non-ASCII is raw UTF-8', value: 'é ü ß ☀ ⚡ 😀 \u2028 \u2029' },
  { name: 'lone surrogate escaped', value: 'a\ud800b' },
  { name: 'array order kept', value: [3, 1, 2, 'b', 'a', null, true, {}] },
  { name: 'nested', value: { outer: { inner: { deepest: [[[]]], n: -1 } }, list: [{ b: 2, a: 1 }] } },
  {
    name: 'tx body shape',
    value: {
      memo: 'hello',
      msgs: [{ type: 'registry/admit', value: { roles: ['prosumer'], address: 'grid1qqqq' } }],
      expiresAtHeight: 100,
      nonce: 0,
      sender: 'grid1sender',
      chainId: 'gridledger-vectors',
    },
  },
];

export const TX_CHAIN_ID = 'gridledger-vectors';

/** Transactions signed by fixed seeds. `sender` is filled from the seed's address. */
export const TX_INPUTS: Array<{ name: string; seedLabel: string; body: (sender: string, other: (label: string) => string) => TxBody }> = [
  {
    name: 'admit one prosumer',
    seedLabel: 'operator',
    body: (sender, other) => ({ chainId: TX_CHAIN_ID, sender, nonce: 0, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: other('alice'), roles: ['prosumer'] } }], memo: '' }),
  },
  {
    name: 'two messages, unicode memo, large nonce',
    seedLabel: 'operator',
    body: (sender, other) => ({
      chainId: TX_CHAIN_ID,
      sender,
      nonce: 4294967296,
      expiresAtHeight: 9007199254740991,
      msgs: [
        { type: 'registry/admit', value: { address: other('bob'), roles: ['consumer', 'meter'] } },
        { type: 'registry/revoke', value: { address: other('alice'), reason: 'moved out — Zähler ⚡' } },
      ],
      memo: 'Grüße "quoted" \\ ☀',
    }),
  },
  {
    name: 'revoke signed by another key',
    seedLabel: 'alice',
    body: (sender, other) => ({ chainId: TX_CHAIN_ID, sender, nonce: 7, expiresAtHeight: 1, msgs: [{ type: 'registry/revoke', value: { address: other('bob') } }], memo: 'x' }),
  },
];

/** Public keys whose addresses are pinned: RFC 8032 keys plus keys of the vector seeds. */
export const ADDRESS_PUBLIC_KEYS = [
  'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
  '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
  'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
];
export const ADDRESS_SEED_LABELS = ['operator', 'validator', 'alice', 'bob', 'carol'];

/** Leaves (hex) for merkle roots of 0–7 leaves. */
export function merkleLeaves(n: number): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`leaf-${i}`, 'utf8').toString('hex'));
}
export const MERKLE_SIZES = [0, 1, 2, 3, 4, 5, 7, 8];

export const FIXED_HEADER: BlockHeader = {
  chainId: TX_CHAIN_ID,
  height: 42,
  time: 1780272000000,
  prevHash: 'ab'.repeat(32),
  txRoot: '01'.repeat(32),
  resultRoot: '02'.repeat(32),
  stateRoot: '03'.repeat(32),
  validatorsHash: '04'.repeat(32),
  nextValidatorsHash: '05'.repeat(32),
  lastCommitHash: '00'.repeat(32),
  evidenceHash: '06'.repeat(32),
  proposer: 'grid1proposer',
};

export const FIXED_RESULTS: TxResult[] = [
  { code: 'OK', message: '', events: [{ type: 'tx', attributes: { index: '0' } }, { type: 'registry.admit', attributes: { address: 'grid1x', roles: 'prosumer' } }] },
  { code: 'REGISTRY_NOT_OPERATOR', message: 'only a consortium operator may admit or revoke participants', events: [] },
];

/** A small fixed state for the LtHash root. */
export const LTHASH_ENTRIES: Array<[string, string]> = [
  ['auth/nonce/grid1a', '3'],
  ['registry/account/grid1a', '{"address":"grid1a","roles":["prosumer"]}'],
  ['registry/account/grid1b', '{"address":"grid1b","roles":["meter"]}'],
  ['z', ''],
  ['ünïcödé/ключ', '"☀"'],
];

/** The chain of chain.json: fixed genesis, blocks at fixed times. */
export const CHAIN_GENESIS_TIME = Date.UTC(2026, 5, 1, 0, 0, 0);
export function chainGenesis(addr: (label: string) => string, pub: (label: string) => string): Genesis {
  return {
    chainId: TX_CHAIN_ID,
    genesisTime: CHAIN_GENESIS_TIME,
    operators: [addr('operator')],
    validators: [{ address: addr('validator'), pubKey: pub('validator'), power: '10', name: 'node0' }],
    accounts: [{ address: addr('carol'), roles: ['prosumer', 'trader'] }],
    modules: {},
  };
}

/** Each block: its time and the transactions [signer label, nonce, msgs] to put in it. */
export type ChainTx = { from: string; nonce: number; msgs: Array<{ type: string; value: unknown }> };
export function chainBlocks(addr: (label: string) => string): Array<{ time: number; txs: ChainTx[] }> {
  return [
    {
      time: CHAIN_GENESIS_TIME + 1000,
      txs: [
        { from: 'operator', nonce: 0, msgs: [{ type: 'registry/admit', value: { address: addr('alice'), roles: ['prosumer'] } }] },
        { from: 'operator', nonce: 1, msgs: [{ type: 'registry/admit', value: { address: addr('bob'), roles: ['meter', 'consumer'] } }, { type: 'registry/admit', value: { address: addr('dave'), roles: ['auditor'] } }] },
      ],
    },
    // A rejected transaction (not an operator) — only carol's nonce moves; then a rejected admit of an admitted account.
    {
      time: CHAIN_GENESIS_TIME + 2000,
      txs: [
        { from: 'carol', nonce: 0, msgs: [{ type: 'registry/admit', value: { address: addr('erin'), roles: ['trader'] } }] },
        { from: 'operator', nonce: 2, msgs: [{ type: 'registry/admit', value: { address: addr('alice'), roles: ['trader'] } }] },
      ],
    },
    { time: CHAIN_GENESIS_TIME + 3000, txs: [{ from: 'operator', nonce: 3, msgs: [{ type: 'registry/revoke', value: { address: addr('bob'), reason: 'meter replaced' } }] }] },
    // An empty heartbeat block.
    { time: CHAIN_GENESIS_TIME + 33000, txs: [] },
    // A second revocation of bob: rejected by the rule, only the operator's nonce moves. (A revoked
    // sender's own transaction may not be in a block at all: BLOCK_INVALID_TX, see host.test.ts.)
    { time: CHAIN_GENESIS_TIME + 34000, txs: [{ from: 'operator', nonce: 4, msgs: [{ type: 'registry/revoke', value: { address: addr('bob'), reason: 'again' } }] }] },
  ];
}
