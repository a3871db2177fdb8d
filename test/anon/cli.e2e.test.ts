import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { eventOf, userCli, type UserCli } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';

const ASSET = 'NOK@microgrid';
const HOUR = 3_600_000;

/**
 * Issue 16 #2 and #3 end to end through the CLI on a running node (one `node bin/gridledger.mjs …
 * -o json` process per command): members register identities; each admits a fresh trade account
 * with a membership proof made by the CLI; the seller's anonymous account posts an offer, the
 * buyer's opens a 2-of-3 escrow with the grid operator (dso) as mediator and takes the offer; the
 * grid operator confirms delivery by approving the release, the seller approves too: paid. A second
 * trade is disputed and split by the grid operator, countersigned by the seller. Here the buyer
 * simply takes the posted terms; test/anon/priwatt.devnet.test.ts runs the whole flow, with the
 * encrypted negotiation between nodes, on a 4-validator devnet.
 */
describe('anonymous trade accounts and the anonymous offer board through the CLI', () => {
  let home: string;
  let node: RunningNode;
  let accounts: Record<string, string>;
  let user: UserCli;

  beforeAll(async () => {
    const made = makeHome({ bank: ['issuer'], alice: ['prosumer'], bob: ['consumer'], dso: ['grid-operator'] });
    home = made.home;
    accounts = made.init.accounts;
    const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
    genesis.modules.anon = { maxSlots: 2, epochBlocks: 1_000_000 };
    writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
    node = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
    user = userCli(home, node.url);
  });
  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => user.json(...args);
  const fails = (...args: string[]) => user.fails(...args);
  const tx = (from: string, ...args: string[]) => user.tx(from, ...args);
  const event = eventOf;
  const free = async (who: string, address: string) => (await cli('--from', who, 'query', 'pay', 'balances', address)).balances.find((b: any) => b.asset === ASSET)?.free ?? '0';
  const address = async (key: string) => (await cli('keys', 'show', key)).address;

  let seller: string;
  let buyer: string;

  it('members register identities; each admits a fresh trade account with a proof made by the CLI', async () => {
    await tx('admin', 'anon', 'register-key');
    await tx('alice', 'anon', 'register');
    await tx('bob', 'anon', 'register');
    expect((await cli('query', 'anon', 'status')).treeSize).toBe(2);
    const admitted = await tx('s1', 'anon', 'admit', '--identity', 'alice-identity', '--slot', '0');
    seller = await address('s1');
    expect(event(admitted, 'anon.account_admitted').address).toBe(seller);
    await tx('b1', 'anon', 'admit', '--identity', 'bob-identity', '--slot', '0');
    buyer = await address('b1');
    for (const a of [seller, buyer]) {
      expect((await cli('query', 'anon', 'account', a)).account.status).toBe('active');
      expect(Object.values(accounts)).not.toContain(a);
    }
    // the same slot again (another fresh key) is refused at admission
    expect(await fails('--from', 's9', '--wait', 'tx', 'anon', 'admit', '--identity', 'alice-identity', '--slot', '0')).toBe('ANON_NULLIFIER_USED');
  });

  it('an anonymous offer, an escrowed trade, released after the grid operator confirms delivery', async () => {
    await tx('bank', 'pay', 'create-asset', '--code', 'NOK', '--scope', 'microgrid', '--name', 'Microgrid kroner');
    await tx('bank', 'pay', 'mint', '--asset', ASSET, '--to', buyer, '--amount', '30000000', '--deposit-ref', 'ANON-0001');
    const start = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
    const window = ['--delivery-start', String(start), '--delivery-end', String(start + HOUR)];
    // only anonymous accounts post on the board
    expect(await fails('--from', 'alice', '--wait', 'tx', 'anon', 'offer', '--energy-wh', '4000', '--amount', '10000000', '--asset', ASSET, ...window)).toBe('ANON_NOT_ANONYMOUS');
    const offer = event(await tx('s1', 'anon', 'offer', '--energy-wh', '4000', '--amount', '10000000', '--asset', ASSET, ...window), 'anon.offer_posted').id;
    expect((await cli('query', 'anon', 'offers', '--status', 'open')).offers.map((o: any) => o.id)).toEqual([offer]);
    // an escrow without the grid operator as mediator does not settle an offer
    const plain = event(await tx('b1', 'escrow', 'open', '--asset', ASSET, '--amount', '10000000', '--payee', seller), 'payments.escrow_opened').id;
    expect(await fails('--from', 'b1', '--wait', 'tx', 'anon', 'take', offer, '--escrow', plain)).toBe('ANON_ESCROW_MISMATCH');
    const escrow = event(await tx('b1', 'escrow', 'open', '--asset', ASSET, '--amount', '10000000', '--payee', seller, '--mediator', 'dso'), 'payments.escrow_opened').id;
    await tx('b1', 'anon', 'take', offer, '--escrow', escrow);
    expect((await cli('query', 'anon', 'offer', offer)).offer).toMatchObject({ status: 'taken', buyer, escrow, mediator: accounts.dso });
    // delivery: the grid operator's metering shows it, so it approves the release; the seller approves: 2 of 3
    await tx('dso', 'escrow', 'approve', '--id', escrow, '--action', 'release');
    expect(await free('s1', seller)).toBe('0');
    await tx('s1', 'escrow', 'approve', '--id', escrow, '--action', 'release');
    expect((await cli('--from', 's1', 'query', 'escrow', 'show', escrow)).escrow).toMatchObject({ status: 'released', paidToPayee: '10000000' });
    expect(await free('s1', seller)).toBe('10000000');
  });

  it('a disputed trade is split by the grid operator and countersigned by the seller', async () => {
    const start = Math.floor(Date.now() / HOUR) * HOUR + 2 * HOUR;
    const offer = event(await tx('s1', 'anon', 'offer', '--energy-wh', '3000', '--amount', '8000000', '--asset', ASSET, '--delivery-start', String(start), '--delivery-end', String(start + HOUR)), 'anon.offer_posted').id;
    const escrow = event(await tx('b1', 'escrow', 'open', '--asset', ASSET, '--amount', '8000000', '--payee', seller, '--mediator', 'dso'), 'payments.escrow_opened').id;
    await tx('b1', 'anon', 'take', offer, '--escrow', escrow);
    await tx('b1', 'escrow', 'dispute', '--id', escrow, '--reason', 'metering shows 2100 of 3000 Wh');
    await tx('dso', 'escrow', 'propose-split', '--id', escrow, '--payee-amount', '5600000', '--payer-amount', '2400000');
    await tx('s1', 'escrow', 'countersign', '--id', escrow);
    expect((await cli('--from', 'b1', 'query', 'escrow', 'show', escrow)).escrow).toMatchObject({ status: 'split', paidToPayee: '5600000', paidToPayer: '2400000' });
    expect(await free('s1', seller)).toBe('15600000');
    // the buyer: 30 minted − 10 in the plain escrow of the first test − 10 released − 8 escrowed + 2.4 back
    expect(await free('b1', buyer)).toBe(String(30_000_000 - 10_000_000 - 10_000_000 - 8_000_000 + 2_400_000));
  });
});
