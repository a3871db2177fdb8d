import { describe, expect, it } from 'vitest';
import type { ValidatorInfo } from '../../src/app/host.js';
import { makeEvidence, voteSignBytes, type Evidence, type UnsignedVote, type Vote } from '../../src/consensus/index.js';
import type { Msg } from '../../src/codec/tx.js';
import { registry } from '../../src/modules/registry/index.js';
import { toHex } from '../../src/util/bytes.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

/**
 * Issue 9 #9: committed evidence jails the equivocator — power 0 two heights after the block, by the
 * governance step rule (a jail that would take more than a third of the power waits and is retried
 * every block); evidence is committed once; operators reinstate by governance.
 */

const v2 = account('jail-v2');
const v3 = account('jail-v3');
const v4 = account('jail-v4');

function setValidator(id: string, who: TestAccount, power: string): Msg {
  return { type: 'registry/propose', value: { id, action: { kind: 'set-validator', address: who.address, pubKey: who.publicKey, power } } };
}

function vote(who: TestAccount, chainId: string, height: number, blockHash: string | null): Vote {
  const unsigned: UnsignedVote = { chainId, type: 'prevote', height, round: 0, blockHash, timestamp: 1, validator: who.address };
  return { ...unsigned, signature: toHex(who.signer.sign(voteSignBytes(unsigned))) };
}

function equivocation(chain: TestChain, who: TestAccount, height: number): Evidence {
  return makeEvidence(vote(who, chain.chainId, height, 'aa'.repeat(32)), vote(who, chain.chainId, height, null));
}

function powers(set: readonly ValidatorInfo[]): Record<string, string> {
  return Object.fromEntries(set.map((v) => [v.address, v.power]));
}

/** {validator 10, v2 4, v3 6, v4 9}: each added in its own allowed step. */
function fourValidators(): TestChain {
  const chain = new TestChain();
  for (const [who, power] of [[v2, '4'], [v3, '6'], [v4, '9']] as const) {
    expect(chain.send(chain.operator, setValidator(`add-${who.name}`, who, power)).code).toBe('OK');
    chain.block([]);
    chain.block([]);
  }
  expect(Object.keys(powers(chain.validators))).toHaveLength(4);
  return chain;
}

