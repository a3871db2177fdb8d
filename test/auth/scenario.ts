import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { coreRoutes } from '../../src/api/routes.js';
import type { Msg } from '../../src/codec/tx.js';
import { MSG as ENERGY } from '../../src/modules/energy/messages.js';
import { MSG as MARKET } from '../../src/modules/market/messages.js';
import { MSG as METERING } from '../../src/modules/metering/messages.js';
import { MSG as PAYMENTS } from '../../src/modules/payments/messages.js';
import { MSG as SETTLEMENT } from '../../src/modules/settlement/messages.js';
import { MSG as SHARES } from '../../src/modules/shares/messages.js';
import { statementHash } from '../../src/modules/settlement/statement.js';
import { dayOfSlot, localDay } from '../../src/util/localtime.js';
import { slotOfMs } from '../../src/util/slots.js';
import { realTimers } from '../../src/runtime/driver.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/**
 * The HanzeNet worked example (README) plus a shared PV plant with a recorded statement, on a real
 * node: the data the read-policy tests and the browser tests look at.
 *   community "hanze" (owner admin): alice's producer meter P1 (solar) read +10 000 Wh, bob's consumer
 *   meter C1 read 15 000 Wh in slot S; alice transfers 10 000 Wh solar to bob → bob: solar +10 000,
 *   unlabelled −15 000; the community is 5 000 Wh short (grid import).
 *   plant "house-1" (operator utility): alice 20 %, bob 20 %, carol 60 %; the utility bills them, has
 *   a tariff from the next slots on, and has recorded tomorrow's statements (billed from CSV once the
 *   node's clock is moved three days ahead: a plant's key applies from its registration on).
 */
export const ACCOUNTS = {
  alice: ['prosumer', 'trader'],
  bob: ['consumer', 'trader'],
  carol: ['prosumer'],
  pmeter: ['meter'],
  cmeter: ['meter'],
  utility: ['utility'],
  gridop: ['grid-operator'],
  auditor: ['auditor'],
  mallory: ['prosumer', 'trader'],
  eve: ['prosumer'],
  bank: ['issuer'],
};

export interface Scenario {
  node: TestNode;
  addr: Record<string, string>;
  community: string;
  slot: number;
  plant: string;
  /** Yesterday in the plant's time zone, and tomorrow (tariff in force). */
  yesterday: string;
  tomorrow: string;
  /** Carol's statement for tomorrow (ended on the node's clock) as the utility issued it (JSON text), and its recorded hash. */
  carolStatement: string;
  carolHash: string;
  /** Hash of alice's energy transfer to bob. */
  transferTx: string;
  /** Payments: the bank's asset, alice's redemption request, her escrow and channel to bob. */
  asset: string;
  redemption: string;
  escrow: string;
  channel: string;
  /** Market: alice's bid, her supply contract with bob (prosumer), and the hash of her recorded bill. */
  order: string;
  contract: string;
  billHash: string;
}

export async function commit(node: TestNode, from: string, msgs: Msg[]): Promise<{ hash: string; events: Array<{ type: string; attributes: Record<string, string> }> }> {
  const tx = await node.signedTx(from, msgs);
  const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
  const res = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
  if (res.result?.code !== 'OK') throw new Error(`${msgs[0]!.type} by ${from}: ${res.result?.code} ${res.result?.message}`);
  return { hash, events: res.result.events };
}

async function cli(node: TestNode, from: string, args: string[]): Promise<any> {
  const { stdout } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', '--from', from, ...args], { cwd: process.cwd() });
  return JSON.parse(stdout);
}

/**
 * The node's clock: it starts three days behind the wall clock, so the plant is registered then (a
 * plant's key applies from its registration slot on, issue 19 #12), and catches up with the wall clock
 * right after — so yesterday's statements are after the registration and the rest runs in real time.
 */
const CLOCK = { offset: 0 };
const DAY_MS = 86_400_000;

