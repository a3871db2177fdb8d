import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Overlay } from '../src/app/state.js';
import type { Msg } from '../src/codec/tx.js';
import { energyCore } from '../src/modules/energy/module.js';
import { marketEndBlock } from '../src/modules/market/endblock.js';
import { marketCore } from '../src/modules/market/module.js';
import { meteringCore } from '../src/modules/metering/module.js';
import { paymentsCore } from '../src/modules/payments/module.js';
import { propose } from '../src/modules/registry/governance.js';
import { plantsOfMeter } from '../src/modules/shares/state.js';
import { registryCore } from '../src/modules/registry/module.js';
import type { RegistryContext } from '../src/modules/registry/rules.js';
import { settlementCore } from '../src/modules/settlement/module.js';
import { sharesCore } from '../src/modules/shares/module.js';
import { SLOT_MS, slotOfMs } from '../src/util/slots.js';
import { flexCore } from '../src/modules/flex/module.js';
import { flex } from '../src/modules/flex/index.js';
import { payments } from '../src/modules/payments/index.js';
import { registry } from '../src/modules/registry/index.js';
import { loadVerifyingKey } from '../src/zk/artifacts.js';
import { verifyingKeyId } from '../src/zk/encoding.js';
import { account, TestChain, type TestAccount } from '../test/helpers/chain.js';
import { newChain, registerMsg, util } from '../test/shares/fixture.js';
import { calibrate } from './calibrate.js';
import { chunk, commitBlock } from './payments.js';
import { withVerifyRatios } from './ratios.js';

/**
 * The consensus-path reads that state versions removed (ADR 0029), version 1 against version 2 on
 * the same chain contents, in process (app host, SQLite in memory):
 *  - the market's end of block in a block inside a slot with N idle market communities (version 1
 *    reads every community's configuration and cursor in every block; version 2 the due ones —
 *    none here), µs per call of the production hook;
 *  - one governance proposal (add-operator) on a chain of N accounts (version 1 counts the
 *    operators by reading every account; version 2 reads the operator set), µs per execution;
 *  - the plants of a meter that belongs to none among N plants (what the read policy asks before it
 *    refuses a stranger a meter's data; version 1 reads every plant, a page of at most 10,000 per
 *    request; version 2 the meter's index entries), µs for the whole answer.
 *
 * `node bin/run-ts.mjs bench/state-versions.ts [--communities 1000,5000] [--accounts 10000] [--plants 2000]`
 */

const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
const MARKET_MODULES = [registryCore, meteringCore, energyCore, sharesCore, settlementCore, paymentsCore, marketCore];
const V1 = {};

function timeUs(run: () => void, samples: number): number {
  for (let i = 0; i < Math.min(20, samples); i++) run(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < samples; i++) run();
  return Number((((performance.now() - t0) * 1000) / samples).toFixed(1));
}

/** µs per end-of-block call inside a slot with `communities` idle market communities opened by transactions. */
export function idleMarketEndBlock(communities: number, stateVersions: Record<string, number> | undefined, samples = 200): number {
  const chain = new TestChain({ modules: MARKET_MODULES, genesisTime: GENESIS_TIME, accounts: { 'bench-owner': ['utility'], 'bench-issuer': ['issuer'] }, ...(stateVersions ? { stateVersions } : {}) });
  const owner = account('bench-owner');
  commitBlock(chain, [chain.tx(account('bench-issuer'), [{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } }])]);
  const ids = Array.from({ length: communities }, (_, i) => `idle-${i}`);
  for (const group of chunk(ids, 32)) {
    const msgs: Msg[] = [
      ...group.map((id): Msg => ({ type: 'energy/create-community', value: { id, name: id, timezone: 'Europe/Oslo' } })),
      ...group.map((id): Msg => ({ type: 'market/open', value: { community: id, type: 'continuous', asset: 'NOK@bench', importPrice: 250_000, exportPrice: 50_000 } })),
    ];
    commitBlock(chain, [chain.tx(owner, msgs)]);
  }
  const midSlot = (slotOfMs(GENESIS_TIME) + 1) * SLOT_MS - 60_000;
  if (chain.time >= midSlot) throw new Error('the set-up ran past the slot');
  const ctx = chain.app.queryContext('market', { height: chain.app.height + 1, time: midSlot });
  const us = timeUs(() => marketEndBlock(ctx), samples);
  chain.storage.close();
  return us;
}

