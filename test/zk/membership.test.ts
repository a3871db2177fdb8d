import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityCommitment, MEMBERSHIP_MAX_SLOTS, membershipNullifier, membershipPublicInputs, signalHashForAddress } from '../../src/zk/circuits.js';
import { SCALAR_FIELD_MODULUS } from '../../src/zk/field.js';
import { PoseidonMerkleTree } from '../../src/zk/merkle.js';
import { closeProver, proveCircuit, proveMembership, randomFieldElement, type MembershipWitness, type ProofBundle } from '../../src/zk/prove.js';
import { bothVerdicts } from './helpers.js';

// Four members; the prover is member 2. Membership proofs take about a second each here, so the
// file makes few of them and checks most rejections against the one valid proof.
const secrets = [randomFieldElement(), randomFieldElement(), randomFieldElement(), randomFieldElement()];
const tree = new PoseidonMerkleTree();
for (const s of secrets) tree.insert(identityCommitment(s));
const ME = 2;
const ACCOUNT = 'grid1anonymousaccountaddressforthetest0';
const base: MembershipWitness = { secret: secrets[ME]!, path: tree.path(ME), epoch: 20_250n, slotIndex: 1n, maxSlots: 2n, signalHash: signalHashForAddress(ACCOUNT) };
let valid: ProofBundle;

beforeAll(async () => {
  valid = await proveMembership(base);
});
afterAll(closeProver);

const noWitness = expect.objectContaining({ code: 'ZK_WITNESS_FAILED' });

function inputsWith(o: Partial<Parameters<typeof membershipPublicInputs>[0]>): string[] {
  return membershipPublicInputs({ root: tree.root, nullifier: membershipNullifier(base.secret, base.epoch, base.slotIndex), epoch: base.epoch, maxSlots: base.maxSlots, signalHash: base.signalHash, ...o });
}

describe('membership circuit', () => {
  it('a member proves membership: valid for both verifiers, public inputs as the ledger rebuilds them', async () => {
    expect(valid.publicInputs).toEqual(inputsWith({}));
    expect(await bothVerdicts('membership', valid.proof, valid.publicInputs)).toEqual(['valid', true]);
  });

  it('a wrong root (another tree, or this tree after a revocation) is rejected by both', async () => {
    const other = new PoseidonMerkleTree();
    other.insert(identityCommitment(secrets[0]!));
    expect(await bothVerdicts('membership', valid.proof, inputsWith({ root: other.root }))).toEqual(['invalid', false]);
    const later = new PoseidonMerkleTree();
    for (const s of secrets) later.insert(identityCommitment(s));
    later.remove(ME);
    expect(later.root).not.toBe(tree.root);
    expect(await bothVerdicts('membership', valid.proof, inputsWith({ root: later.root }))).toEqual(['invalid', false]);
  });

  it('a revoked member cannot prove against the new root; a non-member cannot prove at all', async () => {
    const later = new PoseidonMerkleTree();
    for (const s of secrets) later.insert(identityCommitment(s));
    later.remove(ME);
    await expect(proveMembership({ ...base, path: later.path(ME) })).rejects.toThrow(noWitness);
    await expect(proveMembership({ ...base, secret: randomFieldElement() })).rejects.toThrow(noWitness);
  });

  it('the signal (the new account) is bound: another signal hash is rejected by both', async () => {
    expect(await bothVerdicts('membership', valid.proof, inputsWith({ signalHash: signalHashForAddress('grid1someoneelse') }))).toEqual(['invalid', false]);
  });

  it('the epoch, slot limit and nullifier are bound', async () => {
    for (const o of [{ epoch: base.epoch + 1n }, { maxSlots: 3n }, { nullifier: membershipNullifier(base.secret, base.epoch, 0n) }]) {
      expect(await bothVerdicts('membership', valid.proof, inputsWith(o))).toEqual(['invalid', false]);
    }
  });

  it('a second proof for the same member, epoch and slot carries the same nullifier (the ledger refuses the reuse)', async () => {
    const again = await proveMembership({ ...base, signalHash: signalHashForAddress('grid1asecondaccount') });
    expect(again.publicInputs[1]).toBe(valid.publicInputs[1]);
    expect(await bothVerdicts('membership', again.proof, again.publicInputs)).toEqual(['valid', true]);
    // Other slots and epochs give other nullifiers: at most maxSlots distinct ones per member and epoch.
    const nullifiers = new Set([0n, 1n].flatMap((slot) => [base.epoch, base.epoch + 1n].map((epoch) => membershipNullifier(base.secret, epoch, slot))));
    expect(nullifiers.size).toBe(4);
  });

  it('a slot index ≥ maxSlots cannot be proved (nor maxSlots beyond 16 bits)', async () => {
    await expect(proveMembership({ ...base, slotIndex: 2n })).rejects.toThrow(noWitness);
    await expect(proveMembership({ ...base, slotIndex: 5n, maxSlots: 2n })).rejects.toThrow(noWitness);
    // Wrap-around: slot ≡ −1 in the field is not "below" maxSlots.
    await expect(proveMembership({ ...base, slotIndex: SCALAR_FIELD_MODULUS - 1n })).rejects.toThrow(noWitness);
    await expect(proveMembership({ ...base, slotIndex: MEMBERSHIP_MAX_SLOTS + 1n, maxSlots: MEMBERSHIP_MAX_SLOTS + 2n })).rejects.toThrow(noWitness);
  });

  it('a claimed nullifier other than Poseidon(secret, Poseidon(epoch, slot)) has no witness', async () => {
    const input = {
      root: tree.root,
      nullifier: membershipNullifier(base.secret, base.epoch, 0n),
      epoch: base.epoch,
      maxSlots: base.maxSlots,
      signalHash: base.signalHash,
      secret: base.secret,
      slotIndex: base.slotIndex,
      leafIndex: BigInt(ME),
      siblings: base.path.siblings,
    };
    await expect(proveCircuit('membership', input)).rejects.toThrow(noWitness);
  });
});
