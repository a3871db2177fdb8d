import { DOMAIN, domainBytes, sha256 } from '../../crypto/hash.js';
import { toHex } from '../../util/bytes.js';
import { canonicalBytes } from '../../util/canonical.js';
import { E } from './errors.js';
import { bigFloorDiv, floorDiv } from '../../util/int.js';
import { slotIso } from '../../util/slots.js';
import type { EnergyTotals, PlantBilling } from './billing.js';

/**
 * A customer's PV statement for one plant, utility and billing period. Its hash is
 * SHA-256("GRIDLEDGER/STATEMENT/V1" ‖ 0x00 ‖ canonical JSON of the statement without `hash`).
 *
 * Money (µ€), computed once on the period totals:
 *   importCharge  = floor(importedWh × importTariff / 1000)     (tariffs in µ€ per kWh)
 *   feedInCredit  = floor(fedInWh × feedInTariff / 1000)
 *   amount        = importCharge − feedInCredit
 */

export const STATEMENT_KIND = 'gridledger/pv-statement';

export interface Tariff {
  importMicroEurPerKwh: number;
  feedInMicroEurPerKwh: number;
}

export interface Statement {
  kind: typeof STATEMENT_KIND;
  version: 1;
  plant: string;
  plantName: string;
  timezone: string;
  utility: string;
  customer: string;
  meter: string | null;
  period: { fromDay: string; toDay: string; fromSlot: number; toSlot: number; start: string; end: string };
  allocation: 'static' | 'dynamic';
  source: 'ledger' | 'csv';
  /**
   * Present (true) only on a dry run: the tariffs were typed on the command line, not the utility's
   * tariffs on the ledger. Such a statement checks figures; it is never recorded (the ledger sees
   * hashes only, so the CLI refuses it, and `verify statement` fails it).
   */
  dryRun?: true;
  slots: number;
  missing: { productionSlots: number; consumptionSlots: number };
  tariff: Tariff;
  energyWh: { consumed: number; allocated: number; covered: number; imported: number; fedIn: number };
  amountMicroEur: { importCharge: number; feedInCredit: number; total: number };
  days: Array<{ day: string; slots: number; consumedWh: number; allocatedWh: number; coveredWh: number; importedWh: number; fedInWh: number }>;
  hash?: string;
}

function moneyOf(wh: number, tariff: number): number {
  const x = BigInt(wh) * BigInt(tariff);
  const v = Number(bigFloorDiv(x, 1000n));
  if (!Number.isSafeInteger(v)) throw E.SETTLEMENT_OVERFLOW('amount exceeds the safe integer range');
  return v;
}

function day(d: EnergyTotals) {
  return { consumedWh: d.consumedWh, allocatedWh: d.allocatedWh, coveredWh: d.coveredWh, importedWh: d.importedWh, fedInWh: d.fedInWh };
}

/** Statements of a plant's billing, for one utility or all, with the hash filled in. */
export function statementsOf(billing: PlantBilling, tariffOf: (utility: string) => Tariff, options: { utility?: string; customer?: string; source: 'ledger' | 'csv'; dryRun?: boolean }): Statement[] {
  const { plant, period } = billing;
  const out: Statement[] = [];
  for (const line of billing.lines) {
    if (options.utility !== undefined && line.utility !== options.utility) continue;
    if (options.customer !== undefined && line.address !== options.customer) continue;
    const tariff = tariffOf(line.utility);
    const importCharge = moneyOf(line.importedWh, tariff.importMicroEurPerKwh);
    const feedInCredit = moneyOf(line.fedInWh, tariff.feedInMicroEurPerKwh);
    const s: Statement = {
      kind: STATEMENT_KIND,
      version: 1,
      plant: plant.id,
      plantName: plant.name,
      timezone: plant.timezone,
      utility: line.utility,
      customer: line.address,
      meter: line.meter,
      period: { fromDay: period.fromDay, toDay: period.toDay, fromSlot: period.fromSlot, toSlot: period.toSlot, start: slotIso(period.fromSlot), end: slotIso(period.toSlot) },
      allocation: billing.dynamic ? 'dynamic' : 'static',
      source: options.source,
      ...(options.dryRun ? { dryRun: true as const } : {}),
      slots: line.slots,
      missing: { productionSlots: billing.missingProductionSlots, consumptionSlots: line.missingConsumptionSlots },
      tariff: { importMicroEurPerKwh: tariff.importMicroEurPerKwh, feedInMicroEurPerKwh: tariff.feedInMicroEurPerKwh },
      energyWh: { consumed: line.consumedWh, allocated: line.allocatedWh, covered: line.coveredWh, imported: line.importedWh, fedIn: line.fedInWh },
      amountMicroEur: { importCharge, feedInCredit, total: importCharge - feedInCredit },
      days: period.days.map((d, i) => ({ day: d.day, slots: d.slots, ...day(line.days[i]!) })),
    };
    out.push({ ...s, hash: statementHash(s) });
  }
  return out;
}

