import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { E } from '../errors.js';
import { parseSlot } from '../../../util/slots.js';
import type { ReadingSource, Series } from '../billing.js';
import type { Participant, Plant } from '../../shares/keeper.js';
import { statementCsv, summaryCsv, type Statement } from '../statement.js';

/**
 * File I/O of billing (CLI only): CSV meter data for dry runs and the statement files.
 *
 * production CSV:  plant,slot,wh      (one row per plant and slot; slot = index or ISO time)
 * consumption CSV: meter,slot,wh      (meter = the participant's meter id, or its address)
 */

type Table = Map<string, Map<number, number>>;

function parseCsvTable(file: string, keyColumn: string): Table {
  const text = readFileSync(file, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0 && !l.startsWith('#'));
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const ki = header.indexOf(keyColumn);
  const si = header.indexOf('slot');
  const wi = header.indexOf('wh');
  if (ki < 0 || si < 0 || wi < 0) throw E.CSV_INVALID(`${file}: header must name the columns ${keyColumn},slot,wh`);
  const table: Table = new Map();
  lines.forEach((line, n) => {
    const cells = line.split(',').map((c) => c.trim());
    const key = cells[ki];
    const wh = cells[wi];
    if (!key || !wh || !/^\d+$/.test(wh)) throw E.CSV_INVALID(`${file} line ${n + 2}: expected ${keyColumn},slot,wh with a non-negative whole number of Wh`);
    const slot = parseSlot(cells[si] ?? '');
    let m = table.get(key);
    if (!m) table.set(key, (m = new Map()));
    if (m.has(slot)) throw E.CSV_INVALID(`${file} line ${n + 2}: duplicate row for ${key} at slot ${slot}`);
    m.set(slot, Number(wh));
  });
  return table;
}

function seriesOf(rows: Map<number, number> | undefined, from: number, to: number): Series {
  const wh = new Float64Array(to - from);
  let present = 0;
  if (rows) {
    for (let s = from; s < to; s++) {
      const v = rows.get(s);
      if (v !== undefined) {
        wh[s - from] = v;
        present++;
      }
    }
  }
  return { wh, missing: to - from - present };
}

export function csvReadingSource(productionFile: string, consumptionFile: string): ReadingSource {
  const production = parseCsvTable(productionFile, 'plant');
  const consumption = parseCsvTable(consumptionFile, 'meter');
  return {
    name: 'csv',
    production: (plant: Plant, from: number, to: number) => seriesOf(production.get(plant.id), from, to),
    consumption: (_plant: Plant, p: Participant, from: number, to: number) => seriesOf((p.meter !== undefined ? consumption.get(p.meter) : undefined) ?? consumption.get(p.address), from, to),
  };
}

export interface WrittenStatement {
  plant: string;
  customer: string;
  hash: string;
  json: string;
  csv: string;
}

/** Writes <out>/<utility>/<plant>/<customer>.json and .csv per statement and <out>/<utility>/statements.csv. */
export function writeStatements(out: string, utility: string, statements: readonly Statement[]): { dir: string; summary: string; files: WrittenStatement[] } {
  const dir = join(out, utility);
  mkdirSync(dir, { recursive: true });
  const files: WrittenStatement[] = [];
  for (const s of statements) {
    const plantDir = join(dir, s.plant);
    mkdirSync(plantDir, { recursive: true });
    const base = join(plantDir, `${s.customer}_${s.period.fromDay}_${s.period.toDay}`);
    writeFileSync(`${base}.json`, JSON.stringify(s, null, 2) + '\n');
    writeFileSync(`${base}.csv`, statementCsv(s));
    files.push({ plant: s.plant, customer: s.customer, hash: s.hash!, json: `${base}.json`, csv: `${base}.csv` });
  }
  const summary = join(dir, `statements_${statements[0]?.period.fromDay ?? 'none'}_${statements[0]?.period.toDay ?? 'none'}.csv`);
  writeFileSync(summary, summaryCsv(statements));
  return { dir, summary, files };
}

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw E.STATEMENT_UNREADABLE(`${file}: ${(e as Error).message}`);
  }
}
