import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ZERO_HASH, type Commit } from '../../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx, type TxBody } from '../../src/codec/tx.js';
import { Mempool, type MempoolEntry } from '../../src/mempool/mempool.js';
import { configSchema } from '../../src/home/home.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { coreRoutes } from '../../src/api/routes.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { account, type TestAccount } from '../helpers/chain.js';
import { startTestNode } from '../helpers/node.js';

// ---------- unit: the Mempool data structure ----------

let counter = 0;
function entry(sender: string, nonce: number, bytes = 100): MempoolEntry {
  counter += 1;
  const tx = { body: { chainId: 'c', sender, nonce, expiresAtHeight: 10, msgs: [{ type: 't', value: counter }], memo: '' }, pubKey: '00'.repeat(32), signature: '00'.repeat(64) } as SignedTx;
  return { hash: `h-${sender}-${nonce}-${counter}`, tx, bytes };
}
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string; status?: number }).code + '/' + (err as { status?: number }).status;
  }
  return 'OK';
};
const order = (picked: MempoolEntry[]) => picked.map((e) => `${e.tx.body.sender}${e.tx.body.nonce}`);
const zero = () => 0;

describe('Mempool (unit)', () => {
  it('is bounded by count: MEMPOOL_FULL (503) once maxTxs are pending, room again after remove', () => {
    const m = new Mempool({ maxTxs: 2, maxBytes: 1 << 20 });
    const a = entry('A', 0);
    m.add(a);
    m.add(entry('B', 0));
    expect(codeOf(() => m.add(entry('C', 0)))).toBe('MEMPOOL_FULL/503');
    expect(m.size).toBe(2);
    m.remove(a.hash);
    expect(codeOf(() => m.add(entry('C', 0)))).toBe('OK');
  });

  it('is bounded by bytes', () => {
    const m = new Mempool({ maxTxs: 100, maxBytes: 250 });
    m.add(entry('A', 0, 100));
    m.add(entry('A', 1, 100));
    expect(codeOf(() => m.add(entry('A', 2, 51)))).toBe('MEMPOOL_FULL/503');
    expect(codeOf(() => m.add(entry('A', 2, 50)))).toBe('OK');
    expect(m.bytes).toBe(250);
  });

  it('refuses a duplicate hash (TX_DUPLICATE) and a second tx with a pending nonce (TX_NONCE_PENDING), both 409', () => {
    const m = new Mempool({ maxTxs: 10, maxBytes: 1 << 20 });
    const e = entry('A', 0);
    m.add(e);
    expect(codeOf(() => m.add(e))).toBe('TX_DUPLICATE/409');
    expect(codeOf(() => m.add(entry('A', 0)))).toBe('TX_NONCE_PENDING/409');
    expect(m.size).toBe(1);
  });

  it('orders per sender by nonce whatever the arrival order, and stops at a gap', () => {
    const m = new Mempool({ maxTxs: 10, maxBytes: 1 << 20 });
    for (const n of [2, 0, 4, 1]) m.add(entry('A', n));
    expect(order(m.reap({ maxTxs: 10, maxBytes: 1 << 20 }, zero))).toEqual(['A0', 'A1', 'A2']);
    expect(m.nextPendingNonce('A', 0)).toBe(3);
    expect(m.nextPendingNonce('A', 4)).toBe(5);
    expect(m.nextPendingNonce('B', 7)).toBe(7);
    // reaping starts at the committed nonce of the sender
    expect(order(m.reap({ maxTxs: 10, maxBytes: 1 << 20 }, () => 1))).toEqual(['A1', 'A2']);
    expect(order(m.reap({ maxTxs: 10, maxBytes: 1 << 20 }, () => 3))).toEqual([]);
  });

  it('serves senders round-robin in arrival order within the count and byte limits', () => {
    const m = new Mempool({ maxTxs: 100, maxBytes: 1 << 20 });
    for (let n = 0; n < 3; n++) m.add(entry('A', n));
    for (let n = 0; n < 3; n++) m.add(entry('B', n));
    m.add(entry('C', 0));
    expect(order(m.reap({ maxTxs: 100, maxBytes: 1 << 20 }, zero))).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'A2', 'B2']);
    expect(order(m.reap({ maxTxs: 4, maxBytes: 1 << 20 }, zero))).toEqual(['A0', 'B0', 'C0', 'A1']);
    expect(order(m.reap({ maxTxs: 100, maxBytes: 350 }, zero))).toEqual(['A0', 'B0', 'C0']);
    // reap does not remove anything
    expect(m.size).toBe(7);
  });

  it('one busy sender cannot starve another', () => {
    const m = new Mempool({ maxTxs: 1000, maxBytes: 1 << 20 });
    for (let n = 0; n < 500; n++) m.add(entry('busy', n));
    m.add(entry('quiet', 0));
    expect(order(m.reap({ maxTxs: 2, maxBytes: 1 << 20 }, zero))).toEqual(['busy0', 'quiet0']);
  });

  it('recheck drops exactly what the predicate refuses and keeps the counters right', () => {
    const m = new Mempool({ maxTxs: 10, maxBytes: 1 << 20 });
    const keep = [entry('A', 0, 10), entry('B', 3, 20)];
    const drop = [entry('A', 1, 30), entry('C', 0, 40)];
    for (const e of [...keep, ...drop]) m.add(e);
    const dropped = m.recheck((e) => keep.includes(e));
    expect(dropped.sort()).toEqual(drop.map((e) => e.hash).sort());
    expect(m.size).toBe(2);
    expect(m.bytes).toBe(30);
    for (const e of drop) expect(m.has(e.hash)).toBe(false);
    // a dropped nonce can be used again
    expect(codeOf(() => m.add(entry('A', 1)))).toBe('OK');
  });
});