/** The hash of a statement (any `hash` field is ignored). */
export function statementHash(statement: Statement | Record<string, unknown>): string {
  // `evidence` (proofs against a committed header, src/light/statement.ts) is attached after hashing.
  const { hash: _ignored, evidence: _proofs, ...body } = statement as Record<string, unknown>;
  return toHex(sha256(domainBytes(DOMAIN.statement, canonicalBytes(body))));
}

/** "12345" Wh → "12.345" kWh; µ€ → "1.234567" € — exact decimal formatting of integers. */
export function decimal(value: number, digits: number): string {
  const scale = 10 ** digits;
  const neg = value < 0;
  const abs = neg ? -value : value;
  const whole = floorDiv(abs, scale);
  return `${neg ? '-' : ''}${whole}.${String(abs - whole * scale).padStart(digits, '0')}`;
}

function csvField(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: Array<string | number | null>): string {
  return values.map(csvField).join(',');
}

/** One customer's statement as CSV: a header block of key,value rows, then one row per day and a total. */
export function statementCsv(s: Statement): string {
  const head: Array<[string, string | number | null]> = [
    ['kind', s.kind],
    ['plant', s.plant],
    ['plant_name', s.plantName],
    ['timezone', s.timezone],
    ['utility', s.utility],
    ['customer', s.customer],
    ['meter', s.meter],
    ['period', `${s.period.fromDay}..${s.period.toDay}`],
    ['slots', `${s.period.fromSlot}..${s.period.toSlot}`],
    ['allocation', s.allocation],
    ['source', s.source],
    ...(s.dryRun ? [['dry_run', 'yes: tariffs typed on the command line; not recordable'] as [string, string]] : []),
    ['missing_production_slots', s.missing.productionSlots],
    ['missing_consumption_slots', s.missing.consumptionSlots],
    ['import_tariff_micro_eur_per_kwh', s.tariff.importMicroEurPerKwh],
    ['feed_in_tariff_micro_eur_per_kwh', s.tariff.feedInMicroEurPerKwh],
    ['import_charge_eur', decimal(s.amountMicroEur.importCharge, 6)],
    ['feed_in_credit_eur', decimal(s.amountMicroEur.feedInCredit, 6)],
    ['amount_eur', decimal(s.amountMicroEur.total, 6)],
    ['statement_hash', s.hash ?? statementHash(s)],
  ];
  const rows = [
    ...head.map(([k, v]) => csvLine([k, v])),
    '',
    csvLine(['day', 'slots', 'consumed_kwh', 'covered_kwh', 'imported_kwh', 'fed_in_kwh', 'allocated_kwh']),
    ...s.days.map((d) => csvLine([d.day, d.slots, decimal(d.consumedWh, 3), decimal(d.coveredWh, 3), decimal(d.importedWh, 3), decimal(d.fedInWh, 3), decimal(d.allocatedWh, 3)])),
    csvLine(['total', s.slots, decimal(s.energyWh.consumed, 3), decimal(s.energyWh.covered, 3), decimal(s.energyWh.imported, 3), decimal(s.energyWh.fedIn, 3), decimal(s.energyWh.allocated, 3)]),
  ];
  return rows.join('\n') + '\n';
}

/** All statements of a utility for a period, one row per customer and plant. */
export function summaryCsv(statements: readonly Statement[]): string {
  const header = csvLine(['customer', 'plant', 'meter', 'from_day', 'to_day', 'consumed_wh', 'covered_wh', 'imported_wh', 'fed_in_wh', 'import_tariff', 'feed_in_tariff', 'import_charge_micro_eur', 'feed_in_credit_micro_eur', 'amount_micro_eur', 'hash']);
  const rows = statements.map((s) =>
    csvLine([s.customer, s.plant, s.meter, s.period.fromDay, s.period.toDay, s.energyWh.consumed, s.energyWh.covered, s.energyWh.imported, s.energyWh.fedIn, s.tariff.importMicroEurPerKwh, s.tariff.feedInMicroEurPerKwh, s.amountMicroEur.importCharge, s.amountMicroEur.feedInCredit, s.amountMicroEur.total, s.hash ?? statementHash(s)]),
  );
  return [header, ...rows].join('\n') + '\n';
}