/** Options for callers that add more on top (test/web/modules-scenario.ts): more accounts, genesis sections. */
export async function buildScenario(options: { extraAccounts?: Record<string, string[]>; genesisModules?: Record<string, unknown> } = {}): Promise<Scenario> {
  CLOCK.offset = -3 * DAY_MS;
  const node = await startTestNode({ ...ACCOUNTS, ...options.extraAccounts }, { genesisModules: options.genesisModules, genesisTimeMs: Date.now() - 3 * DAY_MS - 60_000, timers: { ...realTimers, now: () => Date.now() + CLOCK.offset } });
  const addr = { ...node.init.accounts } as Record<string, string>;
  const community = 'hanze';
  const plant = 'house-1';
  const u = addr.utility!;
  await registerPlant(node, addr, plant);
  CLOCK.offset = 0;
  const slot = slotOfMs(Date.now()) - 1; // the slot before the current one has ended by block time
  await commit(node, 'admin', [
    { type: ENERGY.createCommunity, value: { id: community, name: 'HanzeNet worked example', timezone: 'Europe/Amsterdam' } },
    { type: ENERGY.addTrader, value: { community, address: addr.alice } },
    { type: ENERGY.addTrader, value: { community, address: addr.bob } },
    { type: ENERGY.addMeter, value: { community, meterId: 'P1', kind: 'producer', trader: addr.alice, labels: ['solar'], address: addr.pmeter, maxPowerW: 50_000 } },
    { type: ENERGY.addMeter, value: { community, meterId: 'C1', kind: 'consumer', trader: addr.bob, address: addr.cmeter, maxPowerW: 80_000 } },
  ]);
  const reading = (meterId: string, importWh: number, exportWh: number): Msg => ({
    type: METERING.reading,
    value: { meterId, community, slot, importWh, exportWh, importRegisterWh: importWh, exportRegisterWh: exportWh, seq: 1 },
  });
  await Promise.all([commit(node, 'pmeter', [reading('P1', 0, 10_000)]), commit(node, 'cmeter', [reading('C1', 15_000, 0)])]);
  const transfer = await commit(node, 'alice', [{ type: ENERGY.transfer, value: { community, to: addr.bob, slot, labels: ['solar'], wh: 10_000 } }]);


  // Payments: the bank issues euros to alice; she asks to redeem some, opens an escrow and a channel to bob.
  const asset = 'EUR@hanze';
  await commit(node, 'bank', [
    { type: PAYMENTS.createAsset, value: { code: 'EUR', scope: 'hanze', name: 'Hanze euro' } },
    { type: PAYMENTS.mint, value: { asset, to: addr.alice, amount: '1000000', depositRef: 'DEP-1' } },
  ]);
  const paid = await commit(node, 'alice', [
    { type: PAYMENTS.redeem, value: { asset, amount: '100000' } },
    { type: PAYMENTS.escrowOpen, value: { asset, amount: '100000', payee: addr.bob } },
    { type: PAYMENTS.channelOpen, value: { seller: addr.bob, asset, deposit: '100000' } },
  ]);
  const idOf = (type: string) => paid.events.find((e) => e.type === type)!.attributes.id!;

  // Market: the owner opens a market paid in the community's euro; alice bids for a slot two hours
  // ahead and proposes a supply contract with bob for later; the owner records alice's bill.
  await commit(node, 'admin', [{ type: MARKET.open, value: { community, type: 'continuous', asset, importPrice: 250_000, exportPrice: 80_000 } }]);
  const traded = await commit(node, 'alice', [
    { type: MARKET.bid, value: { community, slot: slot + 9, wh: 1000, price: 100_000 } },
    { type: MARKET.contractPropose, value: { community, role: 'consumer', counterparty: addr.bob, startSlot: slot + 17, endSlot: slot + 21, price: 100_000, maxPowerW: 4000 } },
  ]);
  const marketId = (type: string) => traded.events.find((e) => e.type === type)!.attributes.id!;
  const billHash = 'b'.repeat(64);
  await commit(node, 'admin', [{ type: MARKET.recordBills, value: { community, bills: [{ member: addr.alice, fromSlot: slot - 4, toSlot: slot, hash: billHash }] } }]);

  // Yesterday's statements (the plant was registered three days ago by the node's clock), billed from CSV files and recorded.
  const now = slotOfMs(Date.now());
  const yesterday = dayOfSlot('Europe/Vienna', now - 96 - 8);
  const tomorrow = dayOfSlot('Europe/Vienna', now + 96 + 8);
  const first = localDay('Europe/Vienna', yesterday).firstSlot;
  const work = mkdtempSync(join(tmpdir(), 'gridledger-auth-'));
  try {
    writeFileSync(join(work, 'prod.csv'), `plant,slot,wh\n${plant},${first + 48},1001\n${plant},${first + 49},3\n`);
    writeFileSync(join(work, 'cons.csv'), `meter,slot,wh\nm-alice,${first + 48},100\nm-bob,${first + 48},300\nm-carol,${first + 49},1\n`);
    const out = join(work, 'out');
    await cli(node, 'utility', ['bill', '--from-day', yesterday, '--out', out, '--production-csv', join(work, 'prod.csv'), '--consumption-csv', join(work, 'cons.csv'), '--import-tariff', '250000', '--feed-in-tariff', '80000']);
    asBilledWithLedgerTariffs(join(out, u));
    await cli(node, 'utility', ['tx', 'settlement', 'record', join(out, u)]);
    const carolFile = readdirSync(join(out, u), { recursive: true, encoding: 'utf8' }).find((f) => f.includes(addr.carol!) && f.endsWith('.json'));
    if (!carolFile) throw new Error(`no statement file for carol in ${out}`);
    const carolStatement = readFileSync(join(out, u, carolFile), 'utf8');
    const carolHash = (JSON.parse(carolStatement) as { hash: string }).hash;
    return { node, addr, community, slot, plant, yesterday, tomorrow, carolStatement, carolHash, transferTx: transfer.hash, asset, redemption: idOf('payments.redeem_requested'), escrow: idOf('payments.escrow_opened'), channel: idOf('payments.channel_opened'), order: marketId('market.order'), contract: marketId('market.contract_proposed'), billHash };
  } finally {
    rmSync(work, { recursive: true, force: true }); // the billing files are read above; nothing of them is returned
  }
}

