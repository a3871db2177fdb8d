import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { Kernel } from '../../src/app/kernel.js';
import type { Genesis } from '../../src/app/module.js';
import type { StateProof } from '../../src/app/state-proof.js';
import type { BlockHeader, Commit } from '../../src/codec/block.js';
import { paths } from '../../src/home/home.js';
import { LightClient, trustFromGenesis } from '../../src/light/client.js';
import { checkSameAnswer, replayQuery, verifySignedHeader, type SignedHeader } from '../../src/light/verify.js';
import { MODULES } from '../../src/modules/index.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { lightRoutes } from '../../src/surface/prove.js';
import { account } from '../helpers/chain.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const kernel = new Kernel(MODULES.map((m) => m.core));
const registry = MODULES.find((m) => m.core.name === 'registry')!;
const routeEntry = (name: string) => registry.surface.routes!.find((r) => r.route.name === name)!;

let admitted = 0;
/** Commits `n` blocks (an idle node makes a block only every 30 s): one admission each, waited for. */
async function advance(node: TestNode, n: number): Promise<number> {
  let height = 0;
  for (let i = 0; i < n; i++) {
    const who = account(`light-filler-${admitted++}`);
    const tx = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: who.address, roles: ['consumer'] } }]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    const done = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 20 } });
    if (done.result?.code !== 'OK') throw new Error(`filler admission failed: ${done.result?.code}`);
    height = done.height!;
  }
  return height;
}

type Proven = { height: number; value: unknown; proof: SignedHeader & { state: StateProof } };

describe('proofs in the API and the light client on a running node', () => {
  let node: TestNode;
  let genesis: Genesis;
  beforeAll(async () => {
    node = await startTestNode();
    genesis = JSON.parse(readFileSync(paths(node.home).genesis, 'utf8')) as Genesis;
    await advance(node, 2);
  });
  afterAll(async () => {
    await node.cleanup();
  });

  const accountQuery = (address: string) => ({ params: { address }, query: {} });
  const replayOf = (name: string, address: string) => ({ kernel, module: 'registry', route: routeEntry(name), input: { params: { address }, query: {}, body: undefined } });

  it('answers ?prove=true with the value, the header, the commit, the validators and a state proof; without it as before', async () => {
    const plain = await node.call(registryRoutes.getAccount, { params: { address: node.init.admin } });
    const proven = (await callRoute(node.url, registryRoutes.getAccount, { params: { address: node.init.admin }, query: { prove: 'true' } } as never)) as unknown as Proven;
    expect(proven.value).toEqual(plain);
    expect(proven.proof.header.height).toBe(proven.height);
    expect(proven.proof.commit.blockHash).toBeDefined();
    expect(proven.proof.state.entries.some((e) => e.key === `registry/account/${node.init.admin}`)).toBe(true);
    verifySignedHeader(proven.proof, 'test-chain');
    checkSameAnswer(proven.value, await replayQuery(proven.proof.header, proven.proof.state, replayOf('getAccount', node.init.admin)));
  });

  it('follows the chain from genesis through a validator-set change and verifies a query after it', async () => {
    const client = new LightClient({ nodeUrl: node.url, trusted: trustFromGenesis(genesis) });
    const before = await client.query(registryRoutes.getAccount, accountQuery(node.init.admin), replayOf('getAccount', node.init.admin));
    expect((before.value as { roles: string[] }).roles).toEqual(['operator']);
    const added = account('light-new-validator');
    const tx = await node.signedTx('admin', [{ type: 'registry/propose', value: { id: 'add-light-v', action: { kind: 'set-validator', address: added.address, pubKey: added.publicKey, power: '1' } } }]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    const committed = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 20 } });
    expect(committed.result?.code).toBe('OK');
    await advance(node, 3);
    const after = await client.query(registryRoutes.listValidators, { query: {} }, { kernel, module: 'registry', route: routeEntry('listValidators'), input: { params: undefined, query: {}, body: undefined } });
    expect((after.value as { validators: Array<{ address: string }> }).validators.map((v) => v.address)).toContain(added.address);
    // the client now trusts the new set
    expect(client.trusted.height).toBeGreaterThan(committed.height! + 2);
    expect(client.trusted.nextValidators.map((v) => v.address)).toContain(added.address);
  });

  it('rejects a commit with too little power, a changed value, a proof for another root and a header that is not the signed one', async () => {
    const proven = (await callRoute(node.url, registryRoutes.getAccount, { params: { address: node.init.admin }, query: { prove: 'true' } } as never)) as unknown as Proven;
    const unsigned = structuredClone(proven.proof);
    (unsigned.commit as { signatures: Commit['signatures'] }).signatures = [];
    expect(() => verifySignedHeader(unsigned, 'test-chain')).toThrow(expect.objectContaining({ code: 'LIGHT_COMMIT_INVALID' }));
    const otherRoot = structuredClone(proven.proof);
    (otherRoot.header as BlockHeader).stateRoot = 'ab'.repeat(32);
    expect(() => verifySignedHeader(otherRoot, 'test-chain')).toThrow(expect.objectContaining({ code: 'LIGHT_HEADER_INVALID' }));
    await expect(replayQuery(otherRoot.header, proven.proof.state, replayOf('getAccount', node.init.admin))).rejects.toMatchObject({ code: 'PROOF_INVALID' });
    const changed = structuredClone(proven.proof.state);
    const entry = changed.entries.find((e) => e.key.startsWith('registry/account/'))!;
    entry.value = entry.value.replace('operator', 'consumer');
    await expect(replayQuery(proven.proof.header, changed, replayOf('getAccount', node.init.admin))).rejects.toMatchObject({ code: 'PROOF_INVALID' });
    expect(() => checkSameAnswer({ ...(proven.value as object), roles: ['consumer'] }, proven.value)).toThrow(expect.objectContaining({ code: 'LIGHT_ANSWER_MISMATCH' }));
    // a proof for another key does not answer this query
    await expect(replayQuery(proven.proof.header, proven.proof.state, replayOf('getAccount', account('light-filler-0').address))).rejects.toMatchObject({ code: 'PROOF_INCOMPLETE' });
    const light = (await callRoute(node.url, lightRoutes.signedHeader, { params: { height: proven.height } })) as unknown as SignedHeader;
    expect(light.header).toEqual(proven.proof.header);
  });
});
