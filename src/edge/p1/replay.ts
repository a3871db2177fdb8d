import { EDGE_ERRORS as E } from '../errors.js';
import { DAY_MS, cetOffsetMs, daysFromCivil, unixMsToCivil } from '../time.js';
import { crc16Arc, crcHex } from './crc16.js';
import { formatDsmrTime } from './timestamp.js';

/**
 * Replay generator: a day (or any span) of valid DSMR 5 telegrams in the exact layout of the real Iskra
 * AM550 telegram in test/vectors/dsmr (same objects, order and number formats; a test renders the
 * vector's own values and gets the vector byte for byte), with correct CRCs, so tests and the agent can
 * replay realistic data through the whole pipeline.
 *
 * Household model, all in integers and driven by a seeded PRNG (the same options give the same bytes on
 * every machine): base load and fridge cycle, morning and evening peaks, random appliance events,
 * PV on L1 with a seasonal parabola around solar noon (11:40 UTC, the Netherlands) and drifting clouds,
 * so midday exports. The power in a telegram is the average over the interval it closes and the
 * registers integrate exactly that power (in W·s, shown floored to Wh), so energy and power agree.
 * Tariff 1 (low) from 23:00 to 07:00 local time and at weekends, tariff 2 otherwise; local time is
 * CET/CEST by the EU rule. Gas (M-Bus channel 1) advances every 5 minutes as DSMR 5 meters do.
 */

export interface PhaseState {
  importW: number;
  exportW: number;
  /** Voltage in tenths of a volt (the meter shows one decimal). */
  voltageDv: number;
  /** Current in hundredths of an ampere (the AM550 shows two decimals). */
  currentCa: number;
}

/** Everything that varies in an Iskra AM550 telegram. */
export interface IskraState {
  timestampMs: number;
  importT1Wh: number;
  importT2Wh: number;
  exportT1Wh: number;
  exportT2Wh: number;
  tariff: number;
  importPowerW: number;
  exportPowerW: number;
  phases: [PhaseState, PhaseState, PhaseState];
  gasTimestampMs: number;
  gasDm3: number;
}

/** The values of test/vectors/dsmr/dsmr5-iskra-am550.txt (2017-01-02 19:20:02 CET). */
export const ISKRA_VECTOR_STATE: IskraState = {
  timestampMs: 1_483_381_202_000,
  importT1Wh: 4426,
  importT2Wh: 2399,
  exportT1Wh: 2444,
  exportT2Wh: 0,
  tariff: 2,
  importPowerW: 244,
  exportPowerW: 0,
  phases: [
    { importW: 70, exportW: 0, voltageDv: 2300, currentCa: 48 },
    { importW: 32, exportW: 0, voltageDv: 2300, currentCa: 44 },
    { importW: 142, exportW: 0, voltageDv: 2290, currentCa: 86 },
  ],
  gasTimestampMs: 1_483_369_805_000,
  gasDm3: 107,
};

const ISKRA_EQUIPMENT_ID = '4B384547303034303436333935353037';
const ISKRA_GAS_ID = '3232323241424344313233343536373839';

/** Fixed-point text: `value` / 10^decimals with `intDigits` zero-padded integer digits ("000004.426"). */
function fixed(value: number, intDigits: number, decimals: number): string {
  const unit = 10 ** decimals;
  const int = Math.floor(value / unit);
  const frac = value - int * unit;
  return `${String(int).padStart(intDigits, '0')}.${String(frac).padStart(decimals, '0')}`;
}

