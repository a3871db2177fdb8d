import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { eventOf, userCli } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';

const run = promisify(execFile);
const ASSET = 'NOK@microgrid';

/**
 * The three worked scenarios end to end through the CLI against a running node: one
 * `node bin/gridledger.mjs … -o json` process per command. The chain allows refund delays down to
 * 1 s (genesis modules.payments.minRefundDelayMs) so a channel can be reclaimed within the test.
 */
describe('payments through the CLI on a running node', () => {
  let home: string;
  let node: RunningNode;
  let accounts: Record<string, string>;

  beforeAll(async () => {
    const made = makeHome({ bank: ['issuer'], household: ['consumer'], prosumer: ['prosumer'], buyer: ['consumer'], seller: ['prosumer'], dso: ['grid-operator'] });
    home = made.home;
    accounts = made.init.accounts;
    const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
    genesis.modules.payments = { minRefundDelayMs: 1000 };
    writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
    node = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  // One CLI process per command (test/foundation/cli-helpers.ts): JSON out, refusals' codes, committed transactions.
  const user = () => userCli(home, node.url);
  const cli = (...args: string[]): Promise<any> => user().json(...args);
  const fails = (...args: string[]): Promise<string> => user().fails(...args);
  const tx = (from: string, ...args: string[]): Promise<any> => user().tx(from, ...args);
  const event = eventOf;
  const free = async (who: string) => (await cli('--from', who, 'query', 'pay', 'balances', who)).balances.find((b: any) => b.asset === ASSET)?.free ?? '0';

  it('serves the payments routes, module escrow ids (with slashes) included', async () => {
    // routed to the escrow route (an unknown path would answer NOT_FOUND): a private read, so it asks for a login first
    const res = await fetch(`${node.url}/v1/payments/escrows/${encodeURIComponent('market/bid/1')}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AUTH_REQUIRED');
    const bad = await fetch(`${node.url}/v1/payments/channels/e1`);
    expect(bad.status).toBe(400);
    const doc = (await (await fetch(`${node.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/payments/')).length).toBe(11);
  });

  it('(a) Tundal: a household buys 100 NOK of credits, pays a prosumer for its energy and redeems the rest', async () => {
    await tx('bank', 'pay', 'create-asset', '--code', 'NOK', '--scope', 'microgrid', '--name', 'Microgrid kroner');
    await tx('bank', 'pay', 'mint', '--asset', ASSET, '--to', 'household', '--amount', '100000000', '--deposit-ref', 'DNB-2026-0001');
    expect(await fails('--from', 'bank', '--wait', 'tx', 'pay', 'mint', '--asset', ASSET, '--to', 'household', '--amount', '1', '--deposit-ref', 'DNB-2026-0001')).toBe('PAY_DEPOSIT_REF_USED');
    await tx('household', '--memo', '15 kWh at 2.50 NOK', 'pay', 'transfer', '--asset', ASSET, '--to', 'prosumer', '--amount', '37500000');
    const redeem = await tx('household', 'pay', 'redeem', '--asset', ASSET, '--amount', '62500000');
    const id = event(redeem, 'payments.redeem_requested').id;
    const pending = await cli('--from', 'bank', 'query', 'pay', 'redemptions', '--asset', ASSET, '--status', 'pending');
    expect(pending.redemptions.map((r: any) => [r.id, r.amount, r.holder])).toEqual([[id, '62500000', accounts.household]]);
    await tx('bank', 'pay', 'complete-redeem', '--id', id, '--payout-ref', 'DNB-PAYOUT-0001');
    await tx('bank', 'pay', 'attest', '--asset', ASSET, '--reserve', '37500000', '--ref', 'AUDIT-2026-06');

    expect(await free('household')).toBe('0');
    expect(await free('prosumer')).toBe('37500000');
    const supply = await cli('query', 'pay', 'supply', ASSET);
    expect(supply.supply).toMatchObject({ supply: '37500000', circulating: '37500000', reserve: '37500000', covered: true });
    expect(supply.asset).toMatchObject({ minted: '100000000', burned: '62500000' });
    const history = await cli('--from', 'household', 'query', 'pay', 'history', 'household');
    expect(history.entries.map((e: any) => [e.kind, e.delta])).toEqual([
      ['redeem-paid-out', '0'],
      ['redeem-lock', '-62500000'],
      ['transfer-out', '-37500000'],
      ['mint', '100000000'],
    ]);
    expect(history.entries[2].memo).toBe('15 kWh at 2.50 NOK');
    const behind = await cli('query', 'tx', history.entries[2].txHash);
    expect(behind.result.code).toBe('OK');
  });

  it('(b) PriWatt: a 2-of-3 escrow released by buyer and seller; a disputed one split 70/30 by the DSO and countersigned by the seller', async () => {
    await tx('bank', 'pay', 'mint', '--asset', ASSET, '--to', 'buyer', '--amount', '50000000', '--deposit-ref', 'DNB-2026-0002');
    const first = event(await tx('buyer', 'escrow', 'open', '--asset', ASSET, '--amount', '10000000', '--payee', 'seller', '--mediator', 'dso'), 'payments.escrow_opened').id;
    const mine = await cli('--from', 'seller', 'query', 'escrow', 'list');
    expect(mine.escrows.map((e: any) => [e.id, e.status, e.threshold, e.parties.length])).toEqual([[first, 'open', 2, 3]]);
    // the seller delivers; seller and buyer release
    await tx('seller', 'escrow', 'approve', '--id', first, '--action', 'release');
    await tx('buyer', 'escrow', 'approve', '--id', first, '--action', 'release');
    expect((await cli('--from', 'buyer', 'query', 'escrow', 'show', first)).escrow).toMatchObject({ status: 'released', paidToPayee: '10000000' });
    expect(await fails('--from', 'dso', '--wait', 'tx', 'escrow', 'approve', '--id', first, '--action', 'refund')).toBe('PAY_ESCROW_CLOSED');

    const second = event(await tx('buyer', 'escrow', 'open', '--asset', ASSET, '--amount', '8000000', '--payee', 'seller', '--mediator', 'dso'), 'payments.escrow_opened').id;
    await tx('buyer', 'escrow', 'dispute', '--id', second, '--reason', 'only 7 of 10 kWh delivered');
    await tx('dso', 'escrow', 'propose-split', '--id', second, '--payee-amount', '5600000', '--payer-amount', '2400000');
    await tx('seller', 'escrow', 'countersign', '--id', second);
    expect((await cli('--from', 'seller', 'query', 'escrow', 'show', second)).escrow).toMatchObject({ status: 'split', paidToPayee: '5600000', paidToPayer: '2400000' });
    expect(await free('seller')).toBe('15600000');
    expect(await free('buyer')).toBe(String(50_000_000 - 10_000_000 - 8_000_000 + 2_400_000));
    expect((await cli('--from', 'buyer', 'query', 'escrow', 'list')).escrows).toEqual([]);
  });

  it('(c) a channel with 10 vouchers closed by the seller with the 7th; another reclaimed by the buyer after its refund time', async () => {
    const opened = await tx('buyer', 'channel', 'open', '--seller', 'seller', '--asset', ASSET, '--deposit', '5000000');
    const ch = event(opened, 'payments.channel_opened');
    expect(Number(ch.refundTime) - (await cli('--from', 'buyer', 'query', 'channel', 'show', ch.id)).channel.openedAt.time).toBe(24 * 3_600_000);
    // the buyer signs a voucher after each kWh, offline (the node URL is unreachable on purpose)
    const vouchers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        run('node', ['bin/gridledger.mjs', '--home', home, '--node', 'http://127.0.0.1:9', '-o', 'json', '--from', 'buyer', 'channel', 'voucher', '--channel', ch.id, '--amount', String(250_000 * (i + 1)), '--wh', String(1000 * (i + 1)), '--seq', String(i + 1)]).then(
          (r) => r.stdout.trim(),
        ),
      ),
    );
    expect(JSON.parse(vouchers[9]!)).toMatchObject({ chainId: 'test-chain', channel: ch.id, amount: '2500000', wh: 10_000, seq: 10 });
    const sellerBefore = BigInt(await free('seller'));
    const buyerBefore = BigInt(await free('buyer'));
    await tx('seller', 'channel', 'close', '--id', ch.id, '--voucher', vouchers[6]!);
    expect((await cli('--from', 'buyer', 'query', 'channel', 'show', ch.id)).channel).toMatchObject({ status: 'closed', payout: '1750000', refund: '3250000', voucher: { seq: 7, wh: 7000 } });
    expect(BigInt(await free('seller'))).toBe(sellerBefore + 1_750_000n);
    expect(BigInt(await free('buyer'))).toBe(buyerBefore + 3_250_000n);

    const second = event(await tx('buyer', 'channel', 'open', '--seller', 'seller', '--asset', ASSET, '--deposit', '2000000', '--refund-in', '8s'), 'payments.channel_opened');
    expect(await fails('--from', 'buyer', '--wait', 'tx', 'channel', 'reclaim', '--id', second.id)).toBe('PAY_CHANNEL_NOT_EXPIRED');
    await new Promise((r) => setTimeout(r, Math.max(0, Number(second.refundTime) - Date.now() + 500)));
    // Block time is the proposer's clock: the first block after the refund time accepts the reclaim.
    await tx('buyer', 'channel', 'reclaim', '--id', second.id);
    expect((await cli('--from', 'seller', 'query', 'channel', 'show', second.id)).channel).toMatchObject({ status: 'reclaimed', payout: '0', refund: '2000000' });
    expect(BigInt(await free('buyer'))).toBe(buyerBefore + 3_250_000n);
    const supply = await cli('query', 'pay', 'supply', ASSET);
    expect(supply.supply.held).toEqual({ redeeming: '0', locked: '0', escrowed: '0', channels: '0' });
    expect(supply.supply.circulating).toBe(supply.supply.supply);
  });
});
