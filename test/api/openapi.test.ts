import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { txSignBytes, txHash } from '../../src/codec/tx.js';
import { verifySignature } from '../../src/crypto/ed25519.js';
import { fromHexStrict, toHex } from '../../src/util/bytes.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { signingExample } from '../../src/runtime/openapi-docs.js';
import { findCatalogues } from '../../scripts/errors-doc.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { startLimitServer } from './limits-helpers.js';

interface Doc {
  info: { description: string };
  paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { description: string }> }>>;
  components: { schemas: Record<string, { oneOf?: { $ref: string }[]; properties?: Record<string, { const?: string }>; examples?: unknown[] }> };
}

describe('OpenAPI document of a running node', () => {
  let node: TestNode;
  let doc: Doc;
  beforeAll(async () => {
    node = await startTestNode();
    doc = (await (await fetch(`${node.url}/v1/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => node?.cleanup());

  it('documents the signed transaction envelope and every message type of every module', () => {
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['SignedTx', 'TxBody', 'Message']));
    const refs = new Set(schemas.Message!.oneOf!.map((r) => r.$ref.replace('#/components/schemas/', '')));
    const types = MODULE_CORES.flatMap((m) => Object.keys(m.messages));
    expect(types.length).toBeGreaterThan(30);
    for (const type of types) {
      const name = [...refs].find((n) => (schemas[n]!.properties?.type as { const?: string } | undefined)?.const === type);
      expect(name, `message ${type} has a schema`).toBeDefined();
    }
    expect(refs.size).toBe(types.length);
  });

  it('submitTx and submitTxBatch take SignedTx bodies and name their errors, 503 MEMPOOL_FULL included', () => {
    const submit = doc.paths['/v1/txs']!.post!;
    expect(submit.operationId).toBe(coreRoutes.submitTx.name);
    expect(submit.requestBody!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/SignedTx' });
    expect(submit.responses['503']!.description).toContain('MEMPOOL_FULL');
    expect(submit.responses['413']!.description).toContain('TX_TOO_LARGE');
    const batch = Object.values(doc.paths).flatMap((p) => Object.values(p)).find((op) => op.operationId === coreRoutes.submitTxBatch.name)!;
    expect(JSON.stringify(batch.requestBody)).toContain('#/components/schemas/SignedTx');
    expect(doc.paths['/v1/openapi.json']).toBeDefined();
  });

  it('every code a route names is declared with that HTTP status', async () => {
    const declared = new Map((await findCatalogues()).flatMap((c) => c.entries.map((e) => [e.code, e.status] as const)));
    let named = 0;
    for (const op of Object.values(doc.paths).flatMap((p) => Object.values(p))) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^\d{3}$/.test(status) || status === '200') continue;
        for (const code of response.description.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? []) {
          named++;
          expect(declared.get(code), `${op.operationId} ${status} names ${code}`).toBe(Number(status));
        }
      }
    }
    expect(named).toBeGreaterThan(10);
  });

  it('the worked signing example in the description verifies and matches the signing code', () => {
    const ex = signingExample('test-chain');
    expect(doc.info.description).toContain(ex.signBytesHex);
    expect(doc.info.description).toContain(ex.signature);
    const signBytes = txSignBytes(ex.body);
    expect(toHex(signBytes)).toBe(ex.signBytesHex);
    expect(toHex(signBytes.subarray(0, 17))).toBe(toHex(new TextEncoder().encode('GRIDLEDGER/TX/V1\0')));
    expect(txHash(ex.body)).toBe(ex.hash);
    expect(verifySignature(fromHexStrict(ex.pubKey, 32)!, signBytes, fromHexStrict(ex.signature, 64)!)).toBe(true);
    expect(doc.components.schemas.SignedTx!.examples).toEqual([{ body: ex.body, pubKey: ex.pubKey, signature: ex.signature }]);
  });
});

describe('the OpenAPI document is made on first request (issue 18: idle memory)', () => {
  it('asks for its extras only when /v1/openapi.json is first requested, then serves the kept document', async () => {
    let made = 0;
    const server = await startLimitServer({ openApi: () => (made++, { description: 'made on request' }) });
    try {
      expect(made).toBe(0);
      const first = (await (await fetch(`http://127.0.0.1:${server.port}/v1/openapi.json`)).json()) as Doc;
      const second = (await (await fetch(`http://127.0.0.1:${server.port}/v1/openapi.json`)).json()) as Doc;
      expect(first.info.description).toBe('made on request');
      expect(second).toEqual(first);
      expect(made).toBe(1);
    } finally {
      await server.close();
    }
  });
});
