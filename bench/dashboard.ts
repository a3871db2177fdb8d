import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { Signer } from '../src/crypto/ed25519.js';
import { openKeyring } from '../src/home/home.js';
import { MSG as ENERGY } from '../src/modules/energy/messages.js';
import { MSG as REGISTRY } from '../src/modules/registry/messages.js';
import { WEB_DIST } from '../src/runtime/web.js';
import { localDay } from '../src/util/localtime.js';
import { startBenchNetwork } from './foundation.js';
import { slotOfMs } from '../src/util/slots.js';

/**
 * Dashboard benchmark (issue 10): the Community page of a community with `members` traders and
 * `days` days of bookings, opened in Debian's Chromium against a real node. Reports first
 * contentful paint, the time until the KPIs are drawn, and the bytes of every API answer the page
 * loads — for an anonymous visitor (public aggregates) and for the community owner (who also loads
 * the balances by trader and the flow view).
 *
 * Data: the owner books unlabelled energy (energy/mutate, the one message without a reading
 * window, so 30 days can be written on a new chain) — `perMemberDay` bookings per member and day,
 * + or − a few kWh. The page asks per local day, so its payloads depend on the members and the
 * slots of the shown day, not on how many days the ledger holds; the days make the state as large
 * as a month of use.
 */

export interface DashboardBenchOptions {
  members: number;
  days: number;
  perMemberDay: number;
  chromium?: string;
}

export interface DashboardBenchResult {
  members: number;
  days: number;
  bookings: number;
  setupSeconds: number;
  bundleBytes: { js: number; css: number };
  anonymous: PageFigures;
  owner: PageFigures;
}

interface PageFigures {
  firstContentfulPaintMs: number | null;
  kpisVisibleMs: number;
  apiRequests: number;
  apiBytes: number;
  /** Bytes per route (path without ids), largest first. */
  byRoute: Record<string, number>;
}

const TZ = 'Europe/Amsterdam';
const COMMUNITY = 'bench';
const MSGS_PER_TX = 64;
const BATCH = 50;

function memberSigner(i: number): Signer {
  return new Signer(new Uint8Array(createHash('sha256').update(`gridledger-bench-dashboard/${i}`).digest()));
}

/** A small deterministic generator (bench data, not ledger state). */
function* numbers(seed: number): Generator<number> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) / 2 ** 32;
  }
}

function buildWeb(): void {
  const dist = WEB_DIST;
  if (!existsSync(join(dist, 'index.html'))) execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}

function bundleBytes(): { js: number; css: number } {
  const files = readdirSync(join(WEB_DIST, 'assets'));
  const size = (ext: string) => files.filter((f) => f.endsWith(ext)).reduce((n, f) => n + statSync(join(WEB_DIST, 'assets', f)).size, 0);
  return { js: size('.js'), css: size('.css') };
}

/** Pre-signed transactions of one sender with consecutive nonces, submitted in batches; waits for the last of each. */
async function submitAll(url: string, chainId: string, signer: Signer, msgs: Msg[], firstNonce: number): Promise<number> {
  const sender = addressFromPublicKey(signer.publicKey);
  let nonce = firstNonce;
  const txs: SignedTx[] = [];
  for (let i = 0; i < msgs.length; i += MSGS_PER_TX) {
    txs.push(signTx({ chainId, sender, nonce: nonce++, expiresAtHeight: 1_000_000, msgs: msgs.slice(i, i + MSGS_PER_TX), memo: '' }, signer));
  }
  for (let i = 0; i < txs.length; i += BATCH) {
    const { results } = await callRoute(url, coreRoutes.submitTxBatch, { body: { txs: txs.slice(i, i + BATCH) } });
    const bad = results.find((r) => r.code !== 'OK');
    if (bad) throw new Error(`bench setup: ${bad.code} ${bad.message}`);
    const last = results[results.length - 1]!.hash!;
    for (let tries = 0; ; tries++) {
      const r = await callRoute(url, coreRoutes.getTx, { params: { hash: last }, query: { wait: 30 } });
      if (r.status === 'committed') {
        if (r.result?.code !== 'OK') throw new Error(`bench setup: ${r.result?.code} ${r.result?.message}`);
        break;
      }
      if (tries > 10) throw new Error('bench setup: a batch was not committed');
    }
  }
  return nonce;
}