/** µs per governance proposal (add-operator, not committed) on a chain of `accounts` consumer accounts. */
export function governanceProposal(accounts: number, stateVersions: Record<string, number> | undefined, samples: number): number {
  const roles: Record<string, string[]> = { op2: ['operator'] };
  for (let i = 0; i < accounts; i++) roles[`consumer-${i}`] = ['consumer'];
  const chain = new TestChain({ accounts: roles, ...(stateVersions ? { stateVersions } : {}) });
  const stateVersion = stateVersions ? 1 : 2;
  const candidate = account('candidate').address;
  const us = timeUs(() => {
    const ctx = { store: new Overlay(chain.storage), params: { governanceThreshold: 0 }, stateVersion, sender: chain.operator.address, height: chain.app.height + 1, time: chain.time, txHash: 'ab'.repeat(32), msgIndex: 0, emit: () => {} } as unknown as RegistryContext;
    propose(ctx, { id: 'bench', action: { kind: 'add-operator', address: candidate } });
  }, samples);
  chain.storage.close();
  return us;
}

/** µs to find the plants of a meter that belongs to none, among `count` plants registered by transactions (every page). */
export function meterPlants(count: number, stateVersions: Record<string, number> | undefined, samples: number): number {
  const chain = newChain(undefined, stateVersions);
  for (let i = 0; i < count; i += 20) {
    const msgs = Array.from({ length: Math.min(20, count - i) }, (_, j) => registerMsg(`plant-${i + j}`) as Msg);
    commitBlock(chain, [chain.tx(util, msgs)]);
  }
  const stateVersion = stateVersions ? 1 : 2;
  const us = timeUs(() => {
    const store = new Overlay(chain.storage);
    for (let after: string | undefined; ; ) {
      const page = plantsOfMeter(store, 'no-such-meter', { after, limit: 500 }, stateVersion);
      if (page.next === undefined) break;
      after = page.next;
    }
  }, samples);
  chain.storage.close();
  return us;
}

/**
 * The first page (limit 100) of the flex events of a rare status — the 5 oldest of `count` events,
 * withdrawn — through the node's query index (ADR 0029 point 1) and through the bounded scan that a
 * proven query still uses: µs per answer, and the events the answer holds.
 */
export function rareStatusEvents(count: number, samples: number): IndexAndScan & { rebuildMs: number } {
  const [bank, agg, pros] = ['bench-bank', 'bench-agg', 'bench-pros'].map(account) as [TestAccount, TestAccount, TestAccount];
  const chain = new TestChain({ modules: [registryCore, meteringCore, energyCore, paymentsCore, flexCore], genesisTime: GENESIS_TIME, accounts: { 'bench-bank': ['issuer'], 'bench-agg': ['aggregator'], 'bench-pros': ['prosumer'] } });
  const vk = loadVerifyingKey('deviation');
  commitBlock(chain, [chain.tx(chain.operator, [{ type: 'flex/register-key', value: { circuit: 'deviation', key: vk } }])]);
  commitBlock(chain, [chain.tx(bank, [{ type: 'payments/create-asset', value: { code: 'EUR', scope: 'bench', name: 'Bench euro' } }])]);
  commitBlock(chain, [chain.tx(bank, [{ type: 'payments/mint', value: { asset: 'EUR@bench', to: agg.address, amount: String(BigInt(count) * 2_000_000n), depositRef: 'BENCH' } }])]);
  const program = { name: 'Bench', intervalMinutes: 60, asset: 'EUR@bench', rewardPerInterval: '1000000', penaltyPerWh: '2000', proofSystem: 'groth16-bn254', verifyingKey: verifyingKeyId(vk) };
  commitBlock(chain, [chain.tx(agg, [{ type: 'flex/program', value: program }])]);
  const event = (i: number): Msg => ({ type: 'flex/event', value: { program: 'p1', prosumer: pros.address, payloadType: 'IMPORT_ENERGY', start: GENESIS_TIME + 3_600_000 * (2 + (i % 5000)), requestedWh: [500, 400] } });
  for (const group of chunk(Array.from({ length: count }, (_, i) => i), 2000)) commitBlock(chain, chunk(group, 200).map((g) => chain.tx(agg, g.map(event))));
  commitBlock(chain, [chain.tx(agg, [1, 2, 3, 4, 5].map((n): Msg => ({ type: 'flex/withdraw', value: { event: `ev${n}` } })))]);
  const route = flex.surface.routes!.find((r) => r.route.name === 'flexEvents')!;
  const query = route.route.query!.parse({ status: 'withdrawn', limit: '100' });
  const answer = (indexed: boolean) => (route.handle(indexed ? chain.queryContext('flex') : chain.queryContext('flex', chain.app.committed()), { params: undefined, query, body: undefined } as never) as { events: unknown[] }).events.length;
  // The index built again from the state table, as a node does at open when it is missing or outdated.
  chain.storage.db.prepare("DELETE FROM meta WHERE key = 'queryIndex/flex/events-by-status'").run();
  const t0 = performance.now();
  chain.storage.useQueryIndexes(chain.app.kernel.queryIndexDefs());
  const rebuildMs = Number((performance.now() - t0).toFixed(1));
  return { rebuildMs, indexUs: timeUs(() => answer(true), samples), scanUs: timeUs(() => answer(false), Math.max(3, Math.floor(samples / 50))), indexFound: answer(true), scanFound: answer(false) };
}