/** The telegram text (CR LF, CRC) of a state, in the Iskra AM550 layout. */
export function renderIskraTelegram(s: IskraState): string {
  const kwh = (wh: number) => `${fixed(wh, 6, 3)}*kWh`;
  const kw = (w: number) => `${fixed(w, 2, 3)}*kW`;
  const [l1, l2, l3] = s.phases;
  const lines = [
    '/ISk5\\2MT382-1000',
    '',
    '1-3:0.2.8(50)',
    `0-0:1.0.0(${formatDsmrTime(s.timestampMs)})`,
    `0-0:96.1.1(${ISKRA_EQUIPMENT_ID})`,
    `1-0:1.8.1(${kwh(s.importT1Wh)})`,
    `1-0:1.8.2(${kwh(s.importT2Wh)})`,
    `1-0:2.8.1(${kwh(s.exportT1Wh)})`,
    `1-0:2.8.2(${kwh(s.exportT2Wh)})`,
    `0-0:96.14.0(${String(s.tariff).padStart(4, '0')})`,
    `1-0:1.7.0(${kw(s.importPowerW)})`,
    `1-0:2.7.0(${kw(s.exportPowerW)})`,
    '0-0:96.7.21(00013)',
    '0-0:96.7.9(00000)',
    '1-0:99.97.0(0)(0-0:96.7.19)',
    '1-0:32.32.0(00000)',
    '1-0:52.32.0(00000)',
    '1-0:72.32.0(00000)',
    '1-0:32.36.0(00000)',
    '1-0:52.36.0(00000)',
    '1-0:72.36.0(00000)',
    '0-0:96.13.0()',
    ...[['32', l1], ['52', l2], ['72', l3]].map(([c, p]) => `1-0:${c}.7.0(${fixed((p as PhaseState).voltageDv, 4, 1)}*V)`),
    ...[['31', l1], ['51', l2], ['71', l3]].map(([c, p]) => `1-0:${c}.7.0(${fixed((p as PhaseState).currentCa, 1, 2)}*A)`),
    `1-0:21.7.0(${kw(l1.importW)})`,
    `1-0:41.7.0(${kw(l2.importW)})`,
    `1-0:61.7.0(${kw(l3.importW)})`,
    `1-0:22.7.0(${kw(l1.exportW)})`,
    `1-0:42.7.0(${kw(l2.exportW)})`,
    `1-0:62.7.0(${kw(l3.exportW)})`,
    '0-1:24.1.0(003)',
    `0-1:96.1.0(${ISKRA_GAS_ID})`,
    `0-1:24.2.1(${formatDsmrTime(s.gasTimestampMs)})(${fixed(s.gasDm3, 5, 3)}*m3)`,
    '0-2:24.1.0(003)',
    '0-2:96.1.0()',
  ];
  const body = `${lines.join('\r\n')}\r\n!`;
  return `${body}${crcHex(crc16Arc(Buffer.from(body, 'latin1')))}\r\n`;
}

export interface ReplayOptions {
  /** Meter time of the first telegram (Unix ms, whole seconds). */
  startMs: number;
  /** Telegram interval (whole seconds, 1 s … 1 h); default 10 s. */
  intervalMs?: number;
  /** Span covered (default one day): telegrams at start, start + interval, … before start + duration. */
  durationMs?: number;
  /** PRNG seed (uint32); default 1. */
  seed?: number;
  /** PV peak power on a clear June day (default 3 600 W). */
  pvPeakW?: number;
  /** Always-on load (default 200 W). */
  baseLoadW?: number;
}

export interface ReplayTelegram {
  /** The telegram (CR LF, CRC), exactly as a meter sends it. */
  text: string;
  /** The state it shows: what a parser must read back. */
  state: IskraState;
}

/** 32-bit PRNG (mulberry32): integer operations only, so identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** PV share of the peak (%) and half the daylight span (s) per month. */
const PV_MONTH: ReadonlyArray<readonly [number, number]> = [
  [25, 14_400], [40, 17_100], [60, 19_800], [80, 23_400], [95, 26_100], [100, 27_900],
  [100, 27_000], [90, 25_200], [70, 21_600], [50, 18_000], [30, 15_300], [20, 13_500],
];
/** Solar noon in the Netherlands, seconds after 00:00 UTC. */
const SOLAR_NOON_UTC_S = 42_000;
const GAS_STEP_MS = 300_000;

interface Appliance {
  untilMs: number;
  watts: number;
  phase: 0 | 1 | 2;
}