export async function benchDashboard(options: DashboardBenchOptions): Promise<DashboardBenchResult> {
  const executablePath = options.chromium ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing (apt-get install -y chromium)`);
  buildWeb();
  // The node in its own process (a block of thousands of bookings must not stall the bench's client).
  const net = await startBenchNetwork(1, 200);
  const home = net.home;
  const url = net.urls[0]!;
  const chainId = (await callRoute(url, coreRoutes.status, {})).chainId;
  const browserProfile = mkdtempSync(join(tmpdir(), 'gridledger-bench-chromium-'));
  try {
    const t0 = performance.now();
    const admin = openKeyring(home, 'test').signer('admin');
    const members = Array.from({ length: options.members }, (_, i) => addressFromPublicKey(memberSigner(i).publicKey));
    const setup: Msg[] = [
      { type: ENERGY.createCommunity, value: { id: COMMUNITY, name: `Bench community of ${options.members}`, timezone: TZ } },
      ...members.map((address) => ({ type: REGISTRY.admit, value: { address, roles: ['trader'] } })),
      ...members.map((address) => ({ type: ENERGY.addTrader, value: { community: COMMUNITY, address } })),
    ];
    const nonce = await submitAll(url, chainId, admin, setup, 0);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(Date.now());
    const bookings: Msg[] = [];
    const rnd = numbers(42);
    const lastSlot = slotOfMs(Date.now());
    for (let d = options.days - 1; d >= 0; d--) {
      const day = new Date(Date.parse(`${today}T12:00:00Z`) - d * 86_400_000).toISOString().slice(0, 10);
      const { firstSlot, slots } = localDay(TZ, day);
      for (const trader of members) {
        for (let k = 0; k < options.perMemberDay; k++) {
          const slot = firstSlot + Math.floor(rnd.next().value! * slots);
          if (slot > lastSlot) continue;
          const wh = (rnd.next().value! < 0.4 ? 1 : -1) * (100 + Math.floor(rnd.next().value! * 3000));
          bookings.push({ type: ENERGY.mutate, value: { community: COMMUNITY, trader, slot, wh, description: 'bench booking' } });
        }
      }
    }
    await submitAll(url, chainId, admin, bookings, nonce);
    const setupSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));

    const context = await chromium.launchPersistentContext(browserProfile, {
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(120_000);
    const measure = async (signIn: boolean): Promise<PageFigures> => {
      const byRoute: Record<string, number> = {};
      let requests = 0;
      const pending: Promise<void>[] = [];
      const onResponse = (r: import('playwright-core').Response) => {
        const path = new URL(r.url()).pathname;
        if (!path.startsWith('/v1/') || path === '/v1/events') return;
        const key = path.replace(/grid1[0-9a-z]+/g, ':address').replace(/\/\d+$/, '/:n');
        requests++;
        pending.push(r.body().then((b) => void (byRoute[key] = (byRoute[key] ?? 0) + b.length), () => undefined));
      };
      if (signIn) {
        // The owner signs in once (key imported, stored encrypted), then the page is loaded afresh with the session.
        await page.goto(`${url}/#/operator`); // a light page to sign in on
        const newKey = page.getByRole('button', { name: 'New / import' });
        if (await newKey.isVisible()) await newKey.click();
        await page.getByTestId('key-name').fill('admin');
        await page.getByTestId('key-seed').fill((JSON.parse(readFileSync(join(home, 'keyring', 'admin.json'), 'utf8')) as { insecureSeed: string }).insecureSeed);
        await page.getByTestId('key-passphrase').fill('bench passphrase');
        await page.getByTestId('key-save').click();
        await page.getByTestId('wallet-address').waitFor();
        await new Promise((r) => setTimeout(r, 3000)); // that page's own reloads after the login are not the community page's
      }
      page.on('response', onResponse);
      const started = Date.now();
      if (signIn) await page.getByTestId('nav-community').click();
      else await page.goto(`${url}/#/community`);
      await page.getByTestId('community-kpis').waitFor();
      if (signIn) await page.getByTestId('community-by-trader').waitFor();
      const kpisVisibleMs = Date.now() - started;
      // The event stream keeps the network busy for good; give the remaining requests a moment instead.
      await new Promise((r) => setTimeout(r, 2000));
      page.off('response', onResponse);
      await Promise.all(pending);
      const fcp = signIn ? null : await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
      const sorted = Object.fromEntries(Object.entries(byRoute).sort((a, b) => b[1] - a[1]));
      return { firstContentfulPaintMs: fcp === null ? null : Math.round(fcp), kpisVisibleMs, apiRequests: requests, apiBytes: Object.values(byRoute).reduce((a, b) => a + b, 0), byRoute: sorted };
    };
    const log = (m: string) => process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${m}\n`);
    log('data written; anonymous visit');
    const anonymous = await measure(false);
    log('owner visit');
    const owner = await measure(true);
    log('closing');
    await context.close();
    log('closed');
    return { members: options.members, days: options.days, bookings: bookings.length, setupSeconds, bundleBytes: bundleBytes(), anonymous, owner };
  } finally {
    await net.stop();
    rmSync(browserProfile, { recursive: true, force: true });
  }
}

// `node bin/run-ts.mjs bench/dashboard.ts [members] [days] [perMemberDay]` prints the figures as JSON.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [members = '1000', days = '30', perMemberDay = '4'] = process.argv.slice(2);
  const result = await benchDashboard({ members: Number(members), days: Number(days), perMemberDay: Number(perMemberDay) });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