/**
 * An account's balances (what it holds in pending redemptions, open escrows and channels) after
 * `count` completed redemptions and 2 pending ones: through the node's query indexes of the records
 * holding funds (ADR 0029 point 1) and, as a proven answer reads, through every item the account ever
 * had. µs per answer.
 */
export function balancesAfterRedemptions(count: number, samples: number): { indexUs: number; historyUs: number; same: number } {
  const [bank, holder] = ['bench-bank', 'bench-holder'].map(account) as [TestAccount, TestAccount];
  const chain = new TestChain({ modules: [registryCore, paymentsCore], genesisTime: GENESIS_TIME, accounts: { 'bench-bank': ['issuer'], 'bench-holder': ['consumer'] } });
  commitBlock(chain, [chain.tx(bank, [{ type: 'payments/create-asset', value: { code: 'EUR', scope: 'bench', name: 'Bench euro' } }])]);
  commitBlock(chain, [chain.tx(bank, [{ type: 'payments/mint', value: { asset: 'EUR@bench', to: holder.address, amount: String(BigInt(count + 2) * 1_000_000n), depositRef: 'BENCH' } }])]);
  const ids = Array.from({ length: count + 2 }, (_, i) => i + 1);
  for (const group of chunk(ids, 2000)) commitBlock(chain, chunk(group, 200).map((g) => chain.tx(holder, g.map((): Msg => ({ type: 'payments/redeem', value: { asset: 'EUR@bench', amount: '1000000' } })))));
  for (const group of chunk(ids.slice(0, count), 2000)) commitBlock(chain, chunk(group, 200).map((g) => chain.tx(bank, g.map((n): Msg => ({ type: 'payments/complete-redeem', value: { id: `r${n}`, payoutRef: `PAYOUT-${n}` } })))));
  const route = payments.surface.routes!.find((r) => r.route.name === 'paymentsBalances')!;
  const answer = (indexed: boolean) => JSON.stringify(route.handle(indexed ? chain.queryContext('payments') : chain.queryContext('payments', chain.app.committed()), { params: { address: holder.address }, query: undefined, body: undefined } as never));
  return { indexUs: timeUs(() => answer(true), samples), historyUs: timeUs(() => answer(false), Math.max(3, Math.floor(samples / 50))), same: answer(true) === answer(false) ? 1 : 0 };
}

/**
 * `accounts?role=auditor` (limit 100) among `count` consumer accounts and 3 auditors: through the
 * node's index of the roles few accounts hold (ADR 0029 point 1) and through the bounded scan a proven
 * answer reads. µs for the first page, and the auditors it holds.
 */