function validate(o: ReplayOptions): Required<ReplayOptions> {
  const r = { intervalMs: 10_000, durationMs: DAY_MS, seed: 1, pvPeakW: 3600, baseLoadW: 200, ...o };
  const whole = (v: number) => Number.isSafeInteger(v) && v % 1000 === 0;
  if (!whole(r.startMs) || r.startMs < daysFromCivil(2000, 1, 2) * DAY_MS || r.startMs > daysFromCivil(2099, 12, 30) * DAY_MS) throw E.EDGE_BAD_OPTION('startMs must be whole seconds in 2000–2099');
  if (!whole(r.intervalMs) || r.intervalMs < 1000 || r.intervalMs > 3_600_000) throw E.EDGE_BAD_OPTION('intervalMs must be whole seconds in 1 s … 1 h');
  if (!Number.isSafeInteger(r.durationMs) || r.durationMs < r.intervalMs || r.durationMs > 366 * DAY_MS) throw E.EDGE_BAD_OPTION('durationMs must be an integer from one interval to 366 days');
  if (!Number.isSafeInteger(r.seed) || r.seed < 0 || r.seed > 0xffffffff) throw E.EDGE_BAD_OPTION('seed must be a uint32');
  if (!Number.isSafeInteger(r.pvPeakW) || r.pvPeakW < 0 || r.pvPeakW > 30_000) throw E.EDGE_BAD_OPTION('pvPeakW must be 0 … 30 000');
  if (!Number.isSafeInteger(r.baseLoadW) || r.baseLoadW < 0 || r.baseLoadW > 10_000) throw E.EDGE_BAD_OPTION('baseLoadW must be 0 … 10 000');
  return r;
}

/** The telegrams of the span, one per interval, generated lazily. */
export function* replayTelegrams(options: ReplayOptions): Generator<ReplayTelegram> {
  const o = validate(options);
  const rnd = mulberry32(o.seed);
  const below = (n: number) => rnd() % n;
  // Registers integrate in W·s so that rounding never accumulates; the telegram shows whole Wh.
  const base = ISKRA_VECTOR_STATE;
  const joules = [base.importT1Wh * 3600, base.importT2Wh * 3600, base.exportT1Wh * 3600, base.exportT2Wh * 3600];
  const voltage = [2300, 2300, 2290];
  let cloud = 80;
  let gasDm3 = base.gasDm3;
  let gasSlot = Math.floor(o.startMs / GAS_STEP_MS);
  let appliances: Appliance[] = [];
  const dtS = o.intervalMs / 1000;
  const count = Math.floor(o.durationMs / o.intervalMs);
  for (let i = 0; i < count; i++) {
    const t = o.startMs + i * o.intervalMs;
    const local = unixMsToCivil(t + cetOffsetMs(t));
    const localSec = (local.hour * 60 + local.minute) * 60 + local.second;
    const weekday = (((daysFromCivil(local.year, local.month, local.day) + 4) % 7) + 7) % 7; // 0 = Sunday
    const tariff = weekday === 0 || weekday === 6 || local.hour < 7 || local.hour >= 23 ? 1 : 2;

    appliances = appliances.filter((a) => a.untilMs > t);
    maybeStartAppliance(appliances, t, localSec, below, o.intervalMs);
    cloud = Math.min(100, Math.max(20, cloud + below(9) - 4));
    const load = householdLoad(localSec, o.baseLoadW, appliances, below);
    const pv = pvPower(t, o.pvPeakW, cloud);
    const net = [load[0]! - pv, load[1]!, load[2]!];
    const total = net[0]! + net[1]! + net[2]!;
    if (i > 0) joules[total >= 0 ? tariff - 1 : tariff + 1]! += Math.abs(total) * dtS;

    for (let p = 0; p < 3; p++) voltage[p] = Math.min(2350, Math.max(2260, voltage[p]! + below(3) - 1));
    const phases = net.map((w, p): PhaseState => ({
      importW: Math.max(0, w),
      exportW: Math.max(0, -w),
      voltageDv: voltage[p]!,
      currentCa: Math.floor((Math.abs(w) * 1000) / voltage[p]!),
    })) as [PhaseState, PhaseState, PhaseState];

    const step = Math.floor(t / GAS_STEP_MS);
    for (; gasSlot < step; gasSlot++) gasDm3 += gasUse(gasSlot * GAS_STEP_MS, below);
    const state: IskraState = {
      timestampMs: t,
      importT1Wh: Math.floor(joules[0]! / 3600),
      importT2Wh: Math.floor(joules[1]! / 3600),
      exportT1Wh: Math.floor(joules[2]! / 3600),
      exportT2Wh: Math.floor(joules[3]! / 3600),
      tariff,
      importPowerW: Math.max(0, total),
      exportPowerW: Math.max(0, -total),
      phases,
      gasTimestampMs: step * GAS_STEP_MS,
      gasDm3,
    };
    yield { text: renderIskraTelegram(state), state };
  }
}