// ---------- LedgerNode: admission and the recheck after every block ----------

describe('LedgerNode mempool recheck (in process, blocks produced by the test)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const operator = account('operator');
  const validator = account('validator');
  const alice = account('alice');
  const carol = account('carol');
  const admit = (who: TestAccount): Msg => ({ type: 'registry/admit', value: { address: who.address, roles: ['prosumer'] } });

  function makeNode(mempool: { maxTxs?: number } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-mempool-'));
    dirs.push(dir);
    const config = configSchema.parse({ chainId: 'mp', moniker: 'n', keyringBackend: 'test', api: {}, mempool: { maxTxs: mempool.maxTxs ?? 100, maxBytes: 1 << 20, nonceWindow: 10 } });
    const node = new LedgerNode({
      config,
      genesis: { chainId: 'mp', genesisTime: 0, operators: [operator.address], validators: [{ address: validator.address, pubKey: validator.publicKey, power: '10' }], accounts: [{ address: alice.address, roles: ['prosumer'] }], modules: {} },
      dbPath: join(dir, 'ledger.db'),
      validatorSigner: validator.signer,
      modules: MODULE_CORES,
      logger: pino({ level: 'silent' }),
    });
    let time = 1;
    const dropped: string[] = [];
    node.on('txDropped', (h: string) => dropped.push(h));
    const produce = () => {
      const prev = node.storage.getBlock(node.height);
      const executed = node.buildExecutedBlock({ time: time++, proposer: validator.address, lastCommit: prev ? prev.commit : null, evidence: [] });
      const commit: Commit = { height: executed.block.header.height, round: 0, blockHash: executed.hash, signatures: [] };
      node.commitBlock(executed, commit);
      return executed;
    };
    /** Commits a block with exactly these txs (as another proposer might have built it). */
    const commitForeign = (txs: SignedTx[]) => {
      const height = node.height + 1;
      const prev = node.storage.getBlock(height - 1);
      const executed = node.app.executeBlock({ height, time: time++, proposer: validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs, lastCommit: prev?.commit ?? null, evidence: [], validators: node.validatorsAt(height) });
      node.commitBlock(executed, { height, round: 0, blockHash: executed.hash, signatures: [] });
    };
    const tx = (from: TestAccount, msgs: Msg[], fields: Partial<TxBody> = {}) =>
      signTx({ chainId: 'mp', sender: from.address, nonce: node.app.nonceOf(from.address), expiresAtHeight: node.height + 10, msgs, memo: '', ...fields }, from.signer);
    return { node, produce, commitForeign, tx, dropped, close: () => node.close() };
  }

  it('admission is bounded too: MEMPOOL_FULL from submitTx', () => {
    const t = makeNode({ maxTxs: 2 });
    t.node.submitTx(t.tx(operator, [admit(carol)], { nonce: 0 }));
    t.node.submitTx(t.tx(operator, [admit(account('x1'))], { nonce: 1 }));
    expect(() => t.node.submitTx(t.tx(operator, [admit(account('x2'))], { nonce: 2 }))).toThrow(expect.objectContaining({ code: 'MEMPOOL_FULL', status: 503 }));
    t.close();
  });

  it('drops a pending tx whose nonce was used by a committed block', () => {
    const t = makeNode();
    const pending = t.tx(operator, [admit(carol)], { memo: 'mine' });
    const hash = t.node.submitTx(pending);
    const other = t.tx(operator, [admit(account('x1'))], { memo: 'theirs' }); // same nonce 0
    t.commitForeign([other]);
    expect(t.node.mempool.has(hash)).toBe(false);
    expect(t.dropped).toEqual([hash]);
    expect(t.node.storage.getTx(hash)).toBeUndefined();
    t.close();
  });

  it('drops a pending tx that expires with the new height', () => {
    const t = makeNode();
    t.produce(); // height 1
    // nonce 1 with nonce 0 missing: pending but not includable; expires at height 2
    const hash = t.node.submitTx(t.tx(operator, [admit(carol)], { nonce: 1, expiresAtHeight: 2 }));
    const keep = t.node.submitTx(t.tx(alice, [admit(carol)], { nonce: 1, expiresAtHeight: 50 }));
    expect(t.node.mempool.has(hash)).toBe(true);
    t.commitForeign([]); // height 2: a tx with expiresAtHeight 2 could still be in block 2, not in block 3
    expect(t.node.mempool.has(hash)).toBe(false);
    expect(t.node.mempool.has(keep)).toBe(true);
    expect(t.dropped).toEqual([hash]);
    t.close();
  });

  it("drops a revoked sender's pending txs after the block that revokes it, and keeps them while the sender is admitted", () => {
    const t = makeNode();
    // alice's nonce-1 tx waits for nonce 0 (never sent), so only the revocation can remove it
    const aliceHash = t.node.submitTx(t.tx(alice, [admit(carol)], { nonce: 1 }));
    t.node.submitTx(t.tx(operator, [admit(account('x1'))]));
    t.produce();
    expect(t.node.mempool.has(aliceHash)).toBe(true);
    t.node.submitTx(t.tx(operator, [{ type: 'registry/revoke', value: { address: alice.address } }]));
    const executed = t.produce();
    expect(executed.results.map((r) => r.code)).toEqual(['OK']);
    expect(t.node.mempool.has(aliceHash)).toBe(false);
    expect(t.dropped).toEqual([aliceHash]);
    expect(t.node.mempool.size).toBe(0);
    t.close();
  });

  it('one recheck pass judges each sender once: all of a revoked sender’s pending txs go, every other sender’s stay', () => {
    const t = makeNode();
    // alice's nonce 1..3 wait for nonce 0 (never sent); the operator's nonce 5..6 wait for 1..4
    const aliceHashes = [1, 2, 3].map((n) => t.node.submitTx(t.tx(alice, [admit(account(`a${n}`))], { nonce: n })));
    const operatorHashes = [5, 6].map((n) => t.node.submitTx(t.tx(operator, [admit(account(`o${n}`))], { nonce: n })));
    t.commitForeign([t.tx(operator, [{ type: 'registry/revoke', value: { address: alice.address } }], { nonce: 0 })]);
    expect(t.dropped.sort()).toEqual([...aliceHashes].sort());
    for (const h of operatorHashes) expect(t.node.mempool.has(h)).toBe(true);
    expect(t.node.mempool.size).toBe(2);
    t.close();
  });

  it('removes included txs and keeps the rest in nonce order for the next block', () => {
    const t = makeNode();
    const hashes = [0, 1, 2].map((n) => t.node.submitTx(t.tx(operator, [admit(account(`y${n}`))], { nonce: n })));
    const executed = t.produce();
    expect(executed.txHashes).toEqual(hashes);
    expect(t.node.mempool.size).toBe(0);
    expect(t.dropped).toEqual([]);
    expect(hashes.map((h) => t.node.storage.getTx(h)!.result.code)).toEqual(['OK', 'OK', 'OK']);
    expect(txHash(t.node.storage.getBlock(1)!.block.txs[2]!.body)).toBe(hashes[2]);
    t.close();
  });
});