/**
 * Tariffs typed on the command line make a dry run, which is never recorded (issue 19 #13); a fresh
 * chain cannot have a tariff in force yesterday (tariffs start in future slots). The statements the
 * same figures give with ledger tariffs of these values differ only by the mark: written here.
 */
function asBilledWithLedgerTariffs(dir: string): void {
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.json'))) {
    const { dryRun: _mark, hash: _hash, ...statement } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, f), JSON.stringify({ ...statement, hash: statementHash(statement) }, null, 2) + '\n');
  }
}

/** The shared PV plant and the utility's tariff (registered while the node's clock is three days behind). */
async function registerPlant(node: TestNode, addr: Record<string, string>, plant: string): Promise<void> {
  const u = addr.utility!;
  await commit(node, 'utility', [
    {
      type: SHARES.registerPlant,
      value: {
        plant,
        name: 'Building 1 rooftop PV',
        peakPowerW: 30_000,
        timezone: 'Europe/Vienna',
        productionMeter: 'pv-1',
        participants: [
          { address: addr.alice, utility: u, ppm: 200_000, meter: 'm-alice' },
          { address: addr.bob, utility: u, ppm: 200_000, meter: 'm-bob' },
          { address: addr.carol, utility: u, ppm: 600_000, meter: 'm-carol' },
        ],
      },
    },
    { type: SETTLEMENT.setTariff, value: { importMicroEurPerKwh: 250_000, feedInMicroEurPerKwh: 80_000, fromSlot: slotOfMs(Date.now()) + 2 } },
  ]);
}
