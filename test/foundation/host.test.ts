import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App, type BlockInput } from '../../src/app/host.js';
import { VerifiedTxs } from '../../src/ledger/verified-txs.js';
import { bytesToHex, childHash } from '../../src/app/smt.js';
import { treeOfEntries } from '../../src/app/state-tree.js';
import { ZERO_HASH, type Commit } from '../../src/codec/block.js';
import { signTx, txHash, type Msg, type SignedTx, type TxBody } from '../../src/codec/tx.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

const admit = (who: TestAccount, roles: string[] = ['prosumer']): Msg => ({ type: 'registry/admit', value: { address: who.address, roles } });
const revoke = (who: TestAccount): Msg => ({ type: 'registry/revoke', value: { address: who.address } });

function snapshot(chain: TestChain): Map<string, string> {
  return new Map(chain.storage.allState());
}
/** Keys whose value differs between two state snapshots. */
function changedKeys(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}
/** The state root of a whole state, rebuilt from scratch (ADR 0012). */
function rootOf(state: Map<string, string>): string {
  return bytesToHex(childHash(treeOfEntries([...state].sort((a, b) => (a[0] < b[0] ? -1 : 1))).root));
}

/** A signed tx with explicit fields (no local nonce tracking). */
function rawTx(chain: TestChain, from: TestAccount, msgs: Msg[], fields: Partial<TxBody> = {}): SignedTx {
  return signTx({ chainId: chain.chainId, sender: from.address, nonce: chain.app.nonceOf(from.address), expiresAtHeight: chain.app.height + 10, msgs, memo: '', ...fields }, from.signer);
}
function blockInput(chain: TestChain, txs: SignedTx[], extra: Partial<BlockInput> = {}): BlockInput {
  const height = chain.app.height + 1;
  const prev = chain.storage.getBlock(height - 1);
  return { height, time: chain.time + 1000, proposer: chain.validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs, lastCommit: prev?.commit ?? null, evidence: [], validators: chain.validators, ...extra };
}
function invalidCode(chain: TestChain, input: BlockInput): string | undefined {
  try {
    chain.app.executeBlock(input);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('a rejected transaction changes nothing but the sender nonce', () => {
  const alice = account('alice');
  const bob = account('bob');
  const carol = account('carol');

  const cases: Array<{ name: string; code: string; setup?: (c: TestChain) => void; tx: (c: TestChain) => SignedTx }> = [
    { name: 'non-operator admits', code: 'REGISTRY_NOT_OPERATOR', tx: (c) => c.tx(alice, [admit(carol)]) },
    { name: 'non-operator revokes', code: 'REGISTRY_NOT_OPERATOR', tx: (c) => c.tx(alice, [revoke(bob)]) },
    { name: 'admit of an admitted account', code: 'REGISTRY_ALREADY_ADMITTED', tx: (c) => c.tx(c.operator, [admit(bob)]) },
    { name: 'revoke of an unknown account', code: 'REGISTRY_NOT_ADMITTED', tx: (c) => c.tx(c.operator, [revoke(carol)]) },
    { name: 'operator role by admit', code: 'REGISTRY_OPERATOR_NEEDS_GOVERNANCE', tx: (c) => c.tx(c.operator, [admit(carol, ['operator'])]) },
    { name: 'revoke of an operator', code: 'REGISTRY_OPERATOR_NEEDS_GOVERNANCE', tx: (c) => c.tx(c.operator, [revoke(c.operator)]) },
    { name: 'second message fails: the first message is undone too', code: 'REGISTRY_ALREADY_ADMITTED', tx: (c) => c.tx(c.operator, [admit(carol), admit(bob)]) },
    { name: 'invalid message value included by a proposer', code: 'MSG_INVALID', tx: (c) => c.tx(c.operator, [{ type: 'registry/admit', value: { address: carol.address, roles: ['prosumer'], extra: 1 } }]) },
    { name: 'unknown message type included by a proposer', code: 'TX_UNKNOWN_MSG_TYPE', tx: (c) => c.tx(c.operator, [admit(carol), { type: 'bank/send', value: {} }]) },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, tc) => {
    const chain = new TestChain({ accounts: { alice: ['prosumer'], bob: ['meter'] } });
    expect(chain.send(chain.operator, admit(account('dave'))).code).toBe('OK'); // a first block so the chain has history
    tc.setup?.(chain);
    const before = snapshot(chain);
    const rootBefore = chain.stateRoot;
    const tx = tc.tx(chain);
    const [result] = chain.block([tx]);
    expect(result!.code).toBe(tc.code);
    expect(result!.message.length).toBeGreaterThan(0);
    expect(result!.events).toEqual([]);
    const after = snapshot(chain);
    const nonceKey = `auth/nonce/${tx.body.sender}`;
    expect(changedKeys(before, after)).toEqual([nonceKey]);
    expect(after.get(nonceKey)).toBe(String(tx.body.nonce + 1));
    // the state root is exactly the root of "old state + new nonce"
    const expected = new Map(before);
    expected.set(nonceKey, String(tx.body.nonce + 1));
    expect(chain.stateRoot).toBe(rootOf(expected));
    expect(chain.stateRoot).not.toBe(rootBefore);
    expect(chain.app.recomputeStateRoot()).toBe(chain.stateRoot);
    // the result is committed and retrievable
    expect(chain.storage.getTx(txHash(tx.body))!.result.code).toBe(tc.code);
  });

  it('an accepted transaction writes the account, the log entry, the nonce and when sender and new account were last active', () => {
    const chain = new TestChain();
    const before = snapshot(chain);
    const result = chain.send(chain.operator, admit(carol, ['meter', 'consumer']));
    expect(result.code).toBe('OK');
    expect(result.events.map((e) => e.type)).toEqual(['tx', 'registry.admit']);
    const changed = changedKeys(before, snapshot(chain));
    expect(changed).toHaveLength(5);
    expect([...changed].sort().slice(0, 4)).toEqual(
      [`auth/nonce/${chain.operator.address}`, `registry/account/${carol.address}`, `registry/active/${carol.address}`, `registry/active/${chain.operator.address}`].sort(),
    );
    expect([...changed].sort()[4]).toMatch(/^registry\/log\/0000000000000001\/[0-9a-f]{64}\/0000$/);
  });
});

describe('block validity (BLOCK_INVALID_TX)', () => {
  const alice = account('alice');
  const carol = account('carol');
  const fresh = () => {
    const chain = new TestChain({ accounts: { alice: ['prosumer'] } });
    chain.send(chain.operator, admit(account('dave')));
    return chain;
  };

  it('bad signature', () => {
    const chain = fresh();
    const tx = rawTx(chain, chain.operator, [admit(carol)]);
    const sig = Buffer.from(tx.signature, 'hex');
    sig[10]! ^= 1;
    expect(invalidCode(chain, blockInput(chain, [{ ...tx, signature: sig.toString('hex') }]))).toBe('BLOCK_INVALID_TX');
  });

  it('signature by a key that is not the sender', () => {
    const chain = fresh();
    const tx = rawTx(chain, chain.operator, [admit(carol)]);
    const forged = signTx(tx.body, alice.signer);
    expect(invalidCode(chain, blockInput(chain, [forged]))).toBe('BLOCK_INVALID_TX');
  });

  it('wrong nonce: reused, skipped, or repeated inside the block', () => {
    const chain = fresh();
    const n = chain.app.nonceOf(chain.operator.address);
    expect(n).toBe(1);
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, chain.operator, [admit(carol)], { nonce: n - 1 })]))).toBe('BLOCK_INVALID_TX');
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, chain.operator, [admit(carol)], { nonce: n + 1 })]))).toBe('BLOCK_INVALID_TX');
    const a = rawTx(chain, chain.operator, [admit(carol)], { nonce: n });
    const b = rawTx(chain, chain.operator, [admit(account('erin'))], { nonce: n });
    expect(invalidCode(chain, blockInput(chain, [a, b]))).toBe('BLOCK_INVALID_TX');
    // in order, consecutive nonces of one sender in one block are valid
    const c = rawTx(chain, chain.operator, [admit(account('erin'))], { nonce: n + 1 });
    expect(invalidCode(chain, blockInput(chain, [a, c]))).toBeUndefined();
    expect(invalidCode(chain, blockInput(chain, [c, a]))).toBe('BLOCK_INVALID_TX');
  });

  it('expired transaction (expiresAtHeight below the block height); expiresAtHeight = height is still valid', () => {
    const chain = fresh();
    const height = chain.app.height + 1;
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, chain.operator, [admit(carol)], { expiresAtHeight: height - 1 })]))).toBe('BLOCK_INVALID_TX');
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, chain.operator, [admit(carol)], { expiresAtHeight: height })]))).toBeUndefined();
  });

  it('wrong chain id', () => {
    const chain = fresh();
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, chain.operator, [admit(carol)], { chainId: 'other-chain' })]))).toBe('BLOCK_INVALID_TX');
  });

  // Issue 9: a proposer cannot slip in transactions of senders who may not transact.
  it('a sender who was never admitted', () => {
    const chain = fresh();
    const root = chain.stateRoot;
    const error = (() => {
      try {
        chain.app.executeBlock(blockInput(chain, [rawTx(chain, carol, [admit(carol)])]));
      } catch (err) {
        return err as { code: string; message: string };
      }
    })();
    expect(error?.code).toBe('BLOCK_INVALID_TX');
    expect(error?.message).toContain('TX_SENDER_NOT_ADMITTED');
    expect(chain.stateRoot).toBe(root);
  });

  it('a revoked sender, also when the revocation is earlier in the same block; an honest proposer leaves such a transaction out', () => {
    const chain = fresh();
    expect(chain.send(chain.operator, revoke(alice)).code).toBe('OK');
    expect(invalidCode(chain, blockInput(chain, [rawTx(chain, alice, [admit(carol)])]))).toBe('BLOCK_INVALID_TX');

    const other = new TestChain({ accounts: { alice: ['prosumer'] } });
    const revoking = rawTx(other, other.operator, [revoke(alice)]);
    const late = rawTx(other, alice, [{ type: 'registry/admit', value: { address: carol.address, roles: ['meter'] } }]);
    expect(invalidCode(other, blockInput(other, [revoking, late]))).toBe('BLOCK_INVALID_TX');
    const left: string[] = [];
    const built = other.app.executeBlock(blockInput(other, [revoking, late]), { skipInvalid: (_tx, err) => left.push(err.code) });
    expect(left).toEqual(['TX_SENDER_REVOKED']);
    expect(built.txHashes).toEqual([txHash(revoking.body)]);
  });

  it('wrong height is BLOCK_INVALID_HEIGHT', () => {
    const chain = fresh();
    expect(invalidCode(chain, blockInput(chain, [], { height: chain.app.height + 2 }))).toBe('BLOCK_INVALID_HEIGHT');
    expect(invalidCode(chain, blockInput(chain, [], { height: chain.app.height }))).toBe('BLOCK_INVALID_HEIGHT');
  });

  it('an invalid block changes nothing, and a valid block afterwards commits normally', () => {
    const chain = fresh();
    const root = chain.stateRoot;
    const height = chain.app.height;
    const before = snapshot(chain);
    const good = rawTx(chain, chain.operator, [admit(carol)]);
    const bad = { ...rawTx(chain, alice, [admit(carol)]), signature: '00'.repeat(64) };
    expect(invalidCode(chain, blockInput(chain, [good, bad]))).toBe('BLOCK_INVALID_TX');
    expect(chain.stateRoot).toBe(root);
    expect(chain.app.height).toBe(height);
    expect(changedKeys(before, snapshot(chain))).toEqual([]);
    expect(chain.block([good])[0]!.code).toBe('OK');
  });

  it('the verified-signature cache is keyed by signature: a cached body with another signature is still checked', () => {
    const storage = new Storage(':memory:');
    const verified = new VerifiedTxs(10);
    const chain = new TestChain();
    const app = new App(storage, {
      chainId: chain.chainId,
      modules: [registryCore],
      verifiedTxs: verified,
    });
    app.initGenesis({ chainId: chain.chainId, genesisTime: 0, operators: [chain.operator.address], validators: [], accounts: [], modules: {} });
    const good = signTx({ chainId: chain.chainId, sender: chain.operator.address, nonce: 0, expiresAtHeight: 10, msgs: [admit(carol)], memo: '' }, chain.operator.signer);
    verified.remember(txHash(good.body), good);
    const bad = { ...good, signature: '11'.repeat(64) };
    expect(() => app.executeBlock({ height: 1, time: 1, proposer: 'p', prevHash: ZERO_HASH, txs: [bad], lastCommit: null, evidence: [], validators: [] })).toThrow(expect.objectContaining({ code: 'BLOCK_INVALID_TX' }));
    expect(app.executeBlock({ height: 1, time: 1, proposer: 'p', prevHash: ZERO_HASH, txs: [good], lastCommit: null, evidence: [], validators: [] }).results[0]!.code).toBe('OK');
    storage.close();
  });
});

