import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { listValidators } from '../../src/modules/registry/state.js';
import { account, TestChain } from '../helpers/chain.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const newValidator = account('new-validator');
const op2 = account('op2');
const op3 = account('op3');
const outsider = account('outsider');

function registryState(chain: TestChain): string {
  return JSON.stringify(chain.store.scan('registry/'));
}

function setValidator(id: string, power: string, who = newValidator) {
  return { type: 'registry/propose', value: { id, action: { kind: 'set-validator', address: who.address, pubKey: who.publicKey, power } } };
}

describe('governance of the validator set', () => {
  it('executes at the threshold and changes the set two heights after the approving block', () => {
    const chain = new TestChain({ accounts: { op2: ['operator'], op3: ['operator'], outsider: ['consumer'] } });
    expect(chain.send(chain.operator, setValidator('add-v', '4')).code).toBe('OK');
    const open = chain.store.get<{ status: string; approvals: string[]; threshold: number }>('registry/proposal/add-v')!;
    expect(open.status).toBe('open');
    expect(open.threshold).toBe(2); // majority of 3 operators
    const approved = chain.send(op2, { type: 'registry/approve', value: { id: 'add-v' } });
    expect(approved.code).toBe('OK');
    const approvedAt = chain.app.height;
    const executed = chain.store.get<{ status: string; executedAt: { effectiveHeight: number } }>('registry/proposal/add-v')!;
    expect(executed.status).toBe('executed');
    expect(executed.executedAt.effectiveHeight).toBe(approvedAt + 2);
    // Not yet in the set after the approving block …
    expect(listValidators(chain.store).map((v) => v.address)).not.toContain(newValidator.address);
    chain.block([]);
    // … but in state after the next block, so the set deciding approvedAt + 2 includes it.
    expect(listValidators(chain.store).find((v) => v.address === newValidator.address)?.power).toBe('4');
  });

  it('rejects each invalid governance step with its own code and leaves registry state unchanged', () => {
    const chain = new TestChain({ accounts: { op2: ['operator'], op3: ['operator'], outsider: ['consumer'] } });
    expect(chain.send(chain.operator, setValidator('p1', '4')).code).toBe('OK');
    const cases: Array<[ReturnType<typeof account>, unknown, string]> = [
      [outsider, setValidator('p2', '5'), 'REGISTRY_NOT_OPERATOR'],
      [chain.operator, setValidator('p1', '7'), 'GOV_PROPOSAL_EXISTS'],
      [chain.operator, { type: 'registry/approve', value: { id: 'p1' } }, 'GOV_ALREADY_APPROVED'],
      [op2, { type: 'registry/approve', value: { id: 'nope' } }, 'GOV_UNKNOWN_PROPOSAL'],
      [chain.operator, { type: 'registry/propose', value: { id: 'p3', action: { kind: 'set-validator', address: outsider.address, pubKey: newValidator.publicKey, power: '1' } } }, 'GOV_VALIDATOR_KEY_MISMATCH'],
      [chain.operator, setValidator('p4', '0', chain.validator), 'GOV_LAST_VALIDATOR'],
      [chain.operator, setValidator('p5', '0', outsider), 'GOV_NOT_A_VALIDATOR'],
      [chain.operator, { type: 'registry/propose', value: { id: 'p6', action: { kind: 'add-operator', address: op2.address } } }, 'GOV_ALREADY_OPERATOR'],
      [chain.operator, { type: 'registry/propose', value: { id: 'p7', action: { kind: 'remove-operator', address: outsider.address } } }, 'GOV_NOT_OPERATOR'],
      [chain.operator, setValidator('p8', '99999999999999999999'), 'MSG_INVALID'],
    ];
    for (const [from, msg, code] of cases) {
      const before = registryState(chain);
      const result = chain.send(from, msg as never);
      expect(result.code, JSON.stringify(msg)).toBe(code);
      expect(registryState(chain)).toBe(before);
    }
  });

  it('adds and removes operators by governance, never the last one', () => {
    const chain = new TestChain({ accounts: { op2: ['operator'] } });
    // Two operators: the threshold is both.
    expect(chain.send(chain.operator, { type: 'registry/propose', value: { id: 'add-op3', action: { kind: 'add-operator', address: op3.address } } }).code).toBe('OK');
    expect(chain.store.get<{ status: string }>('registry/proposal/add-op3')!.status).toBe('open');
    expect(chain.send(op2, { type: 'registry/approve', value: { id: 'add-op3' } }).code).toBe('OK');
    expect(chain.store.get<{ roles: string[] }>(`registry/account/${op3.address}`)!.roles).toContain('operator');
    // op3 can now act as an operator.
    expect(chain.send(op3, { type: 'registry/admit', value: { address: outsider.address, roles: ['consumer'] } }).code).toBe('OK');
  });
});

describe('validator-set change on a running node', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('the consensus set includes the new validator from two heights after approval', async () => {
    // Power 1 next to the node's 10: the single running validator still holds > 2/3.
    const tx = await node.signedTx('admin', [setValidator('add-v', '1') as never]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    const res = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    expect(res.result?.code).toBe('OK');
    const approvedAt = res.height!;
    const gridNode = node.running.node;
    expect(gridNode.valsetAt(approvedAt + 1).has(newValidator.address)).toBe(false);
    // Wait until height approvedAt + 1 is committed, which fixes the set of approvedAt + 2.
    const filler = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: outsider.address, roles: ['consumer'] } }]);
    const f = await node.call(coreRoutes.submitTx, { body: filler });
    await node.call(coreRoutes.getTx, { params: { hash: f.hash }, query: { wait: 30 } });
    expect(gridNode.height).toBeGreaterThanOrEqual(approvedAt + 1);
    const next = gridNode.valsetAt(approvedAt + 2);
    expect(next.get(newValidator.address)?.power).toBe(1n);
    const validators = await node.call(registryRoutes.listValidators, {});
    expect(validators.validators.map((v) => v.address)).toContain(newValidator.address);
  });
});
