import { describe, expect, it } from 'vitest';
import { Overlay } from '../../src/app/state.js';
import { propose } from '../../src/modules/registry/governance.js';
import type { RegistryContext } from '../../src/modules/registry/rules.js';
import { accountPage, isActive, type Account } from '../../src/modules/registry/state.js';
import type { Msg } from '../../src/codec/tx.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';
import { countingStore } from '../helpers/counting-store.js';
import { collectPages } from '../helpers/pages.js';
import { registry } from '../../src/modules/registry/index.js';

/**
 * Registry state version 2 (ADR 0029): the admitted operators are kept as a set
 * (`registry/operator/<address>`), written only where the operator role changes — genesis and
 * governance — so a governance proposal or approval counts operators without reading every account
 * (version 1 reads them all: with a million meter accounts, every validator would read a million
 * rows for one approval), and a list of operators is an exact page.
 */

const op2 = account('op2');
const op3 = account('op3');
const CONSUMERS = 1_000;

const proposeMsg = (id: string, action: Record<string, unknown>): Msg => ({ type: 'registry/propose', value: { id, action } });
const approveMsg = (id: string): Msg => ({ type: 'registry/approve', value: { id } });

/** The operator set as version 2 keeps it must be the operators among the accounts. */
function checkOperatorSet(chain: TestChain): string[] {
  const derived = chain.store.scan<Account>('registry/account/').filter(([, a]) => isActive(a, 'operator')).map(([, a]) => a.address);
  const kept = chain.store.scan<string>('registry/operator/').map(([, a]) => a);
  expect(kept).toEqual(derived);
  return kept;
}

const comparable = (chain: TestChain) => [...chain.storage.allState()].filter(([k]) => !k.startsWith('registry/operator/') && k !== 'kernel/state-version/registry');

/** Rows of accounts and of the operator set a proposal's execution reads, on the committed state. */
function proposalReads(chain: TestChain, stateVersion: number) {
  const reads = countingStore(new Overlay(chain.storage));
  const ctx = { store: reads.store, params: { governanceThreshold: 0 }, stateVersion, sender: chain.operator.address, height: chain.app.height + 1, time: chain.time, txHash: 'ab'.repeat(32), msgIndex: 0, emit: () => {} } as unknown as RegistryContext;
  propose(ctx, { id: 'count', action: { kind: 'add-operator', address: op3.address } });
  return reads;
}

function manyAccounts(stateVersions?: Record<string, number>): TestChain {
  const accounts: Record<string, string[]> = { op2: ['operator'] };
  for (let i = 0; i < CONSUMERS; i++) accounts[`consumer-${i}`] = ['consumer'];
  return new TestChain({ accounts, ...(stateVersions ? { stateVersions } : {}) });
}

