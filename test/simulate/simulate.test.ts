import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunityDriver, type SimulateSummary } from '../../src/cli/community/driver.js';
import { ledgerReport, type Reader } from '../../src/cli/community/report.js';
import { main } from '../../src/cli/main.js';
import { readScenario, simulationSecret } from '../../src/cli/simulate.js';
import { openKeyring } from '../../src/home/home.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import { dayOfSlot } from '../../src/util/localtime.js';
import { communityKpis, parseScenario, simulateRange, type ScenarioInput, type SlotResult } from '../../sim/community/index.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/** Five households (two with PV, one with a battery), a shared plant for three of them, clear sky. */
const SCENARIO: ScenarioInput = {
  version: 1,
  seed: 7,
  community: { id: 'five', name: 'Five households', timezone: 'Europe/Vienna', location: { latitude: 48.2, longitude: 16.37 } },
  tariffs: { importMicroEurPerKwh: 250_000, exportMicroEurPerKwh: 80_000, communityMicroEurPerKwh: 150_000 },
  households: [
    { id: 'h1', annualKwh: 2500 },
    { id: 'h2', annualKwh: 3500 },
    { id: 'h3', annualKwh: 4000, pv: { areaM2: 30, efficiency: 0.21, tiltDeg: 35, azimuthDeg: 180 } },
    { id: 'h4', annualKwh: 3000, pv: { areaM2: 20, efficiency: 0.2, tiltDeg: 20, azimuthDeg: 200 }, battery: { capacityWh: 5000, maxPowerW: 3000 } },
    { id: 'h5', annualKwh: 1800 },
  ],
  sharedPlants: [{ id: 'roof', pv: { areaM2: 60, efficiency: 0.2, tiltDeg: 25, azimuthDeg: 180 }, participants: [{ member: 'h1', ppm: 500_000 }, { member: 'h2', ppm: 300_000 }, { member: 'h5', ppm: 200_000 }] }],
};

let node: TestNode;
let driver: CommunityDriver;
let summary: SimulateSummary;
let expected: SlotResult[];
let dir: string;

beforeAll(async () => {
  node = await startTestNode();
  dir = mkdtempSync(join(tmpdir(), 'gridledger-sim-'));
  const keyring = openKeyring(node.home, 'test');
  const admin = keyring.signer('admin');
  driver = new CommunityDriver({ url: node.url, scenario: parseScenario(SCENARIO), operator: { address: keyring.show('admin').address, signer: admin }, secret: simulationSecret(keyring), days: 1 });
  summary = await driver.run();
  expected = simulateRange(parseScenario(SCENARIO), summary.fromSlot!, summary.toSlot!);
}, 300_000);

