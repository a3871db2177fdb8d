import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { MODULES } from '../../src/modules/index.js';
import { LedgerError } from '../../src/util/errors.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

describe('typed client and OpenAPI from the route definitions', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode();
  });
  afterAll(async () => {
    await node.cleanup();
  });

  it('calls routes by name with typed inputs and surfaces API errors as LedgerError codes', async () => {
    const api = createClient(node.url, { ...coreRoutes, ...registryRoutes });
    const status = await api.status({});
    expect(status.chainId).toBe('test-chain');
    const account = await api.getAccount({ params: { address: node.init.admin } });
    expect(account.roles).toEqual(['operator']);
    const missing = await api.getTx({ params: { hash: 'ab'.repeat(32) }, query: { wait: 0 } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LedgerError);
    expect((missing as LedgerError).code).toBe('TX_NOT_FOUND');
    expect((missing as LedgerError).status).toBe(404);
  });

  it('documents every route of the core and of every module in /v1/openapi.json', async () => {
    const doc = (await (await fetch(`${node.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const documented = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)));
    const defined = [...Object.values(coreRoutes), ...MODULES.flatMap((m) => (m.surface.routes ?? []).map((r) => r.route))].map((r) => r.name);
    expect(defined.length).toBeGreaterThan(20);
    for (const name of defined) expect(documented, name).toContain(name);
  });
});
