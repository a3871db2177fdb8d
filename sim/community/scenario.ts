import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isValidTimeZone, localDay } from '../../src/util/localtime.js';
import { SIM_ERRORS as E } from './errors.js';
import { DEFAULT_LOAD_NOISE } from './load.js';
import { DEFAULT_WEATHER } from './weather.js';

/**
 * A community scenario (JSON or YAML): where the community is, its households with their annual
 * consumption and optional PV, battery and car, shared PV plants with a distribution key in ppm,
 * tariffs in µ€/kWh, weather model and seed. Physical parameters are decimals (this is off-ledger
 * configuration); everything that reaches the ledger — Wh, ppm, µ€ — is an integer.
 */

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;

const id = z.string().regex(ID_RE, 'ids are 1–64 characters: letters, digits, ".", "_", "-"');
const day = z.string().regex(DAY_RE, 'a day is YYYY-MM-DD');
const microEurPerKwh = z.number().int().min(0).max(100_000_000);

export const pvSchema = z.strictObject({
  areaM2: z.number().positive().max(1_000_000),
  efficiency: z.number().gt(0).lte(1),
  performanceRatio: z.number().gt(0).lte(1).default(0.8),
  tiltDeg: z.number().min(0).max(90),
  /** Clockwise from north: 180 = south. */
  azimuthDeg: z.number().min(0).lt(360),
  albedo: z.number().min(0).max(1).default(0.2),
  temperature: z
    .strictObject({
      coefficientPerK: z.number().min(-0.02).max(0).default(-0.004),
      noctC: z.number().min(20).max(80).default(45),
      ambientC: z.number().min(-40).max(50).default(20),
    })
    .optional(),
});

const batterySchema = z
  .strictObject({
    capacityWh: z.number().int().positive().max(10_000_000),
    maxPowerW: z.number().int().positive().max(10_000_000),
    roundTripEfficiency: z.number().gt(0).lte(1).default(0.9),
    minSocWh: z.number().int().min(0).default(0),
    initialSocWh: z.number().int().min(0).optional(),
  })
  .refine((b) => b.minSocWh <= b.capacityWh && (b.initialSocWh === undefined || (b.initialSocWh >= b.minSocWh && b.initialSocWh <= b.capacityWh)), {
    message: 'battery: need minSocWh ≤ initialSocWh ≤ capacityWh',
  });

const evSchema = z.strictObject({
  chargePowerW: z.number().int().positive().max(350_000),
  arrival: z.string().regex(HHMM_RE, 'HH:MM').default('18:00'),
  departure: z.string().regex(HHMM_RE, 'HH:MM').default('07:30'),
  jitterMinutes: z.number().min(0).max(180).default(45),
  dailyKwh: z.number().min(0).max(200).default(8),
  dailyKwhSd: z.number().min(0).max(100).default(3),
  batteryKwh: z.number().positive().max(300).default(60),
  noTripProbability: z.number().min(0).max(1).default(0.15),
});

const noiseSchema = z.strictObject({
  dailySigma: z.number().min(0).max(2).default(DEFAULT_LOAD_NOISE.dailySigma),
  slotSigma: z.number().min(0).max(2).default(DEFAULT_LOAD_NOISE.slotSigma),
  slotCorrelation: z.number().min(0).lt(1).default(DEFAULT_LOAD_NOISE.slotCorrelation),
});

const householdSchema = z.strictObject({
  id,
  name: z.string().max(128).optional(),
  annualKwh: z.number().positive().max(1_000_000),
  pv: pvSchema.optional(),
  battery: batterySchema.optional(),
  ev: evSchema.optional(),
  noise: noiseSchema.optional(),
});

const plantSchema = z.strictObject({
  id,
  name: z.string().max(128).optional(),
  pv: pvSchema,
  participants: z.array(z.strictObject({ member: id, ppm: z.number().int().positive().max(1_000_000) })).min(1).max(10_000),
});

const probabilityRow = z.array(z.number().min(0).max(1)).length(3);
const kcRange = z.tuple([z.number().min(0).max(1.2), z.number().min(0).max(1.2)]);

const weatherSchema = z.discriminatedUnion('model', [
  z.strictObject({ model: z.literal('clear') }),
  z.strictObject({
    model: z.literal('markov'),
    transitions: z.array(probabilityRow).length(3).default(DEFAULT_WEATHER.transitions.map((r) => [...r])),
    clearSkyIndex: z
      .strictObject({ clear: kcRange, partly: kcRange, overcast: kcRange })
      .default({
        clear: [...DEFAULT_WEATHER.clearSkyIndex[0]!] as [number, number],
        partly: [...DEFAULT_WEATHER.clearSkyIndex[1]!] as [number, number],
        overcast: [...DEFAULT_WEATHER.clearSkyIndex[2]!] as [number, number],
      }),
  }),
]);

