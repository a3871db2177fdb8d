import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginWith } from '../../src/cli/session.js';
import { EdgeAgent } from '../../src/edge/agent/agent.js';
import { parseAgentConfig } from '../../src/edge/agent/config.js';
import { openKeyring } from '../../src/home/home.js';
import type { TestNode } from '../helpers/node.js';
import { agentConfig, communityNode, signerOf, silentLogger } from './agent-helpers.js';
import { tempDir } from './helpers.js';

/**
 * The agent's status API for the dashboard (issue 13 #4): CORS for the configured origins only, and a
 * page's verify request read with the page's own node token, so the node's read policy decides.
 * (The browser run of the same path is test/web/private-edge.browser.test.ts.)
 */

let node: TestNode;
let agent: EdgeAgent;
let origin: string;
const tmp = tempDir('edge-agent-dashboard');
const tokenOf = async (name: string) => (await loginWith(node.url, openKeyring(node.home, 'test').signer(name))).token;

beforeAll(async () => {
  node = await communityNode();
  origin = new URL(node.url).origin;
  const config = agentConfig(node, { db: join(tmp.dir, 'edge.db'), meters: [{ id: 'P1', key: 'pmeter' }], sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }], status: { host: '127.0.0.1', port: 0 } });
  agent = await EdgeAgent.start(config, { signers: new Map([['P1', signerOf(node, 'pmeter')]]), logger: silentLogger });
});
afterAll(async () => {
  await agent?.stop();
  await node.cleanup();
  tmp.cleanup();
});

const verifyUrl = () => `${agent.statusUrl}/v1/edge/meters/P1/verify`;
async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('edge agent status API for the dashboard', () => {
  it("allows the node's origin by default, or the configured ones", () => {
    const base = { db: 'x.db', meters: [{ id: 'P1', key: 'k' }], sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }] };
    expect(parseAgentConfig({ ...base, node: 'http://10.0.0.5:26657/' }).dashboardOrigins).toEqual(['http://10.0.0.5:26657']);
    expect(parseAgentConfig({ ...base, node: 'http://10.0.0.5:26657', dashboardOrigins: ['https://dash.example/x'] }).dashboardOrigins).toEqual(['https://dash.example']);
  });

  it('answers the preflight of an allowed origin and refuses pages of any other origin', async () => {
    const preflight = await fetch(verifyUrl(), { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
    const foreign = await fetch(verifyUrl(), { headers: { origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(await codeOf(foreign)).toBe('EDGE_ORIGIN_NOT_ALLOWED');
    const foreignStatus = await fetch(`${agent.statusUrl}/v1/edge/status`, { headers: { origin: 'http://evil.example' } });
    expect(foreignStatus.status).toBe(403);
    // The agent's own status page is not a foreign origin.
    const own = await fetch(`${agent.statusUrl}/v1/edge/status`, { headers: { origin: new URL(agent.statusUrl!).origin } });
    expect(own.status).toBe(200);
  });

  it("reads a page's verification with the page's token: the node's read policy decides", async () => {
    const asPage = (token?: string) => fetch(verifyUrl(), { headers: { origin, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const none = await asPage();
    expect(none.status).toBe(401);
    expect(await codeOf(none)).toBe('AUTH_REQUIRED');
    // alice trades on P1: a party; bob is a trader of the community but not of P1.
    const alice = await asPage(await tokenOf('alice'));
    expect(alice.status).toBe(200);
    expect(alice.headers.get('access-control-allow-origin')).toBe(origin);
    expect(await alice.json()).toMatchObject({ meterId: 'P1', ok: true });
    const bob = await asPage(await tokenOf('bob'));
    expect(bob.status).toBe(403);
    expect(await codeOf(bob)).toBe('READ_FORBIDDEN');
    const forged = await asPage('gl1.forged.token');
    expect(await codeOf(forged)).toBe('AUTH_TOKEN_INVALID');
    // A local program (no Origin) reads as the meter's own key, as before.
    const local = await fetch(verifyUrl());
    expect(local.status).toBe(200);
  });
});
