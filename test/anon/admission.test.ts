import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TxResult } from '../../src/codec/block.js';
import { signTx, txHash, verifyTxSignature, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { anon, ANON_MSG, buildAdmission, epochField } from '../../src/modules/anon/index.js';
import { anonCore } from '../../src/modules/anon/module.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { loadVerifyingKey } from '../../src/zk/artifacts.js';
import { identityCommitment } from '../../src/zk/circuits.js';
import { PoseidonMerkleTree } from '../../src/zk/merkle.js';
import { closeProver, randomFieldElement } from '../../src/zk/prove.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

/**
 * Issue 16 #2 acceptance on an in-process chain: a member admits two trade accounts in an epoch with
 * valid proofs; a third beyond the limit, a proof against an old root after a revocation, a reused
 * nullifier and a forged proof are refused at admission (codes; state root unchanged); nothing in
 * state or events links the accounts to the member. Membership proofs take ~1 s each, so the file
 * makes only the ones it needs.
 */

const EPOCH_BLOCKS = 1000;
const LIFETIME_MS = 600_000;
const alice = account('alice');
const bob = account('bob');
const carol = account('carol');
const secrets = new Map([alice, bob, carol].map((a) => [a.address, randomFieldElement()]));
const fresh = (name: string) => account(`anon-${name}-${randomFieldElement().toString(36).slice(0, 8)}`);

let chain: TestChain;
const results: TxResult[] = [];

function block(txs: SignedTx[], time?: number): TxResult[] {
  const out = chain.block(txs, time);
  results.push(...out);
  return out;
}
function ok(from: TestAccount, msgs: Msg | Msg[]): TxResult {
  const [res] = block([chain.tx(from, Array.isArray(msgs) ? msgs : [msgs])]);
  expect(res, JSON.stringify(res)).toMatchObject({ code: 'OK' });
  return res!;
}
function leaves(): string[] {
  return chain.query(anon, 'anonLeaves').leaves;
}
function status() {
  return chain.query(anon, 'anonStatus');
}
/** The admit message a member builds for `who` (the real client code path). */
async function admission(member: TestAccount, who: TestAccount, slot: number, overrides: { maxSlots?: number; leaves?: string[] } = {}) {
  const s = status();
  return buildAdmission({ chainId: chain.chainId, secret: secrets.get(member.address)!, leaves: overrides.leaves ?? leaves(), epoch: s.epoch, slot, maxSlots: overrides.maxSlots ?? s.maxSlots, address: who.address });
}
const admitMsg = (value: unknown): Msg => ({ type: ANON_MSG.admit, value });

/** Mempool admission of a transaction from `who`: the code it is refused with, or 'OK'. */
function checkTx(tx: SignedTx): string {
  try {
    chain.app.checkTx(tx, txHash(tx.body), { nonceWindow: 16, signatureValid: (t) => Boolean(verifyTxSignature(t)) });
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}
/** Refused in the mempool with `code`, and a block holding it is invalid; the state root does not move. */
function refused(tx: SignedTx, code: string): void {
  const root = chain.stateRoot;
  expect(checkTx(tx)).toBe(code);
  expect(() => chain.block([tx])).toThrow(expect.objectContaining({ code: 'BLOCK_INVALID_TX', message: expect.stringContaining(code) }));
  expect(chain.stateRoot).toBe(root);
}
/** An admission signed by the fresh key with its committed nonce (a refused one never consumes it). */
function anonTx(who: TestAccount, value: unknown): SignedTx {
  return signTx({ chainId: chain.chainId, sender: who.address, nonce: chain.app.nonceOf(who.address), expiresAtHeight: chain.app.height + 100, msgs: [admitMsg(value)], memo: '' }, who.signer);
}

beforeAll(() => {
  chain = new TestChain({
    modules: [registryCore, paymentsCore, anonCore],
    accounts: { alice: ['prosumer'], bob: ['consumer'], carol: ['prosumer'], dave: ['prosumer'] },
    genesisModules: { anon: { maxSlots: 2, epochBlocks: EPOCH_BLOCKS, rootWindowBlocks: 3, accountLifetimeMs: LIFETIME_MS } },
  });
  ok(chain.operator, { type: ANON_MSG.registerKey, value: { circuit: 'membership', key: loadVerifyingKey('membership') } });
  for (const m of [alice, bob, carol]) ok(m, { type: ANON_MSG.register, value: { commitment: identityCommitment(secrets.get(m.address)!).toString() } });
});
afterAll(closeProver);

describe('anonymous trade accounts (anon)', () => {
  const a1 = fresh('a1');
  const a2 = fresh('a2');

  it('members register identity commitments: leaves in order, one per member, a root per block that changed it', () => {
    expect(leaves()).toEqual([alice, bob, carol].map((m) => identityCommitment(secrets.get(m.address)!).toString()));
    const tree = new PoseidonMerkleTree();
    for (const l of leaves()) tree.insert(BigInt(l));
    expect(status().currentRoot).toBe(tree.root.toString());
    expect(chain.query(anon, 'anonRoots').roots[0].root).toBe(tree.root.toString());
    const again = chain.send(alice, { type: ANON_MSG.register, value: { commitment: '12345' } });
    expect(again.code).toBe('ANON_ALREADY_REGISTERED');
    const dup = chain.send(account('dave'), { type: ANON_MSG.register, value: { commitment: leaves()[0]! } });
    expect(dup.code).toBe('ANON_COMMITMENT_EXISTS');
    // the role is granted only by a proof, never by an operator
    expect(chain.send(chain.operator, { type: 'registry/admit', value: { address: fresh('x').address, roles: ['trader-anon'] } }).code).toBe('REGISTRY_ROLE_RESERVED');
  });

  it('a fresh key admits itself with a valid proof (slot 0, then slot 1): role trader-anon, admitted by the module, expiring', async () => {
    const first = anonTx(a1, await admission(alice, a1, 0));
    expect(checkTx(first)).toBe('OK');
    expect(block([first])[0]).toMatchObject({ code: 'OK' });
    const second = anonTx(a2, await admission(alice, a2, 1));
    expect(block([second])[0]).toMatchObject({ code: 'OK' });
    for (const a of [a1, a2]) {
      const reg = chain.store.get<{ roles: string[]; status: string; admittedBy: string }>(`registry/account/${a.address}`)!;
      expect(reg).toMatchObject({ roles: ['trader-anon'], status: 'admitted', admittedBy: 'module:anon' });
      expect(chain.query(anon, 'anonAccount', { address: a.address }).account).toMatchObject({ status: 'active', expiresAt: chain.time + LIFETIME_MS - (a === a1 ? 1000 : 0) });
    }
    // the anonymous account is authorised to transact (its message is refused by the rule, not by admission)
    expect(chain.send(a1, { type: ANON_MSG.register, value: { commitment: '777' } }).code).toBe('ANON_NOT_MEMBER_ROLE');
  });

  it('a third account in the epoch is refused: slot 2 cannot be proved under the limit, and a proof claiming a larger limit does not verify', async () => {
    const a3 = fresh('a3');
    await expect(admission(alice, a3, 2)).rejects.toMatchObject({ code: 'ZK_WITNESS_FAILED' });
    refused(anonTx(a3, await admission(alice, a3, 2, { maxSlots: 3 })), 'ANON_PROOF_INVALID');
  });

  it('a reused nullifier is refused (slot 0 again, for another fresh key)', async () => {
    const a3 = fresh('a3b');
    refused(anonTx(a3, await admission(alice, a3, 0)), 'ANON_NULLIFIER_USED');
  });

  it('forged proofs are refused: another account\'s proof, a tampered point, garbage, a wrong epoch, an unknown root', async () => {
    const victim = fresh('victim');
    const b1Msg = await admission(bob, fresh('b1'), 0);
    refused(anonTx(victim, b1Msg), 'ANON_PROOF_INVALID'); // bound to b1's address, not the victim's
    const tampered = { ...b1Msg, proof: { ...(b1Msg.proof as object), c: (b1Msg.proof as { a: unknown }).a } };
    refused(anonTx(fresh('t'), tampered), 'ANON_PROOF_INVALID');
    refused(anonTx(fresh('g'), { ...b1Msg, proof: { a: ['1', '3'], b: [['0', '0'], ['0', '0']], c: ['1', '2'] } }), 'ANON_PROOF_MALFORMED');
    refused(anonTx(fresh('e'), { ...b1Msg, epoch: b1Msg.epoch + 1 }), 'ANON_EPOCH_MISMATCH');
    refused(anonTx(fresh('r'), { ...b1Msg, root: '42' }), 'ANON_ROOT_UNKNOWN');
    // an already admitted account cannot be admitted again (nor can a member admit its own key)
    refused(anonTx(bob, await admission(bob, bob, 1)), 'ANON_ACCOUNT_EXISTS');
  });

  it('a self-admission is signature-checked before its proof: a bad signature on a bad proof is TX_BAD_SIGNATURE', async () => {
    // A proof costs milliseconds to verify and an Ed25519 signature microseconds: a flood of junk
    // self-admissions must be refused at the cheap check. (For an admitted sender's ordinary
    // transaction the mempool asks the cheap registry check first.)
    const who = fresh('sig');
    const msg = await admission(carol, who, 1);
    const badProof = { ...msg, proof: { ...(msg.proof as object), c: (msg.proof as { a: unknown }).a } };
    const tx = anonTx(who, badProof);
    const badSig = { ...tx, signature: (tx.signature[0] === '0' ? '1' : '0') + tx.signature.slice(1) };
    expect(checkTx(badSig)).toBe('TX_BAD_SIGNATURE');
    expect(checkTx(tx)).toBe('ANON_PROOF_INVALID');
  });

  it('a recent root stays valid for rootWindowBlocks after a registration; a revocation ends every older root', async () => {
    const b2 = fresh('b2');
    const before = await admission(bob, b2, 0);
    ok(account('dave'), { type: ANON_MSG.register, value: { commitment: identityCommitment(randomFieldElement()).toString() } });
    expect(status().validRoots).toContain(before.root);
    expect(checkTx(anonTx(b2, before))).toBe('OK');
    // carol proves against the current root, then bob's registry account is revoked
    const c1 = fresh('c1');
    const carolBefore = await admission(carol, c1, 0);
    const bobsLeaves = leaves();
    ok(chain.operator, { type: 'registry/revoke', value: { address: bob.address, reason: 'left the community' } });
    expect(leaves()[1]).toBe('0');
    expect(status().validRoots).toEqual([status().currentRoot]);
    refused(anonTx(b2, before), 'ANON_ROOT_UNKNOWN');
    refused(anonTx(c1, carolBefore), 'ANON_ROOT_UNKNOWN');
    // bob cannot prove against the new root (no witness) nor use the old tree
    await expect(admission(bob, b2, 1)).rejects.toThrow(/not in the members' tree/);
    refused(anonTx(b2, await admission(bob, b2, 1, { leaves: bobsLeaves })), 'ANON_ROOT_UNKNOWN');
    // carol proves again against the new root
    expect(block([anonTx(c1, await admission(carol, c1, 0))])[0]).toMatchObject({ code: 'OK' });
  });

  it('nothing in state or events links an anonymous account to its member', () => {
    const memberMarks = [alice, bob, carol].flatMap((m) => [m.address, identityCommitment(secrets.get(m.address)!).toString()]);
    const anonAddresses = [a1.address, a2.address];
    const state = [...chain.storage.allState()];
    const mentioning = state.filter(([k, v]) => anonAddresses.some((a) => k.includes(a) || v.includes(a)));
    expect(mentioning.length).toBeGreaterThan(3);
    for (const [k, v] of mentioning) for (const mark of memberMarks) expect(`${k}=${v}`).not.toContain(mark);
    // and no state entry of a member names an anonymous account
    for (const [k, v] of state.filter(([k2, v2]) => memberMarks.some((m) => k2.includes(m) || v2.includes(m)))) for (const a of anonAddresses) expect(`${k}=${v}`).not.toContain(a);
    const events = results.flatMap((r) => r.events.map((e) => JSON.stringify(e)));
    const anonEvents = events.filter((e) => anonAddresses.some((a) => e.includes(a)));
    expect(anonEvents.length).toBeGreaterThanOrEqual(2);
    for (const e of anonEvents) for (const mark of memberMarks) expect(e).not.toContain(mark);
    // the nullifiers on the ledger differ per slot and are not the member's commitment
    const nullifiers = state.filter(([k]) => k.startsWith('anon/nullifier/')).map(([k]) => k.slice('anon/nullifier/'.length));
    expect(new Set(nullifiers).size).toBe(nullifiers.length);
    for (const n of nullifiers) expect(memberMarks).not.toContain(n);
  });

  it('an anonymous account expires after accountLifetimeMs: revoked by the end of block, refused at admission', () => {
    // an operator may revoke an anonymous account before its expiry (abuse); its member stays in the tree
    const before = leaves();
    ok(chain.operator, { type: 'registry/revoke', value: { address: a2.address, reason: 'abuse' } });
    expect(chain.store.get<{ status: string }>(`registry/account/${a2.address}`)).toMatchObject({ status: 'revoked' });
    expect(leaves()).toEqual(before);
    chain.block([], chain.time + LIFETIME_MS + 1000);
    expect(chain.query(anon, 'anonAccount', { address: a1.address }).account.status).toBe('expired');
    expect(chain.store.get<{ status: string; revokedBy: string }>(`registry/account/${a1.address}`)).toMatchObject({ status: 'revoked', revokedBy: 'module:anon' });
    expect(checkTx(chain.tx(a1, [{ type: ANON_MSG.register, value: { commitment: '5' } }]))).toBe('TX_SENDER_REVOKED');
  });
});

describe('the proof binds the chain', () => {
  it('the epoch field (and so every nullifier) differs per chain id and epoch', () => {
    expect(epochField('a', 0)).not.toBe(epochField('b', 0));
    expect(epochField('a', 0)).not.toBe(epochField('a', 1));
  });
});
