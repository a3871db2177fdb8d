import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import type { Msg } from '../../src/codec/tx.js';
import { ledgerReport, type LedgerReport, type Reader } from '../../src/cli/community/report.js';
import { writeReport } from '../../src/cli/report.js';
import { kpiRoutes } from '../../src/runtime/community-kpis.js';
import { main } from '../../src/cli/main.js';
import { openKeyring } from '../../src/home/home.js';
import { dayOfSlot } from '../../src/util/localtime.js';
import { slotOfMs } from '../../src/util/slots.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/**
 * The report from ledger data against a community computed by hand (docs/simulation.md, "Report"):
 * producer A, consumers B and C; slot S1: A exports 3000 Wh and gives 1200 Wh to B and 800 Wh to C,
 * B imports 2000 Wh, C 1500 Wh; slot S2: A imports 500 Wh, B 1000 Wh, C nothing.
 * Tariffs: import 0.25 €/kWh, export 0.08 €/kWh, community 0.15 €/kWh.
 */
const TZ = 'Europe/Vienna';
const TARIFFS = { importMicroEurPerKwh: 250_000, exportMicroEurPerKwh: 80_000, communityMicroEurPerKwh: 150_000 };

let node: TestNode;
let A: string, B: string, C: string;
let S1: number, S2: number;
let report: LedgerReport;
let out: string;

async function commit(from: string, msgs: Msg[]): Promise<void> {
  const tx = await node.signedTx(from, msgs);
  const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
  const res = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
  if (res.result?.code !== 'OK') throw new Error(`${msgs[0]!.type} by ${from}: ${res.result?.code} ${res.result?.message}`);
}

const reading = (meterId: string, slot: number, importWh: number, exportWh: number, registers: [number, number], seq: number): Msg => ({
  type: 'metering/reading',
  value: { meterId, slot, importWh, exportWh, importRegisterWh: registers[0], exportRegisterWh: registers[1], seq },
});

beforeAll(async () => {
  node = await startTestNode({ alice: ['prosumer', 'trader'], bob: ['consumer', 'trader'], carol: ['consumer', 'trader'], ma: ['meter'], mb: ['meter'], mc: ['meter'] });
  const keys = openKeyring(node.home, 'test');
  const addr = (n: string) => keys.show(n).address;
  [A, B, C] = [addr('alice'), addr('bob'), addr('carol')];
  // Two slots that have ended (the node's block time is the wall clock).
  S1 = slotOfMs(Date.now()) - 3;
  S2 = S1 + 1;
  const community = 'hand';
  const meter = (meterId: string, key: string, trader: string, kind: 'producer' | 'consumer') => ({
    type: 'energy/add-meter',
    value: { community, meterId, kind, trader, address: addr(key), maxPowerW: 50_000, ...(kind === 'producer' ? { labels: ['solar'] } : {}) },
  });
  await commit('admin', [
    { type: 'energy/create-community', value: { id: community, name: 'Hand-computed', timezone: TZ } },
    ...[A, B, C].map((address) => ({ type: 'energy/add-trader', value: { community, address } })),
    meter('PA', 'ma', A, 'producer'),
    meter('CB', 'mb', B, 'consumer'),
    meter('CC', 'mc', C, 'consumer'),
  ]);
  await commit('ma', [reading('PA', S1, 0, 3000, [0, 3000], 1), reading('PA', S2, 500, 0, [500, 3000], 2)]);
  await commit('mb', [reading('CB', S1, 2000, 0, [2000, 0], 1), reading('CB', S2, 1000, 0, [3000, 0], 2)]);
  await commit('mc', [reading('CC', S1, 1500, 0, [1500, 0], 1)]);
  await commit('alice', [
    { type: 'energy/transfer', value: { community, to: B, slot: S1, labels: ['solar'], wh: 1200 } },
    { type: 'energy/transfer', value: { community, to: C, slot: S1, labels: ['solar'], wh: 800 } },
  ]);
  const read: Reader = (route, input) => node.callAs('admin', route, input);
  report = await ledgerReport(read, { community, fromDay: dayOfSlot(TZ, S1), toDay: dayOfSlot(TZ, S2), tariffs: TARIFFS });
  out = mkdtempSync(join(tmpdir(), 'gridledger-report-'));
}, 120_000);

afterAll(async () => {
  await node?.cleanup();
  if (out) rmSync(out, { recursive: true, force: true });
});

const member = (address: string) => report.kpis.members.find((m) => m.member === address)!;

