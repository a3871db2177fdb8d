/**
 * The HTTP API against bad input, through real HTTP on a real node (startTestNode): every mistake
 * gets its own stable code and message, the node keeps serving, and nothing in the state changes
 * (except the sender's nonce for a transaction that is committed with a rejection result).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, txHash, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { account } from '../helpers/chain.js';
import { makeHome, startTestNode, type TestNode } from '../helpers/node.js';

interface HttpAnswer {
  status: number;
  json: any;
  text: string;
}

async function http(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

const postJson = (base: string, path: string, body: unknown) =>
  http(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const admitMsg = (address: string, roles = ['prosumer']): Msg => ({ type: 'registry/admit', value: { address, roles } });

describe('HTTP API: bad input', () => {
  let node: TestNode;
  let base: string;
  let revokeTx: SignedTx;

  beforeAll(async () => {
    node = await startTestNode({ alice: ['prosumer'], mallory: ['prosumer'] });
    base = node.url;
    openKeyring(node.home, 'test').add('stranger');
    // history: mallory is revoked at height ≥ 1
    revokeTx = await node.signedTx('admin', [{ type: 'registry/revoke', value: { address: node.init.accounts.mallory!, reason: 'fraud' } }]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: revokeTx });
    const done = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    expect(done.result!.code).toBe('OK');
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  const state = () => new Map(node.running.node.storage.allState());
  async function status() {
    return (await http(`${base}/v1/status`)).json as { stateRoot: string; height: number; mempool: { txs: number } };
  }

  /** Runs the bad request and checks: code, message, the node still serves, nothing changed. */
  async function expectRejected(request: () => Promise<HttpAnswer>, expected: { status: number; code: string; message: RegExp }) {
    const before = await status();
    const stateBefore = state();
    const answer = await request();
    expect(answer.status, answer.text).toBe(expected.status);
    expect(answer.json, answer.text).toEqual({ error: { code: expected.code, message: expect.any(String) } });
    expect(answer.json.error.message).toMatch(expected.message);
    const health = await http(`${base}/v1/health`);
    expect(health.status).toBe(200);
    expect(health.json.ok).toBe(true);
    const after = await status();
    expect(after.stateRoot).toBe(before.stateRoot);
    expect(after.mempool.txs).toBe(0);
    expect(state()).toEqual(stateBefore);
    return answer;
  }

  const seen = new Map<string, string>();
  function record(category: string, code: string) {
    seen.set(category, code);
  }

  it('malformed JSON → 400 BODY_MALFORMED_JSON', async () => {
    await expectRejected(() => postJson(base, '/v1/txs', '{"body": {"chainId": '), { status: 400, code: 'BODY_MALFORMED_JSON', message: /not valid JSON/ });
    await expectRejected(() => postJson(base, '/v1/txs', ''), { status: 400, code: 'BODY_MALFORMED_JSON', message: /not valid JSON/ });
    record('malformed JSON', 'BODY_MALFORMED_JSON');
  });

  it('a body that is not JSON (text → 400 TX_MALFORMED, other types → 415 UNSUPPORTED_MEDIA_TYPE)', async () => {
    await expectRejected(() => http(`${base}/v1/txs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), {
      status: 400,
      code: 'TX_MALFORMED',
      message: /expected object, received string/,
    });
    await expectRejected(() => http(`${base}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<tx/>' }), {
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: /application\/json/,
    });
  });

  it('wrong field types → 400 TX_MALFORMED naming the field', async () => {
    const good = await node.signedTx('admin', [admitMsg(account('wf').address)]);
    const variants: Array<[unknown, RegExp]> = [
      [{ ...good, body: { ...good.body, nonce: String(good.body.nonce) } }, /^body\.nonce: /],
      [{ ...good, body: { ...good.body, nonce: -1 } }, /^body\.nonce: /],
      [{ ...good, body: { ...good.body, nonce: 1.5 } }, /^body\.nonce: /],
      [{ ...good, body: { ...good.body, expiresAtHeight: null } }, /^body\.expiresAtHeight: /],
      [{ ...good, body: { ...good.body, msgs: {} } }, /^body\.msgs: /],
      [{ ...good, body: { ...good.body, msgs: [] } }, /^body\.msgs: /],
      [{ ...good, body: { ...good.body, sender: 'grid1notanaddress' } }, /^body\.sender: /],
      [{ ...good, body: { ...good.body, memo: 7 } }, /^body\.memo: /],
      [{ ...good, body: { ...good.body, memo: 'm'.repeat(257) } }, /^body\.memo: /],
      [{ ...good, signature: good.signature.toUpperCase() }, /^signature: /],
      [{ ...good, pubKey: good.pubKey.slice(2) }, /^pubKey: /],
      [{ ...good, extra: true }, /unrecognized|extra|Unrecognized/i],
      [[good], /expected object/i],
      [null, /expected object/i],
      [JSON.stringify('a string'), /expected object, received string/i],
    ];
    for (const [body, message] of variants) {
      await expectRejected(() => postJson(base, '/v1/txs', body), { status: 400, code: 'TX_MALFORMED', message });
    }
    record('wrong field types', 'TX_MALFORMED');
  });

  it('unknown message type → 400 TX_UNKNOWN_MSG_TYPE', async () => {
    const tx = await node.signedTx('admin', [{ type: 'bank/send', value: { to: 'x', amount: 1 } }]);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'TX_UNKNOWN_MSG_TYPE', message: /"bank\/send"/ });
    record('unknown message type', 'TX_UNKNOWN_MSG_TYPE');
  });

  it('invalid message value → 400 MSG_INVALID naming the field', async () => {
    const tx = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: account('mv').address, roles: ['king'] } }]);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'MSG_INVALID', message: /^registry\/admit\.roles/ });
  });

  it('bad signature → 400 TX_BAD_SIGNATURE', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('bs').address)]);
    const sig = Buffer.from(tx.signature, 'hex');
    sig[3]! ^= 0x40;
    await expectRejected(() => postJson(base, '/v1/txs', { ...tx, signature: sig.toString('hex') }), { status: 400, code: 'TX_BAD_SIGNATURE', message: /signature is not valid/ });
    // a valid signature over a different body
    const other = await node.signedTx('admin', [admitMsg(account('bs2').address)]);
    await expectRejected(() => postJson(base, '/v1/txs', { ...tx, signature: other.signature }), { status: 400, code: 'TX_BAD_SIGNATURE', message: /signature is not valid/ });
    record('bad signature', 'TX_BAD_SIGNATURE');
  });

  it('a key that does not belong to the sender → 400 TX_SENDER_KEY_MISMATCH', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('km').address)]);
    const keyring = openKeyring(node.home, 'test');
    const forged = signTx(tx.body, keyring.signer('alice'));
    await expectRejected(() => postJson(base, '/v1/txs', forged), { status: 400, code: 'TX_SENDER_KEY_MISMATCH', message: /pubKey does not belong to the sender/ });
  });

  it('wrong chain id → 400 TX_WRONG_CHAIN', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('wc').address)], { chainId: 'other-chain' });
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'TX_WRONG_CHAIN', message: /chain id other-chain is not test-chain/ });
    record('wrong chain id', 'TX_WRONG_CHAIN');
  });

  it('reused nonce → 400 TX_NONCE_USED; the very same committed tx → 409 TX_ALREADY_COMMITTED', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('rn').address)], { nonce: revokeTx.body.nonce });
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'TX_NONCE_USED', message: /nonce 0 already used; next is 1/ });
    await expectRejected(() => postJson(base, '/v1/txs', revokeTx), { status: 409, code: 'TX_ALREADY_COMMITTED', message: new RegExp(`transaction ${txHash(revokeTx.body)} is already committed`) });
    record('reused nonce', 'TX_NONCE_USED');
  });

  it('the committed tx in a batch → TX_ALREADY_COMMITTED for it, the others admitted', async () => {
    const fresh = await node.signedTx('admin', [admitMsg(account('cb').address)]);
    const res = await postJson(base, '/v1/txs/batch', { txs: [revokeTx, fresh] });
    expect(res.status).toBe(200);
    expect(res.json.results.map((r: { code: string }) => r.code)).toEqual(['TX_ALREADY_COMMITTED', 'OK']);
    expect(res.json.results[0].message).toMatch(new RegExp(`transaction ${txHash(revokeTx.body)} is already committed`));
    await node.call(coreRoutes.getTx, { params: { hash: txHash(fresh.body) }, query: { wait: 30 } });
  });

  it('a committed tx that has expired since → 409 TX_ALREADY_COMMITTED, not TX_EXPIRED (a resubmitting client learns it landed)', async () => {
    const { height } = await status();
    const tx = await node.signedTx('admin', [admitMsg(account('ce').address)], { expiresAtHeight: height + 3 });
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    expect((await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } })).status).toBe('committed');
    // Blocks come with transactions (empty ones only every 30 s): commit fillers until the expiry height is past.
    for (let i = 0; i < 10 && (await status()).height <= height + 3; i++) {
      const filler = await node.call(coreRoutes.submitTx, { body: await node.signedTx('admin', [admitMsg(account(`ce${i}`).address)]) });
      await node.call(coreRoutes.getTx, { params: { hash: filler.hash }, query: { wait: 30 } });
    }
    expect((await status()).height).toBeGreaterThan(height + 3);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 409, code: 'TX_ALREADY_COMMITTED', message: new RegExp(`transaction ${hash} is already committed`) });
    const res = await postJson(base, '/v1/txs/batch', { txs: [tx] });
    expect(res.json.results[0].code).toBe('TX_ALREADY_COMMITTED');
  });

  it('nonce beyond the window → 400 TX_NONCE_TOO_HIGH', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('nh').address)], { nonce: 1_000_000 });
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'TX_NONCE_TOO_HIGH', message: /beyond the window/ });
  });

  it('expired transaction → 400 TX_EXPIRED', async () => {
    const { height } = await status();
    expect(height).toBeGreaterThanOrEqual(1);
    const tx = await node.signedTx('admin', [admitMsg(account('ex').address)], { expiresAtHeight: height });
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 400, code: 'TX_EXPIRED', message: new RegExp(`expired at height ${height}`) });
    record('expired transaction', 'TX_EXPIRED');
  });

  it('transaction above 64 KiB → 413 TX_TOO_LARGE', async () => {
    const tx = await node.signedTx('admin', [{ type: 'registry/admit', value: { address: account('big').address, roles: ['prosumer'], padding: 'x'.repeat(65 * 1024) } }]);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 413, code: 'TX_TOO_LARGE', message: /the limit is 65536/ });
    record('oversized transaction', 'TX_TOO_LARGE');
  });

  it('request body above the server limit → 413 BODY_TOO_LARGE', async () => {
    const limit = JSON.parse(readFileSync(paths(node.home).config, 'utf8')).api.bodyLimitBytes as number;
    const body = JSON.stringify({ body: { memo: 'y'.repeat(limit + 1024) } });
    await expectRejected(() => postJson(base, '/v1/txs', body), { status: 413, code: 'BODY_TOO_LARGE', message: /exceeds the size limit/ });
    record('oversized body', 'BODY_TOO_LARGE');
  });

  it('a single-transaction route accepts no more than one transaction needs (256 KiB), far below the batch limit', async () => {
    const body = JSON.stringify({ body: { memo: 'y'.repeat(300 * 1024) } });
    await expectRejected(() => postJson(base, '/v1/txs', body), { status: 413, code: 'BODY_TOO_LARGE', message: /exceeds the size limit/ });
  });

  it('unadmitted sender → 403 TX_SENDER_NOT_ADMITTED', async () => {
    const tx = await node.signedTx('stranger', [admitMsg(account('ua').address)]);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 403, code: 'TX_SENDER_NOT_ADMITTED', message: /is not an admitted participant/ });
    record('unadmitted sender', 'TX_SENDER_NOT_ADMITTED');
  });

  it('revoked sender → 403 TX_SENDER_REVOKED', async () => {
    const tx = await node.signedTx('mallory', [admitMsg(account('rv').address)]);
    await expectRejected(() => postJson(base, '/v1/txs', tx), { status: 403, code: 'TX_SENDER_REVOKED', message: /was revoked at height [1-9]/ });
    record('revoked sender', 'TX_SENDER_REVOKED');
  });

  it('bad path and query parameters → 400 REQUEST_INVALID; unknown things → 404', async () => {
    await expectRejected(() => http(`${base}/v1/txs/not-a-hash`), { status: 400, code: 'REQUEST_INVALID', message: /^params\.hash: / });
    await expectRejected(() => http(`${base}/v1/txs/${'0'.repeat(64)}?wait=abc`), { status: 400, code: 'REQUEST_INVALID', message: /^query\.wait: / });
    await expectRejected(() => http(`${base}/v1/txs/${'0'.repeat(64)}?wait=61`), { status: 400, code: 'REQUEST_INVALID', message: /^query\.wait: / });
    await expectRejected(() => http(`${base}/v1/blocks/zero`), { status: 400, code: 'REQUEST_INVALID', message: /^params\.height: / });
    await expectRejected(() => http(`${base}/v1/blocks/0`), { status: 400, code: 'REQUEST_INVALID', message: /^params\.height: / });
    await expectRejected(() => http(`${base}/v1/accounts/GRID1ABC`), { status: 400, code: 'REQUEST_INVALID', message: /^params\.address: / });
    await expectRejected(() => http(`${base}/v1/registry/accounts?limit=0`), { status: 400, code: 'REQUEST_INVALID', message: /^query\.limit: / });
    await expectRejected(() => http(`${base}/v1/blocks/999999`), { status: 404, code: 'BLOCK_NOT_FOUND', message: /no block at height 999999/ });
    await expectRejected(() => http(`${base}/v1/txs/${'0'.repeat(64)}`), { status: 404, code: 'TX_NOT_FOUND', message: /neither pending nor committed/ });
    await expectRejected(() => http(`${base}/v1/nope`), { status: 404, code: 'NOT_FOUND', message: /no route GET \/v1\/nope/ });
  });

  it('the batch endpoint answers one admission result per tx, in order', async () => {
    const bad = { ...(await node.signedTx('admin', [admitMsg(account('b1').address)])), signature: '00'.repeat(64) };
    const stranger = await node.signedTx('stranger', [admitMsg(account('b2').address)]);
    const rootBefore = (await status()).stateRoot;
    const stateBefore = state();
    const a = await postJson(base, '/v1/txs/batch', { txs: [bad, stranger, { nope: 1 }] });
    expect(a.status).toBe(200);
    expect(a.json.results.map((r: { code: string; hash: string | null }) => [r.code, r.hash])).toEqual([
      ['TX_BAD_SIGNATURE', null],
      ['TX_SENDER_NOT_ADMITTED', null],
      ['TX_MALFORMED', null],
    ]);
    expect((await status()).stateRoot).toBe(rootBefore);
    expect((await status()).mempool.txs).toBe(0);
    expect(state()).toEqual(stateBefore);
    await expectRejected(() => postJson(base, '/v1/txs/batch', { txs: [] }), { status: 400, code: 'REQUEST_INVALID', message: /^body\.txs: / });
  });

  it('non-operator trying to admit: admitted, committed with REGISTRY_NOT_OPERATOR; only the sender nonce moves', async () => {
    const alice = node.init.accounts.alice!;
    const stateBefore = state();
    const rootBefore = (await status()).stateRoot;
    const accountsBefore = await node.call(registryRoutes.listAccounts, { query: {} });
    const logBefore = await node.call(registryRoutes.registryLog, { query: {} });
    const aliceBefore = await node.call(registryRoutes.getAccount, { params: { address: alice } });
    const target = account('by-alice').address;
    const tx = await node.signedTx('alice', [admitMsg(target)]);
    const submitted = await postJson(base, '/v1/txs', tx);
    expect(submitted.status).toBe(200);
    expect(submitted.json).toEqual({ hash: txHash(tx.body), admission: { code: 'OK' } });
    const committed = await node.call(coreRoutes.getTx, { params: { hash: submitted.json.hash }, query: { wait: 30 } });
    expect(committed.status).toBe('committed');
    expect(committed.result).toEqual({ code: 'REGISTRY_NOT_OPERATOR', message: 'only a consortium operator may admit or revoke participants', events: [] });
    expect((await http(`${base}/v1/health`)).status).toBe(200);
    // only alice's nonce moved
    const aliceAfter = await node.call(registryRoutes.getAccount, { params: { address: alice } });
    expect(aliceAfter.nonce).toBe(aliceBefore.nonce + 1);
    expect({ ...aliceAfter, nonce: 0 }).toEqual({ ...aliceBefore, nonce: 0 });
    expect(await node.call(registryRoutes.listAccounts, { query: {} })).toEqual(accountsBefore);
    expect(await node.call(registryRoutes.registryLog, { query: {} })).toEqual(logBefore);
    expect((await node.call(registryRoutes.getAccount, { params: { address: target } })).account).toBeNull();
    const stateAfter = state();
    const changed = [...new Set([...stateBefore.keys(), ...stateAfter.keys()])].filter((k) => stateBefore.get(k) !== stateAfter.get(k));
    expect(changed).toEqual([`auth/nonce/${alice}`]);
    expect((await status()).stateRoot).not.toBe(rootBefore);
    expect(node.running.node.app.recomputeStateRoot()).toBe((await status()).stateRoot);
    record('non-operator admit', committed.result!.code);
  });

  it('each bad input category has its own code', () => {
    expect([...seen.keys()].sort()).toEqual(
      ['bad signature', 'expired transaction', 'malformed JSON', 'non-operator admit', 'oversized body', 'oversized transaction', 'reused nonce', 'revoked sender', 'unadmitted sender', 'unknown message type', 'wrong chain id', 'wrong field types'].sort(),
    );
    expect(new Set(seen.values()).size).toBe(seen.size);
  });
});

