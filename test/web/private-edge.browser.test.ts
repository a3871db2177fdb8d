import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { EdgeAgent } from '../../src/edge/agent/agent.js';
import { anonRoutes, ANON_MSG, buildAdmission } from '../../src/modules/anon/index.js';
import { paymentsRoutes } from '../../src/modules/payments/routes.js';
import { composeSealed, messagingAddress, stamped } from '../../src/messaging/seal.js';
import { toWire } from '../../src/messaging/envelope.js';
import { messagingRoutes } from '../../src/messaging/routes.js';
import { loadVerifyingKey } from '../../src/zk/artifacts.js';
import { identityCommitment } from '../../src/zk/circuits.js';
import { closeProver, randomFieldElement } from '../../src/zk/prove.js';
import { toHex } from '../../src/util/bytes.js';
import { agentConfig, readings, recentFirstSlot, send, signerOf, silentLogger, writeReplay } from '../edge/agent-helpers.js';
import { tempDir } from '../edge/helpers.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/**
 * The Private trading page and the prosumer page's tamper flags in Debian's Chromium against a real
 * node (as test/web/dashboard.browser.test.ts; screenshots likewise, GRIDLEDGER_SCREENSHOTS=docs for docs/img): two anonymous accounts admitted with real Groth16
 * membership proofs; in the page the buyer's anonymous account takes an offer into a 2-of-3 escrow,
 * the grid operator confirms delivery and the seller approves, and the ledger pays the seller. Then
 * a meter's edge agent delivers readings with fingerprints, one sample in its store is altered, and
 * the prosumer page (signed in as the meter's trader) flags exactly that interval with the sample,
 * through the agent's status API (CORS for the node's origin, the page's node token forwarded).
 */

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts/dashboard';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout, interval: 100 });
const ASSET = 'NOK@microgrid';
const SLOTS = 6;

/** A fresh key outside the keyring (an anonymous account's): its seed for the page and its signer. */
function freshKey() {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  return { seedHex: toHex(seed), signer: new Signer(seed), address: addressFromPublicKey(keyPairFromSeed(seed).publicKey) };
}
type FreshKey = ReturnType<typeof freshKey>;

describe.skipIf(!haveChromium)('Private trading and tamper flags in Chromium', () => {
  let node: TestNode;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const tmp = tempDir('web-private-edge');
  const seller = freshKey();
  const buyer = freshKey();
  const addr = (name: string) => node.init.accounts[name]!;
  const seedOf = (name: string) => (JSON.parse(readFileSync(join(node.home, 'keyring', `${name}.json`), 'utf8')) as { insecureSeed: string }).insecureSeed;

  async function sendAs(key: FreshKey, msgs: Msg[]) {
    const nonce = await node.call(coreRoutes.accountNonce, { params: { address: key.address } });
    const tx = signTx({ chainId: 'test-chain', sender: key.address, nonce: nonce.next, expiresAtHeight: nonce.height + 100, msgs, memo: '' }, key.signer);
    const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
    const res = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    expect(res.result?.code, res.result?.message).toBe('OK');
    return res.result!;
  }

  async function signIn(name: string, seed: string, address: string): Promise<void> {
    if (await page.getByRole('button', { name: 'Lock' }).isVisible()) await page.getByRole('button', { name: 'Lock' }).click();
    if (await page.getByTestId('unlock').isVisible()) await page.getByRole('button', { name: 'New / import' }).click();
    await page.getByTestId('key-name').fill(name);
    await page.getByTestId('key-seed').fill(seed);
    await page.getByTestId('key-passphrase').fill('correct horse battery');
    await page.getByTestId('key-save').click();
    await poll(() => page.getByTestId('wallet-address').getAttribute('title')).toBe(address);
  }

  async function open(id: string): Promise<void> {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`page-${id}`).waitFor();
  }

  async function shot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.GRIDLEDGER_SCREENSHOTS === 'docs') copyFileSync(file, join('docs', 'img', `dashboard-${name}.png`));
  }

  const text = (testId: string) => page.getByTestId(testId).innerText();

  beforeAll(async () => {
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
    node = await startTestNode({ owner: ['utility'], alice: ['trader', 'prosumer'], bob: ['consumer'], dso: ['grid-operator'], bank: ['issuer'], pmeter: ['meter'], auditor: ['auditor'] });
    // Anonymous members: the membership key, alice's and bob's identities, one fresh account each (real proofs).
    await send(node, 'admin', [{ type: ANON_MSG.registerKey, value: { circuit: 'membership', key: loadVerifyingKey('membership') } }]);
    const secrets = new Map([['alice', randomFieldElement()], ['bob', randomFieldElement()]]);
    for (const [name, secret] of secrets) await send(node, name, [{ type: ANON_MSG.register, value: { commitment: identityCommitment(secret).toString() } }]);
    const status = await node.call(anonRoutes.status, {});
    const { leaves } = await node.call(anonRoutes.leaves, {});
    for (const [member, fresh] of [['alice', seller], ['bob', buyer]] as const) {
      const value = await buildAdmission({ chainId: 'test-chain', secret: secrets.get(member)!, leaves, epoch: status.epoch, slot: 0, maxSlots: status.maxSlots, address: fresh.address });
      await sendAs(fresh, [{ type: ANON_MSG.admit, value }]);
    }
    await send(node, 'bank', [{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'microgrid', name: 'Microgrid kroner' } }]);
    await send(node, 'bank', [{ type: 'payments/mint', value: { asset: ASSET, to: buyer.address, amount: '50000000', depositRef: 'WEB-1' } }]);
    const start = Date.now() + 3_600_000;
    await sendAs(seller, [{ type: ANON_MSG.offer, value: { energyWh: 4000, amount: '10000000', asset: ASSET, deliveryStart: start, deliveryEnd: start + 3_600_000, messagingKey: 'ab'.repeat(32) } }]);
    // The messaging panel's figures: a buyer's counter-offer sealed to the offer's key is held; a malformed envelope is dropped.
    const params = await node.call(messagingRoutes.messagingParams, {});
    const sealed = stamped(composeSealed(new Uint8Array(32).fill(0xab), { content: { text: '4 kWh for 9.50?' }, ttl: 600, now: params.now }), params);
    expect(await node.call(messagingRoutes.postMessage, { body: toWire(sealed) })).toMatchObject({ added: true });
    await expect(node.call(messagingRoutes.postMessage, { body: { v: 1 } })).rejects.toMatchObject({ code: 'MSG_MALFORMED' });
    // A community with alice's meter P1 (for the prosumer page).
    await send(node, 'owner', [{ type: 'energy/create-community', value: { id: 'hood', name: 'Neighbourhood', timezone: 'Europe/Amsterdam' } }]);
    await send(node, 'owner', [{ type: 'energy/add-trader', value: { community: 'hood', address: addr('alice') } }]);
    await send(node, 'owner', [{ type: 'energy/add-meter', value: { community: 'hood', meterId: 'P1', address: addr('pmeter'), maxPowerW: 50_000, kind: 'producer', trader: addr('alice'), labels: ['solar'] } }]);

    profile = mkdtempSync(join(tmpdir(), 'gridledger-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${node.url}/#/explorer`);
  }, 240_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await closeProver();
    await node?.cleanup();
    tmp.cleanup();
  });

  it('Private trading: the members tree and the board in public; the buyer takes an offer into escrow, the grid operator confirms delivery, the seller is paid', async () => {
    await open('private');
    const status = await node.call(anonRoutes.status, {});
    await poll(() => text('anon-tree-size')).toBe('2 leaves');
    expect(await page.getByTestId('anon-root').getAttribute('title')).toBe(status.currentRoot);
    expect(await text('anon-epoch')).toBe(String(status.epoch));
    await poll(() => text('offer-status-o1')).toBe('open');
    // The seller's per-trade messaging key, as the address `msg send --to` takes.
    expect(await page.getByTestId('offer-msg-o1').locator('code').getAttribute('title')).toBe(messagingAddress(new Uint8Array(32).fill(0xab)));
    expect(await text('msg-cli')).toContain('msg send --to');
    await poll(() => text('msg-stored')).toBe('1');
    expect(await text('msg-accepted')).toBe('1');
    expect(await text('msg-dropped')).toBe('1');
    expect(await text('msg-relayed')).toBe('no peers');
    expect(await node.call(messagingRoutes.messagingStats, {})).toMatchObject({ stored: 1, accepted: 1, rejected: { MSG_MALFORMED: 1 }, relay: { enabled: false } });
    // Without a key nothing can be signed and no escrow is read.
    expect(await page.getByTestId('offer-take-o1').count()).toBe(0);

    // The buyer's anonymous account: its standing, and two transactions signed in the page (escrow-open, anon/take).
    await signIn('anon-buyer', buyer.seedHex, buyer.address);
    await poll(() => text('anon-account')).toContain('trader-anon since height');
    expect(await text('anon-admit-cli')).toContain('tx anon admit --identity');
    await page.getByTestId('offer-mediator-o1').selectOption(addr('dso'));
    await page.getByTestId('offer-take-o1').click();
    await poll(() => text('offer-outcome')).toContain('OK');
    const { offer } = await node.call(anonRoutes.offer, { params: { id: 'o1' } });
    expect(offer).toMatchObject({ status: 'taken', buyer: buyer.address, mediator: addr('dso') });
    const escrowId = offer.escrow!;
    const escrow = (await node.callAs('auditor', paymentsRoutes.escrow, { params: { id: escrowId } })).escrow;
    expect(escrow).toMatchObject({ payer: buyer.address, payee: seller.address, mediator: addr('dso'), amount: '10000000', threshold: 2, status: 'open' });
    await poll(() => text('offer-status-o1')).toBe('taken');
    await poll(() => text('trade-state-o1')).toBe('open');
    await shot('private');

    // The grid operator confirms delivery (approval 1 of 2), the seller approves (2 of 2): the escrow pays the seller.
    await signIn('dso', seedOf('dso'), addr('dso'));
    await poll(() => page.getByTestId(`trade-release-${escrowId}`).innerText()).toContain('Confirm delivery');
    await page.getByTestId(`trade-release-${escrowId}`).click();
    await poll(() => text('trade-outcome')).toContain('OK');
    await signIn('anon-seller', seller.seedHex, seller.address);
    await page.getByTestId(`trade-release-${escrowId}`).click();
    await poll(() => text('trade-state-o1')).toBe('released');
    const settled = (await node.callAs('auditor', paymentsRoutes.escrow, { params: { id: escrowId } })).escrow;
    expect(settled).toMatchObject({ status: 'released', paidToPayee: '10000000', paidToPayer: '0' });
    expect(settled.approvals.release.sort()).toEqual([addr('dso'), seller.address].sort());
    const balances = (await node.callAs('auditor', paymentsRoutes.balances, { params: { address: seller.address } })).balances;
    expect(balances.find((b) => b.asset === ASSET)?.free).toBe('10000000');
  }, 180_000);

  it('Private trading: a disputed delivery settled by a split the grid operator proposes and the buyer countersigns, all in the page', async () => {
    const start = Date.now() + 7_200_000;
    await sendAs(seller, [{ type: ANON_MSG.offer, value: { energyWh: 2000, amount: '4000000', asset: ASSET, deliveryStart: start, deliveryEnd: start + 3_600_000 } }]);
    await signIn('anon-buyer', buyer.seedHex, buyer.address);
    await open('private');
    await poll(() => text('offer-status-o2')).toBe('open');
    await page.getByTestId('offer-mediator-o2').selectOption(addr('dso'));
    await page.getByTestId('offer-take-o2').click();
    await poll(() => text('offer-status-o2')).toBe('taken');
    const escrowId = (await node.call(anonRoutes.offer, { params: { id: 'o2' } })).offer.escrow!;
    await page.getByTestId(`trade-dispute-reason-${escrowId}`).fill('only half delivered');
    await page.getByTestId(`trade-dispute-${escrowId}`).click();
    await poll(() => page.getByTestId('private-trade-rows').innerText()).toContain('only half delivered');

    await signIn('dso', seedOf('dso'), addr('dso'));
    await page.getByTestId(`split-payee-${escrowId}`).fill('1.5');
    await page.getByTestId(`split-propose-${escrowId}`).click();
    await poll(() => text('trade-outcome')).toContain('OK');

    await signIn('anon-buyer', buyer.seedHex, buyer.address);
    await poll(() => page.getByTestId(`trade-countersign-${escrowId}`).innerText()).toContain('1.5 to seller, 2.5 back');
    await page.getByTestId(`trade-countersign-${escrowId}`).click();
    await poll(() => text('trade-state-o2')).toBe('split');
    const settled = (await node.callAs('auditor', paymentsRoutes.escrow, { params: { id: escrowId } })).escrow;
    expect(settled).toMatchObject({ status: 'split', paidToPayee: '1500000', paidToPayer: '2500000' });
  }, 180_000);

  it('Prosumer: a sample altered in the edge agent store is flagged in exactly its interval, with the sample', async () => {
    const firstSlot = recentFirstSlot(SLOTS);
    const file = join(tmp.dir, 'replay.p1');
    writeReplay(file, firstSlot, SLOTS, { seed: 5 });
    const db = join(tmp.dir, 'edge.db');
    const signers = new Map([['P1', signerOf(node, 'pmeter')]]);
    const replay = await EdgeAgent.start(agentConfig(node, { db, meters: [{ id: 'P1', key: 'pmeter' }], sources: [{ kind: 'file', meter: 'P1', path: file }], exitWhenDone: true }), { signers, logger: silentLogger });
    expect(await replay.done).toMatchObject({ delivered: SLOTS, parked: 0 });
    await replay.stop();
    expect(await readings(node, 'P1')).toHaveLength(SLOTS);

    // Alter one sample of the third slot, as someone holding the file could.
    const sqlite = new Database(db);
    sqlite.exec('DROP TRIGGER edge_samples_no_update; DROP TRIGGER edge_samples_no_delete;');
    const tamperedSlot = firstSlot + 2;
    const altered = sqlite.prepare<[number], { seq: number }>("SELECT seq FROM edge_samples WHERE meter = 'P1' AND slot = ? ORDER BY seq").all(tamperedSlot)[30]!;
    sqlite.prepare("UPDATE edge_samples SET export_t1_wh = export_t1_wh + 3 WHERE meter = 'P1' AND seq = ?").run(altered.seq);
    sqlite.close();

    // The agent again, now serving its status API (the dashboard's origin, the node's, is allowed by default), fed by nobody.
    const agent = await EdgeAgent.start(agentConfig(node, { db, meters: [{ id: 'P1', key: 'pmeter' }], sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }], status: { host: '127.0.0.1', port: 0 } }), { signers, logger: silentLogger });
    try {
      const agentUrl = agent.statusUrl!;
      // A page of another origin is refused before any route runs; a page without a token is refused by the rule.
      const foreign = await fetch(`${agentUrl}/v1/edge/meters/P1/verify`, { headers: { origin: 'http://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('EDGE_ORIGIN_NOT_ALLOWED');
      const tokenless = await fetch(`${agentUrl}/v1/edge/meters/P1/verify`, { headers: { origin: new URL(node.url).origin } });
      expect(tokenless.status).toBe(401);
      expect(tokenless.headers.get('access-control-allow-origin')).toBe(new URL(node.url).origin);
      expect(((await tokenless.json()) as { error: { code: string } }).error.code).toBe('AUTH_REQUIRED');

      await signIn('alice', seedOf('alice'), addr('alice'));
      await open('prosumer');
      await page.getByTestId('edge-agent-url').fill(agentUrl);
      await poll(() => page.getByTestId('edge-meter').inputValue()).toBe('P1');
      await page.getByTestId('edge-hours').fill(String(SLOTS / 4 + 1));
      await page.getByTestId('edge-verify').click();
      await poll(() => text('edge-verdict')).toContain('TAMPERED');
      expect(await text('edge-verdict')).toContain(`${SLOTS - 1} intact, 1 altered`);
      const flagged = await page.getByTestId('edge-flagged').locator('tbody tr').allInnerTexts();
      expect(flagged).toHaveLength(1);
      expect(flagged[0]).toContain(String(tamperedSlot));
      expect(flagged[0]).toContain('altered');
      expect(flagged[0]).toContain(`seq ${altered.seq}`);
      // The URL is kept in the browser for the next visit.
      expect(await page.evaluate("window.localStorage.getItem('gridledger.edgeAgentUrl')")).toBe(new URL(agentUrl).origin);
      await shot('prosumer-tamper');

      // The node's read policy decides through the agent: bob is no party of P1's fingerprints.
      await signIn('bob', seedOf('bob'), addr('bob'));
      await open('prosumer');
      await page.getByTestId('edge-meter').fill('P1');
      await page.getByTestId('edge-verify').click();
      await poll(() => page.getByTestId('prosumer-edge-verify').innerText()).toContain('READ_FORBIDDEN');
      expect(await page.getByTestId('edge-verdict').count()).toBe(0);
    } finally {
      await agent.stop();
    }
  }, 180_000);
});
