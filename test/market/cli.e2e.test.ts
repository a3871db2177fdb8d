import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring } from '../../src/home/home.js';
import { realTimers } from '../../src/runtime/driver.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { nextDay } from '../../src/modules/settlement/keeper.js';
import { dayOfSlot, localDay } from '../../src/util/localtime.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { userCli } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';

const TZ = 'Europe/Oslo';

/**
 * The acceptance scenarios through the CLI against a running node (one `node
 * bin/gridledger.mjs … -o json` process per command). Meters submit their interval readings through
 * the API in batches, as the edge agent does. The node runs on a clock the test moves forward (a day
 * of readings, a gate closure, the end of a delivery slot); the CLI only ever names slots explicitly.
 *  (a) Tundal: a prosumer advertises, a consumer queries producers and adverts, both sign a supply
 *      contract for tomorrow; a day of readings settles automatically and credits flow to the prosumer;
 *      the community bills are written, recorded and verified with `gridledger verify statement`.
 *  (b) PriWatt: an offer of ended-slot solar energy locks it; a second sale and a transfer of it are
 *      refused; the trade settles at once.
 *  (c) pay-as-clear: 5 bids and 5 offers clear at the price and volumes computed by hand.
 *  (d) a seller short of energy at delivery pays the shortfall at the import tariff.
 */
