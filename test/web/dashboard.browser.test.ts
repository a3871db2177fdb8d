import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { dayOfSlot } from '../../src/util/localtime.js';
import { MSG as REGISTRY } from '../../src/modules/registry/messages.js';
import { paymentsRoutes } from '../../src/modules/payments/routes.js';
import { blockWith } from '../anchor/helpers.js';
import { commit } from '../auth/scenario.js';
import { buildModulesScenario, type ModulesScenario } from './modules-scenario.js';

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core; never a browser
 * download) against a real node: every page with real ledger content, transactions signed in the
 * page, statements verified; the payments, market, flex and anchoring pages over the scenario of
 * ./modules-scenario.ts, each with a transaction signed in the page. Screenshots go to test-artifacts/ (and to docs/img/ with
 * GRIDLEDGER_SCREENSHOTS=docs, for the README).
 */

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts/dashboard';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);

/** Waits for the page to catch up (live updates, commits); generous for a loaded CI machine. */
const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

/** Micro-units as the pages print them (units with up to six decimals, en-GB grouping). */
function units(micro: string | bigint, code = ''): string {
  const v = BigInt(micro);
  const abs = v < 0n ? -v : v;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${v < 0n ? '−' : ''}${(abs / 1_000_000n).toLocaleString('en-GB')}${frac ? `.${frac}` : ''}${code ? ` ${code}` : ''}`;
}

/** docs/errors.md's meaning of a code, as the page should show it. */
function meaningOf(code: string): string {
  const m = new RegExp(`^\\| \`${code}\` \\| \\d+ \\| (.*) \\|$`, 'm').exec(readFileSync('docs/errors.md', 'utf8'));
  if (!m) throw new Error(`${code} is not in docs/errors.md`);
  return m[1]!;
}