afterAll(async () => {
  await node?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const read: Reader = (route, input) => node.callAs('admin', route, input);

describe('simulate: one day of a 5-household community against a real node', () => {
  it('creates the community and backfills the last 96 ended slots, every reading and transfer accepted', () => {
    expect(summary.created).toEqual({ accounts: 12, community: true, traders: 6, meters: 6 });
    expect(summary.slots).toBe(96);
    expect(summary.toSlot! - summary.fromSlot!).toBe(96);
    expect(summary.readings).toEqual({ submitted: 6 * 96, accepted: 6 * 96 });
    const trades = expected.flatMap((r) => r.trades).filter((t) => t.wh > 0);
    expect(trades.length).toBeGreaterThan(0);
    expect(summary.transfers).toEqual({ submitted: trades.length, accepted: trades.length });
    expect(summary.rejected).toEqual({});
    expect(summary.wh.internal).toBe(trades.reduce((a, t) => a + t.wh, 0));
  });

  it("each meter's ledger readings are the simulated meter values, in integer Wh with consistent registers", async () => {
    for (const m of driver.members) {
      const { readings } = await read(meteringRoutes.listReadings, { params: { meterId: m.meterId }, query: { fromSlot: String(summary.fromSlot), toSlot: String(summary.toSlot), limit: 1000 } });
      const views = expected.map((r) => r.meters.find((v) => v.member === m.id)!);
      expect(readings.map((r) => [r.slot, r.importWh, r.exportWh])).toEqual(expected.map((r, i) => [r.slot, views[i]!.importWh, views[i]!.exportWh]));
      expect(readings.at(-1)!.importRegisterWh).toBe(views.reduce((a, v) => a + v.importWh, 0));
    }
  });

  it("each trader's balance over the day is export − import + bought − sold of the simulation", async () => {
    const { totals } = await read(energyRoutes.balances, { params: { id: 'five' }, query: { fromSlot: String(summary.fromSlot), toSlot: String(summary.toSlot), limit: 10_000 } });
    for (const m of driver.members) {
      const flows = expected.flatMap((r) => r.flows.filter((f) => f.member === m.id));
      const net = flows.reduce((a, f) => a + f.gridExportWh - f.gridImportWh, 0);
      expect(totals.byTrader.find((t) => t.trader === m.trader.address)?.wh ?? 0).toBe(net);
    }
    const sold = expected.flatMap((r) => r.trades).filter((t) => t.from === 'roof').reduce((a, t) => a + t.wh, 0);
    expect(sold).toBeGreaterThan(0);
  });

  it('the report from the ledger equals the KPIs of the simulated meter flows', async () => {
    const tz = SCENARIO.community.timezone;
    const report = await ledgerReport(read, { community: 'five', fromDay: dayOfSlot(tz, summary.fromSlot!), toDay: dayOfSlot(tz, summary.toSlot! - 1), tariffs: SCENARIO.tariffs });
    const address = new Map(driver.members.map((m) => [m.id, m.trader.address]));
    // On the ledger a member produced what its meter exported and consumed what it imported.
    const slots = expected.map((r) => ({
      slot: r.slot,
      flows: r.flows
        .map((f) => {
          const v = r.meters.find((x) => x.member === f.member)!;
          return { ...f, member: address.get(f.member)!, producedWh: v.exportWh, consumedWh: v.importWh };
        })
        .filter((f) => f.producedWh + f.consumedWh + f.boughtInternallyWh + f.soldInternallyWh > 0),
    })).filter((s) => s.flows.length > 0);
    const want = communityKpis({ community: 'five', fromSlot: report.fromSlot, toSlot: report.toSlot, members: [...address.values()].sort(), tariffs: SCENARIO.tariffs, slots });
    expect(report.kpis).toEqual(want);
    expect(report.kpis.selfSufficiencyPpm).toBeGreaterThan(0);
    expect(report.kpis.savingsMicroEur).toBeGreaterThan(0);
  });

  it('a second run finds everything in place and submits nothing', async () => {
    const keyring = openKeyring(node.home, 'test');
    const again = await new CommunityDriver({ url: node.url, scenario: parseScenario(SCENARIO), operator: { address: keyring.show('admin').address, signer: keyring.signer('admin') }, secret: simulationSecret(keyring), days: 1 }).run();
    expect(again.created).toEqual({ accounts: 0, community: false, traders: 0, meters: 0 });
    // At most the slot or two that ended since the first run are new.
    expect(again.slots).toBeLessThanOrEqual(2);
    expect(again.rejected).toEqual({});
  }, 120_000);
});

describe('simulate: the command', () => {
  it('runs a scenario file against the node and prints the summary (-o json), with --seed overriding the scenario seed', async () => {
    const path = join(dir, 'cli.yaml');
    const scenario = { ...structuredClone(SCENARIO), community: { ...SCENARIO.community, id: 'cli' } };
    writeFileSync(path, JSON.stringify(scenario)); // JSON is YAML too
    const out: string[] = [];
    const stdout = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['--home', node.home, '--node', node.url, '-o', 'json', 'simulate', '--scenario', path, '--days', '1', '--seed', '9', '--no-progress']);
    } finally {
      process.stdout.write = stdout;
    }
    expect(code).toBe(0);
    const summary = JSON.parse(out.join('')) as SimulateSummary;
    expect(summary.community).toBe('cli');
    expect(summary.readings.accepted).toBe(summary.readings.submitted);
    expect(summary.readings.accepted).toBe(6 * summary.slots);
    // The seed drives the load noise: the imported energy differs from the scenario's own seed.
    const own = simulateRange(parseScenario(scenario), summary.fromSlot!, summary.toSlot!).flatMap((r) => r.meters).reduce((a, m) => a + m.importWh, 0);
    const seeded = simulateRange(parseScenario({ ...scenario, seed: 9 }), summary.fromSlot!, summary.toSlot!).flatMap((r) => r.meters).reduce((a, m) => a + m.importWh, 0);
    expect(own).not.toBe(seeded);
    expect(summary.wh.import).toBe(seeded);
  }, 120_000);
});

