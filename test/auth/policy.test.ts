import { dayOfSlot } from '../../src/util/localtime.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TOKEN_TTL_MS, authRoutes } from '../../src/api/auth.js';
import { callRoute } from '../../src/api/client.js';
import type { RouteDef, RouteInput } from '../../src/api/route.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx } from '../../src/codec/tx.js';
import { Signer, generateKeyPair } from '../../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { authSignBytes } from '../../src/crypto/hash.js';
import { openKeyring } from '../../src/home/home.js';
import { MSG as REGISTRY } from '../../src/modules/registry/messages.js';
import { registryRoutes } from '../../src/modules/registry/routes.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import { settlementRoutes } from '../../src/modules/settlement/routes.js';
import { sharesRoutes } from '../../src/modules/shares/routes.js';
import { MODULES } from '../../src/modules/index.js';
import { lightRoutes } from '../../src/surface/prove.js';
import { messagingRoutes } from '../../src/messaging/index.js';
import { paymentsRoutes } from '../../src/modules/payments/routes.js';
import { marketRoutes } from '../../src/modules/market/routes.js';
import { loadAuthSecret, TokenIssuer } from '../../src/runtime/auth.js';
import { checkRead, READ_POLICY, readPolicyMarkdown, type Lookup } from '../../src/runtime/read-policy.js';
import { kpiRoutes } from '../../src/runtime/community-kpis.js';
import { createAuthedClient, login } from '../../src/cli/session.js';
import { toHex } from '../../src/util/bytes.js';
import { LedgerError } from '../../src/util/errors.js';
import { buildScenario, commit, type Scenario } from './scenario.js';

const run = promisify(execFile);

/** Every route the node serves: the core, messaging, login, each module's query routes, and the community KPIs. */
const SERVED: RouteDef[] = [...Object.values(coreRoutes), ...Object.values(lightRoutes), ...Object.values(messagingRoutes), ...Object.values(authRoutes), ...MODULES.flatMap((m) => (m.surface.routes ?? []).map((r) => r.route)), ...Object.values(kpiRoutes)];

interface Case {
  route: RouteDef;
  /** The request (typed loosely: one table for routes of every shape). */
  input: (s: Scenario) => any;
  allowed: string;
  refused: string;
}

/**
 * One allowed and one refused caller for every private route (the refused one is an admitted
 * account that is not a party). A private route missing here fails the completeness test.
 */