describe('registry state version 2: the operator set', () => {
  it('is kept at genesis and by governance, and version 2 computes what version 1 computes', () => {
    const v1 = new TestChain({ accounts: { op2: ['operator'], outsider: ['consumer'] }, stateVersions: {} });
    const v2 = new TestChain({ accounts: { op2: ['operator'], outsider: ['consumer'] } });
    expect(checkOperatorSet(v2)).toHaveLength(2);
    const steps: Array<[(c: TestChain) => TestAccount, Msg, string]> = [
      [(c) => c.operator, proposeMsg('add-op3', { kind: 'add-operator', address: op3.address }), 'OK'],
      [() => op2, approveMsg('add-op3'), 'OK'],
      [(c) => c.operator, proposeMsg('again', { kind: 'add-operator', address: op3.address }), 'GOV_ALREADY_OPERATOR'],
      [(c) => c.operator, proposeMsg('rm-op2', { kind: 'remove-operator', address: op2.address }), 'OK'],
      [() => op3, approveMsg('rm-op2'), 'OK'], // threshold of 3 operators: 2
      [() => op2, proposeMsg('late', { kind: 'add-operator', address: op2.address }), 'REGISTRY_NOT_OPERATOR'],
      [(c) => c.operator, proposeMsg('rm-op3', { kind: 'remove-operator', address: op3.address }), 'OK'],
      [() => op3, approveMsg('rm-op3'), 'OK'],
      [(c) => c.operator, proposeMsg('rm-last', { kind: 'remove-operator', address: v1.operator.address }), 'GOV_LAST_OPERATOR'],
    ];
    for (const [who, msg, code] of steps) {
      expect(v1.send(who(v1), msg).code).toBe(code);
      expect(v2.send(who(v2), msg).code).toBe(code);
      expect(comparable(v2)).toEqual(comparable(v1));
      checkOperatorSet(v2);
      expect(v1.store.scan('registry/operator/')).toEqual([]);
    }
    expect(checkOperatorSet(v2)).toEqual([v2.operator.address]);
  });

  it('a proposal reads the operator set, not every account', () => {
    const v2 = manyAccounts();
    const v1 = manyAccounts({});
    const r2 = proposalReads(v2, 2);
    expect(r2.rows('registry/account')).toBeLessThan(5); // the proposer and the proposed operator
    expect(r2.rows('registry/operator')).toBe(2);
    const r1 = proposalReads(v1, 1);
    expect(r1.rows('registry/account')).toBeGreaterThan(CONSUMERS);
  });

  it('accounts by role operator: an exact page from the set, one point read per operator', () => {
    const chain = manyAccounts();
    const reads = countingStore(new Overlay(chain.storage));
    const first = accountPage(reads.store, { role: 'operator', limit: 1 }, 2);
    expect(first.items.map((a) => a.address)).toEqual([checkOperatorSet(chain)[0]]);
    expect(first.next).toBeDefined();
    const second = accountPage(reads.store, { role: 'operator', limit: 1, after: first.next! }, 2);
    expect(second.items.map((a) => a.address)).toEqual([checkOperatorSet(chain)[1]]);
    expect(second.next).toBeUndefined();
    expect(reads.rows()).toBeLessThan(8);
  });

  it('reaches a running chain by a governed migration, and is kept from then on', () => {
    const chain = manyAccounts({});
    const at = chain.app.height + 3;
    expect(chain.send(chain.operator, proposeMsg('v2', { kind: 'migrate-module', module: 'registry', stateVersion: 2, height: at })).code).toBe('OK');
    expect(chain.send(op2, approveMsg('v2')).code).toBe('OK'); // two operators: both approve
    while (chain.app.height + 1 < at) chain.block([]);
    expect(chain.store.get('kernel/state-version/registry')).toEqual({ version: 2 });
    expect(checkOperatorSet(chain)).toHaveLength(2);
    expect(chain.send(chain.operator, proposeMsg('add-op3', { kind: 'add-operator', address: op3.address })).code).toBe('OK');
    expect(chain.send(op2, approveMsg('add-op3')).code).toBe('OK');
    expect(checkOperatorSet(chain)).toHaveLength(3);
  });
});

describe('accounts by a role few hold, through the node query index (ADR 0029 point 1)', () => {
  it('follow admissions, role changes and revocations; the answers equal the bounded scan, in full pages', () => {
    const names = Array.from({ length: 12 }, (_, i) => `rare-${i}`);
    const chain = new TestChain({ accounts: Object.fromEntries([...names.map((n, i) => [n, i % 3 === 0 ? ['auditor'] : ['consumer']]), ...Array.from({ length: 40 }, (_, i) => [`plain-${i}`, ['consumer']])]) });
    const list = (role: string, indexed: boolean) =>
      collectPages((after) => {
        const page = chain.query(registry, 'listAccounts', {}, { role, limit: '2', ...(after ? { after } : {}) }, { queryIndexes: indexed }) as { accounts: Account[]; next?: string };
        return { items: page.accounts.map((a) => a.address), next: page.next };
      });
    const check = () => {
      for (const role of ['auditor', 'issuer', 'operator', 'consumer']) {
        const viaIndex = list(role, true);
        expect(viaIndex.items, role).toEqual(list(role, false).items);
        if (role !== 'consumer') expect(viaIndex.sizes.slice(0, -1).every((n) => n === 2), `${role}: ${viaIndex.sizes}`).toBe(true);
      }
    };
    check();
    expect(list('auditor', true).items).toHaveLength(4);
    const setRoles = (name: string, roles: string[]): Msg => ({ type: 'registry/set-roles', value: { address: account(name).address, roles } });
    expect(chain.send(chain.operator, [setRoles('rare-0', ['consumer']), setRoles('rare-1', ['issuer', 'consumer']), { type: 'registry/revoke', value: { address: account('rare-3').address } }]).code).toBe('OK');
    check();
    expect(list('auditor', true).items).toHaveLength(3); // rare-3 revoked keeps its role; rare-0 lost it
    expect(list('issuer', true).items).toEqual([account('rare-1').address]);
  });
});
