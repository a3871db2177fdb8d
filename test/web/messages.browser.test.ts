import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Signer } from '../../src/crypto/ed25519.js';
import { toWire, type Envelope } from '../../src/messaging/envelope.js';
import { messagingRoutes } from '../../src/messaging/routes.js';
import { composeBroadcast, composeSealed, generateMessagingKey, messagingAddress, parseMessagingAddress, stamped, type MessageContent } from '../../src/messaging/seal.js';
import { toHex } from '../../src/util/bytes.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/**
 * Encrypted messages in the Private trading page, in Debian's Chromium against a real node (as
 * test/web/private-edge.browser.test.ts): messaging keys imported by their secret and created in
 * the page; the inbox trial-decrypts in the browser exactly the messages sealed to its keys (with
 * sender and reply key) and the broadcasts, keeps its cursor so a refresh fetches only what is new,
 * and no secret reaches the node; a message sealed and stamped in the page is read by the CLI's
 * `msg inbox`.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);

const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });
const PASSPHRASE = 'correct horse battery';

describe.skipIf(!haveChromium)('Encrypted messages in the page (Chromium)', () => {
  let node: TestNode;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  /** Every request the page made: URL and body (to show no secret leaves the browser). */
  const sentByPage: string[] = [];
  const imported = generateMessagingKey();
  const addr = (name: string) => node.init.accounts[name]!;
  const signerOf = (name: string) => new Signer(Buffer.from((JSON.parse(readFileSync(join(node.home, 'keyring', `${name}.json`), 'utf8')) as { insecureSeed: string }).insecureSeed, 'hex'));
  const text = (testId: string) => page.getByTestId(testId).innerText();

  async function post(unstamped: Omit<Envelope, 'stamp'>): Promise<string> {
    const params = await node.call(messagingRoutes.messagingParams, {});
    const answer = await node.call(messagingRoutes.postMessage, { body: toWire(stamped(unstamped, params)) });
    expect(answer.added).toBe(true);
    return answer.hash;
  }

  async function sealTo(recipient: Uint8Array, content: MessageContent, signer?: Signer): Promise<string> {
    const { now } = await node.call(messagingRoutes.messagingParams, {});
    return post(composeSealed(recipient, { content, ttl: 600, now, signer }));
  }

  async function cli(...args: string[]): Promise<any> {
    const { stdout } = await run(process.execPath, ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', ...args]);
    return JSON.parse(stdout);
  }

  async function inboxTexts(): Promise<string[]> {
    return (await page.getByTestId('inbox-rows').locator('tbody tr').allInnerTexts()).map((row) => row.replace(/\s+/g, ' '));
  }

  beforeAll(async () => {
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
    node = await startTestNode({ alice: ['trader'] });
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
    page.on('request', (req) => sentByPage.push(`${req.url()} ${req.postData() ?? ''}`));
    await page.goto(`${node.url}/#/private`);
    await page.getByTestId('page-private').waitFor();
  }, 240_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await node?.cleanup();
  });

  it('trial-decrypts in the browser only what is sealed to its keys, and broadcasts; a refresh fetches only what is new; no secret leaves the browser', async () => {
    // A key imported by its secret, and one created in the page.
    await page.getByTestId('msgkey-name').fill('trade-1');
    await page.getByTestId('msgkey-secret').fill(toHex(imported.secretKey));
    await page.getByTestId('msgkey-passphrase').fill(PASSPHRASE);
    await page.getByTestId('msgkey-save').click();
    await poll(() => text('msgkey-address-trade-1')).toBe(messagingAddress(imported.publicKey));
    await page.getByTestId('msgkey-name').fill('fresh');
    await page.getByTestId('msgkey-save').click();
    await poll(() => page.getByTestId('msgkey-address-fresh').count()).toBe(1);
    const freshAddress = await text('msgkey-address-fresh');
    const freshKey = parseMessagingAddress(freshAddress);
    expect(freshAddress).not.toBe(messagingAddress(imported.publicKey));

    // alice signs a counter-offer to trade-1 with a reply key; someone else's message; a broadcast; an anonymous one to the page's new key.
    const other = generateMessagingKey();
    const replyKey = messagingAddress(generateMessagingKey().publicKey);
    await sealTo(imported.publicKey, { text: 'ours: 4 kWh for 9.50?', replyTo: replyKey }, signerOf('alice'));
    await sealTo(other.publicKey, { text: 'for someone else' });
    const { now } = await node.call(messagingRoutes.messagingParams, {});
    await post(composeBroadcast({ content: { text: 'surplus at noon' }, ttl: 600, now, signer: signerOf('alice') }));
    await sealTo(freshKey, { text: 'to the fresh key' });

    await page.getByTestId('inbox-refresh').click();
    await poll(() => inboxTexts()).toHaveLength(3);
    const rows = await inboxTexts();
    // Newest first: the anonymous one to "fresh", the broadcast, alice's signed one to "trade-1".
    expect(rows[0]).toMatch(/^4 fresh anonymous to the fresh key/);
    expect(rows[1]).toMatch(/^3 broadcast .* surplus at noon/);
    expect(rows[2]).toMatch(/^1 trade-1 .* ours: 4 kWh for 9.50\?/);
    expect(rows.join('\n')).not.toContain('for someone else');
    const signedRow = page.getByTestId('inbox-rows').locator('tbody tr').nth(2);
    expect(await signedRow.locator('code').nth(0).getAttribute('title')).toBe(addr('alice'));
    expect(await signedRow.locator('code').nth(1).getAttribute('title')).toBe(replyKey);
    const head = (await node.call(messagingRoutes.listMessages, { query: { after: 0, limit: 1000 } })).head;
    expect(await page.getByTestId('inbox-status').getAttribute('data-cursor')).toBe(String(head));

    // One more message: the refresh asks from the cursor on and scans only it.
    const listCalls = () => sentByPage.filter((r) => r.includes('/v1/messages?'));
    const before = listCalls().length;
    await sealTo(imported.publicKey, { text: 'later: 9.00 then' });
    await page.getByTestId('inbox-refresh').click();
    await poll(() => page.getByTestId('inbox-status').getAttribute('data-cursor')).toBe(String(head + 1));
    expect(await page.getByTestId('inbox-status').getAttribute('data-last-scanned')).toBe('1');
    expect((await inboxTexts())[0]).toMatch(/^5 trade-1 anonymous later: 9.00 then/);
    expect(listCalls().slice(before).every((r) => r.includes(`after=${head}`))).toBe(true);

    // The secrets never went to the node, and sit in localStorage only encrypted.
    const secrets = [toHex(imported.secretKey)];
    expect(sentByPage.some((r) => secrets.some((s) => r.includes(s)))).toBe(false);
    const stored = (await page.evaluate("window.localStorage.getItem('gridledger.msgkeys.v1')")) as string;
    expect(JSON.parse(stored).map((k: { name: string }) => k.name).sort()).toEqual(['fresh', 'trade-1']);
    expect(stored).not.toContain(toHex(imported.secretKey));

    // After a reload the keys are locked; the passphrase unlocks both and the inbox reads again from the start.
    await page.reload();
    await page.getByTestId('page-private').waitFor();
    await poll(() => page.getByTestId('msgkey-unlock').count()).toBe(1);
    // Locked: only the broadcast opens.
    await poll(() => inboxTexts()).toHaveLength(1);
    expect((await inboxTexts())[0]).toMatch(/^3 broadcast .* surplus at noon/);
    await page.getByTestId('msgkey-unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('msgkey-unlock').click();
    await poll(async () => (await inboxTexts()).length).toBe(4);
    expect((await inboxTexts()).map((r) => r.split(' ')[0])).toEqual(['5', '4', '3', '1']);
  }, 180_000);

  it("a message sealed and stamped in the page is read by the CLI's msg inbox", async () => {
    const carol = await cli('msg', 'keys', 'add', 'carol');
    await page.getByTestId('compose-to').fill(carol.address);
    await page.getByTestId('compose-text').fill('from the page: 3 kWh at 8.75');
    await page.getByTestId('compose-ttl').fill('60');
    await page.getByTestId('compose-reply-to').selectOption('trade-1');
    await page.getByTestId('compose-send').click();
    await poll(() => page.getByTestId('compose-sent').count(), 120_000).toBe(1);
    expect(await text('compose-progress')).toMatch(/^stamped: \d+ trials in \d+ ms$/);
    const hash = await page.getByTestId('compose-sent').locator('code').getAttribute('title');

    const inbox = await cli('msg', 'inbox', '--keys', 'carol');
    const sealed = inbox.messages.filter((m: { kind: string }) => m.kind === 'sealed');
    expect(sealed.map((m: any) => [m.hash, m.key, m.from, m.text, m.replyTo])).toEqual([[hash, 'carol', undefined, 'from the page: 3 kWh at 8.75', messagingAddress(imported.publicKey)]]);
    // The TTL typed in the page, on the node's clock.
    const { now } = await node.call(messagingRoutes.messagingParams, {});
    expect(sealed[0].expiresAt).toBeGreaterThan(now);
    expect(sealed[0].expiresAt).toBeLessThanOrEqual(now + 60);
    // The page's own inbox does not open it (it is carol's).
    await page.getByTestId('inbox-refresh').click();
    await poll(() => page.getByTestId('inbox-status').getAttribute('data-last-scanned')).toBe('1');
    expect((await inboxTexts()).join('\n')).not.toContain('from the page');
  }, 240_000);
});