export function rareRoleAccounts(count: number, samples: number): IndexAndScan {
  const roles: Record<string, string[]> = { 'auditor-a': ['auditor'], 'auditor-b': ['auditor'], 'auditor-c': ['auditor'] };
  for (let i = 0; i < count; i++) roles[`consumer-${i}`] = ['consumer'];
  const chain = new TestChain({ accounts: roles });
  const page = (indexed: boolean) => (chain.query(registry, 'listAccounts', {}, { role: 'auditor', limit: '100' }, { queryIndexes: indexed }) as { accounts: unknown[] }).accounts.length;
  const out = { indexUs: timeUs(() => page(true), samples), scanUs: timeUs(() => page(false), Math.max(3, Math.floor(samples / 50))), indexFound: page(true), scanFound: page(false) };
  chain.storage.close();
  return out;
}

/** One list answer through the node's index and through the scan: µs and items found, both ways. */
interface IndexAndScan {
  indexUs: number;
  scanUs: number;
  indexFound: number;
  scanFound: number;
}

function recordIndexAndScan(out: Record<string, number>, name: string, size: string, r: IndexAndScan): void {
  out[`${name}Us${size}Scan`] = r.scanUs;
  out[`${name}Us${size}Index`] = r.indexUs;
  out[`${name}Found${size}Scan`] = r.scanFound;
  out[`${name}Found${size}Index`] = r.indexFound;
}

export async function benchStateVersions(options: { communities?: number[]; accounts?: number[]; plants?: number[]; events?: number[]; redemptions?: number[]; roleAccounts?: number[]; verifyPerSecOneCore?: number } = {}): Promise<Record<string, number>> {
  const verifyPerSec = options.verifyPerSecOneCore ?? (await calibrate()).verifyPerSecOneCore;
  const out: Record<string, number> = {};
  for (const n of options.communities ?? [1_000, 5_000]) {
    out[`marketIdleEndBlockUs${n}CommunitiesV1`] = idleMarketEndBlock(n, V1);
    out[`marketIdleEndBlockUs${n}CommunitiesV2`] = idleMarketEndBlock(n, undefined);
  }
  for (const n of options.accounts ?? [10_000]) {
    out[`governanceProposalUs${n}AccountsV1`] = governanceProposal(n, V1, 10);
    out[`governanceProposalUs${n}AccountsV2`] = governanceProposal(n, undefined, 200);
  }
  for (const n of options.plants ?? [2_000]) {
    out[`meterPlantsUs${n}PlantsV1`] = meterPlants(n, V1, 10);
    out[`meterPlantsUs${n}PlantsV2`] = meterPlants(n, undefined, 200);
  }
  for (const n of options.events ?? [20_000]) {
    const r = rareStatusEvents(n, 200);
    recordIndexAndScan(out, 'rareStatusEvents', `${n}Events`, r);
    out[`queryIndexRebuildMs${n}Events`] = r.rebuildMs;
  }
  for (const n of options.redemptions ?? [5_000]) {
    const r = balancesAfterRedemptions(n, 200);
    out[`balancesUs${n}RedemptionsHistory`] = r.historyUs;
    out[`balancesUs${n}RedemptionsIndex`] = r.indexUs;
    out[`balancesSameAnswer${n}Redemptions`] = r.same;
  }
  for (const n of options.roleAccounts ?? [20_000]) {
    recordIndexAndScan(out, 'rareRoleAccounts', `${n}Accounts`, rareRoleAccounts(n, 200));
  }
  // The same costs in verifies of the same run (a figure of µs × verifies/s ÷ 10⁶).
  for (const [k, us] of Object.entries({ ...out })) if (k.includes('Us')) out[k.replace(/Us(\d)/, 'EquivalentVerifies$1')] = Number(((us * verifyPerSec) / 1e6).toFixed(2));
  out.verifyPerSecOneCore = verifyPerSec;
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { communities: { type: 'string' }, accounts: { type: 'string' }, plants: { type: 'string' }, events: { type: 'string' }, redemptions: { type: 'string' }, 'role-accounts': { type: 'string' } } });
  const list = (v: string | undefined) => (v ? v.split(',').map(Number) : undefined);
  const report = await benchStateVersions({ communities: list(values.communities), accounts: list(values.accounts), plants: list(values.plants), events: list(values.events), redemptions: list(values.redemptions), roleAccounts: list(values['role-accounts']) });
  process.stdout.write(JSON.stringify(withVerifyRatios(report, report.verifyPerSecOneCore!), null, 2) + '\n');
}