describe.skipIf(!haveChromium)('dashboard in Chromium against a running node', () => {
  let s: ModulesScenario;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  const seedOf = (name: string) => (JSON.parse(readFileSync(join(s.node.home, 'keyring', `${name}.json`), 'utf8')) as { insecureSeed: string }).insecureSeed;

  async function shot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (process.env.GRIDLEDGER_SCREENSHOTS === 'docs') copyFileSync(file, join('docs', 'img', `dashboard-${name}.png`));
  }

  /** Imports a key of the node's test keyring into the page (stored encrypted) and unlocks it. */
  async function signIn(name: string): Promise<void> {
    if (await page.getByRole('button', { name: 'Lock' }).isVisible()) await page.getByRole('button', { name: 'Lock' }).click();
    if (await page.getByTestId('unlock').isVisible()) await page.getByRole('button', { name: 'New / import' }).click();
    await page.getByTestId('key-name').fill(name);
    await page.getByTestId('key-seed').fill(seedOf(name));
    await page.getByTestId('key-passphrase').fill('correct horse battery');
    await page.getByTestId('key-save').click();
    await poll(() => page.getByTestId('wallet-address').getAttribute('title')).toBe(s.addr[name]);
  }

  async function open(id: string): Promise<void> {
    await page.getByTestId(`nav-${id}`).click();
    await page.getByTestId(`page-${id}`).waitFor();
  }

  const text = (testId: string) => page.getByTestId(testId).innerText();

  beforeAll(async () => {
    // One build of the dashboard for this run (Vite, a few seconds).
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
    s = await buildModulesScenario();
    // Two operators, and an open proposal of the first that waits for the second's approval.
    await commit(s.node, 'admin', [{ type: REGISTRY.propose, value: { id: 'second-operator', action: { kind: 'add-operator', address: s.addr.gridop } } }]);
    await commit(s.node, 'admin', [{ type: REGISTRY.propose, value: { id: 'auditor-operator', action: { kind: 'add-operator', address: s.addr.auditor }, description: 'the auditor joins the operators' } }]);
    profile = mkdtempSync(join(tmpdir(), 'gridledger-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => console.error('page error:', err.message));
    await page.goto(`${s.node.url}/#/explorer`);
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await s?.node.cleanup();
  });

  it('Explorer: live status, blocks, validators, and finds a transaction by hash with its result and events', async () => {
    await poll(async () => Number(await page.getByTestId('status-height').locator('strong').innerText())).toBeGreaterThan(5);
    await poll(() => page.getByTestId('explorer-blocks').locator('tbody tr').count()).toBeGreaterThan(3);
    await page.getByTestId('explorer-search-input').fill(s.transferTx);
    await page.getByTestId('explorer-search-go').click();
    await poll(() => text('explorer-tx-code')).toBe('OK');
    const tx = await text('explorer-tx');
    expect(tx).toContain('energy/transfer');
    expect(tx).toMatch(/energy\.\w+/);
    await shot('explorer');
  });

  it('Community (as its owner): the worked example totals, KPIs, balances by trader and the flows of the slot', async () => {
    await signIn('admin');
    await open('community');
    await poll(() => text('community-name')).toBe('HanzeNet worked example');
    // The page opens on today; just after local midnight the example's slot is still yesterday's.
    if ((await text('community-day')) !== dayOfSlot('Europe/Amsterdam', s.slot)) await page.getByTestId('community-prev-day').click();
    await poll(() => text('community-day')).toBe(dayOfSlot('Europe/Amsterdam', s.slot));
    await poll(() => text('kpi-production')).toContain('10 kWh');
    expect(await text('kpi-consumption')).toContain('15 kWh');
    expect(await text('kpi-import')).toContain('5 kWh');
    await poll(() => text('community-by-trader')).toContain('-5 kWh');
    const flows = page.getByTestId('community-flow-table');
    await poll(() => flows.locator('tbody tr').count()).toBe(2);
    const rows = await flows.locator('tbody tr').allInnerTexts();
    expect(rows.some((r) => r.includes('10 kWh'))).toBe(true);
    expect(rows.some((r) => r.includes('grid') && r.includes('5 kWh'))).toBe(true);
    expect(await text('community-members')).toContain('P1');
    // The ledger report (GET …/kpis): alice's 10 kWh went to bob inside the community, 5 of his 15 kWh came from the grid.
    await poll(() => text('ledger-kpi-shared')).toContain('10 kWh');
    expect(await text('ledger-kpi-self-sufficiency')).toContain('66.7 %'); // 666,666 ppm
    expect(await text('ledger-kpi-self-consumption')).toContain('100.0 %');
    const bills = await page.getByTestId('community-bills').locator('tbody tr').allInnerTexts();
    expect(bills.some((r) => r.includes('P1') && r.includes('-1.50 €'))).toBe(true); // alice sold 10 kWh at 0.15 €/kWh
    expect(bills.some((r) => r.includes('C1') && r.includes('2.75 €') && r.includes('3.75 €'))).toBe(true); // bob: 5 kWh × 0.25 + 10 kWh × 0.15, baseline 15 kWh × 0.25
    await page.waitForTimeout(800); // let the flow animation run
    await shot('community');
  });

  it('Prosumer (bob): the worked example balances and his meter readings', async () => {
    await signIn('bob');
    await open('prosumer');
    const balances = page.getByTestId('prosumer-balance-rows');
    await poll(() => balances.locator('tbody tr').count()).toBe(2);
    const rows = await balances.locator('tbody tr').allInnerTexts();
    expect(rows.find((r) => r.includes('solar'))).toContain('10000 Wh');
    expect(rows.find((r) => r.includes('unlabelled'))).toContain('-15000 Wh');
    // his history, newest first: alice's transfer after his meter's consumption
    const history = page.getByTestId('prosumer-history-rows').locator('tbody tr');
    await poll(() => history.count()).toBe(2);
    expect((await history.allInnerTexts()).map((r) => (r.includes('transfer-in') ? 'transfer-in' : r.includes('consumption') ? 'consumption' : r))).toEqual(['transfer-in', 'consumption']);
    await poll(() => text('prosumer-readings')).toContain('15000 Wh');
  });

  it('Prosumer (alice): a portion transfer signed in the page shows up in the heatmap', async () => {
    await signIn('alice');
    await open('prosumer');
    await poll(() => text('portion-runs')).toContain('200000 ppm');
    expect(await text('portion-runs')).not.toContain('100000 ppm');
    await page.getByTestId('transfer-ppm').fill('100000');
    await page.getByTestId('transfer-to').fill(s.addr.bob!);
    await page.getByTestId('transfer-slots').fill('8');
    await page.getByTestId('transfer-submit').click();
    await poll(() => text('tx-outcome'), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text('portion-runs')).toContain('100000 ppm');
    // a second transfer of more than alice holds is refused with its code and meaning
    await page.getByTestId('transfer-ppm').fill('900000');
    await page.getByTestId('transfer-submit').click();
    await poll(() => text('tx-outcome'), 40_000).toContain('SHARES_INSUFFICIENT_PORTION');
    expect(await text('tx-outcome')).toContain(meaningOf('SHARES_INSUFFICIENT_PORTION'));
    await page.getByTestId('transfer-ppm').fill('100000');
    await shot('prosumer');
  });

  it('Prosumer (carol): her statement verifies against the ledger, a tampered copy does not', async () => {
    await signIn('carol');
    await open('prosumer');
    await page.getByTestId('received-json').fill(s.carolStatement);
    await page.getByTestId('received-verify').click();
    await poll(() => text('received-verdict')).toMatch(/^verified: hash [0-9a-f]{12}… recorded by the utility at height \d+/);
    const tampered = JSON.parse(s.carolStatement) as { amountMicroEur: { total: number } };
    tampered.amountMicroEur.total -= 100_000;
    await page.getByTestId('received-json').fill(JSON.stringify(tampered, null, 2));
    await page.getByTestId('received-verify').click();
    await poll(() => text('received-verdict')).toMatch(/^NOT verified/);
  });

  it('Prosumer (alice): a community bill with proofs verifies offline in the page; an altered Wh is named', async () => {
    const day = dayOfSlot('Europe/Amsterdam', s.slot);
    const out = mkdtempSync(join(tmpdir(), 'gridledger-proven-bill-'));
    const genesis = join(s.node.home, 'genesis.json');
    // the node runs in this process: the CLI is run asynchronously
    const { stdout } = await promisify(execFile)('node', ['bin/gridledger.mjs', '--home', s.node.home, '--node', s.node.url, '-o', 'json', '--from', 'admin', 'bill', '--community', s.community, '--member', s.addr.alice!, '--from-day', day, '--to-day', day, '--out', out, '--prove', '--trusted', genesis]);
    const billed = JSON.parse(stdout) as { bills: Array<{ json: string }> };
    const bill = JSON.parse(readFileSync(billed.bills[0]!.json, 'utf8')) as { energyWh: { meteredExport: number }; evidence: unknown };
    expect(bill.evidence).toBeDefined();
    await signIn('alice');
    await open('prosumer');
    await page.getByTestId('received-json').fill(JSON.stringify(bill));
    await page.getByTestId('received-trusted').fill(readFileSync(genesis, 'utf8'));
    await page.getByTestId('received-verify').click();
    await poll(() => text('received-verdict'), 60_000).toMatch(/^verified offline: content matches its hash field; header \d+ follows from the trusted height 0/);
    const altered = { ...bill, energyWh: { ...bill.energyWh, meteredExport: bill.energyWh.meteredExport + 1 } };
    await page.getByTestId('received-json').fill(JSON.stringify(altered));
    await page.getByTestId('received-verify').click();
    await poll(() => text('received-verdict'), 60_000).toContain(`energyWh.meteredExport: the statement says ${bill.energyWh.meteredExport + 1}, the proven ledger data give ${bill.energyWh.meteredExport}`);
    rmSync(out, { recursive: true, force: true });
  });

  it('Plant (utility): holdings per slot, transfers, a billing run and a clear refusal to record an open period', async () => {
    await signIn('utility');
    await open('plant');
    await poll(() => text('plant-name')).toBe('Building 1 rooftop PV');
    await poll(() => page.getByTestId('plant-holdings').locator('thead th').count()).toBe(5);
    await poll(() => text('plant-transfers')).toContain('transfer');
    await page.getByTestId('bill-day').fill(s.tomorrow);
    await poll(() => page.getByTestId('plant-statements').locator('tbody tr').count()).toBe(3);
    await page.getByTestId('bill-record').click();
    await poll(() => text('tx-outcome'), 40_000).toContain('SETTLEMENT_PERIOD_OPEN');
    expect(await text('tx-outcome')).toContain(meaningOf('SETTLEMENT_PERIOD_OPEN'));
    await shot('plant');
  });

  it('Payments (alice): supply against the attested reserve, balances, locks, escrows and channels; a transfer signed in the page', async () => {
    await signIn('alice');
    await open('payments');
    const supply = page.getByTestId('payments-supply');
    await poll(() => supply.innerText()).toContain('EUR@hanze');
    const asset = await s.node.call(paymentsRoutes.getAsset, { params: { asset: s.asset }, query: {} });
    expect(await supply.innerText()).toContain(units(asset.supply.supply));
    expect(await supply.innerText()).toContain(units('10000000'));
    expect(await supply.innerText()).toContain('covered');
    const free = page.getByTestId(`balance-free-${s.asset}`);
    const balanceOf = async (who: string) => (await s.node.callAs(who, paymentsRoutes.balances, { params: { address: s.addr[who]! } })).balances.find((b) => b.asset === s.asset)!;
    const before = await balanceOf('alice');
    await poll(() => free.innerText()).toBe(units(before.free, 'EUR'));
    // the market's bid lock, the escrow and the channel of the scenario
    await poll(() => text('payments-locks')).toContain('market');
    expect(await text('payments-escrows')).toContain(s.escrow);
    expect(await text('payments-channels')).toContain(s.channel);
    const bobBefore = await balanceOf('bob');

    await page.getByTestId('pay-amount').fill('0.25');
    await page.getByTestId('pay-to').fill(s.addr.bob!);
    await page.getByTestId('pay-memo').fill('thanks for the solar');
    await page.getByTestId('pay-submit').click();
    await poll(() => page.getByTestId('pay-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => free.innerText()).toBe(units(BigInt(before.free) - 250_000n, 'EUR'));
    expect(BigInt((await balanceOf('bob')).free) - BigInt(bobBefore.free)).toBe(250_000n);
    await poll(() => text('payments-history')).toContain('thanks for the solar');
    expect(await text('payments-history')).toContain(`transfer-out\t${units(-250_000n, 'EUR')}`);

    // as the escrow's payer, alice approves its release: one of the two approvals
    await page.getByTestId(`escrow-release-${s.escrow}`).click();
    await poll(() => page.getByTestId('escrow-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => page.getByTestId(`escrow-release-${s.escrow}`).count()).toBe(0);
    expect(await text('payments-escrows')).toContain('1 / 2');
    await shot('payments');
  });

  it('Market (alice): advert board, depth, clearing prices, contracts and bill; a bid placed and cancelled in the page', async () => {
    await signIn('alice');
    await open('market');
    await poll(() => text('market-summary')).toContain('continuous market in EUR@hanze');
    await poll(() => text('market-offers')).toContain(`500\t${units(120_000n, 'EUR')}/kWh\tsolar`);
    // the depth opens on the slot of the first open offer
    await poll(() => page.getByTestId('market-book-slot').inputValue()).toBe(String(s.openOfferSlot));
    await poll(() => page.getByTestId('market-asks-fwd').innerText()).toContain('120000\t500\t1');
    // the trade of slot S+10: 1 kWh
    const clearing = page.getByTestId('market-clearing-rows');
    await poll(() => clearing.innerText()).toContain('1000 Wh');
    expect(await clearing.locator('tbody tr').count()).toBe(1);
    await poll(() => text('market-contracts')).toContain(s.contract);
    await poll(() => page.getByTestId('market-bill-total').count()).toBe(1);
    // today's bill is not recorded yet (its period is open): Verify says so; a pasted non-bill is refused
    await page.getByTestId('market-bill-verify').click();
    await poll(() => text('market-bill-verdict'), 40_000).toMatch(/^NOT verified: recorded ✗ no bill with hash [0-9a-f]{64} is recorded on the ledger/);
    await page.getByTestId('market-received-json').fill('{"kind":"gridledger/statement"}');
    await page.getByTestId('market-received-verify').click();
    await poll(() => text('market-received-verdict'), 40_000).toMatch(/^NOT verified: form ✗ not a community bill/);

    await page.getByTestId('order-side').selectOption('bid');
    await page.getByTestId('order-wh').fill('400');
    await page.getByTestId('order-slot').fill(String(s.openOfferSlot));
    await page.getByTestId('order-price').fill('80000');
    await page.getByTestId('order-submit').click();
    await poll(() => page.getByTestId('order-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    const orders = page.getByTestId('market-order-rows');
    const placed = orders.locator('tbody tr', { hasText: '80000' });
    await poll(() => placed.count()).toBe(1);
    const id = (await placed.locator('td').first().innerText()).trim();
    expect(await text(`order-status-${id}`)).toBe('open');
    await poll(() => page.getByTestId('market-bids-fwd').innerText()).toContain('80000\t400\t1');
    await shot('market');
    await page.getByTestId(`order-cancel-${id}`).click();
    await poll(() => text(`order-status-${id}`), 40_000).toBe('cancelled');
    await poll(() => page.getByTestId('market-book-fwd').innerText()).not.toContain('80000');

    // the contract wizard: alice proposes to supply bob; she cannot accept her own proposals
    await page.getByTestId('contract-role').selectOption('prosumer');
    await page.getByTestId('contract-counterparty').fill(s.addr.bob!);
    await page.getByTestId('contract-start').fill(String(s.slot + 40));
    await page.getByTestId('contract-slots').fill('4');
    await page.getByTestId('contract-submit').click();
    await poll(() => page.getByTestId('contract-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    const proposed = page.getByTestId('market-contracts').locator('tbody tr', { hasText: `${s.slot + 40}…${s.slot + 44}` });
    await poll(() => proposed.count()).toBe(1);
    expect(await proposed.innerText()).toContain('proposed');
    expect(await page.locator('[data-testid^="contract-accept-"]').count()).toBe(0);
  });

  it('Market (bob): accepts the supply contract alice proposed in the wizard; it becomes active and can be ended', async () => {
    await signIn('bob');
    await open('market');
    await poll(() => page.getByTestId(`contract-accept-${s.contract}`).count()).toBe(1);
    await page.getByTestId(`contract-accept-${s.contract}`).click();
    await poll(() => page.getByTestId('contract-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text(`contract-status-${s.contract}`), 40_000).toBe('active');
    expect(await page.getByTestId(`contract-end-${s.contract}`).count()).toBe(1);
  });

  it('Flex (alice): programs, events with intervals, proved deviations and rewards; an enrolment signed in the page', async () => {
    await signIn('alice');
    await open('flex');
    await poll(() => text('flex-programs')).toContain('Evening peak');
    await poll(() => text(`flex-status-${s.flexEvent}`)).toBe('completed');
    expect(await text(`flex-status-${s.offeredEvent}`)).toBe('offered');
    // ev1: deviations 20 and 0 Wh proved; penalty 20 Wh × 2 000 µ; reward 2 × 1 EUR less the penalty
    const intervals = page.getByTestId('flex-intervals');
    await poll(() => intervals.locator('tbody tr').count()).toBe(2);
    const rows = await intervals.locator('tbody tr').allInnerTexts();
    expect(rows[0]).toContain('500 Wh');
    expect(rows[0]).toContain('20 Wh');
    expect(rows[0]).toContain(units(40_000n));
    expect(rows[1]).toContain('0 Wh');
    expect(rows.every((r) => r.includes('proved'))).toBe(true);
    await poll(() => text('flex-earned')).toBe(units(2_000_000n - 40_000n, 'EUR'));
    expect(await text('flex-escrow')).toContain('payout');

    await page.getByTestId(`flex-enrol-meter-${s.offeredEvent}`).fill('P1');
    await page.getByTestId(`flex-enrol-${s.offeredEvent}`).click();
    await poll(() => page.getByTestId('flex-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text(`flex-mine-status-${s.offeredEvent}`)).toBe('active');
    await poll(() => text(`flex-status-${s.offeredEvent}`)).toBe('active');
    await shot('flex');
  });

  it('Anchoring (anchor operator): checkpoints, a confirmed anchor that verifies; an anchor recorded and confirmed in the page', async () => {
    await signIn('anchorop');
    await open('anchor');
    await poll(() => text('anchor-network')).toContain('regtest');
    await poll(() => text(`anchor-status-${s.anchored}`)).toBe('confirmed');
    await poll(() => text(`anchor-verdict-${s.anchored}`)).toMatch(/^verified \(\d+ checks\)$/);
    expect(await text(`anchor-status-${s.unanchored}`)).toBe('pending');
    // the detail opens on the confirmed checkpoint: every check passed, meter A1's fingerprint covered
    await poll(() => page.getByTestId('anchor-checks').locator('tbody tr').count()).toBeGreaterThan(3);
    expect(await text('anchor-checks')).not.toContain('failed');
    expect(await text('anchor-items')).toContain('A1');
    expect(await text('anchor-detail-tx')).toContain('900123');

    await page.getByTestId('anchor-record-height').fill(String(s.unanchored));
    await page.getByTestId('anchor-record-txid').fill(s.unanchoredTx.txid);
    await page.getByTestId('anchor-record-raw').fill(s.unanchoredTx.rawHex);
    await page.getByTestId('anchor-record-submit').click();
    await poll(() => page.getByTestId('anchor-record').getByTestId('tx-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text(`anchor-status-${s.unanchored}`)).toBe('recorded');
    await page.getByTestId(`anchor-pick-${s.unanchored}`).click();
    await poll(() => text('anchor-detail-tx')).toContain('not yet confirmed');
    expect(await text(`anchor-verdict-${s.unanchored}`)).toContain('ANCHOR_NOT_CONFIRMED');

    // then the block that includes it (synthetic: a real Merkle tree, a header at the regtest target)
    const block = blockWith(s.unanchoredTx.txid, 1, 4);
    await page.getByTestId('anchor-confirm-height').fill(String(s.unanchored));
    await page.getByTestId('anchor-confirm-block-height').fill('900200');
    await page.getByTestId('anchor-confirm-header').fill(block.header);
    await page.getByTestId('anchor-confirm-branch').fill(JSON.stringify(block.branch));
    await page.getByTestId('anchor-confirm-submit').click();
    await poll(() => page.getByTestId('anchor-record').getByTestId('tx-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text(`anchor-status-${s.unanchored}`)).toBe('confirmed');
    await poll(() => text(`anchor-verdict-${s.unanchored}`)).toMatch(/^verified \(\d+ checks\)$/);
    await poll(() => text('anchor-detail-tx')).toContain('in Bitcoin block 900200');
    await shot('anchor');
  });

  it('Operator: a second operator approves a proposal in the page; an admission signed in the page; registry log, validators, modules', async () => {
    await signIn('gridop');
    await open('operator');
    await poll(() => text('proposal-status-auditor-operator')).toBe('open');
    await page.getByTestId('approve-auditor-operator').click();
    await poll(() => page.getByTestId('proposal-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => text('proposal-status-auditor-operator')).toBe('executed');

    await signIn('admin');
    await open('operator');
    const newcomer = addressFromPublicKey(new Uint8Array(32).fill(9));
    await page.getByTestId('admit-address').fill(newcomer);
    await page.getByTestId('admit-roles').fill('consumer');
    await page.getByTestId('admit-submit').click();
    await poll(() => page.getByTestId('operator-registry').getByTestId('tx-outcome').innerText(), 40_000).toMatch(/committed at height \d+: OK/);
    await poll(() => page.getByTestId('operator-log').locator(`code[title="${newcomer}"]`).count()).toBe(1);
    expect(await text('operator-modules')).toContain('settlement');
    expect(await text('operator-modules')).toContain('state version');
    expect(await page.getByTestId('operator-validators').locator('tbody tr').count()).toBe(1);
    await shot('operator');
  });
});
