import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/host.js';
import { ZERO_HASH, type Commit } from '../../src/codec/block.js';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { cachedPublicKeys, KEY_CACHE_LIMIT, verifySignature } from '../../src/crypto/ed25519.js';
import { VerifiedTxs } from '../../src/ledger/verified-txs.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { configSchema, DEFAULT_TREE_CACHE_MIB } from '../../src/home/home.js';
import { DEFAULT_READ_CACHE_LIMITS, Storage, withTreeCacheMiB } from '../../src/store/sqlite.js';
import { account } from '../helpers/chain.js';
import { LedgerNodes } from '../helpers/ledger-node.js';

/**
 * Issue 9: structures that grew with every transaction of a soaking node. Each test inserts far more
 * distinct entries than the bound and checks the structure stayed within it (and stayed exact).
 */

describe('Storage read caches are bounded (LRU)', () => {
  it('after 100,000 distinct state reads the state cache holds ≤ 20,000 entries and ≤ 8 MiB, and answers stay exact', () => {
    const storage = new Storage(':memory:');
    const present = new Map<string, string>();
    for (let i = 0; i < 1000; i++) present.set(`acct/${i}`, `{"n":${i}}`);
    storage.writeGenesis(present, []);
    for (let i = 0; i < 100_000; i++) storage.getRaw(`registry/account/grid1${i.toString(36).padStart(38, 'q')}`);
    const { state } = storage.cacheStats();
    expect(state.entries).toBeLessThanOrEqual(DEFAULT_READ_CACHE_LIMITS.stateEntries);
    expect(state.bytes).toBeLessThanOrEqual(DEFAULT_READ_CACHE_LIMITS.stateBytes);
    // evicted or not, every read still answers what the database holds
    for (const [key, value] of present) expect(storage.getRaw(key)).toBe(value);
    expect(storage.getRaw('registry/account/grid1' + '0'.padStart(38, 'q'))).toBeUndefined();
    storage.close();
  });

  it('a byte bound holds for large values: 2,000 values of 64 KiB stay under the bytes limit', () => {
    const limits = { ...DEFAULT_READ_CACHE_LIMITS, stateBytes: 1024 * 1024 };
    const storage = new Storage(':memory:', limits);
    const big = 'x'.repeat(64 * 1024);
    const entries = new Map<string, string>();
    for (let i = 0; i < 2000; i++) entries.set(`big/${i}`, big);
    storage.writeGenesis(entries, []);
    for (const key of entries.keys()) expect(storage.getRaw(key)).toBe(big);
    expect(storage.cacheStats().state.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(storage.cacheStats().state.entries).toBeLessThanOrEqual(16);
    storage.close();
  });

  it('stays exact under eviction: a chain on 8-entry caches has the same state roots, block by block, as one on the default caches', () => {
    const operator = account('operator');
    const validator = account('validator');
    const genesis = { chainId: 'ex', genesisTime: 0, operators: [operator.address], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }], accounts: [], modules: {} };
    const tiny = { stateEntries: 8, stateBytes: 4096, treeEntries: 8, treeBytes: 4096 };
    const apps = [new App(new Storage(':memory:', tiny), { chainId: 'ex', modules: MODULE_CORES }), new App(new Storage(':memory:'), { chainId: 'ex', modules: MODULE_CORES })];
    for (const app of apps) app.initGenesis(genesis);
    for (let height = 1; height <= 12; height++) {
      const txs = Array.from({ length: 15 }, (_, i) =>
        signTx({ chainId: 'ex', sender: operator.address, nonce: (height - 1) * 15 + i, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`e-${height}-${i}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer),
      );
      const roots = apps.map((app) => {
        const executed = app.executeBlock({ height, time: height, proposer: validator.address, prevHash: ZERO_HASH, txs, lastCommit: null, evidence: [], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }] });
        expect(executed.results.every((r) => r.code === 'OK')).toBe(true);
        app.commitBlock(executed, { height, round: 0, blockHash: executed.hash, signatures: [] });
        return app.stateRoot;
      });
      expect(roots[0]).toBe(roots[1]);
    }
    expect(apps[0]!.recomputeStateRoot()).toBe(apps[0]!.stateRoot);
    expect(apps[0]!.nonceOf(operator.address)).toBe(180);
  });

  it(`after 300,000 distinct state-tree paths the tree cache holds ≤ ${DEFAULT_READ_CACHE_LIMITS.treeEntries} rows and ≤ ${DEFAULT_READ_CACHE_LIMITS.treeBytes / 2 ** 20} MiB`, () => {
    const storage = new Storage(':memory:');
    for (let i = 0; i < 300_000; i++) storage.treeRow(`p${i}`);
    const { tree } = storage.cacheStats();
    expect(tree.entries).toBeLessThanOrEqual(DEFAULT_READ_CACHE_LIMITS.treeEntries);
    expect(tree.bytes).toBeLessThanOrEqual(DEFAULT_READ_CACHE_LIMITS.treeBytes);
    expect(tree.entries).toBe(DEFAULT_READ_CACHE_LIMITS.treeEntries);
    storage.close();
  });

  it('refreshes cached rows once per batch, as copies of their own: held rows answer until then, and the roots match a node that writes every block', () => {
    const operator = account('operator');
    const validator = account('validator');
    const validators = [{ address: validator.address, pubKey: validator.publicKey, power: '10' }];
    // One storage writes its rows at every block; the other holds them until the batch (32 MiB: the whole run).
    const storages = [new Storage(':memory:', DEFAULT_READ_CACHE_LIMITS, 1), new Storage(':memory:')];
    const apps = storages.map((storage) => new App(storage, { chainId: 'ex', modules: MODULE_CORES }));
    for (const app of apps) app.initGenesis({ chainId: 'ex', genesisTime: 0, operators: [operator.address], validators, accounts: [], modules: {} });
    for (let height = 1; height <= 6; height++) {
      const txs = Array.from({ length: 50 }, (_, i) =>
        signTx({ chainId: 'ex', sender: operator.address, nonce: (height - 1) * 50 + i, expiresAtHeight: 100, msgs: [{ type: 'registry/admit', value: { address: account(`c-${height}-${i}`).address, roles: ['consumer'] } }], memo: '' }, operator.signer),
      );
      const roots = apps.map((app) => {
        const executed = app.executeBlock({ height, time: height, proposer: validator.address, prevHash: ZERO_HASH, txs, lastCommit: null, evidence: [], validators });
        app.commitBlock(executed, { height, round: 0, blockHash: executed.hash, signatures: [] });
        return app.stateRoot;
      });
      expect(roots[1]).toBe(roots[0]);
    }
    const held = storages[1]!;
    expect(held.pendingTreeStats().rows).toBeGreaterThan(100);
    held.flushTreeRows();
    // Cached before this check: the rows the blocks read from the table and then rewrote — about half of
    // the tree where every block writes its rows; where they were held, only genesis' rows (the blocks
    // read the held ones), which the batch then changed.
    expect(storages[0]!.cacheStats().tree.entries).toBeGreaterThan(50);
    expect(held.cacheStats().tree.entries).toBeGreaterThan(0);
    for (const storage of storages) {
      const table = storage.db.prepare<[], { path: Buffer; node: Buffer }>('SELECT path, node FROM state_tree').all();
      expect(table.length).toBeGreaterThan(100);
      for (const { path, node } of table) {
        const row = storage.treeRow(path.toString('latin1'))!;
        expect(Buffer.from(row).equals(node)).toBe(true);
        expect(row.buffer.byteLength).toBe(row.byteLength);
      }
      storage.close();
    }
  });
});

describe('the state tree row cache as a node setting (config storage.treeCacheMiB, ADR 0030)', () => {
  it('defaults to the storage’s own bound, refuses a size below 1 MiB, and bounds the node’s cache by the MiB given', () => {
    expect(withTreeCacheMiB(DEFAULT_TREE_CACHE_MIB)).toEqual(DEFAULT_READ_CACHE_LIMITS);
    const base = { chainId: 'tc', moniker: 'n', keyringBackend: 'test', api: {} };
    expect(configSchema.parse(base).storage.treeCacheMiB).toBe(DEFAULT_TREE_CACHE_MIB);
    for (const treeCacheMiB of [0, 1.5, -1, 'big']) expect(configSchema.safeParse({ ...base, storage: { treeCacheMiB } }).success, String(treeCacheMiB)).toBe(false);
    const nodes = new LedgerNodes('tc');
    try {
      const small = nodes.make(undefined, { treeCacheMiB: 1 });
      expect(small.storage.cacheLimits).toEqual(withTreeCacheMiB(1));
      for (let i = 0; i < 20_000; i++) small.storage.treeRow(`p${i}`);
      const { tree } = small.storage.cacheStats();
      expect(tree.bytes).toBeLessThanOrEqual(1024 * 1024);
      // 20,000 absent rows of ~100 estimated bytes each do not fit in 1 MiB: the bound evicted
      expect(tree.entries).toBeLessThan(20_000);
      expect(nodes.make().storage.cacheLimits).toEqual(DEFAULT_READ_CACHE_LIMITS);
    } finally {
      nodes.close();
    }
  });
});

describe('VerifiedTxs (signatures verified at admission)', () => {
  it('after 100,000 distinct transactions holds ≤ its bound, and answers only the exact hash, key and signature', () => {
    const cache = new VerifiedTxs(50_000);
    const sig = (i: number) => ({ pubKey: 'pk', signature: `sig${i}` });
    for (let i = 0; i < 100_000; i++) cache.remember(`h${i}`, sig(i));
    expect(cache.size).toBeLessThanOrEqual(50_000);
    expect(cache.has('h99999', sig(99999))).toBe(true);
    expect(cache.has('h99999', { pubKey: 'pk', signature: 'other' })).toBe(false); // same hash, another signature
    expect(cache.has('h99999', { pubKey: 'other', signature: 'sig99999' })).toBe(false); // same hash and signature, another key
    expect(cache.has('h99998', sig(99999))).toBe(false); // another body
    expect(cache.has('h0', sig(0))).toBe(false); // evicted: verified again when its block runs
    cache.forget('h99999');
    expect(cache.has('h99999', sig(99999))).toBe(false);
  });

  describe('in a LedgerNode', () => {
    const nodes = new LedgerNodes('vc');
    afterAll(() => nodes.close());
    const { operator, validator } = nodes;
    const makeNode = (maxTxs: number) => nodes.make({ maxTxs, nonceWindow: 10_000 });
    const admit = (i: number): Msg => ({ type: 'registry/admit', value: { address: account(`member-${i}`).address, roles: ['consumer'] } });

    it('forgets a transaction once its block commits: after 5 blocks of 200 admissions nothing is left', () => {
      const node = makeNode(10_000);
      let time = 1;
      for (let b = 0; b < 5; b++) {
        const base = node.app.nonceOf(operator.address);
        for (let i = 0; i < 200; i++) node.submitTx(signTx({ chainId: 'vc', sender: operator.address, nonce: base + i, expiresAtHeight: 1000, msgs: [admit(b * 200 + i)], memo: '' }, operator.signer));
        expect(node.verified.size).toBe(200);
        const prev = node.storage.getBlock(node.height);
        const executed = node.buildExecutedBlock({ time: time++, proposer: validator.address, lastCommit: prev ? prev.commit : null, evidence: [] });
        expect(executed.txHashes.length).toBe(200);
        const commit: Commit = { height: executed.block.header.height, round: 0, blockHash: executed.hash, signatures: [] };
        node.commitBlock(executed, commit);
        expect(node.verified.size).toBe(0);
      }
      node.close();
    });

    it('never holds more than mempool.maxTxs', () => {
      const node = makeNode(300);
      const base = node.app.nonceOf(operator.address);
      // admitted and then dropped from the mempool without a block: the bound is what limits them
      for (let i = 0; i < 1000; i++) {
        const hash = node.submitTx(signTx({ chainId: 'vc', sender: operator.address, nonce: base + i, expiresAtHeight: 1000, msgs: [admit(i)], memo: '' }, operator.signer));
        node.mempool.remove(hash);
      }
      expect(node.verified.size).toBeLessThanOrEqual(300);
      node.close();
    });
  });
});

describe('the public-key cache of signature verification is bounded', () => {
  it(`after 20,000 distinct keys it holds ≤ ${KEY_CACHE_LIMIT}`, () => {
    const message = new Uint8Array(8);
    const signature = new Uint8Array(64); // R = 0… is canonical, S = 0: checks reach the key
    signature[0] = 0x58; // a non-small-order R encoding (the base point's y byte)
    for (let i = 0; i < 20_000; i++) verifySignature(randomBytes(32), message, signature);
    expect(cachedPublicKeys()).toBeGreaterThan(0);
    expect(cachedPublicKeys()).toBeLessThanOrEqual(KEY_CACHE_LIMIT);
  });
});
