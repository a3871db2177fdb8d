import { pathToFileURL } from 'node:url';
import { CommunityDriver } from '../src/cli/community/driver.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { openKeyring } from '../src/home/home.js';
import { calibrate, type Calibration } from './calibrate.js';
import { startBenchNetwork } from './foundation.js';
import { CommunitySimulation } from '../sim/community/community.js';
import { parseScenario, type ScenarioInput } from '../sim/community/scenario.js';
import { localDay } from '../src/util/localtime.js';

/**
 * Simulation benchmark (model only, no ledger): a community of N households (default 1,000) in
 * Vienna — 30 % with rooftop PV, 5 % of those with a battery, 5 % with an electric car, Markov cloud
 * cover, one 20-participant shared plant per 50 households — simulated for one local day (96 slots).
 * Reports the wall time, member-slots per second (one member-slot = one meter reading the driver
 * would submit) and community slots per second.
 */

export interface SimulateBenchOptions {
  households?: number;
  day?: string;
}

export interface SimulateBenchResult {
  households: number;
  members: number;
  slots: number;
  memberSlots: number;
  wallMs: number;
  memberSlotsPerSec: number;
  slotsPerSec: number;
}

export function benchScenario(households: number, day: string): ScenarioInput {
  const homes: NonNullable<ScenarioInput['households']> = [];
  for (let i = 0; i < households; i++) {
    const id = `h${String(i).padStart(5, '0')}`;
    const home: (typeof homes)[number] = { id, annualKwh: 1500 + ((i * 7919) % 4500) };
    if (i % 10 < 3) home.pv = { areaM2: 15 + (i % 20), efficiency: 0.2, tiltDeg: 20 + (i % 25), azimuthDeg: 120 + ((i * 37) % 120) };
    if (i % 60 === 0) home.battery = { capacityWh: 8000, maxPowerW: 4000, minSocWh: 800 };
    if (i % 20 === 7) home.ev = { chargePowerW: 11_000 };
    homes.push(home);
  }
  const plants: NonNullable<ScenarioInput['sharedPlants']> = [];
  for (let p = 0; p * 50 < households; p++) {
    const members = homes.slice(p * 50, p * 50 + 20);
    const ppm = Math.floor(1_000_000 / members.length);
    plants.push({
      id: `plant-${p}`,
      pv: { areaM2: 100, efficiency: 0.2, tiltDeg: 20, azimuthDeg: 180 },
      participants: members.map((h, j) => ({ member: h.id, ppm: j === 0 ? 1_000_000 - ppm * (members.length - 1) : ppm })),
    });
  }
  return {
    version: 1,
    seed: 1,
    community: { id: 'bench', name: 'Benchmark community', timezone: 'Europe/Vienna', location: { latitude: 48.2082, longitude: 16.3738 } },
    start: day,
    tariffs: { importMicroEurPerKwh: 250_000, exportMicroEurPerKwh: 80_000, communityMicroEurPerKwh: 150_000 },
    weather: { model: 'markov' },
    households: homes,
    sharedPlants: plants,
  };
}

export async function benchSimulate(options: SimulateBenchOptions = {}): Promise<SimulateBenchResult> {
  const households = options.households ?? 1000;
  const day = options.day ?? '2026-06-21';
  const scenario = parseScenario(benchScenario(households, day));
  const d = localDay(scenario.community.timezone, day);
  const t0 = performance.now();
  let memberSlots = 0;
  for (const r of new CommunitySimulation(scenario).run(d.firstSlot, d.firstSlot + d.slots)) memberSlots += r.meters.length;
  const wallMs = performance.now() - t0;
  const members = scenario.households.length + scenario.sharedPlants.length;
  return {
    households,
    members,
    slots: d.slots,
    memberSlots,
    wallMs: Math.round(wallMs),
    memberSlotsPerSec: Math.round((memberSlots * 1000) / wallMs),
    slotsPerSec: Number(((d.slots * 1000) / wallMs).toFixed(1)),
  };
}

export interface SimulateOnNodeResult {
  households: number;
  validators: number;
  meters: number;
  setupSeconds: number;
  backfillSeconds: number;
  readingsSubmitted: number;
  readingsAccepted: number;
  transfersAccepted: number;
  transactions: number;
  /** Readings accepted per second of the backfill (setup excluded). */
  readingsPerSec: number;
  /** Transactions (one per meter and 32 slots, one per seller and step) per second of the backfill. */
  txsPerSec: number;
  calibration: Calibration;
  /** txsPerSec / Ed25519 verifies per second on all cores: each transaction costs one signature check. */
  txsRatioToVerifyAllCores: number;
  rejected: Record<string, number>;
}

/**
 * `gridledger simulate` against a running node: the same community (without a start day, so the
 * batteries start with the backfill) backfilled for the last day of ended slots through the API.
 * Reports the setup (admissions, community, traders, meters) and the backfill separately.
 */
export async function benchSimulateOnNode(options: { households?: number; validators?: number; calibration?: Calibration } = {}): Promise<SimulateOnNodeResult> {
  const households = options.households ?? 1000;
  const validators = options.validators ?? 1;
  const calibration = options.calibration ?? (await calibrate());
  const input = benchScenario(households, '2026-06-21');
  delete input.start;
  const scenario = parseScenario(input);
  const net = await startBenchNetwork(validators);
  try {
    const keyring = openKeyring(net.home, 'test');
    const signer = keyring.signer('admin');
    const t0 = performance.now();
    let backfillStart = 0;
    const driver = new CommunityDriver({
      url: net.urls[0]!,
      scenario,
      operator: { address: addressFromPublicKey(signer.publicKey), signer },
      secret: new Uint8Array(32).fill(7),
      days: 1,
      onProgress: (p) => {
        if (p.phase === 'backfill' && backfillStart === 0) backfillStart = performance.now();
      },
    });
    const s = await driver.run();
    const end = performance.now();
    const backfillSeconds = (end - backfillStart) / 1000;
    const transactions = s.transactions;
    return {
      households,
      validators,
      meters: driver.members.length,
      setupSeconds: Number(((backfillStart - t0) / 1000).toFixed(1)),
      backfillSeconds: Number(backfillSeconds.toFixed(1)),
      readingsSubmitted: s.readings.submitted,
      readingsAccepted: s.readings.accepted,
      transfersAccepted: s.transfers.accepted,
      transactions,
      readingsPerSec: Math.round(s.readings.accepted / backfillSeconds),
      txsPerSec: Math.round(transactions / backfillSeconds),
      calibration,
      txsRatioToVerifyAllCores: Number((transactions / backfillSeconds / calibration.verifyPerSecAllCores).toFixed(4)),
      rejected: s.rejected,
    };
  } finally {
    await net.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const households = Number(process.argv[2] ?? 1000);
  if (process.argv.includes('--node')) {
    process.stdout.write(JSON.stringify(await benchSimulateOnNode({ households, validators: Number(process.argv[process.argv.indexOf('--validators') + 1] ?? 1) || 1 }), null, 2) + '\n');
  } else {
    process.stdout.write(JSON.stringify(await benchSimulate({ households }), null, 2) + '\n');
  }
}
