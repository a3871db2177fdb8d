import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario, scenarioFromText } from '../../sim/community/scenario.js';
import { LedgerError } from '../../src/util/errors.js';

const DEMO = join(import.meta.dirname, '../../sim/community/scenarios/demo.json');
const demoJson = () => JSON.parse(readFileSync(DEMO, 'utf8'));

function rejects(value: unknown, fragment: string): void {
  try {
    parseScenario(value);
  } catch (err) {
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as LedgerError).code).toBe('SIM_SCENARIO_INVALID');
    expect((err as LedgerError).message).toContain(fragment);
    return;
  }
  throw new Error('scenario was accepted');
}

describe('scenario file', () => {
  it('loads the demo: a dozen households in Vienna, a shared plant, prosumers, one battery, one car', () => {
    const s = loadScenarioFile(DEMO);
    expect(s.community.timezone).toBe('Europe/Vienna');
    expect(s.households).toHaveLength(12);
    expect(s.sharedPlants).toHaveLength(1);
    expect(s.sharedPlants[0]!.participants.reduce((a, p) => a + p.ppm, 0)).toBe(1_000_000);
    expect(s.households.filter((h) => h.pv).length).toBeGreaterThanOrEqual(3);
    expect(s.households.filter((h) => h.battery)).toHaveLength(1);
    expect(s.households.filter((h) => h.ev)).toHaveLength(1);
    // Defaults are filled in.
    expect(s.sharedPlants[0]!.pv.albedo).toBe(0.2);
    expect(s.loadNoise.slotSigma).toBeGreaterThan(0);
    expect(s.weather.model).toBe('markov');
  });

  it('reads the same scenario from YAML', () => {
    const fromYaml = scenarioFromText(stringify(demoJson()), 'yaml');
    expect(fromYaml).toEqual(loadScenarioFile(DEMO));
  });

  it('rejects broken scenarios with SIM_SCENARIO_INVALID and says why', () => {
    const key = demoJson();
    key.sharedPlants[0].participants[0].ppm = 99_999;
    rejects(key, 'sums to 999999 ppm');
    const stranger = demoJson();
    stranger.sharedPlants[0].participants[0].member = 'nobody';
    rejects(stranger, 'nobody is not a household');
    const twice = demoJson();
    twice.households[1].id = 'h01';
    rejects(twice, 'h01 is used twice');
    const zone = demoJson();
    zone.community.timezone = 'Mars/Olympus';
    rejects(zone, 'not an IANA time zone');
    const tariff = demoJson();
    tariff.tariffs.importMicroEurPerKwh = 0.25;
    rejects(tariff, 'tariffs.importMicroEurPerKwh');
    const extra = demoJson();
    extra.households[0].solar = true;
    rejects(extra, 'households.0');
    const battery = demoJson();
    battery.households[9].battery.initialSocWh = 20_000;
    rejects(battery, 'minSocWh ≤ initialSocWh ≤ capacityWh');
    const weather = { ...demoJson(), weather: { model: 'markov', transitions: [[0.5, 0.5, 0.5], [0.2, 0.6, 0.2], [0, 0, 1]] } };
    rejects(weather, 'sums to 1.5');
    expect(() => scenarioFromText('{"version": 1,', 'json')).toThrow(/not valid JSON/);
  });
});