const CASES: Case[] = [
  { route: meteringRoutes.listReadings, input: () => ({ params: { meterId: 'P1' } }), allowed: 'alice', refused: 'bob' },
  { route: meteringRoutes.listReadings, input: () => ({ params: { meterId: 'C1' } }), allowed: 'gridop', refused: 'alice' },
  { route: meteringRoutes.listFingerprints, input: () => ({ params: { meterId: 'P1' } }), allowed: 'pmeter', refused: 'bob' },
  { route: meteringRoutes.listDifferences, input: () => ({ params: { meterId: 'P1' } }), allowed: 'pmeter', refused: 'mallory' },
  { route: energyRoutes.balances, input: (s) => ({ params: { id: s.community } }), allowed: 'admin', refused: 'alice' },
  { route: energyRoutes.balances, input: (s) => ({ params: { id: s.community }, query: { trader: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: energyRoutes.day, input: (s) => ({ params: { id: s.community }, query: { day: s.yesterday, trader: s.addr.bob } }), allowed: 'bob', refused: 'alice' },
  { route: energyRoutes.history, input: (s) => ({ params: { id: s.community }, query: { trader: s.addr.bob } }), allowed: 'bob', refused: 'alice' },
  { route: kpiRoutes.communityKpis, input: (s) => ({ params: { id: s.community }, query: { fromDay: s.yesterday, toDay: s.tomorrow, importPrice: 250000, exportPrice: 80000, communityPrice: 150000 } }), allowed: 'admin', refused: 'alice' },
  { route: energyRoutes.adjustments, input: (s) => ({ params: { id: s.community } }), allowed: 'gridop', refused: 'bob' },
  { route: energyRoutes.differences, input: (s) => ({ params: { id: s.community } }), allowed: 'admin', refused: 'mallory' },
  { route: sharesRoutes.plantHoldings, input: (s) => ({ params: { plant: s.plant }, query: { day: s.yesterday } }), allowed: 'utility', refused: 'alice' },
  { route: sharesRoutes.participantHoldings, input: (s) => ({ params: { plant: s.plant, address: s.addr.alice }, query: { fromSlot: s.slot, toSlot: s.slot + 4 } }), allowed: 'alice', refused: 'bob' },
  { route: sharesRoutes.plantSegments, input: (s) => ({ params: { plant: s.plant }, query: { fromSlot: s.slot, toSlot: s.slot + 4 } }), allowed: 'utility', refused: 'carol' },
  { route: sharesRoutes.plantTransfers, input: (s) => ({ params: { plant: s.plant } }), allowed: 'utility', refused: 'alice' },
  { route: sharesRoutes.plantTransfers, input: (s) => ({ params: { plant: s.plant }, query: { address: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: settlementRoutes.statement, input: (s) => ({ params: { hash: s.carolHash } }), allowed: 'carol', refused: 'alice' },
  { route: settlementRoutes.bill, input: (s) => ({ params: { plant: s.plant }, query: { fromDay: s.tomorrow, toDay: s.tomorrow } }), allowed: 'utility', refused: 'carol' },
  { route: settlementRoutes.bill, input: (s) => ({ params: { plant: s.plant }, query: { fromDay: s.tomorrow, toDay: s.tomorrow, customer: s.addr.carol } }), allowed: 'carol', refused: 'bob' },
  { route: paymentsRoutes.balances, input: (s) => ({ params: { address: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: paymentsRoutes.history, input: (s) => ({ params: { address: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: paymentsRoutes.locks, input: (s) => ({ params: { address: s.addr.alice } }), allowed: 'alice', refused: 'mallory' },
  { route: paymentsRoutes.redemptions, input: (s) => ({ query: { party: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: paymentsRoutes.redemptions, input: (s) => ({ query: { asset: s.asset } }), allowed: 'bank', refused: 'alice' },
  { route: paymentsRoutes.redemption, input: (s) => ({ params: { id: s.redemption } }), allowed: 'bank', refused: 'bob' },
  { route: paymentsRoutes.escrows, input: (s) => ({ query: { party: s.addr.bob } }), allowed: 'bob', refused: 'alice' },
  { route: paymentsRoutes.escrow, input: (s) => ({ params: { id: s.escrow } }), allowed: 'bob', refused: 'carol' },
  { route: paymentsRoutes.channels, input: (s) => ({ query: { party: s.addr.alice } }), allowed: 'alice', refused: 'carol' },
  { route: paymentsRoutes.channel, input: (s) => ({ params: { id: s.channel } }), allowed: 'bob', refused: 'carol' },
  { route: marketRoutes.orders, input: (s) => ({ params: { community: s.community }, query: { trader: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: marketRoutes.orders, input: (s) => ({ params: { community: s.community }, query: { trader: s.addr.alice } }), allowed: 'admin', refused: 'carol' },
  { route: marketRoutes.order, input: (s) => ({ params: { id: s.order } }), allowed: 'alice', refused: 'bob' },
  { route: marketRoutes.trades, input: (s) => ({ params: { community: s.community }, query: { trader: s.addr.bob } }), allowed: 'bob', refused: 'alice' },
  { route: marketRoutes.trades, input: (s) => ({ params: { community: s.community } }), allowed: 'gridop', refused: 'alice' },
  { route: marketRoutes.contracts, input: (s) => ({ params: { community: s.community }, query: { party: s.addr.alice } }), allowed: 'alice', refused: 'bob' },
  { route: marketRoutes.contract, input: (s) => ({ params: { id: s.contract } }), allowed: 'bob', refused: 'carol' },
  { route: marketRoutes.bills, input: (s) => ({ params: { community: s.community }, query: { fromDay: s.yesterday, toDay: s.yesterday, member: s.addr.bob } }), allowed: 'bob', refused: 'alice' },
  { route: meteringRoutes.missingReadings, input: (s) => ({ query: { day: s.yesterday } }), allowed: 'gridop', refused: 'alice' },
  { route: registryRoutes.inactiveAccounts, input: () => ({ query: { days: 1 } }), allowed: 'admin', refused: 'alice' },
  { route: marketRoutes.billRecord, input: (s) => ({ params: { hash: s.billHash } }), allowed: 'alice', refused: 'bob' },
];

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number } | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof LedgerError) return { code: err.code, status: err.status };
    throw err;
  }
}

describe('read policy table', () => {
  it('has one entry for every route the node serves, and nothing else', () => {
    const names = SERVED.map((r) => r.name).sort();
    expect(names.filter((n) => !READ_POLICY[n])).toEqual([]);
    expect(Object.keys(READ_POLICY).sort()).toEqual([...new Set(names)].sort());
  });

  it('has an allowed and a refused caller in this test for every private route', () => {
    const tested = new Set(CASES.map((c) => c.route.name));
    const privateRoutes = Object.values(READ_POLICY).filter((r) => r.access === 'private').map((r) => r.route);
    expect(privateRoutes.filter((r) => !tested.has(r))).toEqual([]);
  });

  it('is documented in docs/dashboard.md, route by route', () => {
    expect(readFileSync('docs/dashboard.md', 'utf8')).toContain(readPolicyMarkdown());
  });
});

describe('private reads on a running node', () => {
  let s: Scenario;
  const tokens: Record<string, string> = {};
  const as = <R extends RouteDef>(who: string | null, route: R, input: RouteInput<R>) => callRoute(s.node.url, route, input, { token: who === null ? undefined : tokens[who] });

  beforeAll(async () => {
    s = await buildScenario();
    const keyring = openKeyring(s.node.home, 'test');
    for (const who of ['admin', 'alice', 'bob', 'carol', 'pmeter', 'utility', 'gridop', 'auditor', 'mallory', 'eve', 'bank']) tokens[who] = (await login(s.node.home, s.node.url, keyring, who)).token;
  });
  afterAll(async () => {
    await s?.node.cleanup();
  });

  for (const c of CASES) {
    const label = `${c.route.name}: ${c.allowed} reads it, ${c.refused} gets 403, nobody without a token gets 401, an auditor reads it`;
    it(label, async () => {
      const input = c.input(s);
      const answer = await as(c.allowed, c.route, input);
      expect(answer).toBeTypeOf('object');
      expect(await refusal(as(c.refused, c.route, input))).toEqual({ code: 'READ_FORBIDDEN', status: 403 });
      expect(await refusal(as(null, c.route, input))).toEqual({ code: 'AUTH_REQUIRED', status: 401 });
      expect(await refusal(as('auditor', c.route, input))).toBeNull();
    });
  }

  it('has a policy for every operation the running node documents in /v1/openapi.json', async () => {
    const doc = (await (await fetch(`${s.node.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const RAW = new Set(['events', 'metrics', 'openapi']); // streams, metrics and this document: not route definitions, no private data
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((o) => o.operationId)).filter((id) => !RAW.has(id));
    expect(operations.length).toBeGreaterThan(50);
    expect(operations.filter((id) => !READ_POLICY[id])).toEqual([]);
  });

  it('private data is refused with ?prove=true too, and proven to its owner', async () => {
    const res = await fetch(`${s.node.url}/v1/metering/meters/P1/readings?prove=true`);
    expect(res.status).toBe(401);
    const proven = (await (await fetch(`${s.node.url}/v1/metering/meters/P1/readings?prove=true`, { headers: { authorization: `Bearer ${tokens.alice}` } })).json()) as Record<string, unknown>;
    expect(JSON.stringify(proven)).toContain('"exportWh":10000');
  });

  it('serves the public routes without a token (blocks, community totals, registries)', async () => {
    expect((await as(null, coreRoutes.latestBlock, {})).hash).toMatch(/^[0-9a-f]{64}$/);
    // The community's local day (Europe/Amsterdam): the UTC date is the day before from 23:00 UTC (22:00 in summer).
    const day = await as(null, energyRoutes.day, { params: { id: s.community }, query: { day: dayOfSlot('Europe/Amsterdam', s.slot) } });
    expect(day.totalWh).toBe(-5_000);
    expect((await as(null, energyRoutes.getCommunity, { params: { id: s.community } })).traders).toHaveLength(2);
  });

  it("answers a meter's links (public, as a community shows them), 404 for a meter never registered", async () => {
    const { links } = await as(null, energyRoutes.meterLinks, { params: { meterId: 'P1' } });
    expect(links.map((l) => [l.community, l.kind, l.trader, l.labels])).toEqual([[s.community, 'producer', s.addr.alice, ['solar']]]);
    expect(await refusal(as(null, energyRoutes.meterLinks, { params: { meterId: 'NO-SUCH-METER' } }))).toEqual({ code: 'ENERGY_METER_NOT_FOUND', status: 404 });
    expect(await refusal(as(null, energyRoutes.meterLinks, { params: { meterId: 'not a meter id!' } }))).toEqual({ code: 'REQUEST_INVALID', status: 400 });
  });

  it('refuses a history order other than asc or desc with REQUEST_INVALID', async () => {
    const input = { params: { id: s.community }, query: { trader: s.addr.bob!, order: 'sideways' as 'asc' } };
    expect(await refusal(as('auditor', energyRoutes.history, input))).toEqual({ code: 'REQUEST_INVALID', status: 400 });
  });

  it("answers a community's owners (public), 404 for a community that does not exist", async () => {
    expect(await as(null, energyRoutes.communityOwners, { params: { id: s.community } })).toEqual({ community: s.community, owners: [{ community: s.community, owner: s.addr.admin }] });
    expect(await refusal(as(null, energyRoutes.communityOwners, { params: { id: 'no-such-community' } }))).toEqual({ code: 'ENERGY_COMMUNITY_NOT_FOUND', status: 404 });
    expect(await refusal(as(null, energyRoutes.communityOwners, { params: { id: 'Not_An_Id' } }))).toEqual({ code: 'REQUEST_INVALID', status: 400 });
  });

  it("finds the parties from indexes: a meter's own links and a community's owners, never a list of communities or a community's detail", async () => {
    const asked: string[] = [];
    const lookup: Lookup = async (route, input) => {
      asked.push(`${route.name} ${JSON.stringify((input as { params?: unknown }).params ?? {})}`);
      return callRoute(s.node.url, route, input);
    };
    const issuer = new TokenIssuer(loadAuthSecret(s.node.home));
    const deps = { issuer, lookup, activeRoles: async (address: string) => ((a) => (a.admitted && !a.revoked ? a.roles : null))(await lookup(registryRoutes.getAccount, { params: { address } })) };
    const request = (who: string) => ({ headers: { authorization: `Bearer ${issuer.issue(s.addr[who]!).token}` } });
    await checkRead(deps, meteringRoutes.listReadings, { params: { meterId: 'P1' }, query: {} }, request('alice'));
    // the linked trader is found from the links: the plants (a scan of every plant) are not asked
    expect(asked.filter((a) => a.startsWith('listPlants'))).toEqual([]);
    expect(await refusal(checkRead(deps, meteringRoutes.listReadings, { params: { meterId: 'P1' }, query: {} }, request('bob')))).toEqual({ code: 'READ_FORBIDDEN', status: 403 });
    expect(asked.filter((a) => a.startsWith('listPlants'))).toHaveLength(1); // a refusal asks everything
    expect(asked.filter((a) => a.startsWith('listCommunities') || a.startsWith('getCommunity'))).toEqual([]);
    expect(new Set(asked.filter((a) => a.startsWith('energyCommunityOwners ')))).toEqual(new Set([`energyCommunityOwners {"id":"${s.community}"}`]));
    expect(asked).toContain('energyMeterLinks {"meterId":"P1"}');
    // a member's own balances: the community's owners, not its detail (every trader and meter link)
    asked.length = 0;
    await checkRead(deps, energyRoutes.balances, { params: { id: s.community }, query: { trader: s.addr.bob } }, request('bob'));
    expect(asked.filter((a) => !a.startsWith('getAccount '))).toEqual([`energyCommunityOwners {"id":"${s.community}"}`]);
  });

  it('answers the private data itself to its owner (the worked example balances)', async () => {
    const b = await as('bob', energyRoutes.balances, { params: { id: s.community }, query: { trader: s.addr.bob, slot: String(s.slot) } });
    expect(Object.fromEntries(b.balances.map((r) => [r.labels.join(','), r.wh]))).toEqual({ solar: 10_000, '': -15_000 });
  });

  it('refuses expired, altered and foreign tokens with 401', async () => {
    const issuer = new TokenIssuer(loadAuthSecret(s.node.home));
    const expired = issuer.issue(s.addr.bob!, Date.now() - 2 * AUTH_TOKEN_TTL_MS).token;
    const input = { params: { id: s.community }, query: { trader: s.addr.bob! } };
    expect(await refusal(callRoute(s.node.url, energyRoutes.history, input, { token: expired }))).toEqual({ code: 'AUTH_TOKEN_EXPIRED', status: 401 });
    const [prefix, payload, mac] = tokens.alice!.split('.');
    const forged = `${prefix}.${Buffer.from(JSON.stringify({ sub: s.addr.bob, iat: Date.now(), exp: Date.now() + 60_000 })).toString('base64url')}.${mac}`;
    expect(payload).toBeDefined();
    expect(await refusal(callRoute(s.node.url, energyRoutes.history, input, { token: forged }))).toEqual({ code: 'AUTH_TOKEN_INVALID', status: 401 });
    const foreign = new TokenIssuer(new Uint8Array(32).fill(7)).issue(s.addr.bob!).token;
    expect(await refusal(callRoute(s.node.url, energyRoutes.history, input, { token: foreign }))).toEqual({ code: 'AUTH_TOKEN_INVALID', status: 401 });
  });

  it('logs in only with a valid signature over a fresh challenge of this node, once', async () => {
    const keyring = openKeyring(s.node.home, 'test');
    const signer = keyring.signer('bob');
    const address = s.addr.bob!;
    const ch = await callRoute(s.node.url, authRoutes.authChallenge, { body: { address } });
    const good = toHex(signer.sign(authSignBytes({ chainId: ch.chainId, address, nonce: ch.nonce })));
    const wrongChain = toHex(signer.sign(authSignBytes({ chainId: 'other-chain', address, nonce: ch.nonce })));
    const body = { address, nonce: ch.nonce, pubKey: toHex(signer.publicKey), signature: wrongChain };
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body }))).toEqual({ code: 'AUTH_SIGNATURE_INVALID', status: 401 });
    // the nonce was spent by the failed attempt
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body: { ...body, signature: good } }))).toEqual({ code: 'AUTH_CHALLENGE_UNKNOWN', status: 401 });
    const ch2 = await callRoute(s.node.url, authRoutes.authChallenge, { body: { address } });
    const ok = await callRoute(s.node.url, authRoutes.authToken, { body: { address, nonce: ch2.nonce, pubKey: toHex(signer.publicKey), signature: toHex(signer.sign(authSignBytes({ chainId: ch2.chainId, address, nonce: ch2.nonce }))) } });
    expect(ok.roles).toEqual(['consumer', 'trader']);
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body: { address, nonce: ch2.nonce, pubKey: toHex(signer.publicKey), signature: good } }))).toEqual({ code: 'AUTH_CHALLENGE_UNKNOWN', status: 401 });
    // a key that is not the address's key
    const other = new Signer(generateKeyPair().secretKey);
    const ch3 = await callRoute(s.node.url, authRoutes.authChallenge, { body: { address } });
    const sig3 = toHex(other.sign(authSignBytes({ chainId: ch3.chainId, address, nonce: ch3.nonce })));
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body: { address, nonce: ch3.nonce, pubKey: toHex(other.publicKey), signature: sig3 } }))).toEqual({ code: 'AUTH_SIGNATURE_INVALID', status: 401 });
    // a transaction signature is no login signature (domain separation)
    const ch4 = await callRoute(s.node.url, authRoutes.authChallenge, { body: { address } });
    const tx = signTx({ chainId: ch4.chainId, sender: address, nonce: 0, expiresAtHeight: 1, msgs: [{ type: 'x/y', value: ch4.nonce }], memo: ch4.nonce }, signer);
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body: { address, nonce: ch4.nonce, pubKey: tx.pubKey, signature: tx.signature } }))).toEqual({ code: 'AUTH_SIGNATURE_INVALID', status: 401 });
  });

  it('gives no token to an account that is not admitted, and stops a revoked account at once', async () => {
    const stranger = new Signer(generateKeyPair().secretKey);
    const address = addressFromPublicKey(stranger.publicKey);
    const ch = await callRoute(s.node.url, authRoutes.authChallenge, { body: { address } });
    const signature = toHex(stranger.sign(authSignBytes({ chainId: ch.chainId, address, nonce: ch.nonce })));
    expect(await refusal(callRoute(s.node.url, authRoutes.authToken, { body: { address, nonce: ch.nonce, pubKey: toHex(stranger.publicKey), signature } }))).toEqual({ code: 'AUTH_ACCOUNT_NOT_ADMITTED', status: 403 });

    const who = await as('eve', authRoutes.whoami, {});
    expect(who.address).toBe(s.addr.eve);
    await commit(s.node, 'admin', [{ type: REGISTRY.revoke, value: { address: s.addr.eve, reason: 'test' } }]);
    expect(await refusal(as('eve', sharesRoutes.participantHoldings, { params: { plant: s.plant, address: s.addr.eve! }, query: { fromSlot: s.slot, toSlot: s.slot + 1 } }))).toEqual({ code: 'AUTH_ACCOUNT_NOT_ADMITTED', status: 403 });
    expect((await as('eve', authRoutes.whoami, {})).roles).toEqual([]);
  });

  it('a program holding an account key reads its own private data through createAuthedClient (login on demand)', async () => {
    const keyring = openKeyring(s.node.home, 'test');
    const asMeter = createAuthedClient(s.node.url, meteringRoutes, keyring.signer('pmeter'));
    expect((await asMeter.listReadings({ params: { meterId: 'P1' }, query: {} })).readings.map((r) => r.exportWh)).toEqual([10_000]);
    const asOther = createAuthedClient(s.node.url, meteringRoutes, keyring.signer('cmeter'));
    expect(await refusal(asOther.listReadings({ params: { meterId: 'P1' }, query: {} }))).toEqual({ code: 'READ_FORBIDDEN', status: 403 });
  });

  it('the CLI logs in with the --from key (gridledger login, or on demand) and is refused data of others', async () => {
    const cli = (from: string, ...args: string[]) => run('node', ['bin/gridledger.mjs', '--home', s.node.home, '--node', s.node.url, '-o', 'json', '--from', from, ...args]);
    const logged = JSON.parse((await cli('bob', 'login')).stdout);
    expect(logged).toMatchObject({ address: s.addr.bob, roles: ['consumer', 'trader'] });
    const history = JSON.parse((await cli('bob', 'query', 'energy', 'history', '--community', s.community, '--trader', s.addr.bob!)).stdout);
    expect(history.entries.map((e: { deltaWh: number }) => e.deltaWh).sort()).toEqual([-15_000, 10_000]);
    const refused = await cli('alice', 'query', 'energy', 'history', '--community', s.community, '--trader', s.addr.bob!).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused?.code).toBe(1);
    expect(JSON.parse(refused!.stderr).error.code).toBe('READ_FORBIDDEN');
  });
});
