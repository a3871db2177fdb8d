import { pathToFileURL } from 'node:url';
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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(await benchSimulate({ households: Number(process.argv[2] ?? 1000) }), null, 2) + '\n');
}