describe('HTTP API: documents, metrics, events, waiting', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ alice: ['prosumer'] });
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  it('/v1/openapi.json is an OpenAPI 3.1 document listing every route with its operation', async () => {
    const { status, json: doc } = await http(`${node.url}/v1/openapi.json`);
    expect(status).toBe(200);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const routes = [...Object.values(coreRoutes), ...Object.values(registryRoutes)];
    const operationIds: string[] = [];
    for (const r of routes) {
      const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths?.[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${path}`).toBeDefined();
      expect(op.operationId).toBe(r.name);
      expect(op.responses['200'].content['application/json'].schema).toBeTypeOf('object');
      expect(op.responses['4XX'].content['application/json'].schema.properties.error).toBeDefined();
      for (const name of [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])) {
        expect(op.parameters, `${path} ${name}`).toContainEqual(expect.objectContaining({ name, in: 'path', required: true }));
      }
      if (r.method === 'POST') expect(op.requestBody?.content?.['application/json']).toBeDefined();
      operationIds.push(op.operationId);
    }
    expect(new Set(operationIds).size).toBe(operationIds.length);
    // every route the server answers from a route definition is documented, and nothing else
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.length).toBeGreaterThanOrEqual(routes.length);
    // the wait query parameter of getTx is documented with its bounds
    const wait = doc.paths['/v1/txs/{hash}'].get.parameters.find((p: { name: string }) => p.name === 'wait');
    expect(wait).toMatchObject({ in: 'query', required: false });
  });

  it('/metrics exposes gridledger_ metrics in the Prometheus text format', async () => {
    const tx = await node.signedTx('admin', [admitMsg(account('m1').address)]);
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    const res = await fetch(`${node.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of ['gridledger_height', 'gridledger_blocks_total', 'gridledger_txs_committed_total', 'gridledger_txs_admitted_total', 'gridledger_mempool_txs', 'gridledger_http_requests_total']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    const height = Number(/^gridledger_height (\d+)$/m.exec(text)?.[1]);
    expect(height).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^gridledger_txs_committed_total\{code="OK"\} [1-9]/m);
  });

  it('the SSE stream /v1/events delivers a block event and a tx event for a committed tx', async () => {
    const abort = new AbortController();
    const res = await fetch(`${node.url}/v1/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let connected = false;
    const events: Array<{ event: string; data: any }> = [];
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value, done: end } = await reader.read();
        if (end) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const chunk = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (chunk.startsWith(': connected at height')) connected = true;
          const event = /^event: (.*)$/m.exec(chunk)?.[1];
          const data = /^data: (.*)$/m.exec(chunk)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    };
    try {
      await readUntil(() => connected);
      const tx = await node.signedTx('admin', [admitMsg(account('sse').address)]);
      const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
      await readUntil(() => events.some((e) => e.event === 'tx' && e.data.hash === hash));
      const txEvent = events.find((e) => e.event === 'tx' && e.data.hash === hash)!;
      expect(txEvent.data).toMatchObject({ hash, height: expect.any(Number), index: 0, result: { code: 'OK' } });
      await readUntil(() => events.some((e) => e.event === 'block' && e.data.height === txEvent.data.height));
      const blockEvent = events.find((e) => e.event === 'block' && e.data.height === txEvent.data.height)!;
      const block = await node.call(coreRoutes.getBlock, { params: { height: txEvent.data.height } });
      expect(blockEvent.data).toMatchObject({ height: txEvent.data.height, hash: block.hash, txs: 1, stateRoot: (block.block.header as { stateRoot: string }).stateRoot });
    } finally {
      abort.abort();
      await reader.cancel().catch(() => undefined);
    }
    // the node keeps serving after the subscriber went away
    expect((await http(`${node.url}/v1/health`)).status).toBe(200);
  });

  it('GET /v1/txs/:hash?wait= waits for the commit; without wait a pending tx is reported pending', async () => {
    const admin = node.init.admin;
    const nonce = await node.call(coreRoutes.accountNonce, { params: { address: admin } });
    // the second tx cannot be included before the first exists (nonce gap), so it is deterministically pending
    const later = await node.signedTx('admin', [admitMsg(account('w2').address)], { nonce: nonce.next + 1 });
    const { hash } = await node.call(coreRoutes.submitTx, { body: later });
    expect(await node.call(coreRoutes.getTx, { params: { hash }, query: {} })).toEqual({ hash, status: 'pending' });
    const waiting = node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    const first = await node.signedTx('admin', [admitMsg(account('w1').address)], { nonce: nonce.next });
    await node.call(coreRoutes.submitTx, { body: first });
    const result = await waiting;
    expect(result).toMatchObject({ hash, status: 'committed', height: expect.any(Number), result: { code: 'OK' } });
    const stored = await node.call(coreRoutes.getTx, { params: { hash }, query: {} });
    expect(stored).toEqual(result);
  });
});

describe('HTTP API: request-rate limit', () => {
  let running: RunningNode | undefined;
  let home = '';

  afterAll(async () => {
    await running?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('answers 429 RATE_LIMITED above the configured rate, without running the handler', async () => {
    const made = makeHome({ r1: ['prosumer'], r2: ['prosumer'], r3: ['prosumer'], r4: ['prosumer'], r5: ['prosumer'], r6: ['prosumer'], r7: ['prosumer'], r8: ['prosumer'] });
    home = made.home;
    const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
    config.api.rateLimitPerSecond = 2;
    writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
    running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
    const keyring = openKeyring(home, 'test');
    // eight txs signed in process (no HTTP spent on preparing them), one per sender
    const txs = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'].map((name) =>
      signTx({ chainId: 'test-chain', sender: keyring.show(name).address, nonce: 0, expiresAtHeight: 1000, msgs: [admitMsg(account(`rl-${name}`).address)], memo: '' }, keyring.signer(name)),
    );
    const answers = await Promise.all(txs.map((tx) => postJson(running!.url, '/v1/txs', tx)));
    const limited = answers.filter((a) => a.status === 429);
    const passed = answers.filter((a) => a.status === 200);
    expect(limited.length + passed.length).toBe(txs.length);
    expect(passed.length).toBeLessThanOrEqual(2);
    expect(limited.length).toBeGreaterThanOrEqual(6);
    for (const a of limited) expect(a.json).toEqual({ error: { code: 'RATE_LIMITED', message: 'more than 2 requests per second' } });
    // a refused request did not reach the handler: its tx is neither pending nor committed
    answers.forEach((a, i) => {
      const hash = txHash(txs[i]!.body);
      const known = running!.node.mempool.has(hash) || running!.node.storage.getTx(hash) !== undefined;
      expect(known, `tx ${i} answered ${a.status}`).toBe(a.status === 200);
    });
    // the limit is per time: the bucket refills and the node serves again
    let health: HttpAnswer | undefined;
    for (let i = 0; i < 100; i++) {
      health = await http(`${running.url}/v1/health`);
      if (health.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(health!.status).toBe(200);
  });
});
