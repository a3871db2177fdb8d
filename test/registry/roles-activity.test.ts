import { describe, expect, it } from 'vitest';
import { registrySurface } from '../../src/modules/registry/surface.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { readLog } from '../../src/modules/registry/state.js';
import { account, TestChain } from '../helpers/chain.js';

/** Issue 19 #14: role changes, a complete registry log, and accounts inactive for N days. */

const alice = account('alice');
const bob = account('bob');
const carol = account('carol');
const op2 = account('op2');
const DAY = 86_400_000;
const GENESIS = Date.UTC(2026, 5, 1);
const registry = { core: registryCore, surface: registrySurface };

function newChain() {
  return new TestChain({ genesisTime: GENESIS, accounts: { alice: ['consumer'], bob: ['prosumer'], carol: ['consumer'], op2: ['operator'] } });
}

const setRoles = (address: string, roles: string[], reason?: string) => ({ type: 'registry/set-roles', value: { address, roles, ...(reason ? { reason } : {}) } });
const registryState = (chain: TestChain) => JSON.stringify(chain.store.scan('registry/'));

describe('registry: role changes', () => {
  it('an operator replaces the roles of an admitted account in place, logged with the previous roles and the reason', () => {
    const chain = newChain();
    const res = chain.send(chain.operator, setRoles(alice.address, ['trader', 'prosumer'], 'installed PV'));
    expect(res.code).toBe('OK');
    expect(res.events.find((e) => e.type === 'registry.set_roles')?.attributes).toMatchObject({ roles: 'prosumer,trader', previous: 'consumer' });
    const acc = chain.query(registry, 'getAccount', { address: alice.address });
    expect(acc.roles).toEqual(['prosumer', 'trader']);
    expect(acc.account.admittedAt).toEqual({ height: 0, txHash: 'genesis' }); // not re-admitted
    const [entry] = readLog(chain.store, { address: alice.address, limit: 1 }).items;
    expect(entry).toMatchObject({ action: 'set-roles', roles: ['prosumer', 'trader'], previousRoles: ['consumer'], by: chain.operator.address, reason: 'installed PV' });
  });

  it.each([
    ['a non-operator', (c: TestChain) => c.send(bob, setRoles(alice.address, ['trader'])), 'REGISTRY_NOT_OPERATOR'],
    ['the operator role', (c: TestChain) => c.send(c.operator, setRoles(alice.address, ['operator'])), 'REGISTRY_OPERATOR_NEEDS_GOVERNANCE'],
    ['an operator account', (c: TestChain) => c.send(c.operator, setRoles(op2.address, ['consumer'])), 'REGISTRY_OPERATOR_NEEDS_GOVERNANCE'],
    ['unchanged roles', (c: TestChain) => c.send(c.operator, setRoles(alice.address, ['consumer'])), 'REGISTRY_ROLES_UNCHANGED'],
    ['an unknown account', (c: TestChain) => c.send(c.operator, setRoles(account('nobody').address, ['consumer'])), 'REGISTRY_NOT_ADMITTED'],
    [
      'a revoked account',
      (c: TestChain) => {
        expect(c.send(c.operator, { type: 'registry/revoke', value: { address: carol.address } }).code).toBe('OK');
        return c.send(c.operator, setRoles(carol.address, ['prosumer']));
      },
      'REGISTRY_NOT_ADMITTED',
    ],
  ])('refuses %s, changing nothing in the registry', (_name, act, code) => {
    const chain = newChain();
    const run = act as (c: TestChain) => { code: string };
    // The revoked-account row revokes first; compare against the state just before the refused message.
    const before = registryState(chain);
    const res = run(chain);
    expect(res.code).toBe(code);
    if (code !== 'REGISTRY_NOT_ADMITTED' || _name !== 'a revoked account') expect(registryState(chain)).toBe(before);
  });

  it('refuses malformed role changes at the message schema (bad-input rows)', () => {
    const chain = newChain();
    for (const value of [
      { address: alice.address, roles: [] },
      { address: alice.address, roles: ['king'] },
      { address: alice.address, roles: ['trader', 'trader'] },
      { address: 'alice', roles: ['trader'] },
      { address: alice.address, roles: ['trader'], reason: 'x'.repeat(257) },
      { address: alice.address, roles: ['trader'], extra: 1 },
    ]) {
      const before = registryState(chain);
      const res = chain.send(chain.operator, { type: 'registry/set-roles', value });
      expect(res.code, JSON.stringify(value)).toBe('MSG_INVALID');
      expect(registryState(chain)).toBe(before);
    }
  });
});