describe('report: KPIs from ledger data equal the hand computation', () => {
  it('energy per member (Wh)', () => {
    expect(member(A).energy).toEqual({ producedWh: 3000, consumedWh: 500, boughtInternallyWh: 0, soldInternallyWh: 2000, gridImportWh: 500, gridExportWh: 1000, selfConsumedWh: 0, localSupplyWh: 0 });
    expect(member(B).energy).toEqual({ producedWh: 0, consumedWh: 3000, boughtInternallyWh: 1200, soldInternallyWh: 0, gridImportWh: 1800, gridExportWh: 0, selfConsumedWh: 0, localSupplyWh: 1200 });
    expect(member(C).energy).toEqual({ producedWh: 0, consumedWh: 1500, boughtInternallyWh: 800, soldInternallyWh: 0, gridImportWh: 700, gridExportWh: 0, selfConsumedWh: 0, localSupplyWh: 800 });
    expect(member(B).localSupplyPpm).toBe(400_000);
    expect(member(C).localSupplyPpm).toBe(533_333);
    expect(member(B).selfConsumptionPpm).toBeNull();
  });

  it('bills and baselines per member (µ€)', () => {
    // A: 500 Wh × 0.25 − 1000 Wh × 0.08 − 2000 Wh × 0.15; baseline 500 × 0.25 − 3000 × 0.08.
    expect(member(A).bill).toMatchObject({ totalMicroEur: 125_000 - 80_000 - 300_000, baselineMicroEur: 125_000 - 240_000, savingsMicroEur: 140_000 });
    // B: 1800 Wh × 0.25 + 1200 Wh × 0.15; baseline 3000 × 0.25.
    expect(member(B).bill).toMatchObject({ totalMicroEur: 630_000, baselineMicroEur: 750_000, savingsMicroEur: 120_000 });
    // C: 700 Wh × 0.25 + 800 Wh × 0.15; baseline 1500 × 0.25.
    expect(member(C).bill).toMatchObject({ totalMicroEur: 295_000, baselineMicroEur: 375_000, savingsMicroEur: 80_000 });
  });

  it('the community: totals, ratios, peaks and money', () => {
    const k = report.kpis;
    expect(k.energy).toMatchObject({ producedWh: 3000, consumedWh: 5000, boughtInternallyWh: 2000, soldInternallyWh: 2000, gridImportWh: 3000, gridExportWh: 1000, localSupplyWh: 2000 });
    expect(k.internalImbalanceWh).toBe(0);
    expect(k.selfSufficiencyPpm).toBe(400_000); // 2000 / 5000
    expect(k.selfConsumptionPpm).toBe(666_666); // 2000 / 3000, floored
    // Grid import 800 + 700 in S1 and 500 + 1000 in S2: the earliest slot of the peak.
    expect(k.peaks).toEqual({ importWh: 1500, importSlot: S1, exportWh: 1000, exportSlot: S1 });
    expect(k.costMicroEur).toBe(670_000);
    expect(k.baselineMicroEur).toBe(1_010_000);
    expect(k.savingsMicroEur).toBe(340_000);
    expect(k.savingsPpm).toBe(336_633); // floor(340000 · 10⁶ / 1010000)
    expect(k.slotsWithData).toBe(2);
    expect(report.slots).toEqual([
      { slot: S1, producedWh: 3000, consumedWh: 3500, internalWh: 2000, gridImportWh: 1500, gridExportWh: 1000 },
      { slot: S2, producedWh: 0, consumedWh: 1500, internalWh: 0, gridImportWh: 1500, gridExportWh: 0 },
    ]);
    expect(report.members.find((m) => m.address === A)!.meters).toEqual(['PA']);
  });

  it('the KPI route answers the same report to the owner and refuses a member', async () => {
    const query = { fromDay: dayOfSlot(TZ, S1), toDay: dayOfSlot(TZ, S2), importPrice: 250_000, exportPrice: 80_000, communityPrice: 150_000 };
    const answered = await node.callAs('admin', kpiRoutes.communityKpis, { params: { id: 'hand' }, query });
    expect(answered).toEqual(JSON.parse(JSON.stringify(report)));
    await expect(node.callAs('bob', kpiRoutes.communityKpis, { params: { id: 'hand' }, query })).rejects.toMatchObject({ code: 'READ_FORBIDDEN' });
    await expect(node.callAs('admin', kpiRoutes.communityKpis, { params: { id: 'nope' }, query })).rejects.toMatchObject({ code: 'ENERGY_COMMUNITY_NOT_FOUND' }); // found by the read policy's party lookup first
  });

  it('writes JSON, CSV and server-rendered SVG charts', () => {
    const files = writeReport(out, report);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['kpis.json', 'members.csv', 'slots.csv', 'energy.svg', 'bills.svg']);
    expect(JSON.parse(readFileSync(join(out, 'kpis.json'), 'utf8')).kpis.savingsMicroEur).toBe(340_000);
    const rows = readFileSync(join(out, 'members.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^member,meters,produced_wh,consumed_wh/);
    expect(rows.find((r) => r.startsWith(B))).toContain(',CB,0,3000,1200,0,1800,0,0,,400000,');
    expect(rows.at(-1)).toMatch(/^community:hand,,3000,5000,2000,2000,3000,1000,400000,666666,400000,1500,.*,670000,1010000,340000$/);
    const svg = readFileSync(join(out, 'energy.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('grid import');
    expect(readFileSync(join(out, 'bills.svg'), 'utf8')).toContain('CB');
  });

  it('the report command writes the same figures and refuses bad input with codes', async () => {
    const dir = join(out, 'cli');
    const writes: string[] = [];
    const errors: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    const stderr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (writes.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof process.stderr.write;
    let codes: number[];
    try {
      const base = ['--home', node.home, '--node', node.url, '-o', 'json', 'report', '--community', 'hand', '--from', dayOfSlot(TZ, S1), '--to', dayOfSlot(TZ, S2)];
      codes = [
        await main([...base, '--out', dir, '--import-price', '250000', '--export-price', '80000', '--community-price', '150000']),
        await main([...base, '--import-price', '250000']),
        await main(['--home', node.home, '--node', node.url, '-o', 'json', 'report', '--community', 'nope', '--from', '2026-01-01', '--to', '2026-01-01', '--import-price', '1', '--export-price', '1', '--community-price', '1']),
        await main([...base.slice(0, -4), '--from', '2026-02-01', '--to', '2026-01-01', '--import-price', '1', '--export-price', '1', '--community-price', '1']),
      ];
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    expect(codes).toEqual([0, 1, 1, 1]);
    expect(JSON.parse(writes[0]!).kpis.costMicroEur).toBe(670_000);
    expect(existsSync(join(dir, 'energy.svg'))).toBe(true);
    expect(errors.map((e) => JSON.parse(e).error.code)).toEqual(['REPORT_INPUT_INVALID', 'REPORT_COMMUNITY_NOT_FOUND', 'REPORT_INPUT_INVALID']);
  });
});
