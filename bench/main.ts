import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { calibrate } from './calibrate.js';
import { benchEnergy } from './energy.js';
import { benchFoundation, DEFAULT_WARMUP_TXS } from './foundation.js';
import { benchShares } from './shares.js';
import { benchPayments } from './payments.js';
import { benchMarket, benchMarketNetwork } from './market.js';
import { benchFlex } from './flex.js';
import { benchZk } from './zk.js';
import { benchBitcoin } from './bitcoin.js';
import { benchEdge, benchEdgeAgent } from './edge.js';
import { benchDashboard } from './dashboard.js';
import { benchReadPolicy } from './read-policy.js';
import { benchStateVersions } from './state-versions.js';
import { benchExecute } from './execute.js';
import { benchSimulate } from './simulate.js';
import { withVerifyRatios } from './ratios.js';
import type { CpuReport } from './cpu-report.js';

/**
 * `npm run bench [-- --txs N --half-load-seconds S --light-load-seconds S]`: reports figures and their ratio to this
 * machine's Ed25519 verify rate, measured in the same run. Not a test: nothing here passes or fails.
 * `--only PART[,PART…]` selects the parts (default all): foundation, execute, energy, shares, payments, market, flex, zk, bitcoin,
 * edge, dashboard, read-policy, state-versions, simulate. `--warmup-txs N` (default 3,000; 0 for none): transactions committed unmeasured before the foundation
 * saturation and before each energy load (at most a quarter of it), so the figures are those of a warmed-up node. After the half
 * load, a light load of 20 tx/s for `--light-load-seconds` (default 10; 0: none) gives the latency of a trickle (ADR 0022). Every rate (`…PerSec`) also appears as a ratio to the one-core verify rate; `--readings N --transfers N`
 * size the energy part, whose rates are also given as ratios to the foundation tx/s of the same run;
 * `--market-orders N --market-validators 1,4` size the market part (order placements in process and on each
 * validator count; pay-as-clear of 10,000 orders and bills for 1,000 members × 30 days are fixed).
 */
