import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Tariffs } from '../../sim/community/index.js';
import { billsChartSvg, energyChartSvg } from './community/charts.js';
import { REPORT_ERRORS } from '../runtime/community-kpis.js';
import { ledgerReport, membersCsv, slotsCsv, type LedgerReport, type Reader } from './community/report.js';
import { callRoute } from '../api/client.js';
import { resolveHome } from '../home/home.js';
import { LedgerError } from '../util/errors.js';
import { displayPath, globals, keyringOf, nodeUrl, parseInteger, print } from './kit.js';
import { cachedToken, login, LOGIN_CURES } from './session.js';
import { readScenario } from './simulate.js';

interface ReportOpts {
  community: string;
  fromDay?: string;
  to: string;
  as?: string;
  out?: string;
  scenario?: string;
  importPrice?: string;
  exportPrice?: string;
  communityPrice?: string;
}

/** Tariffs from the three price options, or from a scenario file; every price is needed. */
function tariffsOf(opts: ReportOpts): Tariffs {
  const base = opts.scenario ? readScenario(opts.scenario).tariffs : undefined;
  const price = (value: string | undefined, name: string, fallback: number | undefined) => {
    if (value !== undefined) return parseInteger(value, name);
    if (fallback === undefined) throw REPORT_ERRORS.REPORT_INPUT_INVALID(`${name} (µ€/kWh) is needed, or --scenario FILE with tariffs`);
    return fallback;
  };
  return {
    importMicroEurPerKwh: price(opts.importPrice, '--import-price', base?.importMicroEurPerKwh),
    exportMicroEurPerKwh: price(opts.exportPrice, '--export-price', base?.exportMicroEurPerKwh),
    communityMicroEurPerKwh: price(opts.communityPrice, '--community-price', base?.communityMicroEurPerKwh),
  };
}

/** Writes kpis.json, members.csv, slots.csv, energy.svg and bills.svg; answers the paths. */
export function writeReport(dir: string, report: LedgerReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['kpis.json', JSON.stringify(report, null, 2) + '\n'],
    ['members.csv', membersCsv(report)],
    ['slots.csv', slotsCsv(report)],
    ['energy.svg', energyChartSvg(report)],
    ['bills.svg', billsChartSvg(report)],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}

const pct = (ppm: number | null) => (ppm === null ? '-' : `${(ppm / 10_000).toFixed(1)} %`);
const eur = (micro: number) => `${(micro / 1_000_000).toFixed(2)} €`;

export function reportText(r: LedgerReport & { files?: string[] }): string {
  const k = r.kpis;
  const e = k.energy;
  return [
    `community ${r.community} (${r.name}), ${r.fromDay} – ${r.toDay} ${r.timezone}: ${r.members.length} members, ${k.slotsWithData} slots with data`,
    `energy           ${e.consumedWh} Wh metered import, ${e.producedWh} Wh metered export, ${e.boughtInternallyWh} Wh shared inside`,
    `grid             ${e.gridImportWh} Wh import (peak ${k.peaks.importWh} Wh/slot), ${e.gridExportWh} Wh export (peak ${k.peaks.exportWh} Wh/slot)`,
    `self-sufficiency ${pct(k.selfSufficiencyPpm)}   self-consumption ${pct(k.selfConsumptionPpm)}`,
    `money            ${eur(k.costMicroEur)} against ${eur(k.baselineMicroEur)} grid-only: ${eur(k.savingsMicroEur)} saved (${pct(k.savingsPpm)})`,
    ...k.members.map((m) => {
      const meters = r.members.find((x) => x.address === m.member)?.meters.join(',') ?? '';
      return `  ${m.member} ${meters.padEnd(16)} import ${m.energy.consumedWh} Wh, export ${m.energy.producedWh} Wh, from the community ${pct(m.localSupplyPpm)}, bill ${eur(m.bill.totalMicroEur)} (baseline ${eur(m.bill.baselineMicroEur)})`;
    }),
    ...(r.files ? [`wrote ${r.files.map((f) => displayPath(f)).join(', ')}`] : []),
  ].join('\n');
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `--from` is also the global signing-key option, which commander parses first, so `report --from
 * DAY` arrives there: a day-shaped value is the report's first day, and the key that reads is --as.
 */
function periodAndReader(cmd: Command, opts: ReportOpts): { fromDay: string; keyName: string } {
  const globalFrom = globals(cmd).from;
  const fromIsDay = globalFrom !== undefined && DAY_RE.test(globalFrom);
  const fromDay = opts.fromDay ?? (fromIsDay ? globalFrom : undefined);
  if (fromDay === undefined) throw REPORT_ERRORS.REPORT_INPUT_INVALID('--from DAY (YYYY-MM-DD) is needed; the key that reads the ledger is chosen with --as KEY');
  return { fromDay, keyName: opts.as ?? (fromIsDay ? undefined : globalFrom) ?? process.env.GRIDLEDGER_FROM ?? 'admin' };
}

/** Reads as a key of the home's keyring: its cached token, a fresh login when a private route asks. */
function readerAs(cmd: Command, keyName: string): Reader {
  const url = nodeUrl(cmd);
  const home = resolveHome(globals(cmd).home);
  const keyring = keyringOf(cmd);
  const has = keyring.has(keyName);
  let token = has ? cachedToken(home, url, keyring.show(keyName).address)?.token : undefined;
  return async (route, input) => {
    try {
      return await callRoute(url, route, input, { token });
    } catch (err) {
      if (!has || !(err instanceof LedgerError) || !LOGIN_CURES.has(err.code)) throw err;
      token = (await login(home, url, keyring, keyName)).token;
      return callRoute(url, route, input, { token });
    }
  };
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("a community's KPIs over local days from ledger data: self-sufficiency, self-consumption, grid import/export and peaks, bills and savings")
    .requiredOption('--community <id>', 'community id')
    .option('--from-day <day>', 'first local day, YYYY-MM-DD (also accepted as --from DAY)')
    .requiredOption('--to <day>', 'last local day (included), YYYY-MM-DD')
    .option('--as <key>', 'key of the home that reads (the community owner, a trader, an auditor; default admin)')
    .option('--out <dir>', 'write kpis.json, members.csv, slots.csv, energy.svg and bills.svg there')
    .option('--scenario <file>', 'take the tariffs from this scenario file')
    .option('--import-price <microEurPerKwh>', 'grid import tariff, µ€/kWh')
    .option('--export-price <microEurPerKwh>', 'grid export (feed-in) tariff, µ€/kWh')
    .option('--community-price <microEurPerKwh>', 'price of energy shared inside the community, µ€/kWh')
    .action(async (opts: ReportOpts, cmd: Command) => {
      const tariffs = tariffsOf(opts);
      const { fromDay, keyName } = periodAndReader(cmd, opts);
      const report = await ledgerReport(readerAs(cmd, keyName), { community: opts.community, fromDay, toDay: opts.to, tariffs });
      const files = opts.out === undefined ? undefined : writeReport(resolve(opts.out), report);
      print(cmd, { ...report, ...(files ? { files } : {}) }, reportText, { annotate: false });
    });
}