// ---------- through a running node (HTTP) ----------

describe("a revoked account's pending transactions are dropped (running node)", () => {
  it('the pending tx disappears after the revoking block; before that it stays pending', async () => {
    const node = await startTestNode({ mallory: ['prosumer'] });
    try {
      const mallory = node.init.accounts.mallory!;
      // mallory's tx with nonce 1 cannot be included (nonce 0 is never sent): it waits in the mempool
      const waiting = await node.signedTx('mallory', [{ type: 'registry/admit', value: { address: node.init.admin, roles: ['prosumer'] } }], { nonce: 1 });
      const { hash } = await node.call(coreRoutes.submitTx, { body: waiting });
      // a committed block in between does not drop it
      const other = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: account('http-x').address, roles: ['meter'] } }]);
      const otherHash = (await node.call(coreRoutes.submitTx, { body: other })).hash;
      expect((await node.call(coreRoutes.getTx, { params: { hash: otherHash }, query: { wait: 30 } })).status).toBe('committed');
      expect((await node.call(coreRoutes.getTx, { params: { hash }, query: {} })).status).toBe('pending');
      // the revocation commits; after that block mallory's tx is gone
      const rev = await node.signedTx('admin', [{ type: 'registry/revoke', value: { address: mallory, reason: 'test' } }]);
      const revHash = (await node.call(coreRoutes.submitTx, { body: rev })).hash;
      const committed = await node.call(coreRoutes.getTx, { params: { hash: revHash }, query: { wait: 30 } });
      expect(committed.result!.code).toBe('OK');
      await expect(node.call(coreRoutes.getTx, { params: { hash }, query: {} })).rejects.toMatchObject({ code: 'TX_NOT_FOUND', status: 404 });
      const status = await node.call(coreRoutes.status, {});
      expect(status.mempool.txs).toBe(0);
      const acct = await node.call(registryRoutes.getAccount, { params: { address: mallory } });
      expect(acct).toMatchObject({ revoked: true, admitted: false, nonce: 0 });
      // and mallory can no longer submit
      const again = await node.signedTx('mallory', [{ type: 'registry/admit', value: { address: node.init.admin, roles: ['prosumer'] } }]);
      await expect(node.call(coreRoutes.submitTx, { body: again })).rejects.toMatchObject({ code: 'TX_SENDER_REVOKED', status: 403 });
    } finally {
      await node.cleanup();
    }
  });
});