const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '20000' },
    validators: { type: 'string', default: '1' },
    'half-load-seconds': { type: 'string', default: '10' },
    'light-load-seconds': { type: 'string', default: '10' },
    'warmup-txs': { type: 'string', default: String(DEFAULT_WARMUP_TXS) },
    json: { type: 'boolean', default: false },
    only: { type: 'string', default: 'all' },
    readings: { type: 'string', default: '10000' },
    transfers: { type: 'string', default: '5000' },
    'market-orders': { type: 'string', default: '20000' },
    'market-validators': { type: 'string', default: '1,4' },
  },
});
const PARTS = ['foundation', 'execute', 'energy', 'shares', 'payments', 'market', 'flex', 'zk', 'bitcoin', 'edge', 'dashboard', 'read-policy', 'state-versions', 'simulate', 'all'] as const;
const only = values.only.split(',');
if (!only.every((p) => (PARTS as readonly string[]).includes(p))) throw new Error(`--only must be one of ${PARTS.join('|')} (or a comma list), got ${values.only}`);
const runs = (part: string) => only.includes('all') || only.includes(part);
/** HanzeNet (SEEDS.md §4): 378 households at one reading per 10 s. */
const HANZENET_HOUSEHOLDS = 378;

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stderr.write('calibrating Ed25519 verify rate…\n');
const cal = await calibrate();
process.stderr.write(`  ${cal.verifyPerSecOneCore}/s on one core, ${cal.verifyPerSecAllCores}/s on ${cal.cores} cores\n`);
const validators = Number(values.validators);
const warmupTxs = Number(values['warmup-txs']);
if (!Number.isSafeInteger(warmupTxs) || warmupTxs < 0) throw new Error(`--warmup-txs must be a whole number ≥ 0, got ${values['warmup-txs']}`);
// Every validator verifies every transaction on this one machine, so the bound is shared.
const bound = cal.verifyPerSecAllCores / validators;
const report: Record<string, unknown> = { machine, calibration: cal };
let foundationTxPerSec: number | undefined;
if (runs('foundation')) {
  process.stderr.write(`foundation: registry admissions on ${validators} validator(s)…\n`);
  const f = await benchFoundation({ validators, saturationTxs: Number(values.txs), halfLoadSeconds: Number(values['half-load-seconds']), lightLoadSeconds: Number(values['light-load-seconds']), warmupTxs });
  foundationTxPerSec = f.committedTxPerSec;
  report.foundation = {
    validators,
    ...f,
    boundTxPerSec: Math.round(bound),
    ratioToBound: Number((f.committedTxPerSec / bound).toFixed(3)),
    // Issue 18: CPU per committed tx per validator, against one single-core verify of the same run.
    cpuUsPerTxPerValidator: f.cpuAtSaturation.allNodesUsPerTx === null ? null : Math.round(f.cpuAtSaturation.allNodesUsPerTx / validators),
    cpuPerTxRatioToVerify1Core: f.cpuAtSaturation.allNodesUsPerTx === null ? null : Number((f.cpuAtSaturation.allNodesUsPerTx / validators / (1e6 / cal.verifyPerSecOneCore)).toFixed(2)),
    // The same CPU against the nodes' own signature checks in the window (steadier on a machine whose speed moves).
    cpuPerTxRatioToOwnVerify: f.cpuAtSaturation.ratioToOwnVerify,
    cpuUsPerTxPerValidatorAtHalfLoad: f.cpuAtHalfLoad.allNodesUsPerTx === null ? null : Math.round(f.cpuAtHalfLoad.allNodesUsPerTx / validators),
    // Issue 18's acceptance.
    goal:
      validators === 1
        ? 'committed tx/s >= 0.40 x all-cores verify rate; idle RSS <= 150 MB'
        : 'committed tx/s >= 0.40 x (all-cores verify rate / validators); CPU per tx per validator <= 3 x one verify; p50 <= 300 ms, p99 <= 1000 ms at half load; idle RSS <= 150 MB',
  };
}
if (runs('execute')) {
  process.stderr.write('execute: blocks of 1,000 registry admissions executed and committed in process (no consensus)…\n');
  const x = benchExecute({ blocks: 20, txsPerBlock: 1000 });
  report.execute = {
    ...withVerifyRatios(x as unknown as Record<string, unknown>, cal.verifyPerSecOneCore),
    // Issue 8/18: the ledger's own CPU per transaction against one single-core verify of the same run.
    usPerTxRatioToVerify1Core: Object.fromEntries(Object.entries(x.usPerTx).map(([phase, us]) => [phase, Number((us / (1e6 / cal.verifyPerSecOneCore)).toFixed(3))])),
  };
}
if (runs('energy')) {
  process.stderr.write(`energy: ${values.readings} meter readings, ${values.transfers} transfers on ${validators} validator(s)…\n`);
  const cpu: Record<string, CpuReport> = {};
  const e = await benchEnergy({ validators, readings: Number(values.readings), transfers: Number(values.transfers), cpu, warmupTxs });
  const ratio = (x: number | undefined) => (x !== undefined && foundationTxPerSec ? Number((x / foundationTxPerSec).toFixed(3)) : null);
  report.energy = {
    ...e,
    foundationTxPerSec: foundationTxPerSec ?? null,
    readingsRatioToFoundation: ratio(e.readingsPerSec),
    transfersRatioToFoundation: ratio(e.transfersPerSec),
    hanzeNetHouseholds: HANZENET_HOUSEHOLDS,
    householdsRatioToHanzeNet: e.households !== undefined ? Number((e.households / HANZENET_HOUSEHOLDS).toFixed(1)) : null,
    goal: 'committed readings/s and transfers/s >= 0.9 x foundation committed tx/s (issue 18); households = readings/s x 900 (one reading per 15 min)',
    cpuAtSaturation: cpu,
  };
}
if (runs('shares')) {
  process.stderr.write('shares: portion transfers and a billing run (in-process)…\n');
  report.shares = await benchShares();
}
if (runs('payments')) {
  process.stderr.write('payments: asset transfers and channel vouchers (in-process)…\n');
  report.payments = withVerifyRatios(await benchPayments(), cal.verifyPerSecOneCore);
}
if (runs('market')) {
  const orders = Number(values['market-orders']);
  process.stderr.write(`market: ${orders} order placements, pay-as-clear of 10,000 orders in one block, bills for 1,000 members × 30 days (in-process)…\n`);
  const inProcess = withVerifyRatios(await benchMarket({ orders, verifyPerSecOneCore: cal.verifyPerSecOneCore }), cal.verifyPerSecOneCore);
  const network: Array<Record<string, unknown>> = [];
  for (const n of values['market-validators'].split(',').filter(Boolean).map(Number)) {
    process.stderr.write(`market: ${orders} order placements on ${n} validator(s)…\n`);
    network.push(withVerifyRatios(await benchMarketNetwork({ validators: n, orders }), cal.verifyPerSecOneCore));
  }
  report.market = {
    inProcess,
    network,
    goal: 'issue 12: committed orders/s on 1 and 4 validators as a ratio to the foundation admissions/s of the same run; pay-as-clear of 10,000 orders inside one block; bills for 1,000 members x 30 days',
  };
}
if (runs('flex')) {
  process.stderr.write('flex: deviation proofs and their admission (in-process)…\n');
  report.flex = withVerifyRatios(await benchFlex(), cal.verifyPerSecOneCore);
}
if (runs('zk')) {
  process.stderr.write('zk: Groth16 prove and verify per circuit…\n');
  report.zk = (await benchZk()).map((c) => withVerifyRatios(c as unknown as Record<string, unknown>, cal.verifyPerSecOneCore));
}
if (runs('bitcoin')) {
  process.stderr.write('bitcoin: anchor verification reports and interval roots…\n');
  report.bitcoin = withVerifyRatios(await benchBitcoin() as unknown as Record<string, unknown>, cal.verifyPerSecOneCore);
}
if (runs('edge')) {
  process.stderr.write('edge: P1 parsing, sample store and fingerprints; the agent against a node…\n');
  report.edge = { store: withVerifyRatios(await benchEdge(), cal.verifyPerSecOneCore), agent: withVerifyRatios(await benchEdgeAgent(), cal.verifyPerSecOneCore) };
}
if (runs('dashboard')) {
  process.stderr.write('dashboard: community page of 1,000 members over 30 days (first paint, payloads)…\n');
  report.dashboard = await benchDashboard({ members: 1000, days: 30, perMemberDay: 4 });
}
if (runs('read-policy')) {
  process.stderr.write("read-policy: private reads of a meter's readings among 500 communities of 20 meters, and of a member's balances and history (20,000 entries) in a community of 3,000…\n");
  report.readPolicy = withVerifyRatios(await benchReadPolicy({ communities: 500, metersPerCommunity: 20, members: 3000, historyEntries: 20_000, requests: 200 }) as unknown as Record<string, unknown>, cal.verifyPerSecOneCore);
}
if (runs('state-versions')) {
  process.stderr.write("state-versions: the market's end of block among 1,000 / 5,000 idle market communities, a governance proposal among 10,000 accounts and the plants of a meter among 2,000 plants, state versions 1 and 2; the flex events of a rare status among 20,000, through the node's query index and the bounded scan; an account's balances after 5,000 completed redemptions, through the indexes of open items and its whole history; accounts of a rare role among 20,000…\n");
  report.stateVersions = withVerifyRatios(await benchStateVersions({ verifyPerSecOneCore: cal.verifyPerSecOneCore }), cal.verifyPerSecOneCore);
}
if (runs('simulate')) {
  process.stderr.write('simulate: 1,000 households for a day (model)…\n');
  report.simulate = withVerifyRatios(await benchSimulate({ households: 1000 }) as unknown as Record<string, unknown>, cal.verifyPerSecOneCore);
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