describe('jailing on committed evidence', () => {
  it('an equivocator loses its power two heights after the block that commits the evidence', () => {
    const chain = fourValidators();
    const at = chain.app.height + 1;
    chain.block([], undefined, [equivocation(chain, v2, at - 3)]);
    expect(chain.query(registry, 'listJails').jails).toEqual([
      { address: v2.address, offence: { height: at - 3, round: 0, vote: 'prevote', committedAt: at }, offences: 1, status: 'jailed', effectiveHeight: at + 2 },
    ]);
    expect(powers(chain.validators)[v2.address]).toBe('4'); // the set deciding at+1 is fixed already
    chain.block([]);
    expect(powers(chain.validators)[v2.address]).toBeUndefined(); // deciding at+2
    expect(chain.query(registry, 'listValidators').validators.map((v: { address: string }) => v.address)).not.toContain(v2.address);
  });

  it('a jail the step rule forbids waits, and is scheduled once the set allows it', () => {
    const chain = fourValidators();
    const at = chain.app.height + 1;
    // v2 (4 of 29) may go; v3 (6) on top would take 10 of 29, more than a third: it waits.
    chain.block([], undefined, [equivocation(chain, v2, at - 1), equivocation(chain, v3, at - 1)]);
    const jails = () => Object.fromEntries(chain.query(registry, 'listJails').jails.map((j: { address: string }) => [j.address, j]));
    expect(jails()[v2.address]).toMatchObject({ status: 'jailed', effectiveHeight: at + 2 });
    expect(jails()[v3.address]).toMatchObject({ status: 'pending', waiting: 'GOV_POWER_LOSS_TOO_LARGE' });
    // Block at+1 fixes the set deciding at+2, which no longer has v2: from there v3 (6 of 25) may go, at at+3.
    chain.block([]);
    expect(jails()[v3.address]).toMatchObject({ status: 'jailed', effectiveHeight: at + 3 });
    expect(jails()[v3.address].waiting).toBeUndefined();
    chain.block([]);
    chain.block([]);
    expect(Object.keys(powers(chain.validators)).sort()).toEqual([chain.validator.address, v4.address].sort());
  });

  it('the last validator is never jailed away (the chain stays live); its jail waits', () => {
    const chain = new TestChain();
    chain.block([], undefined, [equivocation(chain, chain.validator, 1)]);
    for (let i = 0; i < 3; i++) chain.block([]);
    expect(chain.query(registry, 'listJails').jails[0]).toMatchObject({ status: 'pending', waiting: 'GOV_LAST_VALIDATOR' });
    expect(chain.validators).toHaveLength(1);
  });

  it('further offences are counted on the same jail; a non-validator is not jailed', () => {
    const chain = fourValidators();
    const h = chain.app.height;
    chain.block([], undefined, [equivocation(chain, v2, h - 1)]);
    chain.block([], undefined, [equivocation(chain, v2, h), equivocation(chain, account('jail-stranger'), h)]);
    const jails = chain.query(registry, 'listJails').jails;
    expect(jails).toHaveLength(1);
    expect(jails[0]).toMatchObject({ address: v2.address, offences: 2 });
  });

  it('governance reinstating the validator ends its jail', () => {
    const chain = fourValidators();
    chain.block([], undefined, [equivocation(chain, v2, chain.app.height)]);
    chain.block([]);
    chain.block([]);
    expect(powers(chain.validators)[v2.address]).toBeUndefined();
    expect(chain.send(chain.operator, setValidator('reinstate-v2', v2, '4')).code).toBe('OK');
    expect(chain.query(registry, 'listJails').jails).toEqual([]);
    chain.block([]);
    chain.block([]);
    expect(powers(chain.validators)[v2.address]).toBe('4');
  });
});

describe('evidence in blocks (host rules)', () => {
  it('an equivocation is committed once: a block repeating it is invalid (BLOCK_EVIDENCE_COMMITTED), nothing applied', () => {
    const chain = fourValidators();
    const ev = equivocation(chain, v2, 3);
    chain.block([], undefined, [ev]);
    const root = chain.stateRoot;
    const height = chain.app.height;
    expect(() => chain.block([], undefined, [ev])).toThrow(expect.objectContaining({ code: 'BLOCK_EVIDENCE_COMMITTED' }));
    // The same equivocation proven by another pair of votes is the same offence.
    const again = makeEvidence(vote(v2, chain.chainId, 3, 'aa'.repeat(32)), vote(v2, chain.chainId, 3, 'bb'.repeat(32)));
    expect(() => chain.block([], undefined, [again])).toThrow(expect.objectContaining({ code: 'BLOCK_EVIDENCE_COMMITTED' }));
    expect(() => chain.block([], undefined, [ev, ev].slice(1).concat(equivocation(chain, v3, 4), equivocation(chain, v3, 4)))).toThrow(expect.objectContaining({ code: 'BLOCK_EVIDENCE_COMMITTED' }));
    expect(chain.stateRoot).toBe(root);
    expect(chain.app.height).toBe(height);
  });

  it('evidence the block cannot explain is refused (BLOCK_EVIDENCE_INVALID)', () => {
    const chain = new TestChain();
    const prev = chain.storage.getBlock(0);
    expect(() =>
      chain.app.executeBlock({ height: 1, time: chain.time + 1, proposer: chain.validator.address, prevHash: prev?.hash ?? '00'.repeat(32), txs: [], lastCommit: null, evidence: [{}], validators: chain.validators }),
    ).toThrow(expect.objectContaining({ code: 'BLOCK_EVIDENCE_INVALID' }));
  });
});
