import { afterEach, describe, expect, it } from 'vitest';
import type { Commit } from '../../src/codec/block.js';
import { LedgerNodes } from '../helpers/ledger-node.js';
import { account, TestChain } from '../helpers/chain.js';

/**
 * A block's reads run as one SQLite read transaction (Storage.readTransaction): outside a transaction
 * every statement is its own, and in WAL mode each one locks and unlocks with system calls. These tests
 * pin where the reads run and that nothing can be written (and silently rolled back) inside one.
 */

/** Records, for every committed-state read, whether it ran inside a transaction. */
function watchReads(storage: TestChain['storage']): boolean[] {
  const seen: boolean[] = [];
  const getRaw = storage.getRaw.bind(storage);
  const keyAfter = storage.keyAfter.bind(storage);
  storage.getRaw = (key) => {
    seen.push(storage.db.inTransaction);
    return getRaw(key);
  };
  storage.keyAfter = (key) => {
    seen.push(storage.db.inTransaction);
    return keyAfter(key);
  };
  return seen;
}

describe('read transactions of committed state', () => {
  it('run the reads inside one transaction and always end it, also when the reader throws', () => {
    const chain = new TestChain();
    const { storage } = chain;
    expect(storage.readTransaction(() => storage.db.inTransaction)).toBe(true);
    expect(storage.db.inTransaction).toBe(false);
    expect(() =>
      storage.readTransaction(() => {
        throw new Error('reader failed');
      }),
    ).toThrow('reader failed');
    expect(storage.db.inTransaction).toBe(false);
  });

  it('execute a block with every state read inside one transaction', () => {
    const chain = new TestChain();
    const tx = chain.tx(chain.operator, [{ type: 'registry/admit', value: { address: account('alice').address, roles: ['prosumer'] } }]);
    const reads = watchReads(chain.storage);
    chain.block([tx]);
    expect(reads.length).toBeGreaterThan(3);
    expect(reads.every((inside) => inside)).toBe(true);
    expect(chain.storage.db.inTransaction).toBe(false);
  });

  it('refuse a block commit inside one (it would be rolled back with it): nothing is stored', () => {
    const chain = new TestChain();
    chain.send(chain.operator, { type: 'registry/admit', value: { address: account('alice').address, roles: ['prosumer'] } });
    const height = chain.app.height;
    const root = chain.app.stateRoot;
    const prev = chain.storage.getBlock(height)!;
    const executed = chain.app.executeBlock({
      height: height + 1,
      time: chain.time + 1000,
      proposer: chain.validator.address,
      prevHash: prev.hash,
      txs: [chain.tx(chain.operator, [{ type: 'registry/admit', value: { address: account('bob').address, roles: ['prosumer'] } }])],
      lastCommit: prev.commit,
      evidence: [],
      misbehaviour: [],
      validators: chain.validators,
    });
    const commit: Commit = { height: height + 1, round: 0, blockHash: executed.hash, signatures: [] };
    expect(() => chain.storage.readTransaction(() => chain.app.commitBlock(executed, commit))).toThrow('commitBlock inside a read transaction');
    expect(chain.storage.latestHeight()).toBe(height);
    expect(chain.storage.getBlock(height + 1)).toBeUndefined();
    expect(chain.app.height).toBe(height);
    expect(chain.app.stateRoot).toBe(root);
    // the same block commits once outside
    chain.app.commitBlock(executed, commit);
    expect(chain.storage.latestHeight()).toBe(height + 1);
  });
});

describe('a ledger node reads committed state in one transaction', () => {
  const nodes = new LedgerNodes('read-txn');
  afterEach(() => nodes.close());

  it('while it checks and admits a batch of submitted transactions, and after a block while it rechecks the rest', async () => {
    const node = nodes.make();
    const storage = (node as unknown as { storage: TestChain['storage'] }).storage;
    const reads = watchReads(storage);
    const chain = new TestChain({ chainId: 'read-txn' });
    const txs = ['a', 'b', 'c'].map((n) => chain.tx(nodes.operator, [{ type: 'registry/admit', value: { address: account(n).address, roles: ['prosumer'] } }]));
    const out = await node.submitTxs(txs.map((t) => JSON.parse(JSON.stringify(t))));
    expect(out.every((r) => 'hash' in r)).toBe(true);
    expect(node.pendingTxCount()).toBe(3);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((inside) => inside)).toBe(true);
    expect(storage.db.inTransaction).toBe(false);

    // a block of the three; one submitted after a nonce gap stays pending and is rechecked after the commit
    const [, afterGap] = ['d', 'e'].map((n) => chain.tx(nodes.operator, [{ type: 'registry/admit', value: { address: account(n).address, roles: ['prosumer'] } }]));
    await node.submitTxs([JSON.parse(JSON.stringify(afterGap))]);
    reads.length = 0;
    const executed = node.buildExecutedBlock({ time: 1000, proposer: nodes.validator.address, lastCommit: null, evidence: [] });
    expect(executed.txHashes).toHaveLength(3);
    node.commitBlock(executed, { height: 1, round: 0, blockHash: executed.hash, signatures: [] });
    expect(node.pendingTxCount()).toBe(1);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((inside) => inside)).toBe(true);
  });
});