describe('checkTx (stateful admission)', () => {
  const carol = account('carol');
  it('gives a specific code for each reason', () => {
    const chain = new TestChain({ accounts: { alice: ['prosumer'] } });
    chain.send(chain.operator, admit(account('dave')));
    const code = (tx: SignedTx, window = 10) => {
      try {
        chain.app.checkTx(tx, txHash(tx.body), { nonceWindow: window, signatureValid: () => true });
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'OK';
    };
    const op = chain.operator;
    expect(code(rawTx(chain, op, [admit(carol)]))).toBe('OK');
    expect(code(rawTx(chain, op, [admit(carol)], { chainId: 'x' }))).toBe('TX_WRONG_CHAIN');
    expect(code(rawTx(chain, op, [{ type: 'nope/nope', value: {} }]))).toBe('TX_UNKNOWN_MSG_TYPE');
    expect(code(rawTx(chain, op, [{ type: 'registry/admit', value: { address: 'grid1nope', roles: ['prosumer'] } }]))).toBe('MSG_INVALID');
    expect(code(rawTx(chain, op, [admit(carol)], { expiresAtHeight: chain.app.height }))).toBe('TX_EXPIRED');
    expect(code(rawTx(chain, op, [admit(carol)], { nonce: 0 }))).toBe('TX_NONCE_USED');
    expect(code(rawTx(chain, op, [admit(carol)], { nonce: 1 + 10 }))).toBe('TX_NONCE_TOO_HIGH');
    expect(code(rawTx(chain, op, [admit(carol)], { nonce: 1 + 9 }))).toBe('OK');
    expect(code(rawTx(chain, carol, [admit(carol)]))).toBe('TX_SENDER_NOT_ADMITTED');
    chain.send(op, revoke(account('alice')));
    expect(code(rawTx(chain, account('alice'), [admit(carol)]))).toBe('TX_SENDER_REVOKED');
  });
});

describe('determinism and persistence', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function script(chain: TestChain): SignedTx[][] {
    const people = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map(account);
    return [
      [chain.tx(chain.operator, [admit(people[0]!), admit(people[1]!, ['meter'])]), chain.tx(chain.operator, [admit(people[2]!, ['trader', 'consumer'])])],
      [chain.tx(people[0]!, [admit(people[3]!)])],
      [],
      [chain.tx(chain.operator, [revoke(people[1]!)]), chain.tx(chain.operator, [admit(people[1]!)])],
      [chain.tx(chain.operator, [admit(people[4]!), revoke(people[2]!)]), chain.tx(people[0]!, [admit(people[5]!)])],
    ];
  }

  it('two TestChains fed the same blocks at the same times have the same roots, hashes and results at every height', () => {
    const a = new TestChain({ accounts: { p1: ['prosumer'] } });
    const b = new TestChain({ accounts: { p1: ['prosumer'] } });
    expect(a.stateRoot).toBe(b.stateRoot);
    const blocksA = script(a);
    script(b); // keeps b's local nonce bookkeeping in step; b executes a's exact transactions
    for (const [i, txs] of blocksA.entries()) {
      const time = Date.UTC(2026, 5, 1) + (i + 1) * 1000;
      const ra = a.block(txs, time);
      const rb = b.block(txs, time);
      expect(rb).toEqual(ra);
      expect(b.lastExecuted!.hash).toBe(a.lastExecuted!.hash);
      expect(b.stateRoot).toBe(a.stateRoot);
    }
    expect([...b.storage.allState()]).toEqual([...a.storage.allState()]);
    // the rejected ones are really there (the script is not trivially all-OK)
    const codes = blocksA.flat().map((tx) => a.storage.getTx(txHash(tx.body))!.result.code);
    expect(codes).toContain('REGISTRY_NOT_OPERATOR');
    expect(codes).toContain('OK');
  });

  it('a different block time gives a different block hash, and changes state only in when accounts were last active', () => {
    const a = new TestChain();
    const b = new TestChain();
    const p1 = account('p1');
    const tx = a.tx(a.operator, [admit(p1)]);
    a.block([tx], Date.UTC(2026, 5, 1, 0, 0, 1));
    b.block([tx], Date.UTC(2026, 5, 1, 0, 0, 2));
    expect(a.lastExecuted!.hash).not.toBe(b.lastExecuted!.hash);
    const stateA = new Map(a.storage.allState());
    const stateB = new Map(b.storage.allState());
    const differ = [...stateA.keys()].filter((k) => stateA.get(k) !== stateB.get(k)).sort();
    // The registry records activity in block time (issue 19 #14: accounts inactive for N days).
    expect(differ).toEqual([`registry/active/${a.operator.address}`, `registry/active/${p1.address}`].sort());
    expect(stateA.size).toBe(stateB.size);
  });

  it('a file-backed App reopened from disk has the same state root, and recomputeStateRoot agrees', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-host-'));
    dirs.push(dir);
    const path = join(dir, 'ledger.db');
    const options = (chainId: string) => ({ chainId, modules: [registryCore] });
    const op = account('operator');
    const genesis = { chainId: 'disk', genesisTime: 0, operators: [op.address], validators: [], accounts: [], modules: {} };
    let storage = new Storage(path);
    let app = new App(storage, options('disk'));
    app.initGenesis(genesis);
    let prevHash = ZERO_HASH;
    let lastCommit: Commit | null = null;
    for (let h = 1; h <= 3; h++) {
      const tx = signTx({ chainId: 'disk', sender: op.address, nonce: h - 1, expiresAtHeight: 100, msgs: [admit(account(`d${h}`))], memo: '' }, op.signer);
      const executed = app.executeBlock({ height: h, time: h, proposer: 'p', prevHash, txs: [tx], lastCommit, evidence: [], validators: [] });
      const commit: Commit = { height: h, round: 0, blockHash: executed.hash, signatures: [] };
      app.commitBlock(executed, commit);
      prevHash = executed.hash;
      lastCommit = commit;
    }
    const root = app.stateRoot;
    storage.close();
    storage = new Storage(path);
    app = new App(storage, options('disk'));
    app.initGenesis(genesis); // idempotent on an initialised store
    expect(app.height).toBe(3);
    expect(app.stateRoot).toBe(root);
    expect(app.recomputeStateRoot()).toBe(root);
    expect(storage.getBlock(3)!.block.header.stateRoot).toBe(root);
    storage.close();
  });

  it("a stored block's hash, time and commit (blockInfo) are the block's, from the last commit and from disk alike", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-host-'));
    dirs.push(dir);
    const path = join(dir, 'ledger.db');
    const op = account('operator');
    let storage = new Storage(path);
    const app = new App(storage, { chainId: 'info', modules: [registryCore] });
    app.initGenesis({ chainId: 'info', genesisTime: 0, operators: [op.address], validators: [], accounts: [], modules: {} });
    let prevHash = ZERO_HASH;
    let lastCommit: Commit | null = null;
    for (let h = 1; h <= 3; h++) {
      const tx = signTx({ chainId: 'info', sender: op.address, nonce: h - 1, expiresAtHeight: 100, msgs: [admit(account(`i${h}`))], memo: '' }, op.signer);
      const executed = app.executeBlock({ height: h, time: 1_700_000_000_000 + h * 1000, proposer: 'p', prevHash, txs: [tx], lastCommit, evidence: [], validators: [] });
      const commit: Commit = { height: h, round: 0, blockHash: executed.hash, signatures: [] };
      app.commitBlock(executed, commit);
      prevHash = executed.hash;
      lastCommit = commit;
    }
    const expected = (s: Storage, h: number) => {
      const b = s.getBlock(h)!;
      return { hash: b.hash, time: b.block.header.time, commit: b.commit };
    };
    for (const h of [1, 2, 3]) expect(storage.blockInfo(h)).toEqual(expected(storage, h));
    expect(storage.blockInfo(3)!.time).toBe(1_700_000_003_000);
    expect(storage.blockInfo(4)).toBeUndefined();
    storage.close();
    storage = new Storage(path); // nothing committed by this instance: every answer from disk
    for (const h of [1, 2, 3]) expect(storage.blockInfo(h)).toEqual(expected(storage, h));
    expect(storage.blockInfo(0)).toBeUndefined();
    storage.close();
  });
});