describe('simulate: bad scenario files are refused with coded errors', () => {
  async function run(args: string[]): Promise<{ code: number; error: { code: string; message: string } }> {
    const errors: string[] = [];
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof process.stderr.write;
    try {
      const code = await main(['--home', node.home, '--node', node.url, '-o', 'json', 'simulate', '--no-progress', ...args]);
      return { code, error: JSON.parse(errors.join('')).error };
    } finally {
      process.stderr.write = stderr;
    }
  }
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('a missing file, a directory, broken JSON or YAML, a schema violation, ids the ledger cannot take', async () => {
    expect(await run(['--scenario', join(dir, 'missing.json')])).toMatchObject({ code: 1, error: { code: 'SIMULATE_SCENARIO_UNREADABLE' } });
    expect(await run(['--scenario', dir])).toMatchObject({ code: 1, error: { code: 'SIMULATE_SCENARIO_UNREADABLE' } });
    expect(await run(['--scenario', file('broken.json', '{"version": 1,')])).toMatchObject({ code: 1, error: { code: 'SIM_SCENARIO_INVALID' } });
    expect(await run(['--scenario', file('broken.yaml', 'version: [1')])).toMatchObject({ code: 1, error: { code: 'SIM_SCENARIO_INVALID' } });
    const bad = structuredClone(SCENARIO) as any;
    bad.sharedPlants[0].participants[0].ppm = 400_000;
    const res = await run(['--scenario', file('key.json', JSON.stringify(bad))]);
    expect(res).toMatchObject({ code: 1, error: { code: 'SIM_SCENARIO_INVALID' } });
    expect(res.error.message).toContain('1,000,000');
    const upper = { ...structuredClone(SCENARIO), community: { ...SCENARIO.community, id: 'Five' } };
    expect(await run(['--scenario', file('upper.json', JSON.stringify(upper))])).toMatchObject({ code: 1, error: { code: 'SIMULATE_SCENARIO_UNFIT' } });
    const long = structuredClone(SCENARIO) as any;
    long.households[0].id = 'h'.repeat(64);
    long.sharedPlants[0].participants[0].member = long.households[0].id;
    expect(await run(['--scenario', file('long.json', JSON.stringify(long))])).toMatchObject({ code: 1, error: { code: 'SIMULATE_SCENARIO_UNFIT' } });
    expect(readScenario(file('ok.yaml', 'version: 1\nseed: 1\ncommunity: {id: y, name: Y, timezone: UTC, location: {latitude: 0, longitude: 0}}\ntariffs: {importMicroEurPerKwh: 1, exportMicroEurPerKwh: 0, communityMicroEurPerKwh: 1}\nhouseholds: [{id: a, annualKwh: 1000}]\n')).community.id).toBe('y');
  });

  it('a community of the same id owned by someone else is not taken over', async () => {
    const other = { ...structuredClone(SCENARIO), community: { ...SCENARIO.community, timezone: 'Europe/Berlin' } };
    expect(await run(['--scenario', file('tz.json', JSON.stringify(other))])).toMatchObject({ code: 1, error: { code: 'SIMULATE_COMMUNITY_NOT_OWNED' } });
  });
});
