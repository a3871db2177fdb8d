/**
 * Community simulation and KPIs (issue 10, points 3 and 4): pure, seeded models that turn a
 * scenario into per-member, per-slot meter views and internal trades, and integer KPI arithmetic.
 * docs/simulation.md describes the models, sources, tolerances, scenario format and rounding.
 */
export { CommunitySimulation, flowsOf, simulateRange, type InternalTrade, type MeterView, type SlotResult } from './community.js';
export { SIM_ERRORS } from './errors.js';
export {
  communityKpis,
  lineMicroEur,
  ratioPpm,
  type Bill,
  type BillItem,
  type BillLine,
  type CommunityKpis,
  type EnergyTotals,
  type KpiInput,
  type MemberKpis,
  type MemberSlotFlow,
  type Peaks,
  type SlotFlows,
  type Tariffs,
} from './kpi.js';
export { loadScenarioFile, parseScenario, scenarioFromText, scenarioSchema, type HouseholdSpec, type PlantSpec, type Scenario, type ScenarioInput } from './scenario.js';
export { solarPosition, type SolarPosition } from './solar.js';
export { SAMPLES_PER_SLOT, pvPowerW, skyAt, slotEnergyWh, slotSky, type Location, type PvArray, type SkySample } from './pv.js';