/** All telegrams of the span concatenated: a P1 replay file. */
export function replayFile(options: ReplayOptions): string {
  let out = '';
  for (const t of replayTelegrams(options)) out += t.text;
  return out;
}

function between(sec: number, fromH: number, fromM: number, toH: number, toM: number): boolean {
  return sec >= (fromH * 60 + fromM) * 60 && sec < (toH * 60 + toM) * 60;
}

/** Watts per phase: base load, fridge cycle, daily routine, running appliances, ±5 % noise. */
function householdLoad(localSec: number, baseLoadW: number, appliances: Appliance[], below: (n: number) => number): number[] {
  const load = [Math.floor((baseLoadW * 4) / 10), Math.floor((baseLoadW * 3) / 10), baseLoadW - Math.floor((baseLoadW * 4) / 10) - Math.floor((baseLoadW * 3) / 10)];
  if (Math.floor(localSec / 60) % 30 < 12) load[1]! += 120; // fridge: 12 min on, 18 off
  if (between(localSec, 6, 30, 8, 30)) load[0]! += 400;
  if (between(localSec, 17, 30, 18, 30)) load[0]! += 1500; // cooking
  if (between(localSec, 17, 30, 22, 30)) load[2]! += 700;
  for (const a of appliances) load[a.phase]! += a.watts;
  return load.map((w) => w + Math.floor((w * (below(11) - 5)) / 100));
}

const APPLIANCES: ReadonlyArray<{ watts: number; minutes: number; phase: 0 | 1 | 2 }> = [
  { watts: 2000, minutes: 3, phase: 0 }, // kettle
  { watts: 1900, minutes: 20, phase: 1 }, // washing machine heating
  { watts: 1200, minutes: 10, phase: 2 }, // oven / microwave
  { watts: 700, minutes: 45, phase: 1 }, // dishwasher
];

/** About one appliance start per hour between 06:00 and 23:00 local time. */
function maybeStartAppliance(appliances: Appliance[], t: number, localSec: number, below: (n: number) => number, intervalMs: number): void {
  if (!between(localSec, 6, 0, 23, 0)) return;
  if (below(3_600_000) >= intervalMs) return;
  const a = APPLIANCES[below(APPLIANCES.length)]!;
  appliances.push({ untilMs: t + a.minutes * 60_000, watts: a.watts, phase: a.phase });
}

/** PV watts: a parabola around solar noon, scaled by month and clouds (%). */
function pvPower(t: number, peakW: number, cloud: number): number {
  const [share, halfWidth] = PV_MONTH[unixMsToCivil(t).month - 1]!;
  const secUtc = Math.floor((t % DAY_MS) / 1000);
  const d = Math.abs(secUtc - SOLAR_NOON_UTC_S);
  if (d >= halfWidth) return 0;
  const shapePermille = Math.floor(((halfWidth * halfWidth - d * d) * 1000) / (halfWidth * halfWidth));
  return Math.floor((peakW * share * cloud * shapePermille) / 10_000_000);
}

/** Gas dm3 used in the 5 minutes starting at `ms`: heating in the morning and evening, a little otherwise. */
function gasUse(ms: number, below: (n: number) => number): number {
  const local = unixMsToCivil(ms + cetOffsetMs(ms));
  const heating = (local.hour >= 6 && local.hour < 9) || (local.hour >= 17 && local.hour < 22);
  return heating ? 20 + below(25) : below(4);
}