describe('registry: the log', () => {
  it('includes the genesis admissions (oldest last) and the reasons of revocations', () => {
    const chain = newChain();
    expect(chain.send(chain.operator, { type: 'registry/revoke', value: { address: bob.address, reason: 'moved out' } }).code).toBe('OK');
    const { entries } = chain.query(registry, 'registryLog', {}, { limit: '100' });
    expect(entries[0]).toMatchObject({ action: 'revoke', address: bob.address, reason: 'moved out' });
    const genesis = entries.filter((e: { txHash: string }) => e.txHash === 'genesis');
    // operator, validator-less genesis accounts: alice, bob, carol, op2 and the chain operator
    expect(genesis.map((e: { address: string }) => e.address).sort()).toEqual([alice.address, bob.address, carol.address, op2.address, chain.operator.address].sort());
    for (const e of genesis) expect(e).toMatchObject({ action: 'admit', by: 'genesis', height: 0 });
    expect(entries.slice(-genesis.length)).toEqual(genesis);
    expect(chain.query(registry, 'registryLog', {}, { address: alice.address, limit: '10' }).entries).toEqual([
      { action: 'admit', address: alice.address, roles: ['consumer'], by: 'genesis', height: 0, txHash: 'genesis' },
    ]);
  });
});

describe('registry: inactive accounts', () => {
  it('lists admitted accounts without a successful transaction for N days of block time', () => {
    const chain = newChain();
    // Day 10: alice transacts (a role change of nobody would fail; she sends a refused admit, which does not count) …
    expect(chain.send(alice, { type: 'registry/admit', value: { address: account('x').address, roles: ['consumer'] } }, GENESIS + 10 * DAY).code).toBe('REGISTRY_NOT_OPERATOR');
    // … the operator admits dave on day 20 (admission counts as activity) and revokes carol.
    const dave = account('dave');
    expect(chain.send(chain.operator, { type: 'registry/admit', value: { address: dave.address, roles: ['consumer'] } }, GENESIS + 20 * DAY).code).toBe('OK');
    expect(chain.send(chain.operator, { type: 'registry/revoke', value: { address: carol.address } }).code).toBe('OK');
    // Day 25: bob sends a transaction that commits OK (an empty message list would be malformed; a set-roles by bob fails, so op2 acts instead).
    expect(chain.send(op2, setRoles(bob.address, ['prosumer', 'trader']), GENESIS + 25 * DAY).code).toBe('OK');
    chain.block([], GENESIS + 30 * DAY);

    const inactive = (days: number, extra: Record<string, string> = {}) => chain.query(registry, 'inactiveAccounts', {}, { days: String(days), ...extra });
    const a15 = inactive(15);
    expect(a15.time).toBe(GENESIS + 30 * DAY);
    expect(a15.cutoff).toBe(GENESIS + 15 * DAY);
    // alice's only transaction was refused, so she is inactive since genesis; bob never sent one; carol is revoked; dave and op2 acted recently.
    expect(a15.accounts.map((a: { address: string }) => a.address).sort()).toEqual([alice.address, bob.address].sort());
    expect(a15.accounts.find((a: { address: string }) => a.address === alice.address).lastActive).toEqual({ height: 0, time: GENESIS });
    // 6 days: the operator (last active on day 20) is inactive, op2 (day 25) is not.
    expect(inactive(6).accounts.map((a: { address: string }) => a.address)).toContain(chain.operator.address);
    expect(inactive(6).accounts.map((a: { address: string }) => a.address)).not.toContain(op2.address);
    expect(inactive(31).accounts).toEqual([]);
    expect(inactive(15, { role: 'consumer' }).accounts.map((a: { address: string }) => a.address)).toEqual([alice.address]);
    // Pages: limit 1 gives `next`, and the next page continues after it.
    const p1 = inactive(15, { limit: '1' });
    expect(p1.accounts).toHaveLength(1);
    const p2 = inactive(15, { limit: '1', after: p1.next });
    expect([...p1.accounts, ...p2.accounts].map((a: { address: string }) => a.address).sort()).toEqual([alice.address, bob.address].sort());
  });

  it('refuses bad queries', () => {
    const chain = newChain();
    for (const q of [{}, { days: '0' }, { days: '-1' }, { days: '1.5' }, { days: 'x' }, { days: '1', role: 'king' }, { days: '1', limit: '501' }, { days: '1', after: 'nope' }]) {
      expect(() => chain.query(registry, 'inactiveAccounts', {}, q)).toThrow();
    }
  });
});