describe('market through the CLI on a running node', () => {
  let home: string;
  let node: RunningNode;
  let accounts: Record<string, string>;
  let out: string;
  const clock = { offset: 0 };
  const now = () => Date.now() + clock.offset;

  beforeAll(async () => {
    const made = makeHome({ bank: ['issuer'], alice: ['prosumer'], bob: ['consumer'], carol: ['prosumer'], dave: ['consumer'], erin: ['prosumer'], pm: ['meter'], cm: ['meter'], pm2: ['meter'], pm3: ['meter'] });
    home = made.home;
    accounts = made.init.accounts;
    out = mkdtempSync(join(tmpdir(), 'gridledger-bills-'));
    node = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }), timers: { ...realTimers, now } });
  });
  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  // One CLI process per command (test/foundation/cli-helpers.ts): JSON out, refusals' codes, committed transactions.
  const user = () => userCli(home, node.url);
  const cli = (...args: string[]): Promise<any> => user().json(...args);
  const fails = (...args: string[]): Promise<string> => user().fails(...args);
  const tx = (from: string, ...args: string[]): Promise<any> => user().tx(from, ...args);
  const txFails = (from: string, ...args: string[]) => fails('--from', from, '--wait', 'tx', ...args);
  const free = async (who: string, asset: string) => BigInt((await cli('--from', who, 'query', 'pay', 'balances', who)).balances.find((b: any) => b.asset === asset)?.free ?? '0');
  const status = () => callRoute(node.url, coreRoutes.status, {});
  const nodeSlot = async () => Math.floor((await status()).latestBlockTime / SLOT_MS);

  /** Moves the node's clock to `ms` and waits for a block at or after it. */
  async function jumpTo(ms: number): Promise<void> {
    clock.offset = Math.max(clock.offset, ms - Date.now());
    for (let i = 0; i < 200; i++) {
      if ((await status()).latestBlockTime >= ms) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no block after the clock moved');
  }
  async function until<T>(what: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const v = await what();
      if (done(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('condition not reached');
  }

  /** Setup that is not the scenario (communities, traders, meters, credits): one signed transaction per call through the API. */
  async function setupTx(from: string, msgs: Array<{ type: string; value: Record<string, unknown> }>): Promise<void> {
    const keyring = openKeyring(home, 'test');
    const address = keyring.show(from).address;
    const { chainId, height } = await status();
    const { next } = await callRoute(node.url, coreRoutes.accountNonce, { params: { address } });
    const { hash } = await callRoute(node.url, coreRoutes.submitTx, { body: signTx({ chainId, sender: address, nonce: next, expiresAtHeight: height + 100, msgs, memo: '' }, keyring.signer(from)) });
    const res = await callRoute(node.url, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    expect(res.result?.code, res.result?.message).toBe('OK');
  }
  const community = (id: string, name: string) => ({ type: 'energy/create-community', value: { id, name, timezone: TZ } });
  const trader = (c: string, address: string) => ({ type: 'energy/add-trader', value: { community: c, address } });
  const meter = (c: string, meterId: string, address: string, trader: string) => ({ type: 'energy/add-meter', value: { community: c, meterId, address, kind: 'producer', trader, labels: ['solar'], maxPowerW: 20_000 } });
  const asset = (scope: string) => ({ type: 'payments/create-asset', value: { code: 'NOK', scope, name: `${scope} kroner` } });
  const mint = (scope: string, to: string, amount: string, depositRef: string) => ({ type: 'payments/mint', value: { asset: `NOK@${scope}`, to, amount, depositRef } });

  /** Readings signed by the meters' keys, submitted in one batch (what the edge agent does), all committed OK. */
  async function submitReadings(readings: Array<{ key: string; meterId: string; slot: number; importWh: number; exportWh: number; seq: number; imp: number; exp: number }>): Promise<void> {
    const keyring = openKeyring(home, 'test');
    const { chainId, height } = await status();
    const nonces = new Map<string, number>();
    const txs: SignedTx[] = [];
    for (const r of readings) {
      const address = keyring.show(r.key).address;
      const nonce = nonces.get(address) ?? (await callRoute(node.url, coreRoutes.accountNonce, { params: { address } })).next;
      nonces.set(address, nonce + 1);
      const value = { meterId: r.meterId, slot: r.slot, importWh: r.importWh, exportWh: r.exportWh, importRegisterWh: r.imp + r.importWh, exportRegisterWh: r.exp + r.exportWh, seq: r.seq };
      txs.push(signTx({ chainId, sender: address, nonce, expiresAtHeight: height + 1000, msgs: [{ type: 'metering/reading', value }], memo: '' }, keyring.signer(r.key)));
    }
    const admitted = await callRoute(node.url, coreRoutes.submitTxBatch, { body: { txs } });
    expect(admitted.results.every((r) => r.code === 'OK')).toBe(true);
    for (const r of admitted.results) {
      const res = await callRoute(node.url, coreRoutes.getTx, { params: { hash: r.hash! }, query: { wait: 30 } });
      expect(res.result?.code, res.result?.message).toBe('OK');
    }
  }

  it('(a) Tundal: advert, producers, a supply contract for tomorrow, a day of readings settled automatically, bills recorded and verified', async () => {
    const A = accounts.alice!;
    const B = accounts.bob!;
    await setupTx('admin', [
      community('tundal', 'Tundal microgrid'),
      trader('tundal', A),
      trader('tundal', B),
      meter('tundal', 'P1', accounts.pm!, A),
      { type: 'energy/add-meter', value: { community: 'tundal', meterId: 'C1', address: accounts.cm!, kind: 'consumer', trader: B, maxPowerW: 20_000 } },
    ]);
    await setupTx('bank', [asset('tundal'), mint('tundal', B, '100000000', 'T-1'), mint('tundal', A, '10000000', 'T-2')]);
    // settlement waits for the readings (up to 2 days), so a whole day of them can arrive late
    await tx('admin', 'market', 'open', '--community', 'tundal', '--type', 'continuous', '--asset', 'NOK@tundal', '--import-price', '2000000', '--export-price', '500000', '--settle-after', '172800');
    const slot0 = await nodeSlot();
    // the prosumer advertises surplus; the consumer looks for producers and adverts
    await tx('alice', 'market', 'offer', '--community', 'tundal', '--slot', String(slot0 + 3), '--wh', '2000', '--price', '1000000', '--labels', 'solar');
    const producers = await cli('--from', 'bob', 'query', 'market', 'producers', '--community', 'tundal');
    expect(producers.producers).toEqual([{ trader: A, meters: [{ meterId: 'P1', labels: ['solar'] }], openOffers: 1, offeredWh: 2000, bestPrice: 1_000_000 }]);
    const adverts = await cli('query', 'market', 'offers', '--community', 'tundal', '--labels', 'solar');
    expect(adverts.offers.map((o: any) => [o.trader, o.remainingWh, o.price])).toEqual([[A, 2000, 1_000_000]]);
    // a supply contract for tomorrow (local day), 4 kW at 0.50 NOK/kWh
    const tomorrow = localDay(TZ, nextDay(dayOfSlot(TZ, slot0)));
    const start = tomorrow.firstSlot;
    const end = start + tomorrow.slots;
    const proposed = await tx('bob', 'market', 'contract', 'propose', '--community', 'tundal', '--role', 'consumer', '--counterparty', 'alice', '--start-slot', String(start), '--end-slot', String(end), '--price', '500000', '--max-power-w', '4000');
    const id = proposed.result.events.find((e: any) => e.type === 'market.contract_proposed').attributes.id;
    expect(await free('bob', 'NOK@tundal')).toBe(100_000_000n - BigInt(tomorrow.slots) * 500_000n);
    await tx('alice', 'market', 'contract', 'accept', '--id', id);
    expect(await txFails('bob', 'market', 'bid', '--community', 'tundal', '--slot', String(start + 40), '--wh', '100', '--price', '3000000')).toBe('MARKET_CONTRACT_EXCLUSIVE');
    const aliceBefore = await free('alice', 'NOK@tundal');
    // the day passes; the meters report its 96 slots
    await jumpTo(end * SLOT_MS + 60_000);
    const readings: Array<{ key: string; meterId: string; slot: number; importWh: number; exportWh: number; seq: number; imp: number; exp: number }> = [];
    let covered = 0;
    for (let i = 0; i < tomorrow.slots; i++) {
      const hour = Math.floor(i / 4);
      const exportWh = Math.max(0, 1400 - Math.abs(hour - 13) * 220);
      const importWh = 400 + (i % 7) * 100;
      covered += Math.min(exportWh, importWh, 1000);
      readings.push({ key: 'pm', meterId: 'P1', slot: start + i, importWh: 0, exportWh, seq: i + 1, imp: 0, exp: readings.filter((r) => r.meterId === 'P1').reduce((s, r) => s + r.exportWh, 0) });
      readings.push({ key: 'cm', meterId: 'C1', slot: start + i, importWh, exportWh: 0, seq: i + 1, imp: readings.filter((r) => r.meterId === 'C1').reduce((s, r) => s + r.importWh, 0), exp: 0 });
    }
    await submitReadings(readings);
    const k = await until(
      () => cli('query', 'market', 'contract', id),
      (v) => v.contract.status === 'finished',
    );
    expect(k.contract).toMatchObject({ coveredWh: covered, paidMicro: String(covered * 500) });
    expect(k.slots).toHaveLength(tomorrow.slots);
    expect(await free('alice', 'NOK@tundal')).toBe(aliceBefore + BigInt(covered * 500) + 4_000_000n); // + the advert's collateral, back at its gate
    expect(await free('bob', 'NOK@tundal')).toBe(100_000_000n - BigInt(covered * 500));
    // bills of the day: written, recorded, verified; a tampered copy fails
    const written = await cli('bill', '--community', 'tundal', '--from-day', nextDay(dayOfSlot(TZ, slot0)), '--to-day', nextDay(dayOfSlot(TZ, slot0)), '--out', out);
    expect(written.bills).toHaveLength(2);
    const bobBill = written.bills.find((b: any) => b.member === B);
    const bill = JSON.parse(readFileSync(bobBill.json, 'utf8'));
    expect(bill.lines.find((l: any) => l.item === 'contract-purchases')).toEqual({ item: 'contract-purchases', wh: covered, amountMicro: String(covered * 500), settled: true });
    expect(readFileSync(bobBill.csv, 'utf8')).toContain(`bill_hash,${bill.hash}`);
    await cli('--from', 'admin', 'tx', 'market', 'record-bills', join(out, 'tundal'));
    const verified = await cli('verify', 'statement', bobBill.json);
    expect(verified).toMatchObject({ ok: true, hash: bill.hash });
    expect(verified.checks.map((c: any) => [c.name, c.ok])).toEqual([
      ['hash-field', true],
      ['recorded', true],
      ['recomputed', true],
    ]);
    const tampered = join(out, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...bill, totals: { ...bill.totals, totalMicro: '1' } }));
    expect(await fails('verify', 'statement', tampered)).toBe('STATEMENT_NOT_VERIFIED');
    expect(readdirSync(join(out, 'tundal')).filter((f) => f.endsWith('.csv'))).toHaveLength(3);
  }, 240_000);

  it('(b) PriWatt: ended-slot solar energy offered is locked, a second sale is refused, the trade settles', async () => {
    const C = accounts.carol!;
    const D = accounts.dave!;
    await setupTx('admin', [community('priwatt', 'PriWatt board'), trader('priwatt', C), trader('priwatt', D), meter('priwatt', 'P2', accounts.pm2!, C)]);
    await setupTx('bank', [asset('priwatt'), mint('priwatt', D, '50000000', 'P-1')]);
    await tx('admin', 'market', 'open', '--community', 'priwatt', '--type', 'pay-as-offer', '--asset', 'NOK@priwatt', '--import-price', '2000000', '--export-price', '500000');
    const x = (await nodeSlot()) - 1; // the slot that just ended
    await tx('pm2', 'meter', 'reading', '--slot', String(x), '--export-wh', '3000', '--seq', '1');
    const offered = await tx('carol', 'market', 'offer', '--community', 'priwatt', '--slot', String(x), '--wh', '3000', '--price', '800000', '--labels', 'solar');
    const offerId = offered.result.events.find((e: any) => e.type === 'market.order').attributes.id;
    expect(await txFails('carol', 'market', 'offer', '--community', 'priwatt', '--slot', String(x), '--wh', '1', '--price', '800000', '--labels', 'solar')).toBe('MARKET_INSUFFICIENT_ENERGY');
    expect(await txFails('carol', 'energy', 'transfer', '--community', 'priwatt', '--to', D, '--slot', String(x), '--labels', 'solar', '--wh', '1')).toBe('ENERGY_INSUFFICIENT_BALANCE');
    const board = await cli('query', 'market', 'offers', '--community', 'priwatt', '--slot', String(x));
    expect(board.offers.map((o: any) => [o.id, o.energyLocked, o.remainingWh])).toEqual([[offerId, true, 3000]]);
    await tx('dave', 'market', 'bid', '--community', 'priwatt', '--slot', String(x), '--wh', '3000', '--price', '1000000');
    const trades = await cli('query', 'market', 'trades', '--community', 'priwatt', '--slot', String(x));
    expect(trades.trades.map((t: any) => [t.seller, t.buyer, t.wh, t.price, t.valueMicro, t.status, t.delivery.deliveredWh])).toEqual([[C, D, 3000, 800_000, '2400000', 'settled', 3000]]);
    const balances = await cli('query', 'energy', 'balances', '--community', 'priwatt', '--slot', String(x));
    expect(balances.balances.map((r: any) => [r.trader, r.labels, r.wh])).toEqual([[D, ['solar'], 3000]]);
    expect(await free('carol', 'NOK@priwatt')).toBe(2_400_000n);
    expect(await free('dave', 'NOK@priwatt')).toBe(50_000_000n - 2_400_000n);
  }, 120_000);

  it('(c) pay-as-clear with 5 bids and 5 offers, and (d) a seller short of energy at delivery', async () => {
    const people = ['alice', 'bob', 'carol', 'dave', 'erin'];
    await setupTx('admin', [
      community('gsy', 'Pay-as-clear'),
      community('short', 'Shortfall'),
      ...people.map((p) => trader('gsy', accounts[p]!)),
      trader('short', accounts.erin!),
      trader('short', accounts.bob!),
      meter('short', 'P3', accounts.pm3!, accounts.erin!),
    ]);
    await setupTx('bank', [asset('gsy'), ...people.map((p, i) => mint('gsy', accounts[p]!, '100000000', `G-${i}`)), asset('short'), mint('short', accounts.erin!, '10000000', 'S-1'), mint('short', accounts.bob!, '10000000', 'S-2')]);
    await tx('admin', 'market', 'open', '--community', 'gsy', '--type', 'pay-as-clear', '--asset', 'NOK@gsy', '--import-price', '250000', '--export-price', '50000');
    await tx('admin', 'market', 'open', '--community', 'short', '--type', 'continuous', '--asset', 'NOK@short', '--import-price', '2000000', '--export-price', '500000');
    const y = (await nodeSlot()) + 3;
    const offers: Array<[string, number, number]> = [
      ['alice', 3000, 100_000],
      ['carol', 2000, 120_000],
      ['erin', 1500, 150_000],
      ['alice', 2500, 180_000],
      ['carol', 4000, 250_000],
    ];
    const bids: Array<[string, number, number]> = [
      ['bob', 2000, 300_000],
      ['dave', 2500, 200_000],
      ['bob', 1000, 180_000],
      ['dave', 3000, 160_000],
      ['erin', 2000, 110_000],
    ];
    for (let i = 0; i < 5; i++) {
      await tx(offers[i]![0], 'market', 'offer', '--community', 'gsy', '--slot', String(y), '--wh', String(offers[i]![1]), '--price', String(offers[i]![2]));
      await tx(bids[i]![0], 'market', 'bid', '--community', 'gsy', '--slot', String(y), '--wh', String(bids[i]![1]), '--price', String(bids[i]![2]));
    }
    const book = await cli('query', 'market', 'book', '--community', 'gsy', '--slot', String(y));
    expect(book.sessions[0].offers.map((l: any) => [l.price, l.wh])).toEqual(offers.map(([, wh, p]) => [p, wh]).sort((a, b) => a[0]! - b[0]!));
    // (d): erin promises 2000 Wh of the same slot to bob
    await tx('erin', 'market', 'offer', '--community', 'short', '--slot', String(y), '--wh', '2000', '--price', '300000', '--labels', 'solar');
    await tx('bob', 'market', 'bid', '--community', 'short', '--slot', String(y), '--wh', '2000', '--price', '300000');
    // the gate closes 300 s before the slot starts: the clearing, computed by hand in docs/market.md
    await jumpTo(y * SLOT_MS - 300_000 + 1000);
    const clearing = await until(
      () => cli('query', 'market', 'clearing', '--community', 'gsy', '--slot', String(y)),
      (v) => v.slots.length > 0,
    );
    expect(clearing.slots).toEqual([expect.objectContaining({ session: 'fwd', source: 'clearing', price: 150_000, volumeWh: 6500, trades: 6 })]);
    const trades = (await cli('query', 'market', 'trades', '--community', 'gsy', '--slot', String(y))).trades;
    const boughtBy = (p: string) => trades.filter((t: any) => t.buyer === accounts[p]).reduce((s: number, t: any) => s + t.wh, 0);
    const soldBy = (p: string) => trades.filter((t: any) => t.seller === accounts[p]).reduce((s: number, t: any) => s + t.wh, 0);
    expect(people.map(boughtBy)).toEqual([0, 3000, 0, 3500, 0]);
    expect(people.map(soldBy)).toEqual([3000, 0, 2000, 0, 1500]);
    expect(trades.every((t: any) => t.price === 150_000)).toBe(true);
    expect((await cli('query', 'market', 'book', '--community', 'gsy', '--slot', String(y))).sessions[0]).toMatchObject({ closed: true, offers: [], bids: [] });
    // (d) the slot ends; erin's meter reports only 800 Wh
    const erinBefore = await free('erin', 'NOK@short');
    const bobBefore = await free('bob', 'NOK@short');
    await jumpTo((y + 1) * SLOT_MS + 30_000);
    await tx('pm3', 'meter', 'reading', '--slot', String(y), '--export-wh', '800', '--seq', '1');
    const short = await until(
      () => cli('query', 'market', 'trades', '--community', 'short', '--slot', String(y)),
      (v) => v.trades[0]?.status === 'settled',
    );
    // bob paid 2000 × 0.30 = 600 000 µ for the promise; erin pays ⌊1200 × 2 000 000 / 1000⌋ = 2 400 000 µ for the 1200 Wh short
    expect(short.trades[0].delivery).toMatchObject({ deliveredWh: 800, shortfallWh: 1200, compensationMicro: '2400000' });
    expect(await free('bob', 'NOK@short')).toBe(bobBefore + 2_400_000n);
    // erin's collateral ⌈2000 × 2 000 000 / 1000⌉ = 4 000 000 comes back less the 2 400 000 charge; she receives the 600 000 price
    expect((await free('erin', 'NOK@short')) - erinBefore).toBe(600_000n + 1_600_000n);
    const energy = await cli('query', 'energy', 'balances', '--community', 'short', '--slot', String(y));
    expect(energy.balances.map((r: any) => [r.trader, r.wh])).toEqual([[accounts.bob, 800]]);
  }, 180_000);
});