export const scenarioSchema = z
  .strictObject({
    version: z.literal(1),
    seed: z.number().int().min(0).max(0xffffffff),
    community: z.strictObject({
      id,
      name: z.string().min(1).max(128),
      timezone: z.string().refine(isValidTimeZone, 'not an IANA time zone (e.g. Europe/Vienna)'),
      location: z.strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) }),
    }),
    /** Local day from which stateful devices (batteries) run; simulations may not start before it. */
    start: day.optional(),
    /** Local public holidays, counted as Sundays by the load profile. */
    holidays: z.array(day).max(1000).default([]),
    tariffs: z.strictObject({
      importMicroEurPerKwh: microEurPerKwh,
      exportMicroEurPerKwh: microEurPerKwh,
      communityMicroEurPerKwh: microEurPerKwh,
    }),
    /** How members' PV surplus reaches neighbours: pro-rata pool each slot, or not at all. */
    internalTrading: z.enum(['pro-rata', 'none']).default('pro-rata'),
    weather: weatherSchema.default({ model: 'clear' }),
    /** Load noise of every household without its own `noise`; all σ = 0 gives the bare profile. */
    loadNoise: noiseSchema.prefault({}),
    households: z.array(householdSchema).min(1).max(100_000),
    sharedPlants: z.array(plantSchema).max(1000).default([]),
  })
  .superRefine((s, ctx) => {
    const households = new Set<string>();
    const all = new Set<string>();
    for (const m of [...s.households.map((h) => h.id), ...s.sharedPlants.map((p) => p.id)]) {
      if (all.has(m)) ctx.addIssue({ code: 'custom', message: `member id ${m} is used twice` });
      all.add(m);
    }
    for (const h of s.households) households.add(h.id);
    s.sharedPlants.forEach((p, i) => {
      const sum = p.participants.reduce((a, x) => a + x.ppm, 0);
      if (sum !== 1_000_000) ctx.addIssue({ code: 'custom', path: ['sharedPlants', i, 'participants'], message: `plant ${p.id}: the key sums to ${sum} ppm, not 1,000,000` });
      const seen = new Set<string>();
      for (const x of p.participants) {
        if (!households.has(x.member)) ctx.addIssue({ code: 'custom', path: ['sharedPlants', i], message: `plant ${p.id}: participant ${x.member} is not a household` });
        if (seen.has(x.member)) ctx.addIssue({ code: 'custom', path: ['sharedPlants', i], message: `plant ${p.id}: participant ${x.member} is listed twice` });
        seen.add(x.member);
      }
    });
    if (s.weather.model === 'markov') {
      s.weather.transitions.forEach((row, i) => {
        const sum = row.reduce((a, x) => a + x, 0);
        if (Math.abs(sum - 1) > 1e-9) ctx.addIssue({ code: 'custom', path: ['weather', 'transitions', i], message: `transition row ${i} sums to ${sum}, not 1` });
      });
      for (const [name, [lo, hi]] of Object.entries(s.weather.clearSkyIndex)) {
        if (lo > hi) ctx.addIssue({ code: 'custom', path: ['weather', 'clearSkyIndex', name], message: `clearSkyIndex.${name}: lower bound above upper bound` });
      }
    }
    for (const d of [...s.holidays, ...(s.start ? [s.start] : [])]) {
      try {
        localDay(s.community.timezone, d);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${d} is not a calendar day` });
      }
    }
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type HouseholdSpec = Scenario['households'][number];
export type PlantSpec = Scenario['sharedPlants'][number];

/** Validates a scenario object (defaults filled in); throws SIM_SCENARIO_INVALID naming the first problems. */
export function parseScenario(value: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join('.') : '(scenario)'}: ${i.message}`);
    throw E.SIM_SCENARIO_INVALID(`invalid scenario: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Parses scenario text: JSON, or YAML (a superset of JSON) when `format` is 'yaml'. */
export function scenarioFromText(text: string, format: 'json' | 'yaml'): Scenario {
  let value: unknown;
  try {
    value = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw E.SIM_SCENARIO_INVALID(`scenario is not valid ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  return parseScenario(value);
}

/** Reads a scenario file; `.yaml`/`.yml` are YAML, anything else JSON. */
export function loadScenarioFile(path: string): Scenario {
  const ext = extname(path).toLowerCase();
  return scenarioFromText(readFileSync(path, 'utf8'), ext === '.yaml' || ext === '.yml' ? 'yaml' : 'json');
}
